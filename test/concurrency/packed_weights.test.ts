// Streaming calls (T = 1) read weights the addon packs once per weight version and keeps across
// calls (ARCHITECTURE.md, "Concurrency"): the same bits as packing per call, a new pack after
// every kind of weight change, and steps on worker threads during an update each read one
// complete version.
import { describe, expect, test } from 'vitest';
import { GRU, LSTM, RNN, SGD, tensor, type Tensor } from '../../lib/index';
import type { NativeRnn, Precision } from '../../lib/native';
import { firstBitMismatch, mulberry32 } from '../helpers/gradcheck';

type Layer = LSTM | GRU | RNN;

function randomTensor(shape: number[], seed: number): Tensor {
  const rng = mulberry32(seed);
  return tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => 2 * rng() - 1), shape);
}

function sameBits(a: Float32Array, b: Float32Array): boolean {
  return a.length === b.length && firstBitMismatch(a, b) === -1;
}

/** One step packing the weights in the call (no packVersion): the reference. */
function unpackedStep(layer: Layer, x: Tensor, h0: Float32Array, c0: Float32Array | null, precision: Precision = 'fp32'): Float32Array {
  const handle = (layer as unknown as { handle: NativeRnn }).handle;
  const B = x.shape[0], L = layer.numLayers, Hout = layer.outputSize, H = layer.hiddenSize;
  const out = new Float32Array(B * Hout);
  const lstm = layer.cell === 'lstm';
  handle.forward(layer.weights.slice(), x.data, 1, B, false, null, h0, c0, out, new Float32Array(L * B * Hout),
    lstm ? new Float32Array(L * B * H) : null, null, precision, null);
  return out;
}

const B = 9;  // past the two rows a step reads the weights for in place
const layers: [string, () => Layer][] = [
  ['LSTM with projection, 2 layers', () => new LSTM({ inputSize: 6, hiddenSize: 32, projSize: 12, numLayers: 2, seed: 1 })],
  ['GRU (reset after)', () => new GRU({ inputSize: 5, hiddenSize: 32, seed: 2 })],
  ['GRU (reset before)', () => new GRU({ inputSize: 5, hiddenSize: 20, resetAfter: false, seed: 3 })],
  ['RNN', () => new RNN({ inputSize: 7, hiddenSize: 24, seed: 4 })],
];

