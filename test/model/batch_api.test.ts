// trainOnBatch / testOnBatch (Keras' train_on_batch, test_on_batch) against fit and evaluate, bit
// for bit; metrics (mae, perplexity, topK) against their definitions computed here.
import { describe, expect, test } from 'vitest';
import { Adam, Dense, Dropout, LSTM, SGD, Sequential } from '../../lib/index';
import { firstBitMismatch } from '../helpers/gradcheck';

const x = Array.from({ length: 12 }, (_v, i) => Array.from({ length: 2 + (i % 4) }, (_w, t) => [Math.sin(i + t), Math.cos(i * t)]));
const ids = x.map((_s, i) => i % 4);
const values = x.map((_s, i) => [Math.sin(i), Math.cos(i)]);
const build = (units: number) => new Sequential([new LSTM({ inputSize: 2, hiddenSize: 6, returnSequences: false, seed: 1 }),
  new Dropout({ rate: 0.3 }), new Dense({ units, seed: 2 })]);

describe('trainOnBatch / testOnBatch', () => {
  test('three trainOnBatch calls = fit over three one-batch epochs, bit for bit (dropout, clipping, Adam)', async () => {
    const a = build(4), b = build(4);
    const optA = new Adam({ lr: 0.01 }), optB = new Adam({ lr: 0.01 });
    const results = [];
    for (let i = 0; i < 3; i++) results.push(await a.trainOnBatch({ x, y: ids }, { optimizer: optA, loss: 'crossEntropy', clipGradNorm: 0.5, seed: 7 }));
    // fit draws epoch e's masks from (seed, e); trainOnBatch from (seed, step count): the same for one batch per epoch.
    const h = await b.fit({ x, y: ids }, { epochs: 3, batchSize: 12, shuffle: false, optimizer: optB, loss: 'crossEntropy', clipGradNorm: 0.5, seed: 7 });
    expect(results.map((r) => r.loss)).toEqual(h.epochs.map((e) => e.loss));
    expect(results.map((r) => r.accuracy)).toEqual(h.epochs.map((e) => e.accuracy));
    expect(results.every((r) => r.gradNorm! > 0)).toBe(true);
    const sa = a.stateDict(), sb = b.stateDict();
    for (const k of Object.keys(sa)) expect(firstBitMismatch(sa[k].data, sb[k].data), k).toBe(-1);
    expect(optA.stateDict()).toEqual(optB.stateDict());
  });

  test('testOnBatch = evaluate with one batch; a non-finite update is refused and not applied', async () => {
    const m = build(2);
    const ev = await m.evaluate({ x, y: values }, { loss: 'mse', batchSize: 100, metrics: ['mae'] });
    expect(await m.testOnBatch({ x, y: values }, { loss: 'mse', metrics: ['mae'] })).toEqual(ev);
    // A Dense layer's weight gradient is input × error: an input of 1e25 (finite) overflows it.
    const dense = new Sequential([new Dense({ units: 1, inputSize: 2, seed: 3 })]);
    const before = dense.stateDict();
    const opt = new SGD({ lr: 0.1 });
    await expect(dense.trainOnBatch({ x: [[[1e25, 1]]], y: [[[0]]] }, { optimizer: opt, loss: 'mse' })).rejects.toThrow(/finite loss .* in trainOnBatch/);
    expect(dense.stateDict()).toEqual(before);
    expect(opt.stepCount).toBe(0);
    await expect(m.trainOnBatch({ x, y: values }, { optimizer: opt, loss: 'mse', epochs: 2 } as never)).rejects.toThrow(/epochs/);
  });
});

describe('metrics', () => {
  test('mae, perplexity and topK equal their definitions over the predictions', async () => {
    const reg = build(2);
    const pred = reg.predictSync(x).data;
    let absSum = 0;
    values.flat().forEach((v, j) => { absSum += Math.abs(pred[j] - v); });
    const r = await reg.evaluate({ x, y: values }, { loss: 'mse', metrics: ['mae'] });
    expect(r.metrics!.mae).toBeCloseTo(absSum / 24, 6);

    const cls = build(4);
    const logits = cls.predictSync(x).data;
    let hits1 = 0, hits2 = 0;
    ids.forEach((t, i) => {
      const row = Array.from(logits.subarray(i * 4, i * 4 + 4));
      const above = row.filter((v) => v > row[t]).length;
      if (above < 1) hits1++;
      if (above < 2) hits2++;
    });
    const c = await cls.evaluate({ x, y: ids }, { loss: 'crossEntropy', metrics: ['perplexity', { name: 'topK', k: 2 }, { name: 'topK', k: 1 }] });
    expect(c.metrics!.perplexity).toBeCloseTo(Math.exp(c.loss), 10);
    expect(c.metrics!.top2).toBe(hits2 / 12);
    expect(c.metrics!.top1).toBe(hits1 / 12);
    expect(c.metrics!.top1).toBe(c.accuracy);
  });

  test('fit reports them per epoch and for validation; metrics that do not fit the loss are refused', async () => {
    const m = build(4);
    const h = await m.fit({ x, y: ids }, { epochs: 2, batchSize: 4, optimizer: new Adam({ lr: 0.01 }), loss: 'crossEntropy',
      metrics: ['perplexity', 'topK'], validationSplit: 0.25 });
    for (const e of h.epochs) {
      expect(Object.keys(e.metrics!)).toEqual(['perplexity', 'top5']);
      expect(e.metrics!.top5).toBe(1);  // 4 classes: the target is always among the top 5
      expect(e.valMetrics!.perplexity).toBeCloseTo(Math.exp(e.valLoss!), 10);
    }
    const base = { epochs: 1, optimizer: new SGD({ lr: 0.1 }) };
    await expect(m.fit({ x, y: ids }, { ...base, loss: 'crossEntropy', metrics: ['mae'] })).rejects.toThrow(/metrics\[0\]/);
    await expect(m.fit({ x, y: ids }, { ...base, loss: 'crossEntropy', metrics: ['f1' as never] })).rejects.toThrow(/metrics\[0\]\.name/);
    await expect(build(2).fit({ x, y: values }, { ...base, loss: 'mse', metrics: ['perplexity'] })).rejects.toThrow(/perplexity needs crossEntropy/);
    await expect(m.fit({ x, y: ids }, { ...base, loss: 'crossEntropy', metrics: ['topK', { name: 'topK' }] })).rejects.toThrow(/each metric once/);
  });
});
