// lib/io/safetensors.ts: bit-exact round trips, golden bytes, a file written by the Python writer in
// test/fixtures/train/generate.py, the float dtypes, and every kind of corrupt file refused with a message
// that names the source and the problem.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  MAX_HEADER_SIZE, SafetensorsError, decodeSafetensors, encodeSafetensors, loadSafetensors, loadSafetensorsAsync,
  saveSafetensors, saveSafetensorsAsync,
} from '../../lib/io/safetensors';
import type { Tensor } from '../../lib/tensor';

const FIXTURES = path.join(__dirname, '..', 'fixtures', 'train');
const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'frnn-safetensors-'));
afterAll(() => fs.rmSync(tmpDir, { recursive: true, force: true }));

function t(shape: number[], data: number[] | Float32Array): Tensor {
  return { shape, data: data instanceof Float32Array ? data : Float32Array.from(data) };
}

function bits(a: Float32Array): number[] {
  return Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
}

/** A Float32Array holding exactly these bit patterns. */
function fromBits(b: number[]): Float32Array {
  return new Float32Array(Uint32Array.from(b).buffer);
}

function expectSameTensors(got: Record<string, Tensor>, want: Record<string, Tensor>): void {
  expect(Object.keys(got).sort()).toEqual(Object.keys(want).sort());
  for (const k of Object.keys(want)) {
    expect(got[k].shape, k).toEqual(want[k].shape);
    expect(got[k].data).toBeInstanceOf(Float32Array);
    expect(bits(got[k].data), k).toEqual(bits(want[k].data));
  }
}

