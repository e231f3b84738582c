// The readers/writers rules (README, "Concurrency"): inference never waits and is never refused,
// sees one complete weight version, and async jobs own or pin what they read; writers exclude
// each other (async ones queue, sync ones throw a clear error).
import { describe, expect, test } from 'vitest';
import { Adam, Dense, GRU, LSTM, SGD, Sequential, tensor, type Tensor } from '../../lib/index';
import { firstBitMismatch, mulberry32 } from '../helpers/gradcheck';

function randomTensor(shape: number[], seed: number): Tensor {
  const rng = mulberry32(seed);
  return tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => 2 * rng() - 1), shape);
}

function sameBits(a: Float32Array, b: Float32Array): boolean {
  return a.length === b.length && firstBitMismatch(a, b) === -1;
}

describe('inference on one layer', () => {
  test('many forwardAsync calls at once equal the sequential results bit for bit', async () => {
    const l = new LSTM({ inputSize: 16, hiddenSize: 32, numLayers: 2, seed: 3 });
    const xs = Array.from({ length: 12 }, (_v, i) => randomTensor([20, 1 + (i % 4), 16], 100 + i));
    const expected = xs.map((x) => l.forward(x));
    const results = await Promise.all(xs.map((x) => l.forwardAsync(x)));
    results.forEach((r, i) => {
      expect(sameBits(r.output.data, expected[i].output.data)).toBe(true);
      expect(sameBits(r.cN!.data, expected[i].cN!.data)).toBe(true);
    });
    // Sync inference and steps while async ones run.
    const pending = xs.map((x) => l.forwardAsync(x));
    expect(sameBits(l.forward(xs[0]).output.data, expected[0].output.data)).toBe(true);
    l.step(tensor(new Float32Array(16), [1, 16]));
    (await Promise.all(pending)).forEach((r, i) => expect(sameBits(r.output.data, expected[i].output.data)).toBe(true));
  });

  test('an update during forwardAsync: the call sees the weights before it; sync inference during stepAsync too', async () => {
    const l = new GRU({ inputSize: 8, hiddenSize: 16, seed: 4 });
    const x = randomTensor([10, 3, 8], 5);
    const before = l.forward(x).output.data;
    l.forward(x, { training: true });
    l.backward({ gradOutput: randomTensor([10, 3, 16], 6) });
    const pending = l.forwardAsync(x);
    new SGD({ lr: 0.5 }).step(l.parameters());  // a sync writer: allowed, inference holds nothing
    const after = l.forward(x).output.data;
    expect(sameBits(after, before)).toBe(false);
    expect(sameBits((await pending).output.data, before)).toBe(true);

    const update = new SGD({ lr: 0.5 }).stepAsync(l.parameters());
    await Promise.resolve();  // the update is on a worker thread now
    const during = l.forward(x).output.data;
    await update;
    expect(sameBits(during, after)).toBe(true);  // the version before the update, never a mix
    expect(sameBits(l.forward(x).output.data, after)).toBe(false);
  });

  test('writers exclude each other: a sync writer during an async one throws, async ones queue', async () => {
    const l = new LSTM({ inputSize: 4, hiddenSize: 8, seed: 7 });
    const x = randomTensor([6, 2, 4], 8);
    await l.forwardAsync(x, { training: true });
    const backward = l.backwardAsync({ gradOutput: randomTensor([6, 2, 8], 9) });
    expect(() => new SGD({ lr: 0.1 }).step(l.parameters())).toThrow(/held by a running writer/);
    expect(() => l.loadStateDict(l.stateDict())).toThrow(/held by a running writer/);
    expect(() => l.forward(x, { training: true })).toThrow(/held by a running writer/);
    expect(() => l.forward(x)).not.toThrow();  // inference never waits
    const queued = new SGD({ lr: 0.1 }).stepAsync(l.parameters());  // waits for the backward
    await Promise.all([backward, queued]);
  });

  test('an async job owns what it reads: transferring or shrinking the input meanwhile changes nothing', async () => {
    const l = new LSTM({ inputSize: 8, hiddenSize: 16, seed: 10 });
    const x = randomTensor([30, 4, 8], 11);
    const expected = l.forward(x).output.data;
    const moved = tensor(x.data.slice(), x.shape);
    const p = l.forwardAsync(moved);
    structuredClone(moved.data.buffer, { transfer: [moved.data.buffer as ArrayBuffer] });  // detaches the caller's array
    expect(moved.data.length).toBe(0);
    expect(sameBits((await p).output.data, expected)).toBe(true);
    // A resizable buffer shrunk to nothing while the job runs.
    // (ES2024 API; this project's TypeScript lib is older)
    const Resizable = ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => ArrayBuffer & { resize(n: number): void };
    const rab = new Resizable(x.data.byteLength, { maxByteLength: x.data.byteLength });
    const shrunk = new Float32Array(rab);
    shrunk.set(x.data);
    const q = l.forwardAsync(tensor(shrunk, x.shape));
    rab.resize(0);
    expect(sameBits((await q).output.data, expected)).toBe(true);
    // Weights, gradients and optimizer state live on SharedArrayBuffers: they cannot be transferred.
    expect(() => structuredClone(l.weights.buffer, { transfer: [l.weights.buffer as unknown as ArrayBuffer] })).toThrow();
    // A parameter of the caller's that is detached before the update runs: a clear error, nothing written.
    const value = new Float32Array(64).fill(1), grad = new Float32Array(64).fill(1);
    const step = new SGD({ lr: 0.1 }).stepAsync([{ name: 'w', value, grad }]);
    structuredClone(value.buffer, { transfer: [value.buffer as ArrayBuffer] });
    await expect(step).rejects.toThrow(RangeError);
  });
});

