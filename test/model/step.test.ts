// model.step(): streaming a Sequential one time step at a time gives what predict() gives on
// the whole sequence (many-to-many at every step, many-to-one at the last).
import { describe, expect, test } from 'vitest';
import { Dense, Dropout, Embedding, GRU, LSTM, RNN, Sequential, tensor } from '../../lib/index';
import { maxAbsDiff, mulberry32 } from '../helpers/gradcheck';

const seq = (T: number, F: number, seed: number) => {
  const rng = mulberry32(seed);
  return Array.from({ length: T }, () => Array.from({ length: F }, () => 2 * rng() - 1));
};

describe('model.step', () => {
  test('many-to-many: every step equals predict() on the whole sequence', () => {
    const m = new Sequential([new LSTM({ inputSize: 3, hiddenSize: 6, numLayers: 2, projSize: 4, seed: 1 }), new Dropout({ rate: 0.5 }),
      new GRU({ inputSize: 4, hiddenSize: 5, learnInitialState: true, seed: 2 }), new Dense({ units: 2, activation: 'tanh', seed: 3 })]);
    for (const p of m.parameters()) if (p.name.endsWith('.h0')) p.value.fill(0.3);
    const xs = [seq(7, 3, 1), seq(7, 3, 2)];
    const whole = m.predictSync(xs);
    let s: ReturnType<Sequential['step']> | undefined;
    for (let t = 0; t < 7; t++) {
      s = m.step(xs.map((x) => x[t]), s?.state);
      expect(s.output.shape).toEqual([2, 2]);
      for (let b = 0; b < 2; b++) {
        const want = whole.data.subarray((b * 7 + t) * 2, (b * 7 + t + 1) * 2);
        expect(maxAbsDiff(s.output.data.subarray(b * 2, b * 2 + 2), want)).toBeLessThan(1e-6);
      }
    }
  });

  test('many-to-one with an Embedding: the last step equals predict()', () => {
    const m = new Sequential([new Embedding({ numEmbeddings: 9, embeddingDim: 3, seed: 1 }),
      new RNN({ inputSize: 3, hiddenSize: 4, returnSequences: false, seed: 2 }), new Dense({ units: 3, activation: 'softmax', seed: 3 })]);
    const ids = [1, 8, 0, 4, 4];
    let s = m.step([ids[0]]);
    for (let t = 1; t < ids.length; t++) s = m.step(tensor([ids[t]], [1]), s.state);
    expect(maxAbsDiff(s.output.data, m.predictSync([ids]).data)).toBeLessThan(1e-6);
  });

  test('bad input and bidirectional layers are refused', () => {
    const m = new Sequential([new LSTM({ inputSize: 2, hiddenSize: 3, seed: 1 })]);
    expect(() => m.step([[1, 2, 3]])).toThrow(/2 features for x\[0\]/);
    expect(() => m.step([[1, 2]], { layers: [] })).toThrow(/state/);
    const bi = new Sequential([new LSTM({ inputSize: 2, hiddenSize: 3, bidirectional: true, seed: 1 })]);
    expect(() => bi.step([[1, 2]])).toThrow(/direction/);
  });
});
