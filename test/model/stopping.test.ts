// A fit that stops (abort, timeout, a throwing callback, a bad batch, an update failing half-way)
// keeps the weights and optimizer state of its last complete update: the same bits as a fit that
// ran exactly that many updates. It rejects with a FitStoppedError saying how far it got, and
// writes the checkpoint first (a fit resumed from it ends where an uninterrupted one does).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, test } from 'vitest';
import { Adam, Dense, FitStoppedError, LSTM, SGD, Sequential, tensor, type Dataset, type FitOptions, type Tensor } from '../../lib/index';
import { firstBitMismatch } from '../helpers/gradcheck';
import { addingProblem } from './tasks';

const T = 6;
const build = () => new Sequential([new LSTM({ inputSize: 2, hiddenSize: 8, returnSequences: false, seed: 1 }), new Dense({ units: 1, seed: 2 })]);
const all = addingProblem(64, T, 3);
/** The first n sequences: with shuffle off, epoch 0's first k batches of size b are the first k·b. */
const first = (n: number) => ({ x: tensor(all.x.data.slice(0, n * T * 2), [n, T, 2]), y: tensor(all.y.data.slice(0, n), [n, 1]) });
const base = (): FitOptions => ({ epochs: 3, batchSize: 4, shuffle: false, loss: 'mse', optimizer: new Adam({ lr: 0.01 }), clipGradNorm: 1 });

/** The weights and optimizer state after exactly `updates` updates of epoch 0. */
async function reference(updates: number, batchSize = 4) {
  const m = build();
  const optimizer = new Adam({ lr: 0.01 });
  if (updates > 0) await m.fit(first(updates * batchSize), { ...base(), epochs: 1, batchSize, optimizer });
  return { weights: m.stateDict(), optimizer: optimizer.stateDict() };
}

function expectSameBits(a: Record<string, Tensor>, b: Record<string, Tensor>) {
  expect(Object.keys(a)).toEqual(Object.keys(b));
  for (const k of Object.keys(a)) expect(firstBitMismatch(a[k].data, b[k].data), k).toBe(-1);
}

async function stoppedFit(m: Sequential, opts: FitOptions, data: Dataset = all): Promise<FitStoppedError> {
  const e = await m.fit(data, opts).then(() => null, (err: unknown) => err);
  expect(e).toBeInstanceOf(FitStoppedError);
  return e as FitStoppedError;
}

