// The safetensors format (https://github.com/huggingface/safetensors, README "Format"):
//
//   [ 8 bytes ] N, unsigned 64-bit little-endian: the size of the header
//   [ N bytes ] UTF-8 JSON object, starting with '{', possibly padded at the end with spaces:
//                 { "__metadata__": { "key": "value", ... },                  optional, strings only
//                   "<name>": { "dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end] }, ... }
//   [ rest    ] the byte buffer. Offsets count from its start; the tensors are contiguous, do not
//               overlap and cover it exactly. Data is little-endian, row-major (C order).
//
// encodeSafetensors() writes F32, and I8 for tensors whose data is an Int8Array (quantized weights,
// lib/io/quantize.ts), tensors sorted by name (UTF-8 byte order, which is code point
// order, Python's sorted()), compact JSON with "__metadata__" first, and the header padded with spaces
// so that the data starts at a multiple of 8 (as the reference writer does).
//
// decodeSafetensors() checks everything before reading anything, and names the file and the problem:
// a truncated file, a header size past the end, invalid UTF-8 or JSON, duplicate keys, unknown fields
// or dtypes, offsets out of range, overlapping, with gaps or bytes left over, and byte lengths that do
// not match shape × dtype size. It reads the float dtypes into Float32Array:
//   F32   copied bit for bit (NaN payloads, -0 kept);
//   F64   rounded to the nearest float32 (ties to even); out-of-range values become ±Infinity;
//   F16   exact (every half is a float32), subnormals, ±Infinity and NaN included;
//   BF16  exact (a bfloat16 is the top half of a float32);
//   I8    exact (integers -128..127, as a quantized model file holds them).
// Other integer, bool, complex and 8-bit-or-smaller float dtypes are refused with an error that says so.
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import { Described, invalidArg, invalidType } from '../internal/check';
import type { Tensor } from '../tensor';
import { writeFileAtomic, writeFileAtomicAsync } from './atomic';

/** A safetensors file's content as this package reads it. */
export interface Safetensors {
  tensors: Record<string, Tensor>;
  metadata: Record<string, string>;
}

/** A file or buffer that is not a valid safetensors file (or holds a dtype this package cannot read). */
export class SafetensorsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SafetensorsError';
  }
}

/** The reference implementation's limit on N (safetensors MAX_HEADER_SIZE). */
export const MAX_HEADER_SIZE = 100_000_000;