describe('weights packed once per version for steps', () => {
  test.each(layers)('%s: steps equal per-call packing, before and after each kind of weight change', (_name, make) => {
    const l = make();
    const L = l.numLayers, Hout = l.outputSize, H = l.hiddenSize, lstm = l.cell === 'lstm';
    const x = randomTensor([B, l.inputSize], 10);
    const h0 = randomTensor([L, B, Hout], 11);
    const c0 = lstm ? randomTensor([L, B, H], 12) : undefined;
    const state = c0 ? { h: h0, c: c0 } : { h: h0 };
    const check = () => {
      const got = l.step(x, state).output.data;
      expect(sameBits(got, unpackedStep(l, x, h0.data, c0?.data ?? null))).toBe(true);
      expect(sameBits(l.step(x, state).output.data, got)).toBe(true);  // from the kept pack
      return got;
    };
    const v0 = check();
    // A sync optimizer update.
    l.forward(randomTensor([3, B, l.inputSize], 13), { training: true });
    l.backward({ gradOutput: randomTensor([3, B, Hout], 14) });
    new SGD({ lr: 0.5 }).step(l.parameters());
    const v1 = check();
    expect(sameBits(v1, v0)).toBe(false);
    // loadStateDict.
    l.loadStateDict(make().stateDict());
    expect(sameBits(check(), v0)).toBe(true);
    // Writing through the live buffer.
    l.weights[0] += 0.25;
    expect(sameBits(check(), v0)).toBe(false);
    // Writing through a view kept from earlier, then weightsChanged().
    const kept = l.parameters()[0].value;
    kept.fill(0.01);
    l.weightsChanged();
    check();
  });

  test('forwardAsync and model steps with T = 1 read the same packs', async () => {
    const l = new LSTM({ inputSize: 8, hiddenSize: 32, seed: 5 });
    const x = randomTensor([1, B, 8], 15);
    const sync = l.forward(x).output.data;
    for (let i = 0; i < 3; i++) expect(sameBits((await l.forwardAsync(x)).output.data, sync)).toBe(true);
    const xs = tensor(x.data, [B, 8]);
    expect(sameBits(l.step(xs).output.data, sync)).toBe(true);
  });

  test('sync and async steps of one version, in both precisions, interleaved: each pack is made once', async () => {
    const l = new LSTM({ inputSize: 8, hiddenSize: 32, seed: 7 });
    const handle = (l as unknown as { handle: NativeRnn }).handle;
    const xs = randomTensor([B, 8], 17), x = tensor(xs.data, [1, B, 8]);
    const round = async () => {
      for (const p of ['fp32', 'bf16'] as const) {
        l.setPrecision(p);
        l.step(xs);
        await l.forwardAsync(x);
      }
    };
    await round();
    const made = handle.packsMade();
    for (let i = 0; i < 3; i++) await round();
    expect(handle.packsMade()).toBe(made);
  });

  test.each(['fp32', 'bf16', 'int8'] as const)('async inference of whole sequences in %s: packed once per version, the bits of a sync forward', async (precision) => {
    const l = new GRU({ inputSize: 8, hiddenSize: 32, numLayers: 2, seed: 8 }).setPrecision(precision);
    const handle = (l as unknown as { handle: NativeRnn }).handle;
    const x = randomTensor([7, B, 8], 18);
    const sync = l.forward(x).output.data;  // packs per call
    expect(sameBits((await l.forwardAsync(x)).output.data, sync)).toBe(true);
    const made = handle.packsMade();
    for (let i = 0; i < 3; i++) expect(sameBits((await l.forwardAsync(x)).output.data, sync)).toBe(true);
    expect(handle.packsMade()).toBe(made);
    l.weights[0] += 0.5;  // a new version: packed again
    const changed = l.forward(x).output.data;
    expect(sameBits((await l.forwardAsync(x)).output.data, changed)).toBe(true);
    expect(handle.packsMade()).toBe(made + 1);
  });

  test('steps on worker threads while updates run: each equals one complete version, bit for bit', async () => {
    const l = new LSTM({ inputSize: 8, hiddenSize: 64, numLayers: 2, seed: 6 });
    const x = randomTensor([1, 32, 8], 16);
    const opt = new SGD({ lr: 0.05 });
    const versions: Float32Array[] = [l.forward(x).output.data];
    const seen: Promise<Float32Array>[] = [];
    for (let u = 0; u < 6; u++) {
      l.forward(randomTensor([2, 32, 8], 20 + u), { training: true });
      l.zeroGrad();
      l.backward({ gradOutput: randomTensor([2, 32, 64], 30 + u) });
      for (let i = 0; i < 4; i++) seen.push(l.forwardAsync(x).then((r) => r.output.data));
      const update = opt.stepAsync(l.parameters());
      for (let i = 0; i < 4; i++) seen.push(l.forwardAsync(x).then((r) => r.output.data));
      await update;
      versions.push(l.forward(x).output.data);
    }
    const results = await Promise.all(seen);
    for (const r of results) expect(versions.some((v) => sameBits(r, v))).toBe(true);
    // Every version differs (so the check above tells them apart) and the last is kept packed.
    expect(new Set(versions.map((v) => v.join())).size).toBe(versions.length);
    expect(sameBits((await l.forwardAsync(x)).output.data, versions[versions.length - 1])).toBe(true);
  });

  test.each(layers)('%s in bf16: kept packs equal per-call bf16 packing, at B = 1 and B = 9, and never serve fp32 calls', (_name, make) => {
    const l = make();
    const L = l.numLayers, Hout = l.outputSize, H = l.hiddenSize, lstm = l.cell === 'lstm';
    for (const b of [1, B]) {
      const x = randomTensor([b, l.inputSize], 40 + b);
      const h0 = randomTensor([L, b, Hout], 41 + b);
      const c0 = lstm ? randomTensor([L, b, H], 42 + b) : undefined;
      const state = c0 ? { h: h0, c: c0 } : { h: h0 };
      const fp32 = l.step(x, state).output.data;
      l.setPrecision('bf16');
      const bf16 = l.step(x, state).output.data;
      expect(sameBits(bf16, unpackedStep(l, x, h0.data, c0?.data ?? null, 'bf16'))).toBe(true);
      expect(sameBits(l.step(x, state).output.data, bf16)).toBe(true);  // from the kept bf16 pack
      expect(sameBits(bf16, fp32)).toBe(false);
      l.setPrecision('fp32');
      expect(sameBits(l.step(x, state).output.data, fp32)).toBe(true);
    }
  });
});
