// The streaming state of one client's stream: the recurrent layers' h (and c) for a single
// sequence, owned by the caller (a Map, a session store, another process), and its byte form.
//
// Byte form (little-endian), version 1:
//   0   8 bytes  format tag 'FRNNSTAT'
//   8   u16      format version (1)
//   10  u16      number of tensors n
//   12  u32      number of floats in all tensors
//   16  n × 12   per tensor: u16 layer index, u8 name (char code: 'h' or 'c'), u8 0, u32 slots, u32 size
//   ..  floats   float32, the tensors one after the other, each [slots, size] row-major
import { invalidType } from '../internal/check';

/** One state tensor of a stream: [slots, size] (slots = stacked layers of a recurrent layer). */
export interface StateTensorInfo {
  /** Index of the layer in the model. */
  readonly layer: number;
  /** 'h' (hidden state) or 'c' (LSTM cell state). */
  readonly name: 'h' | 'c';
  readonly slots: number;
  readonly size: number;
}

const TAG = 'FRNNSTAT';
const VERSION = 1;
const HEADER = 16;
const ENTRY = 12;

/** Which tensors a model's stream state holds, their shapes, and the state a new stream starts from. */
export class StateLayout {
  readonly tensors: readonly StateTensorInfo[];
  /** Float offset of each tensor in a stream's data. */
  readonly offsets: readonly number[];
  /** Floats per stream. */
  readonly total: number;
  /** A new stream's state (learned initial states), or null for zeros. */
  readonly initial: Float32Array | null;

  constructor(tensors: readonly StateTensorInfo[], initial: Float32Array | null = null) {
    if (!Array.isArray(tensors)) throw invalidType('tensors', 'array of { layer, name, slots, size }', tensors);
    const offsets: number[] = [];
    let total = 0;
    this.tensors = Object.freeze(tensors.map((t, i) => {
      if (!Number.isInteger(t.layer) || t.layer < 0 || t.layer > 0xffff || (t.name !== 'h' && t.name !== 'c')
        || !Number.isInteger(t.slots) || t.slots < 1 || !Number.isInteger(t.size) || t.size < 1) {
        throw new RangeError(`State tensor ${i}: expected { layer: 0..65535, name: 'h' | 'c', slots >= 1, size >= 1 } but received ${JSON.stringify(t)}`);
      }
      offsets.push(total);
      total += t.slots * t.size;
      return Object.freeze({ layer: t.layer, name: t.name, slots: t.slots, size: t.size });
    }));
    this.offsets = Object.freeze(offsets);
    this.total = total;
    if (initial !== null && (!(initial instanceof Float32Array) || initial.length !== total)) {
      throw new RangeError(`Expected a Float32Array of ${total} floats (or null) for the initial state but received ${initial?.length ?? typeof initial}`);
    }
    this.initial = initial;
  }

  /** Whether two layouts hold the same tensors with the same shapes. */
  matches(other: StateLayout): boolean {
    if (other === this) return true;
    if (other.tensors.length !== this.tensors.length) return false;
    return this.tensors.every((t, i) => {
      const o = other.tensors[i];
      return o.layer === t.layer && o.name === t.name && o.slots === t.slots && o.size === t.size;
    });
  }

  /** e.g. "0.h [1, 128], 0.c [1, 128]". */
  describe(): string {
    return this.tensors.length === 0 ? '(no state)' : this.tensors.map((t) => `${t.layer}.${t.name} [${t.slots}, ${t.size}]`).join(', ');
  }
}

/** What a failed StreamState.fromBytes() throws: a RangeError naming what is wrong. */
function badBytes(what: string): RangeError {
  return new RangeError(`Not a valid fused-rnn stream state: ${what}`);
}

/**
 * The state of one stream between two `server.step()` calls. The caller owns it: keep it in a
 * Map per client, or `toBytes()` it into a session store and `StreamState.fromBytes()` it back
 * (in this process or another one serving the same model).
 */
export class StreamState {
  /** @internal Use server.initialState(), the state step() returns, or StreamState.fromBytes(). */
  constructor(readonly layout: StateLayout, readonly data: Float32Array) {
    if (data.length !== layout.total) throw new RangeError(`Expected ${layout.total} floats of state but received ${data.length}`);
  }

