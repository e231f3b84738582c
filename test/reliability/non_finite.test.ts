// Issue 10, defect 5: one NaN or Infinity used to poison every weight silently. Now:
//   * input data are checked where they enter fit / predict / step (RangeError naming the value);
//   * fit checks the loss and the global gradient norm before each update: nonFinite 'stop'
//     (default) rejects naming epoch and batch, weights and optimizer state restored; 'skip'
//     skips and counts the batch;
//   * every optimizer refuses non-finite gradients (and a gradScale that overflows float32)
//     natively before writing anything, naming the parameter.
import { describe, expect, test } from 'vitest';
import { Adagrad, Adam, AdamW, Dense, FitStoppedError, LSTM, RMSprop, SGD, Sequential, tensor, type Optimizer } from '../../lib/index';

function model() {
  return new Sequential([new LSTM({ inputSize: 2, hiddenSize: 4, returnSequences: false, seed: 1 }), new Dense({ units: 1, seed: 2 })]);
}

function data(n: number, bad: number | null, value = NaN) {
  const x = Array.from({ length: n }, (_v, i) => Array.from({ length: 3 }, (_w, t) => [Math.sin(i + t), Math.cos(i * t)]));
  if (bad !== null) x[bad][1][0] = value;
  return { x, y: Array.from({ length: n }, (_v, i) => [Math.sin(i)]) };
}

const allFinite = (m: Sequential) => m.parameters().every((p) => p.value.every(Number.isFinite));

describe('non-finite input data', () => {
  for (const value of [NaN, Infinity, -Infinity]) {
    test(`one ${value} in 1 of 100 sequences: fit refuses it by name, weights unchanged`, async () => {
      const m = model();
      const before = m.stateDict();
      await expect(m.fit(data(100, 37, value), { epochs: 1, optimizer: new Adam(), loss: 'mse' }))
        .rejects.toThrow(/data\.x\[37\]\[1\]\[0\]/);
      expect(m.stateDict()).toEqual(before);
      expect(allFinite(m)).toBe(true);
    });
  }

  test('tensors, targets, validation, predict and step', async () => {
    const m = model();
    const x = new Float32Array(10 * 3 * 2).fill(0.5);
    x[4 * 6 + 3] = NaN;
    const y = tensor(new Float32Array(10), [10, 1]);
    await expect(m.fit({ x: tensor(x, [10, 3, 2]), y }, { epochs: 1, optimizer: new Adam(), loss: 'mse' })).rejects.toThrow(/data\.x\.data\[27\]/);
    const yBad = new Float32Array(10);
    yBad[9] = Infinity;
    await expect(m.fit({ x: tensor(new Float32Array(60), [10, 3, 2]), y: tensor(yBad, [10, 1]) }, { epochs: 1, optimizer: new Adam(), loss: 'mse' }))
      .rejects.toThrow(/data\.y\.data\[9\]/);
    await expect(m.fit(data(10, null), { epochs: 1, optimizer: new Adam(), loss: 'mse', validation: data(4, 2) })).rejects.toThrow(/validation\.x\[2\]/);
    await expect(m.predict(data(5, 3).x)).rejects.toThrow(/x\[3\]\[1\]\[0\]/);
    expect(() => m.predictSync(tensor(x, [10, 3, 2]))).toThrow(RangeError);
    expect(() => m.step([[NaN, 1]])).toThrow(/x\[0\]\[0\]/);
    expect(allFinite(m)).toBe(true);
  });
});

