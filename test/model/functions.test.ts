// The losses as functions (losses.mse(output, target), ...) against their formulas, and the tensor
// helpers fromArray / toArray.
import { describe, expect, test } from 'vitest';
import { fromArray, losses, tensor, toArray } from '../../lib/index';

describe('losses as functions', () => {
  test('mse, mae, huber: the value and dLoss/dOutput of the mean over elements', () => {
    const out = fromArray([[1, 2], [3, 5]]), target = [1.5, 2, 0, 5];
    const d = [-0.5, 0, 3, 0];
    const mse = losses.mse(out, target);
    expect(mse.loss).toBeCloseTo(d.reduce((s, v) => s + v * v, 0) / 4, 12);
    expect(Array.from(mse.grad.data)).toEqual(d.map((v) => Math.fround(2 * v / 4)));
    expect(mse.grad.shape).toEqual([2, 2]);
    expect(losses.mae(out, tensor(target, [2, 2])).loss).toBeCloseTo(3.5 / 4, 12);
    expect(losses.huber(out, target, { delta: 1 }).loss).toBeCloseTo((0.125 + 2.5) / 4, 12);
  });

  test('crossEntropy: log-softmax at the target, gradient softmax - one-hot over rows; fromLogits false on probabilities agrees', () => {
    const z = [[2, 0, -1], [0.5, 1, 3]], ids = [0, 2];
    const ce = losses.crossEntropy(fromArray(z), ids);
    let expected = 0;
    const grad: number[] = [];
    z.forEach((row, r) => {
      const e = row.map(Math.exp), s = e.reduce((a, b) => a + b, 0);
      expected -= Math.log(e[ids[r]] / s) / 2;
      e.forEach((v, j) => grad.push((v / s - (j === ids[r] ? 1 : 0)) / 2));
    });
    expect(ce.loss).toBeCloseTo(expected, 6);
    Array.from(ce.grad.data).forEach((g, j) => expect(g).toBeCloseTo(grad[j], 6));
    expect(ce.accuracy).toBe(1);
    const probs = fromArray(z.map((row) => { const e = row.map(Math.exp), s = e.reduce((a, b) => a + b, 0); return e.map((v) => v / s); }));
    expect(losses.crossEntropy(probs, Int32Array.from(ids), { fromLogits: false }).loss).toBeCloseTo(expected, 6);
    expect(() => losses.crossEntropy(fromArray(z), [0, 3])).toThrow(/class id in 0\.\.2 for target\[1\]/);
    expect(() => losses.mse(fromArray(z), [1, 2])).toThrow(/6 numbers/);
    expect(() => losses.mse(fromArray(z), z.flat(), { delta: 2 } as never)).toThrow(/loss\.delta/);
  });
});

describe('fromArray / toArray', () => {
  test('round trip, shapes read from the nesting', () => {
    const nested = [[[1, 2], [3, 4], [5, 6]], [[7, 8], [9, 10], [11, 12]]];
    const t = fromArray(nested);
    expect(t.shape).toEqual([2, 3, 2]);
    expect(Array.from(t.data)).toEqual(nested.flat(2));
    expect(toArray(t)).toEqual(nested);
    expect(toArray(tensor([7], []))).toBe(7);
    expect(toArray(fromArray([1.5, -2]))).toEqual([1.5, -2]);
  });

  test('ragged, empty and non-numbers are refused by place', () => {
    expect(() => fromArray([[1, 2], [3]])).toThrow(/an array of 2 \(shape \[2, 2\]\) for data\[1\]/);
    expect(() => fromArray([[1, 2], 3] as never)).toThrow(/data\[1\]/);
    expect(() => fromArray([[1, 'a']] as never)).toThrow(TypeError);
    expect(() => fromArray([])).toThrow(/non-empty array for data/);
    expect(() => toArray({ shape: [2, 2], data: new Float32Array(3) })).toThrow(/t\.data/);
  });
});
