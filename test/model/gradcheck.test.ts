// Whole-model gradients (Sequential.backward through Dense, Embedding, Dropout, merge modes,
// many-to-one, ragged lengths, every loss) against central differences of the loss.
import { describe, expect, test } from 'vitest';
import { Dense, Dropout, Embedding, GRU, LSTM, RNN, Sequential } from '../../lib/index';
import type { SequentialLayer } from '../../lib/index';
import { Samples } from '../../lib/model/data';
import { resolveLoss, type LossSpec } from '../../lib/model/losses';
import { mulberry32 } from '../helpers/gradcheck';

interface Case {
  name: string;
  layers: () => SequentialLayer[];
  loss: LossSpec;
  x: (rng: () => number) => number[][][] | number[][];
  y: (rng: () => number, steps: number) => unknown;
}

const T = [5, 3, 4];
const features = (F: number) => (rng: () => number) => T.map((n) => Array.from({ length: n }, () => Array.from({ length: F }, () => 2 * rng() - 1)));
const ids = (V: number) => (rng: () => number) => T.map((n) => Array.from({ length: n }, () => Math.floor(rng() * V)));

const cases: Case[] = [
  {
    name: 'LSTM -> Dense(tanh), many-to-many, ragged, mse',
    layers: () => [new LSTM({ inputSize: 3, hiddenSize: 5, seed: 1 }), new Dense({ units: 4, activation: 'tanh', seed: 2 })],
    loss: 'mse', x: features(3),
    y: (rng, n) => Array.from({ length: n }, () => Array.from({ length: 4 }, () => rng())),
  },
  {
    name: 'Embedding -> bidirectional GRU (mul, last step) -> Dense, crossEntropy',
    layers: () => [new Embedding({ numEmbeddings: 7, embeddingDim: 3, seed: 3 }),
      new GRU({ inputSize: 3, hiddenSize: 4, bidirectional: true, mergeMode: 'mul', returnSequences: false, seed: 4 }),
      new Dense({ units: 3, seed: 5 })],
    loss: 'crossEntropy', x: ids(7), y: (rng) => Math.floor(rng() * 3),
  },
  {
    name: 'bidirectional RNN (ave) -> Dropout -> Dense(sigmoid), binaryCrossEntropy',
    layers: () => [new RNN({ inputSize: 2, hiddenSize: 4, bidirectional: true, mergeMode: 'ave', seed: 6 }),
      new Dropout({ rate: 0.3 }), new Dense({ units: 2, activation: 'sigmoid', seed: 7 })],
    loss: 'binaryCrossEntropy', x: features(2),
    y: (rng, n) => Array.from({ length: n }, () => [rng() < 0.5 ? 0 : 1, rng()]),
  },
  {
    name: '2-layer bidirectional LSTM (sum) -> LSTM (last step) -> Dense(softmax), huber',
    layers: () => [new LSTM({ inputSize: 2, hiddenSize: 3, numLayers: 2, bidirectional: true, mergeMode: 'sum', seed: 8 }),
      new LSTM({ inputSize: 3, hiddenSize: 4, returnSequences: false, seed: 9 }),
      new Dense({ units: 3, activation: 'softmax', seed: 10 })],
    loss: { name: 'huber', delta: 0.05 }, x: features(2), y: (rng) => [rng(), rng(), rng()],
  },
  {
    name: 'Dense(relu) -> RNN -> Dense, mae',
    layers: () => [new Dense({ inputSize: 2, units: 3, activation: 'relu', seed: 11 }), new RNN({ inputSize: 3, hiddenSize: 3, seed: 12 }),
      new Dense({ units: 1, seed: 13 })],
    loss: 'mae', x: features(2), y: (rng, n) => Array.from({ length: n }, () => 3 + rng()),
  },
  {
    name: 'learned initial state: bidirectional LSTM (concat, last step) -> GRU -> Dense, mse',
    layers: () => [new LSTM({ inputSize: 2, hiddenSize: 3, bidirectional: true, learnInitialState: true, seed: 14 }),
      new GRU({ inputSize: 6, hiddenSize: 3, learnInitialState: true, returnSequences: false, seed: 15 }),
      new Dense({ units: 2, seed: 16 })],
    loss: 'mse', x: features(2), y: (rng) => [rng(), rng()],
  },
];