describe('inference on a model', () => {
  const model = () => new Sequential([
    new LSTM({ inputSize: 3, hiddenSize: 16, seed: 1 }), new GRU({ inputSize: 16, hiddenSize: 8, returnSequences: false, seed: 2 }),
    new Dense({ units: 2, seed: 3 })]);

  test('many predict calls at once equal predictSync, bit for bit', async () => {
    const m = model();
    const inputs = Array.from({ length: 16 }, (_v, i) => randomTensor([1 + (i % 3), 12, 3], 20 + i));
    const expected = inputs.map((x) => m.predictSync(x));
    const results = await Promise.all(inputs.map((x) => m.predict(x)));
    results.forEach((r, i) => expect(sameBits(r.data, expected[i].data)).toBe(true));
  });

  test('inference during fit equals the predictions of one of the per-update weight versions', async () => {
    const m = model();
    const rng = mulberry32(5);
    const x = Array.from({ length: 64 }, () => Array.from({ length: 10 }, () => [rng(), rng(), rng()]));
    const y = x.map(() => [rng(), rng()]);
    const probe = randomTensor([3, 10, 3], 6);
    const shadow = model();
    const versions = [m.predictSync(probe).data];  // before the first update
    const seen: { data: Float32Array; how: string }[] = [];
    let running = true;
    const readers = (async () => {
      while (running) {
        seen.push({ data: (await m.predict(probe)).data, how: 'predict' });
        seen.push({ data: m.predictSync(probe).data, how: 'predictSync' });
        seen.push({ data: m.step([[0.1, 0.2, 0.3]]).output.data, how: 'step' });  // streaming works meanwhile
        await new Promise((r) => setImmediate(r));
      }
    })();
    await m.fit({ x, y }, {
      epochs: 2, batchSize: 8, optimizer: new Adam({ lr: 0.05 }), loss: 'mse', seed: 1,
      onBatchEnd: () => {
        shadow.loadStateDict(m.stateDict());  // the version this update produced
        versions.push(shadow.predictSync(probe).data);
      },
    });
    running = false;
    await readers;
    expect(versions.length).toBe(1 + 2 * 8);
    const predictions = seen.filter((s) => s.how !== 'step');
    expect(predictions.length).toBeGreaterThan(4);
    for (const s of predictions) expect(versions.some((v) => sameBits(v, s.data))).toBe(true);
    expect(new Set(predictions.map((s) => versions.findIndex((v) => sameBits(v, s.data)))).size).toBeGreaterThan(1);
  });

  test('stateDict and save during fit hold one complete version', async () => {
    const m = model();
    const rng = mulberry32(9);
    const x = Array.from({ length: 32 }, () => Array.from({ length: 6 }, () => [rng(), rng(), rng()]));
    const y = x.map(() => [rng(), rng()]);
    const versions: Float32Array[] = [Float32Array.from(Object.values(m.stateDict()).flatMap((t) => [...t.data]))];
    const snapshots: Float32Array[] = [];
    const fit = m.fit({ x, y }, {
      epochs: 1, batchSize: 4, optimizer: new SGD({ lr: 0.1 }), loss: 'mse', seed: 2,
      onBatchEnd: () => { versions.push(Float32Array.from(Object.values(m.stateDict()).flatMap((t) => [...t.data]))); },
    });
    let done = false;
    void fit.then(() => { done = true; });
    while (!done) {
      snapshots.push(Float32Array.from(Object.values(m.stateDict()).flatMap((t) => [...t.data])));
      await new Promise((r) => setImmediate(r));
    }
    await fit;
    for (const s of snapshots) expect(versions.some((v) => sameBits(v, s))).toBe(true);
  });
});

