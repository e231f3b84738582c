// int8 inference (README, Precision): on the torch fixtures' inputs within 1.5e-2 of fp32
// (issue 12's bound), the same bits for 1 and 2 threads and forwardAsync, step and predict,
// the AVX-VNNI path (FUSED_RNN_ISA=avx2) giving the bits of the AVX512-VNNI one, and every
// training call refused with nothing changed. The micro-kernels (the AVX2 emulation and scalar
// code included) are checked bit for bit against the reference in native/tests/int8_test.cc.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Adam, Dense, GRU, LSTM, RNN, Sequential, info, setNumThreads, tensor } from '../../lib/index';
import { fixtureAgreementTests, forwardDigestsUnderIsa, hash, worstError } from '../helpers/precision';

afterEach(() => setNumThreads(1));

describe('int8 inference', () => {
  const seen = fixtureAgreementTests('int8', 1.5e-2);
  afterAll(() => {
    seen.sort((a, b) => b[1] - a[1]);
    console.log(`int8 vs fp32 on the torch fixtures: worst ${seen.slice(0, 3).map(([n, e]) => `${n} ${e.toExponential(2)}`).join(', ')}`);
  });

  it('step() in int8 gives the bits of a T = 1 forward in int8, and a Sequential predicts in int8', async () => {
    const gru = new GRU({ inputSize: 5, hiddenSize: 40, seed: 2 }).setPrecision('int8');
    const x = new Float32Array(3 * 5).map((_, i) => Math.cos(i));
    const s = gru.step(tensor(x, [3, 5]));
    const f = gru.forward(tensor(x, [1, 3, 5]));
    expect(hash(s.output.data)).toBe(hash(f.output.data));
    // The quantized weights are kept per weight version: a change is seen by the next step.
    gru.weights[0] += 0.5;
    gru.weightsChanged();
    const changed = gru.step(tensor(x, [3, 5]));
    expect(hash(changed.output.data)).not.toBe(hash(s.output.data));
    expect(hash(changed.output.data)).toBe(hash(gru.forward(tensor(x, [1, 3, 5])).output.data));
    gru.weights[0] -= 0.5;
    gru.weightsChanged();
    gru.setPrecision('fp32');
    expect(hash(gru.step(tensor(x, [3, 5])).output.data)).not.toBe(hash(s.output.data));

    const model = new Sequential([new LSTM({ inputSize: 4, hiddenSize: 32, seed: 1 }), new Dense({ units: 3, seed: 2 })]);
    const xs = tensor(new Float32Array(5 * 7 * 4).map((_, i) => Math.sin(i * 0.3)), [5, 7, 4]);
    const p32 = await model.predict(xs);
    model.setPrecision('int8');
    const p8 = await model.predict(xs);
    expect(worstError(p8.data, p32.data)).toBeLessThanOrEqual(1.5e-2);
    expect(hash(p8.data)).not.toBe(hash(p32.data));
    expect(hash(model.predictSync(xs).data)).toBe(hash(p8.data));
  });

  it('training calls on an int8 layer are refused, naming the layer; nothing changes', async () => {
    const lstm = new LSTM({ inputSize: 3, hiddenSize: 8, seed: 1 }).setPrecision('int8');
    const before = Float32Array.from(lstm.weights);
    const x = tensor(new Float32Array(4 * 2 * 3).fill(0.5), [4, 2, 3]);
    expect(() => lstm.forward(x, { training: true })).toThrow(/^LSTM\.forward \(training\): LSTM is set to int8, which is inference only; setPrecision\('fp32'\) or 'bf16' to train it$/);
    await expect(lstm.forwardAsync(x, { training: true })).rejects.toThrow(/int8, which is inference only/);
    expect(() => lstm.backward({})).toThrow(/needs a forward\(x, \{ training: true \}\) first/);
    expect(hash(lstm.weights)).toBe(hash(before));

    const model = new Sequential([new Dense({ inputSize: 2, units: 3, seed: 1 }), new GRU({ inputSize: 3, hiddenSize: 4, seed: 2 }),
      new Dense({ units: 1, seed: 3 })]).setPrecision('int8');
    const weights = model.parameters().map((p) => Float32Array.from(p.value));
    const opt = new Adam({ lr: 0.1 });
    const data = { x: [[[1, 2], [3, 4]]], y: [[[1], [0]]] };
    await expect(model.fit(data, { epochs: 1, optimizer: opt, loss: 'mse' }))
      .rejects.toThrow(/^fit: layer 1 \(GRU\) is set to int8, which is inference only/);
    await expect(model.trainOnBatch(data, { optimizer: opt, loss: 'mse' })).rejects.toThrow(/^trainOnBatch: layer 1 \(GRU\) is set to int8/);
    expect(opt.stepCount).toBe(0);
    model.parameters().forEach((p, i) => expect(hash(p.value)).toBe(hash(weights[i])));
    model.setPrecision('fp32');
    await expect(model.trainOnBatch(data, { optimizer: opt, loss: 'mse' })).resolves.toBeDefined();
  });

  // The AVX-VNNI kernel (the AVX2 path of this CPU) against AVX512-VNNI through whole forwards: the
  // gate math of the avx2 and avx512 paths gives the same bits, and so must the int8 products.
  it.runIf(info().precisions.native.includes('int8') && info().isa === 'avx512')(
    'the AVX2 path (FUSED_RNN_ISA=avx2) gives the bits of the AVX512-VNNI path', () => {
      const native = forwardDigestsUnderIsa('int8', 'avx512'), avx2 = forwardDigestsUnderIsa('int8', 'avx2');
      expect(native.precisions.int8Kernel).not.toBe(avx2.precisions.int8Kernel);
      expect(avx2.digests).toEqual(native.digests);
    });
});
