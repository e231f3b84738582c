// The micro-batcher's rules on a scripted backend: flush when full or when the delay expires,
// answers in order, the queue limit, close() draining, one bad request or one failing batch
// failing only its own callers. No timing assertions: fake timers decide when the delay expires.
import { afterEach, describe, expect, test, vi } from 'vitest';
import {
  LSTM, ModelServer, Sequential, ServerClosedError, ServerOverloadedError, StateLayout, StreamState, type ServeBackend,
} from '../../lib/index';

/** A backend whose batches are recorded and answered when the test says so (or at once). y = sum of the sequence. */
function scripted(opts: { manual?: boolean; failWhen?: (x: Float32Array) => boolean } = {}) {
  const batches: { B: number; T: number; release: () => void }[] = [];
  const backend: ServeBackend = {
    inputFeatures: 2,
    outputFeatures: 1,
    outputHasTime: false,
    stateLayout: new StateLayout([{ layer: 0, name: 'h', slots: 1, size: 2 }]),
    predictBatch(x, B, T) {
      const y = new Float32Array(B);
      for (let b = 0; b < B; b++) for (let i = 0; i < T * 2; i++) y[b] += x[b * T * 2 + i];
      const fail = opts.failWhen?.(x) ?? false;
      return new Promise((resolve, reject) => {
        const release = () => (fail ? reject(new Error('batch failed')) : resolve(y));
        batches.push({ B, T, release });
        if (!opts.manual) release();
      });
    },
    async stepBatch(x, B, states) {
      // h' = h + x; output = h'[0] + h'[1]
      const h = new Float32Array(2 * B), out = new Float32Array(B);
      for (let b = 0; b < B; b++) {
        h[2 * b] = states[0][2 * b] + x[2 * b];
        h[2 * b + 1] = states[0][2 * b + 1] + x[2 * b + 1];
        out[b] = h[2 * b] + h[2 * b + 1];
      }
      batches.push({ B, T: 1, release: () => {} });
      return { output: out, states: [h] };
    },
  };
  return { backend, batches };
}

const flushMicrotasks = async () => { for (let i = 0; i < 5; i++) await Promise.resolve(); };

afterEach(() => { vi.useRealTimers(); });

