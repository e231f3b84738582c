// layer.step(x, state, { out }): results written into the caller's arrays, with the bits of new
// arrays, the state's own arrays allowed (updated in place), bad arrays refused clearly.
import { describe, expect, test } from 'vitest';
import { GRU, LSTM, tensor, type Tensor } from '../../lib/index';
import { firstBitMismatch, mulberry32 } from '../helpers/gradcheck';

function randomTensor(shape: number[], seed: number): Tensor {
  const rng = mulberry32(seed);
  return tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => 2 * rng() - 1), shape);
}

const same = (a: Float32Array, b: Float32Array) => a.length === b.length && firstBitMismatch(a, b) === -1;

describe('step with out arrays', () => {
  test.each([1, 2, 7, 40])('LSTM, 2 layers, B = %i: out arrays and in-place states equal new arrays', (B) => {
    const l = new LSTM({ inputSize: 5, hiddenSize: 32, numLayers: 2, seed: 3 });
    const x = randomTensor([B, 5], 1);
    const s = { h: randomTensor([2, B, 32], 2), c: randomTensor([2, B, 32], 3) };
    const want = l.step(x, s);
    const out = { output: new Float32Array(B * 32), h: new Float32Array(2 * B * 32), c: new Float32Array(2 * B * 32) };
    const got = l.step(x, s, { out });
    expect(got.output.data).toBe(out.output);
    expect(got.state.h.data).toBe(out.h);
    expect(same(out.output, want.output.data) && same(out.h, want.h.data) && same(out.c, want.c!.data)).toBe(true);
    // The state's own arrays as out: read before written.
    const own = { h: tensor(s.h.data.slice(), s.h.shape), c: tensor(s.c.data.slice(), s.c.shape) };
    const inPlace = l.step(x, own, { out: { h: own.h.data, c: own.c.data } });
    expect(same(inPlace.output.data, want.output.data) && same(own.h.data, want.h.data) && same(own.c.data, want.c!.data)).toBe(true);
  });

  test.each([1, 9])('B = %i: the output written over the state it reads (h0 shares memory with y) keeps its bits', (B) => {
    for (const l of [new LSTM({ inputSize: 3, hiddenSize: 64, seed: 8 }), new GRU({ inputSize: 3, hiddenSize: 64, seed: 9 })]) {
      const x = randomTensor([B, 3], 10);
      const h = randomTensor([1, B, 64], 11), c = randomTensor([1, B, 64], 12);
      const state = l.cell === 'lstm' ? { h, c } : { h };
      const want = l.step(x, state);
      const shared = h.data.slice();
      const got = l.step(x, l.cell === 'lstm' ? { h: tensor(shared, [1, B, 64]), c } : { h: tensor(shared, [1, B, 64]) }, { out: { output: shared } });
      expect(same(got.output.data, want.output.data) && same(got.h.data, want.h.data)).toBe(true);
    }
  });

  test('GRU with only some out arrays', () => {
    const l = new GRU({ inputSize: 4, hiddenSize: 16, seed: 5 });
    const x = randomTensor([6, 4], 6);
    const want = l.step(x);
    const output = new Float32Array(6 * 16);
    const got = l.step(x, undefined, { out: { output } });
    expect(got.output.data).toBe(output);
    expect(same(output, want.output.data) && same(got.h.data, want.h.data)).toBe(true);
  });

  test('bad out arrays and options are refused', () => {
    const l = new LSTM({ inputSize: 4, hiddenSize: 8, seed: 1 });
    const x = randomTensor([3, 4], 1);
    expect(() => l.step(x, undefined, { out: { h: new Float32Array(5) } })).toThrow(RangeError);
    expect(() => l.step(x, undefined, { out: { c: [] as unknown as Float32Array } })).toThrow(TypeError);
    expect(() => l.step(x, undefined, { out: { y: new Float32Array(24) } } as never)).toThrow(/y/);
    expect(() => new GRU({ inputSize: 4, hiddenSize: 8 }).step(x, undefined, { out: { c: new Float32Array(24) } })).toThrow(/c/);
    expect(() => l.step(x, undefined, { outs: {} } as never)).toThrow(/outs/);
  });
});