describe('a stopped fit keeps the weights of its last complete update', () => {
  test('abort during epoch 0: 5 updates kept, the rejection says how far it got', async () => {
    const m = build();
    const optimizer = new Adam({ lr: 0.01 });
    const ctrl = new AbortController();
    const e = await stoppedFit(m, { ...base(), optimizer, signal: ctrl.signal, onBatchEnd: ({ update }) => { if (update === 5) ctrl.abort(); } });
    expect(e.cause).toBe(ctrl.signal.reason);
    expect(e.history).toMatchObject({ stopped: 'aborted', updates: 5, epochs: [], stoppedAt: { epoch: 0, batch: 5 } });
    expect(e.message).toMatch(/^fit aborted in epoch 0 after 5 batches \(5 updates, 0 epochs complete; the weights and optimizer state of the last update are kept\)/);
    const ref = await reference(5);
    expectSameBits(m.stateDict(), ref.weights);
    expect(optimizer.stateDict()).toEqual(ref.optimizer);
  });

  test('a timeout (AbortSignal.timeout): the updates done before it are kept', async () => {
    const m = build();
    const optimizer = new Adam({ lr: 0.01 });
    const e = await stoppedFit(m, { ...base(), epochs: 1, batchSize: 1, optimizer, signal: AbortSignal.timeout(80),
      onBatchEnd: () => new Promise((resolve) => setTimeout(resolve, 5)) });
    expect((e.cause as Error).name).toBe('TimeoutError');
    const k = e.history.updates;
    expect(k).toBeLessThan(64);
    expect(e.history.stoppedAt).toEqual({ epoch: 0, batch: k, chunk: 0 });
    const ref = await reference(k, 1);
    expectSameBits(m.stateDict(), ref.weights);
    expect(optimizer.stateDict()).toEqual(ref.optimizer);
  });

  test('onBatchEnd throws after update 7: that update is kept', async () => {
    const m = build();
    const optimizer = new Adam({ lr: 0.01 });
    const boom = new Error('logger failed');
    const e = await stoppedFit(m, { ...base(), optimizer, onBatchEnd: ({ update }) => { if (update === 7) throw boom; } });
    expect(e.cause).toBe(boom);
    expect(e.message).toMatch(/logger failed$/);
    expect(e.history).toMatchObject({ stopped: 'error', updates: 7 });
    expectSameBits(m.stateDict(), (await reference(7)).weights);
  });

  test('onEpochEnd throws after epoch 1: both epochs kept', async () => {
    const m = build();
    const e = await stoppedFit(m, { ...base(), onEpochEnd: ({ epoch }) => { if (epoch === 1) throw new Error('disk full'); } });
    expect(e.history).toMatchObject({ stopped: 'error', updates: 32, stoppedAt: { epoch: 2, batch: 0 } });
    expect(e.history.epochs.map((x) => x.epoch)).toEqual([0, 1]);
    const ref = build();
    await ref.fit(all, { ...base(), epochs: 2 });
    expectSameBits(m.stateDict(), ref.stateDict());
  });

  test('a bad batch (non-finite gradients, nonFinite: stop): the updates before it are kept', async () => {
    // A Dense layer's weight gradient is input × error: an input of 1e25 (finite) overflows it.
    const dense = () => new Sequential([new Dense({ units: 1, inputSize: 2, seed: 3 })]);
    const x = Array.from({ length: 32 }, (_v, i) => [[i === 13 ? 1e25 : Math.sin(i), 1]]);
    const y = x.map((_s, i) => [[Math.cos(i)]]);
    const m = dense();
    const e = await stoppedFit(m, { ...base(), optimizer: new SGD({ lr: 0.1 }) }, { x, y });
    expect(e.cause).toBeInstanceOf(RangeError);
    expect((e.cause as Error).message).toMatch(/epoch 0, batch 3/);
    expect(e.history).toMatchObject({ stopped: 'error', updates: 3, stoppedAt: { epoch: 0, batch: 3 } });
    const ref = dense();
    await ref.fit({ x: x.slice(0, 12), y: y.slice(0, 12) }, { ...base(), epochs: 1, optimizer: new SGD({ lr: 0.1 }) });
    expectSameBits(m.stateDict(), ref.stateDict());
  });

  test('an update failing half-way (its learning-rate schedule throws) is undone alone', async () => {
    const m = build();
    const optimizer = new SGD({ lr: 0.1 });
    const schedule = { lr: (step: number, lr: number) => { if (step === 4) throw new Error('schedule failed'); return lr / 2; } };
    const e = await stoppedFit(m, { ...base(), optimizer, lrSchedule: schedule, lrScheduleUnit: 'update' });
    expect(e.history.updates).toBe(4);
    expect(optimizer.lr).toBe(0.05);  // the lr of update 4, not one the failed update set
    const ref = build();
    const refOpt = new SGD({ lr: 0.1 });
    await ref.fit(first(16), { ...base(), epochs: 1, optimizer: refOpt, lrSchedule: { lr: (_s, lr) => lr / 2 }, lrScheduleUnit: 'update' });
    expectSameBits(m.stateDict(), ref.stateDict());
    expect(optimizer.stateDict()).toEqual(refOpt.stateDict());
  });

  for (const stopAt of [6, 16 + 6]) {
    test(`the checkpoint is written first (stopped after update ${stopAt}): resumed from it, the fit ends as an uninterrupted one, bit for bit`, async () => {
      const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'fused-rnn-stop-')), 'run.ckpt.safetensors');
      const opts = (): FitOptions => ({ ...base(), shuffle: true, seed: 4, optimizer: new Adam({ lr: 0.01 }) });
      const straight = build();
      await straight.fit(all, opts());
      const ctrl = new AbortController();
      const crashed = build();
      const e = await stoppedFit(crashed, { ...opts(), checkpoint: { path: file }, signal: ctrl.signal,
        onBatchEnd: ({ update }) => { if (update === stopAt) ctrl.abort(); } });
      const epoch = Math.floor(stopAt / 16);
      expect(e.history.stoppedAt).toEqual({ epoch, batch: 6, chunk: 0 });
      const resumed = new Sequential([new LSTM({ inputSize: 2, hiddenSize: 8, returnSequences: false, seed: 9 }), new Dense({ units: 1, seed: 9 })]);
      const h = await resumed.fit(all, { ...opts(), resumeFrom: file });
      expect(h.epochs.map((x) => x.epoch)).toEqual(epoch === 0 ? [0, 1, 2] : [1, 2]);
      expect(h.updates).toBe(3 * 16 - stopAt);
      expectSameBits(resumed.stateDict(), straight.stateDict());
    });
  }

  test('truncated BPTT: stopped between the chunks of a batch, the resumed fit goes on at the next chunk', async () => {
    // Many-to-many, T = 12 in chunks of 4: 3 updates per batch, 2 batches per epoch, 2 epochs.
    const seq = () => new Sequential([new LSTM({ inputSize: 2, hiddenSize: 8, seed: 3 }), new Dense({ units: 1, seed: 4 })]);
    const x = tensor(Float32Array.from({ length: 8 * 12 * 2 }, (_v, i) => Math.sin(i)), [8, 12, 2]);
    const data = { x, y: tensor(Float32Array.from({ length: 8 * 12 }, (_v, i) => Math.cos(i)), [8, 12, 1]) };
    const opts = (): FitOptions => ({ epochs: 2, batchSize: 4, shuffle: false, loss: 'mse', optimizer: new SGD({ lr: 0.05 }), bptt: { steps: 4 } });
    expect((await seq().fit(data, opts())).updates).toBe(12);
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'fused-rnn-stop-')), 'bptt.ckpt.safetensors');
    const ctrl = new AbortController();
    const e = await stoppedFit(seq(), { ...opts(), checkpoint: { path: file }, signal: ctrl.signal,
      onBatchEnd: ({ update }) => { if (update === 4) ctrl.abort(); } }, data);
    expect(e.history.stoppedAt).toEqual({ epoch: 0, batch: 1, chunk: 1 });  // batch 0 done, chunk 0 of batch 1
    const seen: number[] = [];
    const h = await seq().fit(data, { ...opts(), resumeFrom: file, onBatchEnd: ({ epoch, batch }) => { seen.push(epoch * 10 + batch); } });
    expect(h.updates).toBe(12 - 4);
    expect(seen).toEqual([1, 1, 10, 10, 10, 11, 11, 11]);  // chunks 1 and 2 of batch 1, then epoch 1
  });
});