describe('out arrays', () => {
  test('forward, forwardAsync and backward write into the caller\'s arrays, with the same bits', async () => {
    const l = new LSTM({ inputSize: 6, hiddenSize: 10, numLayers: 2, seed: 12 });
    const x = randomTensor([7, 3, 6], 13);
    const ref = l.forward(x);
    const out = { output: new Float32Array(7 * 3 * 10), hN: new Float32Array(2 * 3 * 10), cN: new Float32Array(2 * 3 * 10) };
    const r = l.forward(x, { out });
    expect(r.output.data).toBe(out.output);
    expect(sameBits(out.output, ref.output.data) && sameBits(out.cN, ref.cN!.data)).toBe(true);
    out.output.fill(0);
    const shared = new Float32Array(new SharedArrayBuffer(4 * 2 * 3 * 10));
    const ra = await l.forwardAsync(x, { out: { output: out.output, hN: shared } });
    expect(ra.output.data).toBe(out.output);
    expect(sameBits(out.output, ref.output.data) && sameBits(shared, ref.hN.data)).toBe(true);
    expect(() => l.forward(x, { out: { output: new Float32Array(5) } })).toThrow(/length 210 for out.output/);
    expect(() => l.forward(x, { out: { bogus: new Float32Array(5) } as never })).toThrow(/out/);

    l.forward(x, { training: true });
    const dy = randomTensor([7, 3, 10], 14);
    l.zeroGrad();
    const g = l.backward({ gradOutput: dy });
    const grads = l.grads.slice();
    const input = new Float32Array(7 * 3 * 6);
    l.zeroGrad();
    await l.forwardAsync(x, { training: true });
    const gb = await l.backwardAsync({ gradOutput: dy }, { out: { input } });
    expect(gb.input.data).toBe(input);
    expect(sameBits(input, g.input.data) && sameBits(l.grads, grads)).toBe(true);
  });
});

describe('serving during training', () => {
  test('a server with batches in flight at once answers every request while the model trains', async () => {
    const m = new Sequential([new LSTM({ inputSize: 3, hiddenSize: 8, returnSequences: false, seed: 1 }), new Dense({ units: 1, seed: 2 })]);
    const server = m.serve({ maxBatchSize: 4, maxDelayMs: 0, maxConcurrentBatches: 3 });
    const rng = mulberry32(3);
    const x = Array.from({ length: 32 }, () => Array.from({ length: 5 }, () => [rng(), rng(), rng()]));
    const y = x.map(() => [rng()]);
    const fit = m.fit({ x, y }, { epochs: 2, batchSize: 8, optimizer: new Adam({ lr: 0.01 }), loss: 'mse', seed: 4 });
    const answers = await Promise.all(x.map((s) => server.predict(s)));
    await fit;
    expect(answers.every((a) => a.data.length === 1 && Number.isFinite(a.data[0]))).toBe(true);
    // After training, the server reads the new weights.
    const now = await server.predict(x[0]);
    expect(sameBits(now.data, m.predictSync([x[0]]).data)).toBe(true);
    await server.close();
  });
});
