// The per-call `precision` option (README, Precision): fit, predict, step, serve and a layer's
// forward/step run in the precision asked for, with the same bits as setPrecision() would give,
// and leave every layer's own precision as it was (like a PyTorch autocast region).
import { describe, expect, it } from 'vitest';
import { Dense, LSTM, SGD, Sequential, tensor, type Tensor } from '../../lib/index';
import { firstBitMismatch, mulberry32 } from '../helpers/gradcheck';

function randomTensor(shape: number[], seed: number): Tensor {
  const rng = mulberry32(seed);
  return tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => 2 * rng() - 1), shape);
}

function expectSameBits(a: Float32Array, b: Float32Array): void {
  expect(a.length).toBe(b.length);
  expect(firstBitMismatch(a, b)).toBe(-1);
}

function makeModel(seed = 1): Sequential {
  return new Sequential([new LSTM({ inputSize: 6, hiddenSize: 24, numLayers: 2, seed }), new Dense({ units: 3, seed: seed + 1 })]);
}

const precisions = (m: Sequential) => m.layers.filter((l) => l instanceof LSTM).map((l) => (l as LSTM).precision);

describe('precision as a per-call option', () => {
  const x = randomTensor([5, 7, 6], 3);  // [N, T, F]

  it('predict and predictSync in bf16 equal setPrecision("bf16"), and leave the layers in fp32', async () => {
    const m = makeModel();
    const fp32 = (await m.predict(x)).data;
    const asked = (await m.predict(x, { precision: 'bf16' })).data;
    const sync = m.predictSync(x, { precision: 'bf16' }).data;
    expect(precisions(m)).toEqual(['fp32']);
    m.setPrecision('bf16');
    const set = (await m.predict(x)).data;
    expectSameBits(asked, set);
    expectSameBits(sync, set);
    expect(firstBitMismatch(asked, fp32)).not.toBe(-1);
    // And the other way round: fp32 asked of a bf16 model.
    expectSameBits((await m.predict(x, { precision: 'fp32' })).data, fp32);
  });

  it('step and stepAsync in bf16 equal setPrecision("bf16") over several steps', async () => {
    const m = makeModel(2), ref = makeModel(2).setPrecision('bf16');
    let a = m.step(randomTensor([9, 6], 10), undefined, { precision: 'bf16' });
    let b = await m.stepAsync(randomTensor([9, 6], 10), undefined, { precision: 'bf16' });
    let r = ref.step(randomTensor([9, 6], 10));
    for (let t = 1; t < 4; t++) {
      expectSameBits(a.output.data, r.output.data);
      expectSameBits(b.output.data, r.output.data);
      const xt = randomTensor([9, 6], 10 + t);
      a = m.step(xt, a.state, { precision: 'bf16' });
      b = await m.stepAsync(xt, b.state, { precision: 'bf16' });
      r = ref.step(xt, r.state);
    }
    expectSameBits(a.output.data, r.output.data);
    expect(precisions(m)).toEqual(['fp32']);
  });

  it('fit in bf16 trains the bits setPrecision("bf16") trains, validation included, and restores nothing it did not change', async () => {
    const y = randomTensor([5, 7, 3], 4);
    const run = async (m: Sequential, precision?: 'bf16') => {
      const h = await m.fit({ x, y }, { epochs: 2, batchSize: 2, optimizer: new SGD({ lr: 0.1 }), loss: 'mse', validationSplit: 0.4, seed: 5, ...(precision ? { precision } : {}) });
      return { loss: h.epochs.map((e) => e.loss), valLoss: h.epochs.map((e) => e.valLoss), w: m.stateDict() };
    };
    const asked = await run(makeModel(3), 'bf16');
    const set = await run(makeModel(3).setPrecision('bf16'));
    const fp32 = await run(makeModel(3));
    expect(asked.loss).toEqual(set.loss);
    expect(asked.valLoss).toEqual(set.valLoss);
    expect(asked.valLoss.every((v) => typeof v === 'number')).toBe(true);
    for (const k of Object.keys(set.w)) expectSameBits(asked.w[k].data, set.w[k].data);
    expect(asked.loss).not.toEqual(fp32.loss);
    const m = makeModel(3);
    await run(m, 'bf16');
    expect(precisions(m)).toEqual(['fp32']);
  });

  it('serve({ precision }) answers what predict and step give in that precision', async () => {
    const m = makeModel(4);
    const server = m.serve({ maxBatchSize: 4, maxDelayMs: 1, precision: 'bf16' });
    const seqs = [0, 1, 2].map((i) => randomTensor([7, 6], 20 + i));
    const got = await Promise.all(seqs.map((s) => server.predict(s)));
    const steps = await Promise.all([0, 1].map((i) => server.step(randomTensor([6], 30 + i))));
    await server.close();
    for (let i = 0; i < seqs.length; i++) {
      const want = (await m.predict(tensor(seqs[i].data, [1, 7, 6]), { precision: 'bf16' })).data;
      expectSameBits(got[i].data, want);
    }
    for (let i = 0; i < 2; i++) {
      const want = m.step(tensor(randomTensor([6], 30 + i).data, [1, 6]), undefined, { precision: 'bf16' }).output.data;
      expect(Math.max(...Array.from(steps[i].output.data, (v, j) => Math.abs(v - want[j])))).toBeLessThan(1e-6);
    }
    expect(precisions(m)).toEqual(['fp32']);
  });

  it("a layer's forward, backward and step take it too", () => {
    const l = new LSTM({ inputSize: 6, hiddenSize: 16, seed: 6 }), ref = new LSTM({ inputSize: 6, hiddenSize: 16, seed: 6 }).setPrecision('bf16');
    const xs = randomTensor([4, 3, 6], 7), g = randomTensor([4, 3, 16], 8);
    const a = l.forward(xs, { training: true, precision: 'bf16' }), r = ref.forward(xs, { training: true });
    expectSameBits(a.output.data, r.output.data);
    const ga = l.backward({ gradOutput: g }), gr = ref.backward({ gradOutput: g });
    expectSameBits(ga.input.data, gr.input.data);
    const st = randomTensor([3, 6], 9);
    expectSameBits(l.step(st, undefined, { precision: 'bf16' }).output.data, ref.step(st).output.data);
    expect(l.precision).toBe('fp32');
  });

  it("an int8 model trains when fit's precision says fp32 or bf16, and keeps its int8", async () => {
    const m = makeModel(7).setPrecision('int8');
    const data = { x, y: randomTensor([5, 7, 3], 6) };
    const fit = (precision?: 'fp32' | 'bf16') => m.fit(data, { epochs: 1, optimizer: new SGD({ lr: 0.1 }), loss: 'mse', ...(precision ? { precision } : {}) });
    await expect(fit()).rejects.toThrow(/int8/);
    const ref = makeModel(7);
    const [a, b] = [await fit('bf16'), await ref.fit(data, { epochs: 1, optimizer: new SGD({ lr: 0.1 }), loss: 'mse', precision: 'bf16' })];
    expect(a.epochs[0].loss).toBe(b.epochs[0].loss);
    expect(precisions(m)).toEqual(['int8']);
  });

  it('refuses what is not a precision, naming the option', async () => {
    const m = makeModel(5);
    await expect(m.predict(x, { precision: 'fp16' as never })).rejects.toThrow(/precision/);
    expect(() => m.step(randomTensor([1, 6], 1), undefined, { precision: 'half' as never })).toThrow(RangeError);
    expect(() => m.step(randomTensor([1, 6], 1), undefined, { precison: 'bf16' } as never)).toThrow(/precison/);
    await expect(m.fit({ x, y: randomTensor([5, 7, 3], 2) }, { epochs: 1, optimizer: new SGD({ lr: 0.1 }), loss: 'mse', precision: 'int4' as never }))
      .rejects.toThrow(/precision/);
    expect(() => m.serve({ precision: 'f32' as never })).toThrow(/precision/);
    await expect(m.fit({ x, y: randomTensor([5, 7, 3], 2) }, { epochs: 1, optimizer: new SGD({ lr: 0.1 }), loss: 'mse', precision: 'int8' as never }))
      .rejects.toThrow(/'fp32', 'bf16'|fp32.*bf16/);
    expect(() => new LSTM({ inputSize: 2, hiddenSize: 2 }).forward(randomTensor([1, 1, 2], 1), { precision: 'x' as never })).toThrow(RangeError);
  });
});
