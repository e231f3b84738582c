// Whatever a caller passes to the model API, the answer is a TypeError or RangeError (never a
// crash, never another error type), and a refused call changes no weight.
import { describe, expect, test } from 'vitest';
import { Adam, Dense, Dropout, Embedding, LSTM, Sequential, tensor } from '../../lib/index';
import { firstBitMismatch } from '../helpers/gradcheck';

const WEIRD: unknown[] = [
  undefined, null, NaN, -1, 0, 1.5, 1e12, Infinity, '', 'x', true, {}, [], [[]], [[[]]], [1, 'a'], [[1, 2], 3],
  new Float64Array(4), new Int32Array(4), new Float32Array(0), { shape: [1, 1, 2], data: [1, 2] },
  { shape: [-1, 2], data: new Float32Array(2) }, { shape: [1, 1, 2], data: new Float32Array(3) }, () => 1, Symbol('s'),
];

function expectClean(fn: () => unknown, what: string): void {
  try {
    fn();
  } catch (e) {
    expect(e instanceof TypeError || e instanceof RangeError, `${what}: ${String(e)}`).toBe(true);
  }
}

/** A refused call must throw TypeError/RangeError and leave `model`'s weights as they were. */
async function expectCleanAsync(model: Sequential, fn: () => Promise<unknown>, what: string): Promise<void> {
  const before = model.stateDict();
  try {
    await fn();
  } catch (e) {
    expect(e instanceof TypeError || e instanceof RangeError, `${what}: ${String(e)}`).toBe(true);
    const after = model.stateDict();
    for (const k of Object.keys(before)) expect(firstBitMismatch(before[k].data, after[k].data), `${what}: ${k}`).toBe(-1);
  }
}

describe('bad input to the model API', () => {
  test('constructors', () => {
    for (const v of WEIRD) {
      expectClean(() => new Dense(v as never), `Dense(${String(v)})`);
      expectClean(() => new Dense({ units: v } as never), `Dense units ${String(v)}`);
      expectClean(() => new Embedding({ numEmbeddings: v, embeddingDim: 2 } as never), `Embedding ${String(v)}`);
      expectClean(() => new Dropout({ rate: v } as never), `Dropout ${String(v)}`);
      expectClean(() => new Sequential(v as never), `Sequential(${String(v)})`);
      expectClean(() => new Sequential([v] as never), `Sequential([${String(v)}])`);
      expectClean(() => new LSTM({ inputSize: 2, hiddenSize: 2, returnSequences: v, mergeMode: v } as never), `LSTM options ${String(v)}`);
    }
  });

  test('predict, step, state dicts and Keras weights; weights unchanged', () => {
    const m = new Sequential([new LSTM({ inputSize: 2, hiddenSize: 3, seed: 1 }), new Dense({ units: 2, seed: 2 })]);
    const before = m.stateDict();
    for (const v of WEIRD) {
      expectClean(() => m.predictSync(v as never), `predictSync(${String(v)})`);
      expectClean(() => m.predictSync([[[1, 2]]], { lengths: v, batchSize: v } as never), `predict opts ${String(v)}`);
      expectClean(() => m.step(v as never), `step(${String(v)})`);
      expectClean(() => m.step([[1, 2]], v as never), `step state ${String(v)}`);
      expectClean(() => m.loadStateDict(v as never), `loadStateDict(${String(v)})`);
      expectClean(() => m.loadStateDict({ ...m.stateDict(), '1.bias': v } as never), `loadStateDict bias ${String(v)}`);
      expectClean(() => m.setKerasWeights(v as never), `setKerasWeights(${String(v)})`);
      expectClean(() => m.setKerasWeights([v] as never), `setKerasWeights([${String(v)}])`);
    }
    const after = m.stateDict();
    for (const k of Object.keys(before)) expect(firstBitMismatch(before[k].data, after[k].data), k).toBe(-1);
  });

  test('fit rejects cleanly and a refused fit leaves the weights alone', async () => {
    const m = new Sequential([new LSTM({ inputSize: 2, hiddenSize: 3, returnSequences: false, seed: 1 }), new Dense({ units: 1, seed: 2 })]);
    const good = { x: tensor(new Float32Array(4 * 3 * 2).fill(0.5), [4, 3, 2]), y: tensor([1, 2, 3, 4], [4, 1]) };
    const base = { epochs: 1, optimizer: new Adam({ lr: 0.1 }), loss: 'mse' as const };
    for (const v of WEIRD) {
      await expectCleanAsync(m, () => m.fit(v as never, base), `fit(${String(v)})`);
      await expectCleanAsync(m, () => m.fit({ x: v, y: good.y } as never, base), `fit x ${String(v)}`);
      await expectCleanAsync(m, () => m.fit({ x: good.x, y: v } as never, base), `fit y ${String(v)}`);
      await expectCleanAsync(m, () => m.fit(good, v as never), `fit opts ${String(v)}`);
      for (const key of ['epochs', 'batchSize', 'loss', 'optimizer', 'bptt', 'clipGradNorm', 'validation', 'earlyStopping', 'checkpoint', 'seed']) {
        if (key === 'epochs' && v === 1e12) continue;  // valid, merely long
        await expectCleanAsync(m, () => m.fit(good, { ...base, [key]: v } as never), `fit ${key}=${String(v)}`);
      }
    }
  }, 60_000);
});