/** Builds a file from a header (object or raw text) and data bytes, with the header size given or computed. */
function build(header: unknown, data: Uint8Array | number[] = [], opts: { n?: bigint; pad?: boolean } = {}): Uint8Array {
  let json = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  if (opts.pad !== false) {
    const padded = new Uint8Array(json.length + ((8 - (json.length % 8)) % 8)).fill(0x20);
    padded.set(json);
    json = padded;
  }
  const d = data instanceof Uint8Array ? data : Uint8Array.from(data);
  const out = new Uint8Array(8 + json.length + d.length);
  new DataView(out.buffer).setBigUint64(0, opts.n ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(d, 8 + json.length);
  return out;
}

const f32 = (name: string, shape: number[], begin: number, end: number) => ({ [name]: { dtype: 'F32', shape, data_offsets: [begin, end] } });

/** The error thrown by decode, checked to be a SafetensorsError whose message names the source. */
function refuse(bytes: Uint8Array, what = 'file'): string {
  let err: unknown;
  try {
    decodeSafetensors(bytes, what);
  } catch (e) {
    err = e;
  }
  expect(err, 'expected decodeSafetensors to throw').toBeInstanceOf(SafetensorsError);
  const msg = (err as Error).message;
  expect(msg.startsWith(`Invalid safetensors ${what}: `), msg).toBe(true);
  return msg;
}

describe('encode / decode round trip', () => {
  const special = fromBits([
    0x7fc00000, // NaN
    0x7fc00001, // quiet NaN with a payload
    0xffbadbad, // negative NaN with a payload
    0x7f800001, // signalling NaN
    0x80000000, // -0
    0x00000001, // smallest subnormal
    0x7f800000, // +Infinity
    0xff800000, // -Infinity
    0x7f7fffff, // largest float32
  ]);
  const tensors: Record<string, Tensor> = {
    '0.weight_ih_l0': t([3, 3], special),
    scalar: t([], [Math.fround(Math.PI)]),
    empty: t([0], []),
    'empty 3-D': t([3, 0, 2], []),
    'ünïcødé "quoted" \\ name': t([2], [1.5, -2.25]),
    __proto__name: t([1, 1, 1, 1], [42]),
    big: t([7, 13], Float32Array.from({ length: 91 }, (_, i) => Math.fround(Math.sin(i) * 1e3))),
  };

  it('is bit exact: NaN payloads, -0, infinities, subnormals, empty tensors and scalars', () => {
    const bytes = encodeSafetensors(tensors, { format: 'pt', note: 'ü 🙂' });
    const back = decodeSafetensors(bytes);
    expectSameTensors(back.tensors, tensors);
    expect(back.metadata).toEqual({ format: 'pt', note: 'ü 🙂' });
  });

  it('keeps a tensor named __proto__ as an own property', () => {
    const dict: Record<string, Tensor> = {};
    Object.defineProperty(dict, '__proto__', { value: t([1], [3]), enumerable: true });
    const back = decodeSafetensors(encodeSafetensors(dict)).tensors;
    expect(Object.keys(back)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
  });

  it('does not depend on the key order, and pads the header so the data starts at a multiple of 8', () => {
    const a = encodeSafetensors(tensors, { b: '2', a: '1' });
    const reversed = Object.fromEntries(Object.entries(tensors).reverse());
    const b = encodeSafetensors(reversed, { a: '1', b: '2' });
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    for (let extra = 0; extra < 10; extra++) {
      const bytes = encodeSafetensors({ ['x'.repeat(extra)]: t([1], [1]) });
      const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
      expect((8 + n) % 8).toBe(0);
      expect(bytes[8 + n - 1] === 0x7d || bytes[8 + n - 1] === 0x20).toBe(true);
    }
  });

  it('writes no __metadata__ when there is none, and decodes it as {}', () => {
    const bytes = encodeSafetensors({ a: t([1], [1]) });
    expect(Buffer.from(bytes).toString('latin1')).not.toContain('__metadata__');
    expect(decodeSafetensors(bytes).metadata).toEqual({});
    expect(decodeSafetensors(encodeSafetensors({})).tensors).toEqual({});
  });

  it('copies into an aligned Float32Array from any byte offset', () => {
    const bytes = encodeSafetensors({ a: t([3], [1, 2, 3]) });
    const shifted = new Uint8Array(bytes.length + 3);
    shifted.set(bytes, 3);
    const back = decodeSafetensors(shifted.subarray(3)).tensors.a;
    expect(Array.from(back.data)).toEqual([1, 2, 3]);
    expect(back.data.byteOffset).toBe(0);
    shifted.fill(0);
    expect(Array.from(back.data)).toEqual([1, 2, 3]);  // a copy, not a view
  });

  it('matches golden bytes for a tiny file (built independently with Python struct + json)', () => {
    const bytes = encodeSafetensors({ b: t([], [0.5]), a: t([2], [1, -2.5]) }, { k: 'v' });
    const golden = '88000000000000007b225f5f6d657461646174615f5f223a7b226b223a2276227d2c2261223a7b226474797065223a22463332222c22'
      + '7368617065223a5b325d2c22646174615f6f666673657473223a5b302c385d7d2c2262223a7b226474797065223a22463332222c2273686170'
      + '65223a5b5d2c22646174615f6f666673657473223a5b382c31325d7d7d202020200000803f000020c00000003f';
    expect(Buffer.from(bytes).toString('hex')).toBe(golden);
  });

  it('refuses bad arguments with Expected ... messages', () => {
    expect(() => encodeSafetensors(null as never)).toThrow(/^Expected object of tensors for tensors but received null$/);
    expect(() => encodeSafetensors({ a: { shape: [2], data: [1, 2] } as never })).toThrow(/^Expected Float32Array \(or Int8Array\) for tensors\['a'\]\.data/);
    expect(() => encodeSafetensors({ a: t([3], [1, 2]) })).toThrow(/^Expected length 3 \(shape \[3\]\) for tensors\['a'\]\.data but received Float32Array of length 2$/);
    expect(() => encodeSafetensors({ a: t([-1], []) })).toThrow(/^Expected array of non-negative integers for tensors\['a'\]\.shape/);
    expect(() => encodeSafetensors({ __metadata__: t([1], [1]) })).toThrow(/__metadata__/);
    expect(() => encodeSafetensors({}, { a: 1 } as never)).toThrow(/^Expected string for metadata\['a'\] but received 1 of type number$/);
    expect(() => decodeSafetensors([1, 2] as never)).toThrow(/^Expected Uint8Array for bytes/);
  });
});

describe('other float dtypes', () => {
  it('reads F16 exactly (subnormals, infinities, NaN, -0)', () => {
    const halves = [0x3c00, 0xc000, 0x0001, 0x03ff, 0x7bff, 0x7c00, 0xfc00, 0x8000, 0x3555, 0x7e00];
    const data = new Uint8Array(new Uint16Array(halves).buffer);
    const got = decodeSafetensors(build({ h: { dtype: 'F16', shape: [2, 5], data_offsets: [0, 20] } }, data)).tensors.h;
    expect(got.shape).toEqual([2, 5]);
    expect(Array.from(got.data)).toEqual([1, -2, 2 ** -24, 1023 * 2 ** -24, 65504, Infinity, -Infinity, -0, 0.333251953125, NaN]);
  });

  it('reads BF16 exactly and F64 rounded to float32', () => {
    const bf = new Uint8Array(new Uint16Array([0x3f80, 0xc049, 0x7f80, 0x0001]).buffer);
    const f64 = new Uint8Array(new Float64Array([0.1, -1e300, 1 + 2 ** -24, 1 + 3 * 2 ** -24]).buffer);
    const data = new Uint8Array(40);
    data.set(f64, 0);
    data.set(bf, 32);
    const got = decodeSafetensors(build({
      d: { dtype: 'F64', shape: [4], data_offsets: [0, 32] },
      b: { dtype: 'BF16', shape: [4], data_offsets: [32, 40] },
    }, data)).tensors;
    expect(Array.from(got.b.data)).toEqual([1, -3.140625, Infinity, 2 ** -133]);
    // ties to even: 1 + 2^-24 -> 1, 1 + 3·2^-24 -> 1 + 2^-22
    expect(Array.from(got.d.data)).toEqual([Math.fround(0.1), -Infinity, 1, 1 + 2 ** -22]);
  });

  it('refuses integer and other dtypes, and unknown ones', () => {
    const i64 = build({ i: { dtype: 'I64', shape: [1], data_offsets: [0, 8] } }, new Uint8Array(8));
    expect(refuse(i64)).toMatch(/tensor "i" has dtype I64, which this package does not read \(only F32, F64, F16, BF16, I8, as float32\)/);
    const bool = build({ i: { dtype: 'BOOL', shape: [1], data_offsets: [0, 1] } }, new Uint8Array(1));
    expect(refuse(bool)).toMatch(/dtype BOOL, which this package does not read/);
    const f33 = build({ i: { dtype: 'F33', shape: [1], data_offsets: [0, 4] } }, new Uint8Array(4));
    expect(refuse(f33)).toMatch(/tensor "i" has the unknown dtype "F33"/);
    const notString = build({ i: { dtype: 4, shape: [1], data_offsets: [0, 4] } }, new Uint8Array(4));
    expect(refuse(notString)).toMatch(/tensor "i" dtype must be a string but is the number 4/);
  });
});

describe('corrupt files are refused with a message naming the file and the problem', () => {
  const good = encodeSafetensors({ a: t([2, 2], [1, 2, 3, 4]), b: t([3], [5, 6, 7]), z: t([0], []) }, { format: 'pt' });
  const n = Number(new DataView(good.buffer).getBigUint64(0, true));

  it('the valid file decodes', () => {
    expect(Object.keys(decodeSafetensors(good).tensors)).toEqual(['a', 'b', 'z']);
  });

  it('truncated at every length', () => {
    for (let len = 0; len < good.length; len++) {
      const msg = refuse(good.subarray(0, len), `file 'cut${len}'`);
      if (len < 8) expect(msg).toMatch(/truncated: \d bytes, fewer than the 8 of the header size/);
      else if (len < 8 + n) expect(msg).toMatch(/header size \d+ is larger than the \d+ bytes that follow it/);
      else expect(msg).toMatch(/run past the end of the data .*truncated/);
    }
  });

  it('a wrong header size', () => {
    const withN = (v: bigint) => {
      const b = good.slice();
      new DataView(b.buffer).setBigUint64(0, v, true);
      return b;
    };
    expect(refuse(withN(0xffffffffffffffffn))).toMatch(/header size 18446744073709551615 is over the limit of 100000000 bytes/);
    expect(refuse(withN(BigInt(good.length)))).toMatch(/header size \d+ is larger/);
    expect(refuse(withN(0n))).toMatch(/does not start with '\{'/);
    expect(refuse(withN(BigInt(n - 8)))).toMatch(/invalid JSON header/);  // JSON cut short
    // n + 8: the header now swallows the first data bytes (not valid JSON text after the object)
    expect(refuse(withN(BigInt(n + 8)))).toMatch(/invalid JSON header|not valid UTF-8/);
    expect(refuse(build(f32('a', [1], 0, 4), new Uint8Array(4), { n: BigInt(MAX_HEADER_SIZE + 1) }))).toMatch(/header size 100000001 is over the limit/);
  });

  it('a header that is not UTF-8 JSON', () => {
    expect(refuse(build('{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}'))).toMatch(/invalid JSON header at character \d+: expected ',' or '}'/);
    expect(refuse(build('{"a":1,}'))).toMatch(/invalid JSON header at character 7: expected a string key/);
    expect(refuse(build('{"a":tru}'))).toMatch(/invalid JSON header at character 5: unexpected character "t"/);
    expect(refuse(build('{"a":"x\ny"}'))).toMatch(/control character in a string/);
    expect(refuse(build('{"a":"\\q"}'))).toMatch(/bad escape/);
    expect(refuse(build('{"a":01}'))).toMatch(/expected ',' or '}'/);
    expect(refuse(build('{} {}'))).toMatch(/unexpected text after the JSON object/);
    expect(refuse(build('[]'))).toMatch(/does not start with '\{'/);
    expect(refuse(build('\ufeff{}'))).toMatch(/does not start with '\{'/);
    expect(refuse(build(`{"a":${'['.repeat(100)}${']'.repeat(100)}}`))).toMatch(/nesting deeper than 64/);
    const badUtf8 = build('{"__metadata__":{"k":"vv"}}');
    badUtf8[8 + 22] = 0xff;
    expect(refuse(badUtf8)).toMatch(/the header is not valid UTF-8/);
    // trailing whitespace of any JSON kind is fine; an empty header object is a valid empty file
    expect(decodeSafetensors(build('{}\n\t\r ', [], { pad: false })).tensors).toEqual({});
  });

  it('duplicate keys and bad metadata', () => {
    const entry = '{"dtype":"F32","shape":[1],"data_offsets":[0,4]}';
    expect(refuse(build(`{"a":${entry},"a":${entry}}`, new Uint8Array(4)))).toMatch(/duplicate key "a"/);
    expect(refuse(build(`{"__metadata__":{"k":"1","k":"2"}}`))).toMatch(/duplicate key "k"/);
    expect(refuse(build({ __metadata__: { k: 1 } }))).toMatch(/__metadata__ value of "k" must be a string but is the number 1/);
    expect(refuse(build({ __metadata__: { k: null } }))).toMatch(/__metadata__ value of "k" must be a string but is null/);
    expect(refuse(build({ __metadata__: ['x'] }))).toMatch(/__metadata__ must be an object of strings but is an array/);
    expect(refuse(build({ __metadata__: 'x' }))).toMatch(/__metadata__ must be an object of strings but is the string "x"/);
  });

  it('bad tensor entries', () => {
    const d4 = new Uint8Array(4);
    expect(refuse(build({ a: [0, 4] }, d4))).toMatch(/tensor "a" must be an object \{ dtype, shape, data_offsets \} but is an array/);
    expect(refuse(build({ a: { dtype: 'F32', shape: [1] } }, d4))).toMatch(/tensor "a" has no data_offsets/);
    expect(refuse(build({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4], extra: 1 } }, d4))).toMatch(/tensor "a" has an unknown field "extra"/);
    expect(refuse(build({ a: { dtype: 'F32', shape: 1, data_offsets: [0, 4] } }, d4))).toMatch(/shape must be an array but is the number 1/);
    expect(refuse(build('{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}', d4))).toMatch(/shape must hold non-negative integers but holds the number -1/);
    expect(refuse(build('{"a":{"dtype":"F32","shape":[1.0],"data_offsets":[0,4]}}', d4))).toMatch(/non-negative integers but holds the number 1\.0/);
    expect(refuse(build('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4e0]}}', d4))).toMatch(/data_offsets must be two non-negative integers below 2\^53 but are \[the number 0, the number 4e0\]/);
    expect(refuse(build('{"a":{"dtype":"F32","shape":[1],"data_offsets":[9007199254740993,9007199254740997]}}', d4))).toMatch(/below 2\^53/);
    expect(refuse(build('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}}', d4))).toMatch(/tensor "a" data_offsets must be \[begin, end\] but has 3 entries/);
    expect(refuse(build(f32('a', [1], 4, 0), d4))).toMatch(/tensor "a" data_offsets \[4, 0\] end before they begin/);
  });

  it('offsets out of range, overlapping, with gaps, or leaving bytes over', () => {
    const d = new Uint8Array(16);
    expect(refuse(build(f32('a', [5], 0, 20), d))).toMatch(/tensor "a" data_offsets \[0, 20\] run past the end of the data \(16 bytes\)/);
    expect(refuse(build({ ...f32('a', [3], 0, 12), ...f32('b', [2], 8, 16) }, d))).toMatch(/tensor "b" data_offsets \[8, 16\] overlap tensor "a" \[0, 12\]/);
    expect(refuse(build({ ...f32('a', [4], 0, 16), ...f32('b', [4], 0, 16) }, d))).toMatch(/overlap tensor/);
    expect(refuse(build({ ...f32('a', [4], 0, 16), ...f32('e', [0], 8, 8) }, d))).toMatch(/tensor "e" data_offsets \[8, 8\] overlap tensor "a"/);
    expect(refuse(build({ ...f32('a', [1], 0, 4), ...f32('b', [2], 8, 16) }, d))).toMatch(/a gap of 4 bytes before tensor "b" \(data_offsets \[8, 16\]; the previous tensor ends at 4\)/);
    expect(refuse(build(f32('a', [2], 8, 16), d))).toMatch(/a gap of 8 bytes before tensor "a"/);
    expect(refuse(build(f32('a', [3], 0, 12), d))).toMatch(/4 bytes after the last tensor \(the data is 16 bytes, the tensors cover 12\)/);
    expect(refuse(build({}, d))).toMatch(/16 bytes after the last tensor/);
    // zero-size tensors may sit anywhere on a boundary
    const ok = decodeSafetensors(build({ ...f32('a', [2], 0, 8), ...f32('e', [0, 5], 8, 8), ...f32('b', [2], 8, 16), ...f32('f', [0], 16, 16) }, d));
    expect(Object.keys(ok.tensors)).toEqual(['a', 'e', 'b', 'f']);
  });

  it('byte lengths that do not match shape x dtype size', () => {
    const d = new Uint8Array(16);
    expect(refuse(build(f32('a', [2, 3], 0, 16), d))).toMatch(/tensor "a" has shape \[2, 3\] and dtype F32 \(more than 16 bytes\) but data_offsets \[0, 16\] span 16 bytes/);
    expect(refuse(build(f32('a', [3], 0, 16), d))).toMatch(/has shape \[3\] and dtype F32 \(12 bytes\) but data_offsets \[0, 16\] span 16 bytes/);
    expect(refuse(build(f32('a', [], 0, 16), d))).toMatch(/has shape \[\] and dtype F32 \(4 bytes\)/);
    const huge = `{"a":{"dtype":"F32","shape":[4294967296,4294967296,4294967296,0],"data_offsets":[0,0]},"b":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,16]}}`;
    expect(refuse(build(huge, d))).toMatch(/tensor "b" has shape \[4294967296, 4294967296\] and dtype F32 \(more than 16 bytes\)/);
  });

  it('random byte flips never crash: each either decodes or throws SafetensorsError', () => {
    let seed = 12345;
    const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    let refused = 0;
    for (let trial = 0; trial < 500; trial++) {
      const b = good.slice();
      const flips = 1 + Math.floor(rand() * 3);
      for (let k = 0; k < flips; k++) b[Math.floor(rand() * b.length)] ^= 1 << Math.floor(rand() * 8);
      try {
        decodeSafetensors(b);
      } catch (e) {
        expect(e).toBeInstanceOf(SafetensorsError);
        refused++;
      }
    }
    expect(refused).toBeGreaterThan(100);
  });
});