/**
 * One case's gradients against central differences; returns the entries that fail. The numeric
 * derivative is Richardson's extrapolation of the central differences at eps and eps/2 (error
 * O(eps^4): the float32 forward's rounding, not truncation, is then the noise). An entry passes when
 *   |numeric - analytic| <= 1e-3 * |numeric| + max(1e-3 * tensor scale, 1e-4 * case scale)
 * (scale = largest |analytic| of the parameter tensor, of the whole case); the worst entry of these
 * cases uses 0.34 of that. So a 1% error fails in every tensor whose largest gradient is at least
 * 1/90 of the case's (the mutation tests below). An entry whose two differences disagree by more
 * than a quarter of its tolerance sits on a kink (relu, mae, huber) and is skipped: at most 10%.
 * `corrupt` runs after backward.
 */
function checkCase(c: Case, corrupt?: (model: Sequential) => void): { failures: string[]; checked: number; kinks: number } {
  const rng = mulberry32(42);
  const model = new Sequential(c.layers());
  for (const p of model.parameters()) if (p.name.endsWith('0') && /\.[hc]0$/.test(p.name)) p.value.forEach((_v, i) => { p.value[i] = rng() - 0.5; });
  const loss = resolveLoss(c.loss);
  const x = c.x(rng);
  const y = x.map((s) => c.y(rng, s.length)) as never;
  const samples = Samples.from({ x: x as never, y }, model.dataSpec(loss.targets === 'classes' ? 1 : model.outputFeatures));
  const batch = samples.batch([0, 1, 2]);
  const ctx = { training: true, seed: 99 };
  const lossAt = () => loss.compute(model.forwardSync(batch.x, ctx), batch.y!).loss;
  model.zeroGrad();
  const res = loss.compute(model.forwardSync(batch.x, ctx), batch.y!);
  model.backwardSync(res.grad);
  corrupt?.(model);
  const params = model.parameters();
  const scaleOf = (g: Float32Array) => g.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  const caseScale = Math.max(...params.map((p) => scaleOf(p.grad)));
  const failures: string[] = [];
  let checked = 0, kinks = 0;
  for (const p of params) {
    const analytic = p.grad.slice();
    const floor = Math.max(1e-3 * scaleOf(analytic), 1e-4 * caseScale);
    const step = Math.max(1, Math.floor(p.value.length / 12));
    for (let i = 0; i < p.value.length; i += step) {
      const v = p.value[i];
      const central = (eps: number) => {
        p.value[i] = v + eps;
        const up = lossAt();
        p.value[i] = v - eps;
        const down = lossAt();
        p.value[i] = v;
        return (up - down) / (2 * eps);
      };
      const n1 = central(1e-2), n2 = central(5e-3);
      const numeric = (4 * n2 - n1) / 3;
      const tol = 1e-3 * Math.abs(numeric) + floor;
      if (Math.abs(n1 - n2) > tol / 4) {
        kinks++;
        continue;
      }
      checked++;
      const err = Math.abs(numeric - analytic[i]);
      if (!(err <= tol)) failures.push(`${p.name}[${i}] numeric ${numeric} analytic ${analytic[i]} err ${err.toExponential(2)} > ${tol.toExponential(2)}`);
    }
  }
  return { failures, checked, kinks };
}

describe('Sequential gradients vs central differences', () => {
  for (const c of cases) {
    test(c.name, () => {
      const r = checkCase(c);
      expect(r.failures).toEqual([]);
      expect(r.checked).toBeGreaterThan(20);
      expect(r.kinks, 'entries on a kink, skipped').toBeLessThanOrEqual(0.1 * (r.checked + r.kinks));
    });
  }
});

describe('the model gradient check catches a 1% error (so the checks above are not vacuous)', () => {
  for (const c of cases) {
    test(`every gradient 1% too large: ${c.name}`, () => {
      const r = checkCase(c, (m) => { for (const p of m.parameters()) for (let i = 0; i < p.grad.length; i++) p.grad[i] *= 1.01; });
      expect(r.failures.length).toBeGreaterThan(0);
    });
  }

  test('one parameter\'s gradient 1% too small fails that parameter and no other', () => {
    const r = checkCase(cases[0], (m) => { const g = m.parameters().find((p) => p.name === '0.weight_hh_l0')!.grad; for (let i = 0; i < g.length; i++) g[i] *= 0.99; });
    expect(r.failures.some((f) => f.startsWith('0.weight_hh_l0['))).toBe(true);
    expect(r.failures.filter((f) => !f.startsWith('0.weight_hh_l0['))).toEqual([]);
  });
});
