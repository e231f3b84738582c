// Results are bitwise identical for any thread count: forward, backward and every weight
// gradient, on shapes large enough that each thread gets columns, rows and hidden units.
import { afterAll, describe, expect, it } from 'vitest';
import { GRU, LSTM, RNN, setNumThreads, tensor, type Recurrent } from '../../lib/index';

function noise(n: number, seed: number): Float32Array {
  let a = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    a = (a * 1664525 + 1013904223) >>> 0;
    return a / 2 ** 31 - 1;
  });
}

function run(make: () => Recurrent, threads: number, opts: { lengths?: number[] } = {}) {
  setNumThreads(threads);
  const layer = make();
  const T = 7, B = 5;
  const x = tensor(noise(T * B * layer.inputSize, 1), [T, B, layer.inputSize]);
  const out = layer.forward(x, { training: true, lengths: opts.lengths });
  const grads = layer.backward({
    gradOutput: tensor(noise(out.output.data.length, 2), out.output.shape),
    gradHN: tensor(noise(out.hN.data.length, 3), out.hN.shape),
    ...(out.cN ? { gradCN: tensor(noise(out.cN.data.length, 4), out.cN.shape) } : {}),
  });
  return [out.output.data, out.hN.data, out.cN?.data, grads.input.data, grads.h0.data, grads.c0?.data, layer.grads];
}

const CASES: [string, () => Recurrent, number[] | undefined][] = [
  ['LSTM', () => new LSTM({ inputSize: 37, hiddenSize: 70, seed: 1 }), undefined],
  ['LSTM proj+peephole, 2 layers, bidirectional, lengths',
    () => new LSTM({ inputSize: 37, hiddenSize: 70, projSize: 40, peephole: true, numLayers: 2, bidirectional: true, seed: 2 }),
    [7, 3, 1, 5, 6]],
  ['GRU resetAfter', () => new GRU({ inputSize: 37, hiddenSize: 70, seed: 3 }), [2, 7, 4, 1, 7]],
  ['GRU resetAfter false, bidirectional', () => new GRU({ inputSize: 37, hiddenSize: 70, resetAfter: false, bidirectional: true, seed: 4 }), undefined],
  ['RNN relu, 2 layers', () => new RNN({ inputSize: 37, hiddenSize: 70, nonlinearity: 'relu', numLayers: 2, seed: 5 }), [7, 1, 2, 3, 4]],
];

describe('thread count does not change a bit', () => {
  afterAll(() => setNumThreads(1));
  for (const [name, make, lengths] of CASES) {
    it(name, () => {
      const one = run(make, 1, { lengths });
      for (const threads of [2, 3]) {
        const many = run(make, threads, { lengths });
        one.forEach((a, i) => {
          if (!a) return;
          expect(Buffer.from(many[i]!.buffer).equals(Buffer.from(a.buffer)), `tensor ${i} with ${threads} threads`).toBe(true);
        });
      }
    });
  }
});

// The kernels flush denormals to zero while they run and restore the caller's mode after:
// JavaScript on this thread must still see IEEE denormals.
describe('floating-point mode', () => {
  it('is restored after a forward and a backward', () => {
    const layer = new LSTM({ inputSize: 3, hiddenSize: 4, seed: 1 });
    const out = layer.forward(tensor(noise(2 * 2 * 3, 7), [2, 2, 3]), { training: true });
    layer.backward({ gradOutput: out.output });
    const tiny = new Float64Array([1e-310, 3]);  // 1e-310 is a double denormal
    expect(tiny[0] * tiny[1]).toBeGreaterThan(0);
    const f = new Float32Array([1e-40, 0]);  // a float denormal survives a round trip through math
    f[1] = f[0] * 2;
    expect(f[1]).toBeGreaterThan(0);
  });
});
