// Dropout between stacked layers (PyTorch's `dropout`): the layers then train one at a time with
// masks between them. Inference is untouched; masks are reproducible from a seed; with masks of
// all ones the layer-by-layer path is the fused path; gradients pass central differences.
import { describe, expect, test } from 'vitest';
import { GRU, LSTM, RNN, tensor } from '../../lib/index';
import type { ForwardOptions, Recurrent } from '../../lib/index';
import { firstBitMismatch, gradCheck, maxAbsDiff, mulberry32, randomTensor } from '../helpers/gradcheck';

const x = () => randomTensor(mulberry32(3), [6, 3, 4]);

describe('dropout between layers', () => {
  test('inference ignores it; training masks are reproducible from dropoutSeed', () => {
    const a = new LSTM({ inputSize: 4, hiddenSize: 5, numLayers: 3, dropout: 0.5, seed: 1 });
    const b = new LSTM({ inputSize: 4, hiddenSize: 5, numLayers: 3, seed: 1 });
    expect(firstBitMismatch(a.forward(x()).output.data, b.forward(x()).output.data)).toBe(-1);
    const t1 = a.forward(x(), { training: true, dropoutSeed: 7 }).output.data;
    const t2 = a.forward(x(), { training: true, dropoutSeed: 7 }).output.data;
    const t3 = a.forward(x(), { training: true, dropoutSeed: 8 }).output.data;
    expect(firstBitMismatch(t1, t2)).toBe(-1);
    expect(firstBitMismatch(t1, t3)).not.toBe(-1);
    expect(firstBitMismatch(t1, b.forward(x(), { training: true }).output.data)).not.toBe(-1);
    expect(() => new LSTM({ inputSize: 4, hiddenSize: 5, dropout: 1 })).toThrow(/dropout/);
    expect(() => a.forward(x(), { training: true, dropoutSeed: -1 })).toThrow(/dropoutSeed/);
  });

  for (const [name, make] of [
    ['LSTM bidirectional + projection', (p: number) => new LSTM({ inputSize: 4, hiddenSize: 5, projSize: 3, numLayers: 3, bidirectional: true, dropout: p, seed: 2 })],
    ['GRU', (p: number) => new GRU({ inputSize: 4, hiddenSize: 5, numLayers: 2, dropout: p, seed: 3 })],
    ['RNN batchFirst', (p: number) => new RNN({ inputSize: 4, hiddenSize: 5, numLayers: 2, batchFirst: true, dropout: p, seed: 4 })],
  ] as const) {
    test(`${name}: masks of all ones (p = 1e-9) give the fused path's outputs and gradients`, () => {
      const fused = make(0), byLayer = make(1e-9);
      const xin = fused.batchFirst ? randomTensor(mulberry32(3), [3, 6, 4]) : x();
      const opts: ForwardOptions = { training: true, lengths: [6, 2, 5] };
      const h0 = randomTensor(mulberry32(9), [fused.numLayers * fused.numDirections, 3, fused.outputSize]);
      const run = (l: Recurrent) => {
        l.zeroGrad();
        const r = l.forward(xin, { ...opts, h0 });
        const g = l.backward({ gradOutput: r.output, gradHN: r.hN });
        return { out: r.output.data, hN: r.hN.data, dx: g.input.data, dh0: g.h0.data, dw: l.grads.slice() };
      };
      const a = run(fused), b = run(byLayer);
      for (const k of ['out', 'hN', 'dx', 'dh0', 'dw'] as const) expect(maxAbsDiff(a[k], b[k]), k).toBeLessThan(1e-6);
    });
  }

  test('gradients with p = 0.4 against central differences (fixed masks)', () => {
    const layer = new LSTM({ inputSize: 3, hiddenSize: 4, numLayers: 3, bidirectional: true, dropout: 0.4, seed: 5 });
    const masked = {
      forward: (xi: Parameters<Recurrent['forward']>[0], o: ForwardOptions = {}) => layer.forward(xi, { ...o, training: true, dropoutSeed: 11 }),
      backward: layer.backward.bind(layer),
      parameters: layer.parameters.bind(layer),
      zeroGrad: layer.zeroGrad.bind(layer),
    };
    const report = gradCheck(() => masked as unknown as Recurrent, { T: 4, B: 2, I: 3, lengths: [4, 3] });
    expect(report.failures).toEqual([]);
  });

  test('the mask rate: about p of the units between layers are dropped', () => {
    // A 2-layer identity RNN with identity weights between: layer 1 sees layer 0's output masked.
    const l = new RNN({ inputSize: 1, hiddenSize: 1, numLayers: 2, nonlinearity: 'identity', bias: false, dropout: 0.25, seed: 1 });
    l.loadStateDict({ weight_ih_l0: tensor([1], [1, 1]), weight_hh_l0: tensor([0], [1, 1]), weight_ih_l1: tensor([1], [1, 1]), weight_hh_l1: tensor([0], [1, 1]) });
    const T = 4000;
    const out = l.forward(tensor(new Float32Array(T).fill(1), [T, 1, 1]), { training: true, dropoutSeed: 3 }).output.data;
    const zeros = out.filter((v) => v === 0).length;
    expect(Math.abs(zeros / T - 0.25)).toBeLessThan(0.03);
    expect(out.filter((v) => v !== 0).every((v) => Math.abs(v - 1 / 0.75) < 1e-6)).toBe(true);
  });
});