describe('files', () => {
  it('reads the file written by the Python writer of test/fixtures/train/generate.py', () => {
    const file = path.join(FIXTURES, 'lstm_small.safetensors');
    const bytes = fs.readFileSync(file);
    const { tensors, metadata } = loadSafetensors(file);
    expect(metadata.format).toBe('pt');
    const fixture = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'lstm_tbptt.json'), 'utf8')) as { init: Record<string, { shape: number[]; data: number[] }> };
    const want = Object.fromEntries(Object.entries(fixture.init).map(([k, v]) => [k, t(v.shape, Float32Array.from(v.data))]));
    expectSameTensors(tensors, want);
    expect(tensors['0.weight_ih_l0'].shape).toEqual([32, 3]);
    expect(tensors['0.weight_hh_l0'].shape).toEqual([32, 8]);
    expect(tensors['1.weight'].shape).toEqual([2, 8]);
    // Same conventions on both sides: re-encoding gives the Python file byte for byte.
    expect(Buffer.from(encodeSafetensors(tensors, metadata)).equals(bytes)).toBe(true);
  });

  it('save / load, sync and async, names the path in errors', async () => {
    const dict = { w: t([2, 2], [1, 2, 3, 4]), s: t([], [-0]) };
    const p1 = path.join(tmpDir, 'sync.safetensors');
    saveSafetensors(p1, dict, { epoch: '3' });
    expectSameTensors(loadSafetensors(p1).tensors, dict);
    expect((await loadSafetensorsAsync(p1)).metadata).toEqual({ epoch: '3' });
    const p2 = path.join(tmpDir, 'async.safetensors');
    await saveSafetensorsAsync(p2, dict);
    expect(fs.readFileSync(p2).equals(fs.readFileSync(p1))).toBe(false);  // metadata differs
    expectSameTensors((await loadSafetensorsAsync(p2)).tensors, dict);
    expect(fs.readdirSync(tmpDir).filter((f) => f.endsWith('.tmp'))).toEqual([]);

    const bad = path.join(tmpDir, 'bad.safetensors');
    fs.writeFileSync(bad, fs.readFileSync(p1).subarray(0, 20));
    expect(() => loadSafetensors(bad)).toThrow(`Invalid safetensors file '${bad}': header size`);
    await expect(loadSafetensorsAsync(bad)).rejects.toThrow(`Invalid safetensors file '${bad}': header size`);
    expect(() => loadSafetensors(path.join(tmpDir, 'missing'))).toThrow(/ENOENT/);
    await expect(loadSafetensorsAsync(path.join(tmpDir, 'missing'))).rejects.toThrow(/ENOENT/);
    expect(() => loadSafetensors('' as string)).toThrow(/^Expected non-empty string for path but received '' of type string$/);
  });
});
