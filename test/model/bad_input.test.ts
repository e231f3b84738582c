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

/** `fn` must refuse: a TypeError or RangeError. A call that returns (accepts the input) fails. */
function expectRejected(fn: () => unknown, what: string): void {
  let threw = false, error: unknown;
  try {
    fn();
  } catch (e) {
    threw = true;
    error = e;
  }
  expect(threw, `${what}: accepted, should throw a TypeError or RangeError`).toBe(true);
  expect(error instanceof TypeError || error instanceof RangeError, `${what}: ${String(error)}`).toBe(true);
}

/**
 * Each WEIRD value through `fn`: those `valid` names (by index in WEIRD) must be accepted, all the
 * others rejected. So a bad input that gets through, or a good one refused, fails the test.
 */
function expectOnly(valid: unknown[], fn: (v: unknown) => unknown, what: string): void {
  for (const v of WEIRD) {
    const label = `${what} ${typeof v === 'symbol' ? 'Symbol' : String(v)}`;
    if (valid.some((ok) => Object.is(ok, v))) expect(() => fn(v), `${label}: valid, must be accepted`).not.toThrow();
    else expectRejected(() => fn(v), label);
  }
}

/** A refused call must throw TypeError/RangeError and leave `model`'s weights as they were; accepted fails. */
async function expectRejectedAsync(model: Sequential, fn: () => Promise<unknown>, what: string): Promise<void> {
  const before = model.stateDict();
  let threw = false, error: unknown;
  try {
    await fn();
  } catch (e) {
    threw = true;
    error = e;
  }
  expect(threw, `${what}: accepted, should throw a TypeError or RangeError`).toBe(true);
  expect(error instanceof TypeError || error instanceof RangeError, `${what}: ${String(error)}`).toBe(true);
  const after = model.stateDict();
  for (const k of Object.keys(before)) expect(firstBitMismatch(before[k].data, after[k].data), `${what}: ${k}`).toBe(-1);
}

describe('bad input to the model API', () => {
  // The WEIRD values a parameter legitimately takes are listed at each call (undefined / null =
  // the default where an option is optional); every other one must be refused.
  test('constructors', () => {
    expectOnly([], (v) => new Dense(v as never), 'Dense(v)');
    expectOnly([1], (v) => new Dense({ units: v } as never), 'Dense units');  // sizes are bounded (2^24) up front
    expectOnly([1], (v) => new Embedding({ numEmbeddings: v, embeddingDim: 2 } as never), 'Embedding numEmbeddings');
    expectOnly([0], (v) => new Dropout({ rate: v } as never), 'Dropout rate');
    expectOnly([[]], (v) => new Sequential(v as never), 'Sequential(v)');
    expectOnly([], (v) => new Sequential([v] as never), 'Sequential([v])');
    expectOnly([undefined, null], (v) => new LSTM({ inputSize: 2, hiddenSize: 2, returnSequences: v, mergeMode: v } as never), 'LSTM options');
    expectRejected(() => new Sequential([new LSTM({ inputSize: 2, hiddenSize: 3 }), new Dense({ units: 1 << 24, inputSize: 1 << 24 })]), 'Dense 2^24 x 2^24 built');
  });

  test('predict, step, state dicts and Keras weights; weights unchanged', () => {
    const m = new Sequential([new LSTM({ inputSize: 2, hiddenSize: 3, seed: 1 }), new Dense({ units: 2, seed: 2 })]);
    const before = m.stateDict();
    expectOnly([], (v) => m.predictSync(v as never), 'predictSync(v)');
    expectOnly([undefined], (v) => m.predictSync([[[1, 2]]], { lengths: v, batchSize: v } as never), 'predict lengths, batchSize');
    expectOnly([undefined, null, 1, 1e12], (v) => m.predictSync([[[1, 2]]], { batchSize: v } as never), 'predict batchSize');
    expectOnly([], (v) => m.step(v as never), 'step(v)');
    expectOnly([undefined], (v) => m.step([[1, 2]], v as never), 'step state');
    expectOnly([], (v) => m.loadStateDict(v as never), 'loadStateDict(v)');
    expectOnly([], (v) => m.loadStateDict({ ...m.stateDict(), '1.bias': v } as never), 'loadStateDict bias');
    expectOnly([], (v) => m.setKerasWeights(v as never), 'setKerasWeights(v)');
    expectOnly([], (v) => m.setKerasWeights([v] as never), 'setKerasWeights([v])');
    const after = m.stateDict();
    for (const k of Object.keys(before)) expect(firstBitMismatch(before[k].data, after[k].data), k).toBe(-1);
  });

  test('fit rejects cleanly and a refused fit leaves the weights alone', async () => {
    const m = new Sequential([new LSTM({ inputSize: 2, hiddenSize: 3, returnSequences: false, seed: 1 }), new Dense({ units: 1, seed: 2 })]);
    const good = { x: tensor(new Float32Array(4 * 3 * 2).fill(0.5), [4, 3, 2]), y: tensor([1, 2, 3, 4], [4, 1]) };
    const base = { epochs: 1, optimizer: new Adam({ lr: 0.1 }), loss: 'mse' as const };
    // The WEIRD values each fit option legitimately takes (undefined / null: the default).
    const valid: Record<string, unknown[]> = {
      epochs: [1, 1e12], batchSize: [undefined, null, 1, 1e12], loss: [], optimizer: [], bptt: [undefined],
      clipGradNorm: [undefined, 1, 1.5, 1e12], validation: [undefined, null], earlyStopping: [undefined],
      checkpoint: [undefined], seed: [undefined, null, 0, 1, 1e12],
    };
    const accepted = async (fn: () => Promise<unknown>, what: string) => {
      try {
        await fn();
      } catch (e) {
        expect.fail(`${what}: valid, must be accepted (${String(e)})`);
      }
    };
    for (const v of WEIRD) {
      const s = typeof v === 'symbol' ? 'Symbol' : String(v);
      await expectRejectedAsync(m, () => m.fit(v as never, base), `fit(${s})`);
      await expectRejectedAsync(m, () => m.fit({ x: v, y: good.y } as never, base), `fit x ${s}`);
      await expectRejectedAsync(m, () => m.fit({ x: good.x, y: v } as never, base), `fit y ${s}`);
      if (v !== undefined) await expectRejectedAsync(m, () => m.fit(good, v as never), `fit opts ${s}`);
      for (const [key, ok] of Object.entries(valid)) {
        if (key === 'epochs' && v === 1e12) continue;  // valid, merely long
        const call = () => m.fit(good, { ...base, [key]: v } as never);
        if (ok.some((o) => Object.is(o, v))) await accepted(call, `fit ${key}=${s}`);
        else await expectRejectedAsync(m, call, `fit ${key}=${s}`);
      }
    }
  }, 60_000);
});