  /** Each tensor as { layer, name, shape: [slots, size], data } (views on the state). */
  get tensors(): { layer: number; name: 'h' | 'c'; shape: number[]; data: Float32Array }[] {
    return this.layout.tensors.map((t, i) => {
      const at = this.layout.offsets[i];
      return { layer: t.layer, name: t.name, shape: [t.slots, t.size], data: this.data.subarray(at, at + t.slots * t.size) };
    });
  }

  /** The state as bytes: a header (format tag, version, the tensors' shapes) and the floats. */
  toBytes(): Uint8Array {
    const { tensors, total } = this.layout;
    const bytes = new Uint8Array(HEADER + ENTRY * tensors.length + 4 * total);
    const v = new DataView(bytes.buffer);
    for (let i = 0; i < TAG.length; i++) bytes[i] = TAG.charCodeAt(i);
    v.setUint16(8, VERSION, true);
    v.setUint16(10, tensors.length, true);
    v.setUint32(12, total, true);
    tensors.forEach((t, i) => {
      const at = HEADER + ENTRY * i;
      v.setUint16(at, t.layer, true);
      bytes[at + 2] = t.name.charCodeAt(0);
      v.setUint32(at + 4, t.slots, true);
      v.setUint32(at + 8, t.size, true);
    });
    const base = HEADER + ENTRY * tensors.length;
    for (let i = 0; i < total; i++) v.setFloat32(base + 4 * i, this.data[i], true);
    return bytes;
  }

  /**
   * Reads toBytes()'s output. With `expected` (a server, or its stateLayout) the shapes must be
   * that model's.
   * @throws RangeError for bytes that are not a stream state (tag, version, truncated), or whose
   * tensors or shapes differ from the expected model's.
   */
  static fromBytes(bytes: Uint8Array | ArrayBuffer, expected?: StateLayout | { readonly stateLayout: StateLayout }): StreamState {
    const u8 = bytes instanceof ArrayBuffer ? new Uint8Array(bytes) : bytes;
    if (!(u8 instanceof Uint8Array)) throw invalidType('bytes', 'Uint8Array, Buffer or ArrayBuffer', bytes);
    if (u8.length < HEADER) throw badBytes(`${u8.length} bytes, shorter than the ${HEADER}-byte header`);
    for (let i = 0; i < TAG.length; i++) {
      if (u8[i] !== TAG.charCodeAt(i)) throw badBytes(`the format tag is not '${TAG}'`);
    }
    const v = new DataView(u8.buffer, u8.byteOffset, u8.byteLength);
    const version = v.getUint16(8, true);
    if (version !== VERSION) throw badBytes(`format version ${version} (this fused-rnn reads version ${VERSION})`);
    const n = v.getUint16(10, true), total = v.getUint32(12, true);
    const base = HEADER + ENTRY * n;
    if (u8.length !== base + 4 * total) throw badBytes(`${u8.length} bytes where its header announces ${base + 4 * total} (truncated or padded)`);
    const tensors: StateTensorInfo[] = [];
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const at = HEADER + ENTRY * i;
      const name = String.fromCharCode(u8[at + 2]);
      const t = { layer: v.getUint16(at, true), name: name as 'h' | 'c', slots: v.getUint32(at + 4, true), size: v.getUint32(at + 8, true) };
      if ((name !== 'h' && name !== 'c') || t.slots < 1 || t.size < 1) throw badBytes(`tensor ${i} is malformed`);
      sum += t.slots * t.size;
      tensors.push(t);
    }
    if (sum !== total) throw badBytes(`its tensors hold ${sum} floats where its header announces ${total}`);
    let layout = new StateLayout(tensors);
    if (expected !== undefined) {
      const want = expected instanceof StateLayout ? expected : expected?.stateLayout;
      if (!(want instanceof StateLayout)) throw invalidType('expected', 'a StateLayout or a server', expected);
      if (!want.matches(layout)) {
        throw new RangeError(`This stream state does not fit the model: it holds ${layout.describe()}; the model's state is ${want.describe()}`);
      }
      layout = want;
    }
    const data = new Float32Array(total);
    for (let i = 0; i < total; i++) data[i] = v.getFloat32(base + 4 * i, true);
    return new StreamState(layout, data);
  }
}
