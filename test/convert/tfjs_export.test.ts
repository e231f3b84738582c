// saveTfjs: Sequential -> model.json + weights.bin; loadTfjs of it gives back the same weights bit
// for bit and the same outputs; what tfjs-layers cannot build is refused with the layer named.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it, expect } from 'vitest';
import { Dense, Dropout, Embedding, GRU, LSTM, RNN, Sequential, loadTfjs, type SequentialLayer } from '../../lib/index';

const N = 3, T = 5, F = 4;
function input(seed: number, ids = 0) {
  const data = new Float32Array(N * T * (ids ? 1 : F));
  let s = seed >>> 0;
  for (let i = 0; i < data.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    data[i] = ids ? Math.floor((s / 2 ** 32) * ids) : (s / 2 ** 32) * 2 - 1;
  }
  return { data, shape: ids ? [N, T] : [N, T, F] };
}

const cases: { name: string; ids?: number; layers: () => SequentialLayer[] }[] = [
  { name: 'LSTM bidirectional -> Dense', layers: () => [new LSTM({ inputSize: F, hiddenSize: 4, bidirectional: true, seed: 1 }), new Dense({ units: 3, seed: 2 })] },
  { name: 'GRU (reset before) 2 layers many-to-one -> Dense softmax',
    layers: () => [new GRU({ inputSize: F, hiddenSize: 5, numLayers: 2, resetAfter: false, returnSequences: false, activations: { gate: 'hardSigmoid' }, seed: 3 }), new Dense({ units: 3, activation: 'softmax', seed: 4 })] },
  { name: 'RNN relu bidirectional 2 layers mergeMode ave, no bias',
    layers: () => [new RNN({ inputSize: F, hiddenSize: 3, numLayers: 2, bidirectional: true, nonlinearity: 'relu', mergeMode: 'ave', bias: false, seed: 5 })] },
  { name: 'Embedding -> LSTM -> Dropout -> Dense', ids: 7,
    layers: () => [new Embedding({ numEmbeddings: 7, embeddingDim: 4, seed: 6 }), new LSTM({ inputSize: 4, hiddenSize: 3, returnSequences: false, seed: 7 }), new Dropout({ rate: 0.2 }), new Dense({ units: 2, activation: 'tanh', seed: 8 })] },
];

describe('saveTfjs -> loadTfjs round trip', () => {
  for (const c of cases) {
    it(`${c.name}: bit-identical weights and outputs`, async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fused-rnn-tfjs-'));
      try {
        const model = new Sequential(c.layers());
        await model.saveTfjs(dir);
        expect(fs.readdirSync(dir).sort()).toEqual(['model.json', 'weights.bin']);
        const back = await loadTfjs(path.join(dir, 'model.json'));
        const a = model.getKerasWeights(), b = back.getKerasWeights();
        expect(b.map((t) => t.shape)).toEqual(a.map((t) => t.shape));
        a.forEach((t, i) => expect(Buffer.from(b[i].data.buffer, b[i].data.byteOffset, b[i].data.byteLength)
          .equals(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength)), `weight ${i}`).toBe(true));
        const x = input(11, c.ids);
        const ours = model.predictSync(x), theirs = back.predictSync(x);
        expect(theirs.shape).toEqual(ours.shape);
        // Keras keeps one recurrent bias (bias_ih + bias_hh summed): the same numbers up to that rounding.
        ours.data.forEach((v, i) => expect(Math.abs(theirs.data[i] - v)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(v))));
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});

describe('saveTfjs refuses what tfjs-layers cannot build, naming the layer', () => {
  const refuse = (layers: SequentialLayer[], re: RegExp) => expect(new Sequential(layers).saveTfjs(path.join(os.tmpdir(), 'never-written'))).rejects.toThrow(re);
  it('GRU resetAfter: true', () => refuse([new GRU({ inputSize: F, hiddenSize: 2 })], /layers\[0\] \(GRU\): resetAfter: true/));
  it('LSTM peepholes and reverse direction', async () => {
    await refuse([new LSTM({ inputSize: F, hiddenSize: 2, peephole: true })], /layers\[0\] \(LSTM\).*peephole/);
    await refuse([new LSTM({ inputSize: F, hiddenSize: 2, direction: 'reverse' })], /direction 'reverse'/);
  });
  it('an activation Keras has no name for', () => refuse([new RNN({ inputSize: F, hiddenSize: 2, activations: { gate: 'leakyRelu' } })], /activation leakyRelu/));
  it('a learned initial state', () => refuse([new GRU({ inputSize: F, hiddenSize: 2, resetAfter: false, learnInitialState: true })], /learnInitialState/));
});