/** Every dtype of the safetensors spec, with its size in bytes (0 = less than a byte per element). */
const DTYPE_SIZES: Record<string, number> = {
  BOOL: 1, U8: 1, I8: 1, F8_E5M2: 1, F8_E4M3: 1, F8_E8M0: 1, F4: 0, F6_E2M3: 0, F6_E3M2: 0,
  I16: 2, U16: 2, F16: 2, BF16: 2, I32: 4, U32: 4, F32: 4, F64: 8, I64: 8, U64: 8, C64: 8,
};
const READABLE = ['F32', 'F64', 'F16', 'BF16', 'I8'];
const TENSOR_FIELDS = ['dtype', 'shape', 'data_offsets'];
const MAX_JSON_DEPTH = 64;

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Sets an own enumerable property, even for the name '__proto__'. */
function setOwn<T>(obj: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

function shapeString(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

// ---------------------------------------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------------------------------------

function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** The bytes of a Float32Array, little-endian. */
function f32Bytes(data: Float32Array): Uint8Array {
  const view = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (LITTLE_ENDIAN) return view;
  const out = new Uint8Array(view);
  for (let i = 0; i < out.length; i += 4) {
    const a = out[i], b = out[i + 1];
    out[i] = out[i + 3]; out[i + 1] = out[i + 2]; out[i + 2] = b; out[i + 3] = a;
  }
  return out;
}

/** A tensor encodeSafetensors() writes: float32 (F32), or int8 (I8) for quantized weights. */
export interface WritableTensor {
  shape: number[];
  data: Float32Array | Int8Array;
}

function checkTensorArg(name: string, t: unknown): WritableTensor {
  if (typeof t !== 'object' || t === null || !('shape' in t) || !('data' in t)) throw invalidType(name, 'Tensor { shape, data }', t);
  const tt = t as WritableTensor;
  if (!(tt.data instanceof Float32Array || tt.data instanceof Int8Array)) throw invalidType(`${name}.data`, 'Float32Array (or Int8Array)', tt.data);
  if (!Array.isArray(tt.shape) || tt.shape.some((d) => !Number.isSafeInteger(d) || d < 0)) {
    throw invalidArg(`${name}.shape`, 'array of non-negative integers', tt.shape);
  }
  const size = tt.shape.reduce((a, b) => a * b, 1);
  if (tt.data.length !== size) throw invalidArg(`${name}.data`, `length ${size} (shape ${shapeString(tt.shape)})`, tt.data);
  return tt;
}

/**
 * Encodes float32 tensors (and optional string metadata) as a safetensors file. The output is
 * deterministic: tensors sorted by name, "__metadata__" first with sorted keys, header padded with
 * spaces to a multiple of 8 bytes.
 * @example encodeSafetensors({ 'w': tensor([1, 2, 3, 4, 5, 6], [2, 3]) }, { format: 'pt' }) // Uint8Array of 120 bytes (8 + 88 header + 24 data)
 * @throws TypeError or RangeError naming the bad tensor or metadata entry.
 */
export function encodeSafetensors(tensors: Record<string, WritableTensor>, metadata?: Record<string, string>): Uint8Array {
  if (typeof tensors !== 'object' || tensors === null || Array.isArray(tensors)) throw invalidType('tensors', 'object of tensors', tensors);
  const names = Object.keys(tensors).sort(compareUtf8);
  const header: Record<string, unknown> = {};
  if (metadata !== undefined) {
    if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) throw invalidType('metadata', 'object of strings', metadata);
    const keys = Object.keys(metadata).sort(compareUtf8);
    const meta: Record<string, string> = {};
    for (const k of keys) {
      const v = metadata[k];
      if (typeof v !== 'string') throw invalidType(`metadata['${k}']`, 'string', v);
      setOwn(meta, k, v);
    }
    if (keys.length > 0) header.__metadata__ = meta;
  }
  const parts: Uint8Array[] = [];
  let offset = 0;
  for (const name of names) {
    if (name === '__metadata__') throw invalidArg('tensors', 'tensor names other than __metadata__', new Described("a tensor named '__metadata__'"));
    const t = checkTensorArg(`tensors['${name}']`, tensors[name]);
    const i8 = t.data instanceof Int8Array;
    const bytes = i8 ? new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength) : f32Bytes(t.data as Float32Array);
    setOwn(header, name, { dtype: i8 ? 'I8' : 'F32', shape: [...t.shape], data_offsets: [offset, offset + bytes.length] });
    parts.push(bytes);
    offset += bytes.length;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const n = json.length + ((8 - (json.length % 8)) % 8);
  const out = new Uint8Array(8 + n + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(n), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + n);
  let at = 8 + n;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// A strict JSON parser for the header: rejects duplicate keys (JSON.parse keeps the last one silently),
// keeps the text of numbers (so 1e400, 1.0 or 2^53+1 are not taken for offsets), caps the nesting depth.
// ---------------------------------------------------------------------------------------------------------

type Json = null | boolean | string | JsonNumber | Json[] | Map<string, Json>;

class JsonNumber {
  constructor(readonly raw: string) {}
}

class JsonParser {
  private i = 0;
  constructor(private readonly s: string, private readonly fail: (problem: string) => never) {}

  parseDocument(): Json {
    const v = this.value(0);
    this.ws();
    if (this.i < this.s.length) this.error('unexpected text after the JSON object');
    return v;
  }

  private error(what: string): never {
    return this.fail(`invalid JSON header at character ${this.i}: ${what}`);
  }

  private ws(): void {
    const s = this.s;
    while (this.i < s.length) {
      const c = s.charCodeAt(this.i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) this.i++;
      else break;
    }
  }

  private value(depth: number): Json {
    if (depth > MAX_JSON_DEPTH) this.error(`nesting deeper than ${MAX_JSON_DEPTH}`);
    this.ws();
    const c = this.s[this.i];
    if (c === '{') return this.object(depth);
    if (c === '[') return this.array(depth);
    if (c === '"') return this.string();
    if (c === '-' || (c >= '0' && c <= '9')) return this.number();
    for (const [word, v] of [['true', true], ['false', false], ['null', null]] as const) {
      if (this.s.startsWith(word, this.i)) {
        this.i += word.length;
        return v;
      }
    }
    return this.error(c === undefined ? 'unexpected end' : `unexpected character ${JSON.stringify(c)}`);
  }

  private object(depth: number): Map<string, Json> {
    const out = new Map<string, Json>();
    this.i++;  // {
    this.ws();
    if (this.s[this.i] === '}') {
      this.i++;
      return out;
    }
    for (;;) {
      this.ws();
      if (this.s[this.i] !== '"') this.error('expected a string key');
      const at = this.i;
      const key = this.string();
      if (out.has(key)) {
        this.i = at;
        this.error(`duplicate key ${JSON.stringify(key)}`);
      }
      this.ws();
      if (this.s[this.i] !== ':') this.error("expected ':'");
      this.i++;
      out.set(key, this.value(depth + 1));
      this.ws();
      const c = this.s[this.i++];
      if (c === '}') return out;
      if (c !== ',') {
        this.i--;
        this.error("expected ',' or '}'");
      }
    }
  }

  private array(depth: number): Json[] {
    const out: Json[] = [];
    this.i++;  // [
    this.ws();
    if (this.s[this.i] === ']') {
      this.i++;
      return out;
    }
    for (;;) {
      out.push(this.value(depth + 1));
      this.ws();
      const c = this.s[this.i++];
      if (c === ']') return out;
      if (c !== ',') {
        this.i--;
        this.error("expected ',' or ']'");
      }
    }
  }

  private string(): string {
    const s = this.s;
    const start = this.i++;
    for (;;) {
      if (this.i >= s.length) this.error('unterminated string');
      const c = s.charCodeAt(this.i);
      if (c === 0x22) break;
      if (c < 0x20) this.error('control character in a string');
      if (c === 0x5c) {
        const e = s[this.i + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(s.slice(this.i + 2, this.i + 6))) this.error('bad \\u escape');
          this.i += 6;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) {
          this.i += 2;
        } else {
          this.error('bad escape');
        }
      } else {
        this.i++;
      }
    }
    this.i++;
    return JSON.parse(s.slice(start, this.i)) as string;  // validated above
  }

  private number(): JsonNumber {
    const m = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(this.s.slice(this.i, this.i + 400));
    if (m === null) this.error('bad number');
    this.i += m[0].length;
    return new JsonNumber(m[0]);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Decoding
// ---------------------------------------------------------------------------------------------------------

interface Entry {
  name: string;
  dtype: string;
  shape: number[];
  begin: number;
  end: number;
}

function typeName(v: Json): string {
  if (v === null) return 'null';
  if (v instanceof Map) return 'an object';
  if (Array.isArray(v)) return 'an array';
  if (v instanceof JsonNumber) return `the number ${v.raw}`;
  if (typeof v === 'string') return `the string ${JSON.stringify(v)}`;
  return String(v);
}

/** A JSON natural number that is exactly representable (no fraction, exponent or sign; < 2^53). */
function naturalNumber(v: Json): number | undefined {
  if (!(v instanceof JsonNumber) || !/^(0|[1-9][0-9]*)$/.test(v.raw)) return undefined;
  const n = Number(v.raw);
  return Number.isSafeInteger(n) ? n : undefined;
}

function half(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;  // zero and subnormals
  if (exp === 31) return frac === 0 ? sign * Infinity : NaN;
  return sign * (1024 + frac) * 2 ** (exp - 25);
}

/** Copies `src` into a new buffer of `elem`-byte elements in host byte order. */
function alignedCopy(src: Uint8Array, elem: number): ArrayBuffer {
  const out = new Uint8Array(src.length);
  out.set(src);
  if (!LITTLE_ENDIAN) {
    for (let i = 0; i < out.length; i += elem) out.subarray(i, i + elem).reverse();
  }
  return out.buffer;
}

function toFloat32(dtype: string, src: Uint8Array, count: number): Float32Array {
  switch (dtype) {
    case 'F32':
      return new Float32Array(alignedCopy(src, 4));
    case 'F64': {
      const out = new Float32Array(count);
      out.set(new Float64Array(alignedCopy(src, 8)));  // ToFloat32: round to nearest, ties to even
      return out;
    }
    case 'F16': {
      const h = new Uint16Array(alignedCopy(src, 2));
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = half(h[i]);
      return out;
    }
    case 'BF16': {
      const h = new Uint16Array(alignedCopy(src, 2));
      const out = new Float32Array(count);
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < count; i++) bits[i] = h[i] << 16 >>> 0;
      return out;
    }
    case 'I8':
      return Float32Array.from(new Int8Array(src.buffer, src.byteOffset, src.byteLength));
    default:
      throw new Error(`internal: dtype ${dtype}`);
  }
}

/**
 * Decodes a safetensors file held in memory. Every check runs before any tensor is read.
 * F32 is copied bit for bit into a new (aligned) Float32Array; F64 is rounded to float32; F16 and
 * BF16 are widened exactly. Other dtypes are refused.
 * @param what names the source in error messages, e.g. "file 'model.safetensors'". Default 'file'.
 * @example decodeSafetensors(fs.readFileSync('lstm.safetensors')).tensors['0.weight_ih_l0'].shape // [4H, I]
 * @throws TypeError when bytes is not a Uint8Array; SafetensorsError naming `what` and the problem
 *   when the content is not a valid safetensors file or holds a dtype other than F32/F64/F16/BF16.
 */
export function decodeSafetensors(bytes: Uint8Array, what = 'file'): Safetensors {
  if (!(bytes instanceof Uint8Array)) throw invalidType('bytes', 'Uint8Array', bytes);
  if (typeof what !== 'string') throw invalidType('what', 'string', what);
  const fail = (problem: string): never => {
    throw new SafetensorsError(`Invalid safetensors ${what}: ${problem}`);
  };

  // Header size and header
  if (bytes.length < 8) fail(`truncated: ${bytes.length} bytes, fewer than the 8 of the header size`);
  const n64 = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  const after = bytes.length - 8;
  if (n64 > BigInt(MAX_HEADER_SIZE)) fail(`header size ${n64} is over the limit of ${MAX_HEADER_SIZE} bytes (not a safetensors file?)`);
  const n = Number(n64);
  if (n > after) fail(`header size ${n} is larger than the ${after} bytes that follow it (truncated, or not a safetensors file)`);
  let text = '';
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes.subarray(8, 8 + n));
  } catch {
    fail('the header is not valid UTF-8');
  }
  if (!text.startsWith('{')) fail(`the header does not start with '{' (header size ${n})`);
  const header = new JsonParser(text, fail).parseDocument() as Map<string, Json>;

  // Entries
  const metadata: Record<string, string> = {};
  const entries: Entry[] = [];
  const bufferLength = after - n;
  for (const [name, v] of header) {
    if (name === '__metadata__') {
      if (!(v instanceof Map)) fail(`__metadata__ must be an object of strings but is ${typeName(v)}`);
      for (const [k, s] of v as Map<string, Json>) {
        if (typeof s !== 'string') fail(`__metadata__ value of ${JSON.stringify(k)} must be a string but is ${typeName(s)}`);
        setOwn(metadata, k, s as string);
      }
      continue;
    }
    const tname = `tensor ${JSON.stringify(name)}`;
    if (!(v instanceof Map)) fail(`${tname} must be an object { dtype, shape, data_offsets } but is ${typeName(v)}`);
    const info = v as Map<string, Json>;
    for (const k of info.keys()) if (!TENSOR_FIELDS.includes(k)) fail(`${tname} has an unknown field ${JSON.stringify(k)}`);
    for (const k of TENSOR_FIELDS) if (!info.has(k)) fail(`${tname} has no ${k}`);
    const dtype = info.get('dtype') as Json;
    if (typeof dtype !== 'string') fail(`${tname} dtype must be a string but is ${typeName(dtype)}`);
    if (!(dtype as string in DTYPE_SIZES)) fail(`${tname} has the unknown dtype ${JSON.stringify(dtype)}`);
    if (!READABLE.includes(dtype as string)) {
      fail(`${tname} has dtype ${dtype as string}, which this package does not read (only ${READABLE.join(', ')}, as float32)`);
    }
    const shapeJson = info.get('shape') as Json;
    if (!Array.isArray(shapeJson)) fail(`${tname} shape must be an array but is ${typeName(shapeJson)}`);
    const shape: number[] = [];
    for (const d of shapeJson as Json[]) {
      const dim = naturalNumber(d);
      if (dim === undefined) fail(`${tname} shape must hold non-negative integers but holds ${typeName(d)}`);
      shape.push(dim as number);
    }
    const offsJson = info.get('data_offsets') as Json;
    if (!Array.isArray(offsJson)) fail(`${tname} data_offsets must be an array [begin, end] but is ${typeName(offsJson)}`);
    if ((offsJson as Json[]).length !== 2) fail(`${tname} data_offsets must be [begin, end] but has ${(offsJson as Json[]).length} entries`);
    const [begin, end] = (offsJson as Json[]).map(naturalNumber);
    if (begin === undefined || end === undefined) {
      fail(`${tname} data_offsets must be two non-negative integers below 2^53 but are [${(offsJson as Json[]).map(typeName).join(', ')}]`);
    }
    if ((end as number) < (begin as number)) fail(`${tname} data_offsets [${begin}, ${end}] end before they begin`);
    if ((end as number) > bufferLength) {
      fail(`${tname} data_offsets [${begin}, ${end}] run past the end of the data (${bufferLength} bytes): the file is truncated or the offsets are wrong`);
    }
    // shape × dtype size, without overflow: stop as soon as the product passes the span
    const span = (end as number) - (begin as number);
    const size = DTYPE_SIZES[dtype as string];
    let nbytes = shape.includes(0) ? 0 : size;
    for (const d of shape) {
      if (nbytes > span) break;
      nbytes *= d;
    }
    if (nbytes !== span) {
      const expected = nbytes > span ? `more than ${span}` : String(nbytes);
      fail(`${tname} has shape ${shapeString(shape)} and dtype ${dtype as string} (${expected} bytes) but data_offsets [${begin}, ${end}] span ${span} bytes`);
    }
    entries.push({ name, dtype: dtype as string, shape, begin: begin as number, end: end as number });
  }

  // The tensors must tile the buffer exactly
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let pos = 0;
  let prev: Entry | undefined;
  for (const e of sorted) {
    if (e.begin < pos) fail(`tensor ${JSON.stringify(e.name)} data_offsets [${e.begin}, ${e.end}] overlap tensor ${JSON.stringify(prev!.name)} [${prev!.begin}, ${prev!.end}]`);
    if (e.begin > pos) fail(`a gap of ${e.begin - pos} bytes before tensor ${JSON.stringify(e.name)} (data_offsets [${e.begin}, ${e.end}]; the previous tensor ends at ${pos})`);
    pos = e.end;
    prev = e;
  }
  if (pos !== bufferLength) fail(`${bufferLength - pos} bytes after the last tensor (the data is ${bufferLength} bytes, the tensors cover ${pos})`);

  // Read
  const tensors: Record<string, Tensor> = {};
  const base = 8 + n;
  for (const e of entries) {
    const count = e.shape.reduce((a, b) => a * b, 1);
    setOwn(tensors, e.name, { shape: e.shape, data: toFloat32(e.dtype, bytes.subarray(base + e.begin, base + e.end), count) });
  }
  return { tensors, metadata };
}