describe('non-finite loss or gradients inside fit (finite but huge inputs)', () => {
  // 1e25 is a finite float32, but its gradients overflow: the weight gradient of the Dense layer is ~1e25 * error.
  const huge = () => {
    const m = new Sequential([new Dense({ units: 1, inputSize: 2, seed: 3 })]);
    const x = Array.from({ length: 8 }, (_v, i) => [[i === 5 ? 1e25 : i / 8, 1]]);
    return { m, d: { x, y: Array.from({ length: 8 }, () => [[0]]) } };
  };

  test("nonFinite 'stop' (default): a RangeError naming epoch and batch, the updates before it kept", async () => {
    const { m, d } = huge();
    const opt = new SGD({ lr: 0.1 });
    const err = await m.fit(d, { epochs: 2, batchSize: 2, shuffle: false, optimizer: opt, loss: 'mse', clipGradNorm: 1 }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(FitStoppedError);
    const cause = (err as FitStoppedError).cause as Error;
    expect(cause).toBeInstanceOf(RangeError);
    expect(cause.message).toMatch(/epoch 0, batch 2/);
    expect(cause.message).toMatch(/nonFinite: 'skip'/);
    expect(cause.message).not.toMatch(/gradScale/);  // the internal option is not what the user passed
    expect(opt.stepCount).toBe(2);  // batches 0 and 1 (sequence 5 is in batch 2)
    expect(allFinite(m)).toBe(true);
  });

  test("nonFinite 'skip': the batch is skipped and counted, the rest trains, weights stay finite", async () => {
    const { m, d } = huge();
    const h = await m.fit(d, { epochs: 3, batchSize: 2, optimizer: new SGD({ lr: 0.1 }), loss: 'mse', nonFinite: 'skip', seed: 4 });
    expect(h.stopped).toBe('completed');
    expect(h.skipped).toBe(3);
    expect(h.epochs.map((e) => e.skipped)).toEqual([1, 1, 1]);
    expect(h.updates).toBe(9);
    expect(h.epochs.every((e) => Number.isFinite(e.loss))).toBe(true);
    expect(allFinite(m)).toBe(true);
  });

  test('nonFinite is checked', async () => {
    const { m, d } = huge();
    await expect(m.fit(d, { epochs: 1, optimizer: new SGD({ lr: 0.1 }), loss: 'mse', nonFinite: 'ignore' as never })).rejects.toThrow(/nonFinite/);
  });
});

describe('optimizers refuse non-finite gradients before writing anything', () => {
  const makers: [string, () => Optimizer][] = [
    ['SGD', () => new SGD({ lr: 0.1, momentum: 0.9 })], ['Adam', () => new Adam()], ['AdamW', () => new AdamW()],
    ['RMSprop', () => new RMSprop({ centered: true, momentum: 0.5 })], ['Adagrad', () => new Adagrad()],
  ];
  for (const [name, make] of makers) {
    for (const mode of ['sync', 'async'] as const) {
      test(`${name} ${mode}`, async () => {
        const value = Float32Array.from([1, 2, 3, 4]), other = Float32Array.from([5, 6]);
        const params = [{ name: 'a', value: other, grad: Float32Array.from([0.1, 0.2]) }, { name: 'b', value, grad: Float32Array.from([0.1, NaN, 0.3, 0.4]) }];
        const opt = make();
        opt.step(params.map((p) => ({ ...p, grad: new Float32Array(p.grad.length).fill(0.5) })));  // some state first
        const before = [value.slice(), other.slice()], state = opt.stateDict();
        const step = (opts = {}) => (mode === 'sync' ? Promise.resolve().then(() => opt.step(params, opts)) : opt.stepAsync(params, opts));
        for (const bad of [NaN, Infinity, -Infinity]) {
          params[1].grad[1] = bad;
          await expect(step()).rejects.toThrow(/params\[1\]\.grad \('b'\)/);
          await expect(step()).rejects.toThrow(RangeError);
        }
        params[1].grad[1] = 10;
        await expect(step({ gradScale: 1e38 })).rejects.toThrow(/overflows/);  // 10 * 1e38 is Infinity in float32
        await expect(step({ gradScale: 1e39 })).rejects.toThrow(/gradScale/);
        expect([value, other]).toEqual(before);
        expect(opt.stateDict()).toEqual(state);
        await step();  // finite again: it updates
        expect(opt.stepCount).toBe(2);
      });
    }
  }
});

describe('optimizer hyper-parameters that overflow float32', () => {
  test('are refused by name (found by the fuzzer: RMSprop momentum 9.7e94 made every weight NaN)', () => {
    expect(() => new RMSprop({ momentum: 9.7e94 })).toThrow(/for momentum/);
    expect(() => new SGD({ lr: 1e39 })).toThrow(/for lr/);
    expect(() => new Adam({ eps: 1e40 })).toThrow(RangeError);
    expect(() => new Adagrad({ initialAccumulatorValue: 4e38 })).toThrow(/initialAccumulatorValue/);
    expect(new SGD({ lr: 3e38 }).lr).toBe(3e38);
  });
});
