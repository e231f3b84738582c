// fit / evaluate / predict on an async iterable of batches: the same bits as the same batches in
// memory, the next batch requested before the current update ends (prefetch), errors in the
// stream stop the fit keeping its updates, resumable from a checkpoint inside an epoch.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, test } from 'vitest';
import { Adam, Dense, FitStoppedError, LSTM, Sequential, type Dataset, type Tensor } from '../../lib/index';
import { firstBitMismatch } from '../helpers/gradcheck';

const build = () => new Sequential([new LSTM({ inputSize: 2, hiddenSize: 6, returnSequences: false, seed: 1 }), new Dense({ units: 1, seed: 2 })]);
/** Batch k: 4 sequences of 3 + k % 3 steps (batches differ in length). */
function batchAt(k: number): Dataset {
  const x = Array.from({ length: 4 }, (_v, i) => Array.from({ length: 3 + (k % 3) }, (_w, t) => [Math.sin(k + i + t), Math.cos(k * i + t)]));
  return { x, y: x.map((s) => [s.reduce((a, st) => a + st[0], 0)]) };
}
const N_BATCHES = 8;

/** A re-iterable stream (each epoch starts over) that logs when each batch is requested. */
function stream(log: string[] = [], failAt = -1) {
  return {
    returned: 0,
    [Symbol.asyncIterator]() {
      let k = 0;
      const self = this;
      return {
        async next(): Promise<IteratorResult<Dataset>> {
          const i = k++;
          log.push(`request ${i}`);
          await new Promise((resolve) => setTimeout(resolve, 1));
          if (i === failAt) throw new Error('disk read failed');
          return i < N_BATCHES ? { value: batchAt(i), done: false } : { value: undefined, done: true };
        },
        async return(): Promise<IteratorResult<Dataset>> {
          self.returned++;
          return { value: undefined, done: true };
        },
      };
    },
  };
}
const inMemory = (n = N_BATCHES) => ({ batches: Array.from({ length: n }, (_v, k) => batchAt(k)) });
const opts = () => ({ epochs: 2, shuffle: false, loss: 'mse' as const, optimizer: new Adam({ lr: 0.01 }) });

function expectSameBits(a: Record<string, Tensor>, b: Record<string, Tensor>) {
  for (const k of Object.keys(a)) expect(firstBitMismatch(a[k].data, b[k].data), k).toBe(-1);
}

describe('fit on an async iterable of batches', () => {
  test('the same bits as the same batches in memory; the next batch is requested before the update ends', async () => {
    const log: string[] = [];
    const streamed = build(), memory = build();
    const h = await streamed.fit(stream(log), { ...opts(), onBatchEnd: ({ batch }) => { log.push(`update ${batch}`); } });
    const hm = await memory.fit(inMemory(), opts());
    expect(h.updates).toBe(2 * N_BATCHES);
    expect(h.epochs.map((e) => e.loss)).toEqual(hm.epochs.map((e) => e.loss));
    expectSameBits(streamed.stateDict(), memory.stateDict());
    // Prefetch: batch k+1 was asked for before update k finished.
    for (let k = 0; k < N_BATCHES - 1; k++) expect(log.indexOf(`request ${k + 1}`), `batch ${k + 1}`).toBeLessThan(log.indexOf(`update ${k}`));
  });

  test('an error reading the stream stops the fit after its last update, keeps those weights', async () => {
    const m = build();
    const e = await m.fit(stream([], 3), opts()).catch((err: unknown) => err) as FitStoppedError;
    expect(e).toBeInstanceOf(FitStoppedError);
    expect((e.cause as Error).message).toBe('disk read failed');
    expect(e.history).toMatchObject({ updates: 3, stoppedAt: { epoch: 0, batch: 3 } });
    const ref = build();
    await ref.fit(inMemory(3), { ...opts(), epochs: 1 });
    expectSameBits(m.stateDict(), ref.stateDict());
  });

  test('a bad batch in the stream is named; the stream is closed when the fit stops early', async () => {
    const s = stream();
    const ctrl = new AbortController();
    await expect(build().fit(s, { ...opts(), signal: ctrl.signal, onBatchEnd: ({ batch }) => { if (batch === 2) ctrl.abort(); } }))
      .rejects.toThrow(FitStoppedError);
    expect(s.returned).toBe(1);
    const bad = { async *[Symbol.asyncIterator]() { yield batchAt(0); yield { x: [[[1, NaN]]], y: [[0]] }; } };
    await expect(build().fit(bad, opts())).rejects.toThrow(/data\[1\]\.x\[0\]\[0\]\[1\]/);
  });

  test('a spent async generator in epoch 1 says why; shuffle: true and validationSplit are refused', async () => {
    async function* once() { for (let k = 0; k < 3; k++) yield batchAt(k); }
    await expect(build().fit(once(), opts())).rejects.toThrow(/starts over every epoch.*no batch in epoch 1/);
    await expect(build().fit(stream(), { ...opts(), shuffle: true })).rejects.toThrow(/shuffle/);
    await expect(build().fit(stream(), { ...opts(), shuffle: undefined, validationSplit: 0.2 })).rejects.toThrow(/validationSplit/);
  });

  test('stopped inside an epoch with a checkpoint, resumed from it: the batches already trained are skipped, bit for bit', async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'fused-rnn-stream-')), 'run.ckpt.safetensors');
    const straight = build();
    await straight.fit(stream(), opts());
    const ctrl = new AbortController();
    await expect(build().fit(stream(), { ...opts(), checkpoint: { path: file }, signal: ctrl.signal,
      onBatchEnd: ({ update }) => { if (update === N_BATCHES + 3) ctrl.abort(); } })).rejects.toThrow(FitStoppedError);
    const resumed = build();
    const h = await resumed.fit(stream(), { ...opts(), resumeFrom: file });
    expect(h.updates).toBe(N_BATCHES - 3);
    expectSameBits(resumed.stateDict(), straight.stateDict());
  });

  test('evaluate and predict read streams too (validation as well)', async () => {
    const m = build();
    const h = await m.fit(inMemory(), { ...opts(), epochs: 1, validation: stream() });
    const mem = await m.evaluate({ x: inMemory().batches.flatMap((b) => b.x as number[][][]), y: inMemory().batches.flatMap((b) => b.y as number[][]) }, { loss: 'mse', batchSize: 4 });
    const streamed = await m.evaluate(stream(), { loss: 'mse', metrics: ['mae'] });
    expect(streamed.loss).toBe(mem.loss);
    expect(h.epochs[0].valLoss).toBe(mem.loss);
    let k = 0;
    for await (const out of m.predict(stream())) {
      const ref = await m.predict(batchAt(k).x as number[][][]);
      expect(out.shape).toEqual(ref.shape);
      expect(firstBitMismatch(out.data, ref.data)).toBe(-1);
      k++;
    }
    expect(k).toBe(N_BATCHES);
  });
});
