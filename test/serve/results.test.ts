// model.serve(): each caller of a batched server gets what the unbatched call gives it
// (model.predict([sequence]) / model.step([x], state)), for sequences of different lengths,
// many-to-one and many-to-many models, token ids, learned initial states and stacked layers.
// The batched rows go through the kernels' B > 1 path and the unbatched ones through B = 1, so
// the last bits may differ: the measured maximum relative difference is printed.
import { describe, expect, test } from 'vitest';
import { Dense, Embedding, GRU, LSTM, RNN, Sequential, StreamState, tensor, type Tensor } from '../../lib/index';
import { mulberry32 } from '../helpers/gradcheck';

const seq = (rng: () => number, T: number, F: number) => Array.from({ length: T }, () => Array.from({ length: F }, () => 2 * rng() - 1));

/** max |a - b| / max |b| (relative to the tensor's scale, as the fixture tests measure). */
function relDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let d = 0, s = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    s = Math.max(s, Math.abs(b[i]));
  }
  return s === 0 ? d : d / s;
}

const measured: Record<string, number> = {};

describe('server results equal the unbatched calls', () => {
  test('predict: many-to-one, 2 stacked LSTM layers, lengths 1..30, 50 concurrent callers', async () => {
    const rng = mulberry32(1);
    const model = new Sequential([new LSTM({ inputSize: 6, hiddenSize: 24, numLayers: 2, returnSequences: false, seed: 1 }), new Dense({ units: 3, seed: 2 })]);
    const server = model.serve({ maxBatchSize: 16, maxDelayMs: 1 });
    const xs = Array.from({ length: 50 }, (_v, i) => seq(rng, 1 + ((i * 7) % 30), 6));
    // Mixed input forms: number[][], a Float32Array, a tensor [T, F].
    const got = await Promise.all(xs.map((x, i) => server.predict(i % 3 === 0 ? x : i % 3 === 1 ? Float32Array.from(x.flat()) : tensor(x.flat(), [x.length, 6]))));
    let worst = 0;
    for (let i = 0; i < xs.length; i++) {
      const want = await model.predict([xs[i]]);
      expect(got[i].shape).toEqual([3]);
      worst = Math.max(worst, relDiff(got[i].data, want.data));
    }
    measured['predict many-to-one LSTM'] = worst;
    expect(worst).toBeLessThanOrEqual(1e-6);
    expect(server.stats().batches).toBeLessThan(50);  // batched
    await server.close();
  });

  test('predict: many-to-many GRU, token ids (Embedding)', async () => {
    const rng = mulberry32(2);
    const model = new Sequential([new Embedding({ numEmbeddings: 11, embeddingDim: 4, seed: 1 }),
      new GRU({ inputSize: 4, hiddenSize: 9, seed: 2 }), new Dense({ units: 2, activation: 'tanh', seed: 3 })]);
    const server = model.serve({ maxBatchSize: 8, maxDelayMs: 0 });
    const xs = Array.from({ length: 20 }, (_v, i) => Array.from({ length: 1 + (i % 9) }, () => Math.floor(rng() * 11)));
    const got = await Promise.all(xs.map((x) => server.predict(x)));
    let worst = 0;
    for (let i = 0; i < xs.length; i++) {
      const want = await model.predict([xs[i]]);
      expect(got[i].shape).toEqual([xs[i].length, 2]);
      worst = Math.max(worst, relDiff(got[i].data, want.data));
    }
    measured['predict many-to-many GRU ids'] = worst;
    expect(worst).toBeLessThanOrEqual(1e-6);
    await server.close();
  });

  test('step: 40 streams of 6 events (2-layer LSTM -> Dense), states carried by the callers', async () => {
    const rng = mulberry32(3);
    const model = new Sequential([new LSTM({ inputSize: 5, hiddenSize: 16, numLayers: 2, seed: 1 }), new Dense({ units: 2, seed: 2 })]);
    const server = model.serve({ maxBatchSize: 16, maxDelayMs: 1 });
    const N = 40;
    let served: (StreamState | undefined)[] = Array.from({ length: N }, () => undefined);
    let plain: (ReturnType<Sequential['step']>['state'] | undefined)[] = Array.from({ length: N }, () => undefined);
    let worst = 0;
    for (let t = 0; t < 6; t++) {
      const xs = Array.from({ length: N }, () => Array.from({ length: 5 }, () => 2 * rng() - 1));
      const got = await Promise.all(xs.map((x, i) => server.step(x, served[i])));
      const want = xs.map((x, i) => model.step([x], plain[i]));
      for (let i = 0; i < N; i++) {
        expect(got[i].output.shape).toEqual([2]);
        worst = Math.max(worst, relDiff(got[i].output.data, want[i].output.data));
        const { h, c } = want[i].state.layers[0] as { h: Tensor; c: Tensor };
        const st = got[i].state.tensors;
        worst = Math.max(worst, relDiff(st[0].data, h.data), relDiff(st[1].data, c.data));
      }
      served = got.map((g) => g.state);
      plain = want.map((w) => w.state);
    }
    measured['step LSTM 2 layers'] = worst;
    expect(worst).toBeLessThanOrEqual(1e-6);
    await server.close();
  });

  test('step: learned initial state (GRU) and a plain RNN, new and old streams in one batch', async () => {
    const rng = mulberry32(4);
    const model = new Sequential([new GRU({ inputSize: 3, hiddenSize: 7, learnInitialState: true, seed: 1 }),
      new RNN({ inputSize: 7, hiddenSize: 5, seed: 2 }), new Dense({ units: 1, seed: 3 })]);
    for (const p of model.parameters()) if (p.name.endsWith('.h0')) for (let i = 0; i < p.value.length; i++) p.value[i] = 0.1 * i;
    const server = model.serve({ maxBatchSize: 64, maxDelayMs: 1 });
    const x0 = seq(rng, 1, 3)[0], x1 = seq(rng, 1, 3)[0];
    const a = await server.step(x0);
    const [b, c] = await Promise.all([server.step(x1, a.state), server.step(x1)]);   // an old and a new stream together
    const pa = model.step([x0]);
    const pb = model.step([x1], pa.state), pc = model.step([x1]);
    const worst = Math.max(relDiff(a.output.data, pa.output.data), relDiff(b.output.data, pb.output.data), relDiff(c.output.data, pc.output.data));
    measured['step GRU learned h0 + RNN'] = worst;
    expect(worst).toBeLessThanOrEqual(1e-6);
    expect(Array.from(server.initialState().tensors[0].data)).toEqual(Array.from({ length: 7 }, (_v, i) => Math.fround(0.1 * i)));
    await server.close();
  });

  test('predict and step requests mixed on one model: one model call at a time, none refused as busy', async () => {
    const rng = mulberry32(5);
    const model = new Sequential([new LSTM({ inputSize: 3, hiddenSize: 8, seed: 1 }), new Dense({ units: 2, seed: 2 })]);
    const server = model.serve({ maxBatchSize: 8, maxDelayMs: 0 });
    const jobs = Array.from({ length: 60 }, (_v, i) => (i % 2 ? server.predict(seq(rng, 1 + (i % 5), 3)) : server.step(seq(rng, 1, 3)[0])));
    const rs = await Promise.allSettled(jobs);
    expect(rs.filter((r) => r.status === 'rejected')).toEqual([]);
    expect(server.stats().requests).toBe(60);
    await server.close();
  });

  test('stepAsync equals step bit for bit', async () => {
    const model = new Sequential([new LSTM({ inputSize: 4, hiddenSize: 8, numLayers: 2, projSize: 3, learnInitialState: true, seed: 5 }), new Dense({ units: 2, seed: 6 })]);
    const xs = [[[0.1, 0.2, 0.3, 0.4], [1, 0, -1, 0.5]], [[0, 0, 1, 1], [0.3, 0.3, 0.3, -0.3]]];
    let s1 = model.step(xs[0]);
    let s2 = await model.stepAsync(xs[0]);
    expect(Array.from(s2.output.data)).toEqual(Array.from(s1.output.data));
    s1 = model.step(xs[1], s1.state);
    s2 = await model.stepAsync(xs[1], s2.state);
    expect(Array.from(s2.output.data)).toEqual(Array.from(s1.output.data));
  });

  test('prints the measured differences', () => {
    console.log(`server vs unbatched calls, max relative difference: ${Object.entries(measured).map(([k, v]) => `${k} ${v.toExponential(2)}`).join('; ')}`);
  });
});