// ---------------------------------------------------------------------------------------------------------
// Files
// ---------------------------------------------------------------------------------------------------------

/**
 * Writes tensors to a safetensors file, atomically (writeFileAtomic): the file is replaced whole or not at all.
 * @example saveSafetensors('lstm.safetensors', lstm.stateDict())
 * @throws as encodeSafetensors() and writeFileAtomic().
 */
export function saveSafetensors(file: string, tensors: Record<string, WritableTensor>, metadata?: Record<string, string>): void {
  writeFileAtomic(file, encodeSafetensors(tensors, metadata));
}

/** The asynchronous saveSafetensors(). */
export async function saveSafetensorsAsync(file: string, tensors: Record<string, WritableTensor>, metadata?: Record<string, string>): Promise<void> {
  await writeFileAtomicAsync(file, encodeSafetensors(tensors, metadata));
}

/**
 * Reads a safetensors file (see decodeSafetensors() for the dtypes and checks).
 * @example loadSafetensors('lstm.safetensors').tensors['0.weight_hh_l0'] // { shape: [4H, H], data }
 * @throws the file system's error when the file cannot be read; SafetensorsError naming the path otherwise.
 */
export function loadSafetensors(file: string): Safetensors {
  if (typeof file !== 'string' || file.length === 0) throw invalidType('path', 'non-empty string', file);
  let bytes: Uint8Array;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    throw namingPath(e, file);
  }
  return decodeSafetensors(bytes, `file '${file}'`);
}

/** A file system error whose message names the path (EISDIR from a read does not). */
function namingPath(e: unknown, file: string): unknown {
  if (e instanceof Error && !e.message.includes(file)) {
    e.message = `${e.message}: '${file}'`;
    if ((e as NodeJS.ErrnoException).path === undefined) (e as NodeJS.ErrnoException).path = file;
  }
  return e;
}

/** The asynchronous loadSafetensors(). */
export async function loadSafetensorsAsync(file: string): Promise<Safetensors> {
  if (typeof file !== 'string' || file.length === 0) throw invalidType('path', 'non-empty string', file);
  let bytes: Uint8Array;
  try {
    bytes = await fsp.readFile(file);
  } catch (e) {
    throw namingPath(e, file);
  }
  return decodeSafetensors(bytes, `file '${file}'`);
}