describe('micro-batching', () => {
  test('flushes when the batch is full, without waiting for the delay', async () => {
    vi.useFakeTimers();
    const { backend, batches } = scripted();
    const server = new ModelServer(backend, { maxBatchSize: 4, maxDelayMs: 1000 });
    const ps = [0, 1, 2, 3].map((i) => server.predict([[i, 0]]));
    expect(batches.map((b) => b.B)).toEqual([4]);           // at the 4th request, no timer advanced
    expect((await Promise.all(ps)).map((y) => y.data[0])).toEqual([0, 1, 2, 3]);
  });

  test('flushes a partial batch when the delay expires', async () => {
    vi.useFakeTimers();
    const { backend, batches } = scripted();
    const server = new ModelServer(backend, { maxBatchSize: 8, maxDelayMs: 5 });
    const ps = [1, 2, 3].map((i) => server.predict([[i, i]]));
    vi.advanceTimersByTime(4);
    expect(batches).toEqual([]);                             // still waiting for company
    vi.advanceTimersByTime(1);
    expect(batches.map((b) => b.B)).toEqual([3]);
    expect((await Promise.all(ps)).map((y) => y.data[0])).toEqual([2, 4, 6]);
  });

  test('maxDelayMs 0 gathers the requests of one macrotask', async () => {
    const { backend, batches } = scripted();
    const server = new ModelServer(backend, { maxBatchSize: 100, maxDelayMs: 0 });
    await Promise.all(Array.from({ length: 10 }, (_v, i) => server.predict([[i, 1]])));
    expect(batches.map((b) => b.B)).toEqual([10]);
  });

  test('answers in order; queued requests go when the running batch ends (full) or their delay expires', async () => {
    vi.useFakeTimers();
    const { backend, batches } = scripted({ manual: true });
    const server = new ModelServer(backend, { maxBatchSize: 3, maxDelayMs: 1 });
    const order: number[] = [];
    const ps = Array.from({ length: 8 }, (_v, i) => server.predict([[i, 0], [0, 0]]).then((y) => { order.push(i); return y.data[0]; }));
    expect(batches.map((b) => b.B)).toEqual([3]);            // one batch at a time (maxConcurrentBatches 1)
    expect(server.stats().queued).toBe(5);
    batches[0].release();
    await flushMicrotasks();
    expect(batches.map((b) => b.B)).toEqual([3, 3]);         // the next one starts as soon as the first ends
    batches[1].release();
    await flushMicrotasks();
    expect(batches.length).toBe(2);                          // 2 left: they wait for their delay
    vi.advanceTimersByTime(1);
    expect(batches.length).toBe(3);
    batches[2].release();
    expect(await Promise.all(ps)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(order).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(batches.map((b) => b.B)).toEqual([3, 3, 2]);
    expect(server.stats()).toMatchObject({ requests: 8, batches: 3, queued: 0, inFlight: 0 });
  });

  test('a large batch is answered in order, slice by slice, before close() resolves', async () => {
    const { backend, batches } = scripted();
    const server = new ModelServer(backend, { maxBatchSize: 100, maxDelayMs: 1 });
    const order: number[] = [];
    const ps = Array.from({ length: 70 }, (_v, i) => server.predict([[i, 0]]).then((y) => { order.push(i); return y.data[0]; }));
    await server.close();
    expect(order).toEqual(Array.from({ length: 70 }, (_v, i) => i));
    expect(await Promise.all(ps)).toEqual(Array.from({ length: 70 }, (_v, i) => i));
    expect(batches.map((b) => b.B)).toEqual([70]);
  });

  test('maxConcurrentBatches: that many batches run at once, each started at maxBatchSize / k waiting', async () => {
    const { backend, batches } = scripted({ manual: true });
    const server = new ModelServer(backend, { maxBatchSize: 4, maxDelayMs: 1000, maxConcurrentBatches: 2 });
    const ps = Array.from({ length: 10 }, (_v, i) => server.predict([[i, 0]]));
    // Two requests start a batch while a worker is free (no delay waited); then both are busy and
    // the other six wait: a freed slot takes up to maxBatchSize of them.
    expect(batches.map((b) => b.B)).toEqual([2, 2]);
    batches[1].release();
    await flushMicrotasks();
    expect(batches.map((b) => b.B)).toEqual([2, 2, 4]);
    batches[0].release();
    await flushMicrotasks();
    expect(batches.map((b) => b.B)).toEqual([2, 2, 4, 2]);
    batches[2].release();
    batches[3].release();
    expect((await Promise.all(ps)).map((y) => y.data[0])).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    await server.close();
  });

  test('a full queue refuses with ServerOverloadedError (code ERR_FUSED_RNN_QUEUE_FULL)', async () => {
    const { backend, batches } = scripted({ manual: true });
    const server = new ModelServer(backend, { maxBatchSize: 2, maxDelayMs: 1, maxQueue: 3 });
    const ok = Array.from({ length: 5 }, (_v, i) => server.predict([[i, 0]]));   // 2 running, 3 waiting
    const refused = server.predict([[9, 9]]);
    await expect(refused).rejects.toBeInstanceOf(ServerOverloadedError);
    await expect(refused).rejects.toMatchObject({ code: 'ERR_FUSED_RNN_QUEUE_FULL', name: 'ServerOverloadedError', maxQueue: 3 });
    expect(server.stats().refused).toBe(1);
    for (let i = 0; i < 3; i++) {
      await vi.waitFor(() => expect(batches.length).toBeGreaterThan(i));   // the last one after its 1 ms delay
      batches[i].release();
    }
    expect((await Promise.all(ok)).map((y) => y.data[0])).toEqual([0, 1, 2, 3, 4]);
  });

  test('close() stops accepting, runs what is queued without waiting for the delay, then resolves', async () => {
    const { backend, batches } = scripted();
    const server = new ModelServer(backend, { maxBatchSize: 4, maxDelayMs: 60_000 });
    const ps = Array.from({ length: 6 }, (_v, i) => server.predict([[i, 0]]));
    const settled: number[] = [];
    ps.forEach((p, i) => void p.then(() => settled.push(i)));
    await server.close();
    expect(settled).toEqual([0, 1, 2, 3, 4, 5]);             // all answered before close() resolved
    expect(batches.map((b) => b.B)).toEqual([4, 2]);
    await expect(server.predict([[1, 1]])).rejects.toBeInstanceOf(ServerClosedError);
    await expect(server.step([1, 1])).rejects.toMatchObject({ code: 'ERR_FUSED_RNN_SERVER_CLOSED' });
    await server.close();                                     // again: resolves at once
  });

  test('a bad request rejects alone, before batching; the others are answered', async () => {
    const { backend, batches } = scripted();
    const server = new ModelServer(backend, { maxBatchSize: 8, maxDelayMs: 1 });
    const rs = await Promise.allSettled([
      server.predict([[1, 2]]),
      server.predict([[1, Number.NaN]]),                      // non-finite
      server.predict([[1, 2, 3]]),                            // wrong feature count
      server.predict([]),                                     // no step
      server.predict('abc' as never),                         // wrong type
      server.predict(new Float32Array([1, 2, Infinity, 0])),
      server.predict([[3, 4], [5, 6]]),
      server.step([1, 2], { layout: null, data: null } as never),   // not a StreamState
    ]);
    expect(rs.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'rejected', 'rejected', 'rejected', 'fulfilled', 'rejected']);
    expect((rs[1] as PromiseRejectedResult).reason).toBeInstanceOf(RangeError);
    expect(String((rs[1] as PromiseRejectedResult).reason)).toMatch(/finite number for sequence\[0\]\[1\]/);
    expect((rs[4] as PromiseRejectedResult).reason).toBeInstanceOf(TypeError);
    expect(rs.filter((r) => r.status === 'fulfilled').map((r) => (r as PromiseFulfilledResult<{ data: Float32Array }>).value.data[0])).toEqual([3, 18]);
    expect(batches.map((b) => b.B)).toEqual([2]);            // the bad ones never reached the backend
  });

  test('a failing batch rejects its members only', async () => {
    const { backend } = scripted({ failWhen: (x) => x[0] === 666 });
    const server = new ModelServer(backend, { maxBatchSize: 2, maxDelayMs: 1 });
    const rs = await Promise.allSettled([server.predict([[666, 0]]), server.predict([[1, 0]]), server.predict([[2, 0]]), server.predict([[3, 0]])]);
    expect(rs.map((r) => r.status)).toEqual(['rejected', 'rejected', 'fulfilled', 'fulfilled']);
    expect(String((rs[0] as PromiseRejectedResult).reason)).toMatch(/batch failed/);
    expect(await server.predict([[5, 5]])).toMatchObject({ shape: [1] });   // the server goes on
  });

  test('step: states gathered and scattered per caller; the state passed in is not changed', async () => {
    const { backend, batches } = scripted();
    const server = new ModelServer(backend, { maxBatchSize: 8, maxDelayMs: 1 });
    const [a, b] = await Promise.all([server.step([1, 2]), server.step(new Float32Array([10, 20]))]);
    expect(batches.map((x) => x.B)).toEqual([2]);
    const [a2, b2] = await Promise.all([server.step([1, 1], a.state), server.step([0, 1], b.state)]);
    expect([a.output.data[0], b.output.data[0], a2.output.data[0], b2.output.data[0]]).toEqual([3, 30, 5, 31]);
    expect(Array.from(a.state.data)).toEqual([1, 2]);
    expect(Array.from(a2.state.data)).toEqual([2, 3]);
  });

  test('options are checked', () => {
    const { backend } = scripted();
    expect(() => new ModelServer(backend, { maxBatchSize: 0 })).toThrow(RangeError);
    expect(() => new ModelServer(backend, { maxDelayMs: -1 })).toThrow(RangeError);
    expect(() => new ModelServer(backend, { maxQueue: 1.5 })).toThrow(RangeError);
    expect(() => new ModelServer(backend, { maxConcurrentBatches: 0 })).toThrow(RangeError);
    expect(() => new ModelServer(backend, { maxBatch: 3 } as never)).toThrow(/unknown key 'maxBatch'/);
  });

  test('a model that cannot stream refuses step() with a RangeError', async () => {
    const model = new Sequential([new LSTM({ inputSize: 2, hiddenSize: 3, bidirectional: true, returnSequences: false, seed: 1 })]);
    const server = model.serve();
    await expect(server.step([1, 2])).rejects.toThrow(/cannot stream/);
    expect((await server.predict([[1, 2]])).shape).toEqual([6]);
    await server.close();
    expect(StreamState).toBeDefined();
  });
});
