// Guard rails a Keras user needs: softmax (sigmoid) before a loss that takes logits is refused
// with what to do, or the loss takes probabilities (fromLogits: false); class ids as plain numbers
// or Int32Array; a target whose shape does not fit the model's output names the axis.
import { describe, expect, test } from 'vitest';
import { Dense, Dropout, LSTM, SGD, Sequential, tensor, type Dataset, type LossSpec } from '../../lib/index';
import { firstBitMismatch } from '../helpers/gradcheck';

const x = Array.from({ length: 24 }, (_v, i) => Array.from({ length: 5 }, (_w, t) => [Math.sin(i * 0.7 + t), Math.cos(i * t)]));
const ids = x.map((_s, i) => i % 3);
const classifier = (activation: 'linear' | 'softmax' | 'sigmoid' = 'linear', units = 3) => new Sequential([
  new LSTM({ inputSize: 2, hiddenSize: 8, returnSequences: false, seed: 1 }), new Dropout({ rate: 0.1 }), new Dense({ units, activation, seed: 2 })]);
const fitOnce = (m: Sequential, data: Dataset, loss: LossSpec) =>
  m.fit(data, { epochs: 2, batchSize: 8, optimizer: new SGD({ lr: 0.5 }), loss, seed: 3 });

describe('softmax or sigmoid before a loss on logits', () => {
  test('refused before training, saying both ways out', async () => {
    const m = classifier('softmax');
    const before = m.stateDict();
    await expect(fitOnce(m, { x, y: ids }, 'crossEntropy')).rejects.toThrow(
      /Expected logits for loss 'crossEntropy' but the model ends in Dense\(\{ activation: 'softmax' \}\).*remove activation: 'softmax'.*fromLogits: false/);
    await expect(m.evaluate({ x, y: ids }, { loss: 'crossEntropy' })).rejects.toThrow(/softmax twice/);
    await expect(fitOnce(classifier('sigmoid', 1), { x, y: ids.map((c) => [c % 2]) }, 'binaryCrossEntropy')).rejects.toThrow(/sigmoid twice/);
    expect(m.stateDict()).toEqual(before);
    await expect(fitOnce(m, { x, y: ids }, { name: 'mse', fromLogits: false })).rejects.toThrow(/loss\.fromLogits/);
  });

  test("fromLogits: false: softmax + crossEntropy on probabilities trains like logits + crossEntropy", async () => {
    const probs = classifier('softmax'), logits = classifier('linear');
    const hp = await fitOnce(probs, { x, y: ids }, { name: 'crossEntropy', fromLogits: false });
    const hl = await fitOnce(logits, { x, y: ids }, 'crossEntropy');
    // The same function and gradient computed two ways: equal to float32 rounding.
    hp.epochs.forEach((e, i) => expect(Math.abs(e.loss - hl.epochs[i].loss)).toBeLessThan(1e-5 * hl.epochs[i].loss));
    expect(hp.epochs.map((e) => e.accuracy)).toEqual(hl.epochs.map((e) => e.accuracy));
    const a = probs.stateDict(), b = logits.stateDict();
    for (const k of Object.keys(a)) a[k].data.forEach((v, j) => expect(Math.abs(v - b[k].data[j]), k).toBeLessThan(1e-5));
  });

  test('fromLogits: false: sigmoid + binaryCrossEntropy on probabilities trains like logits', async () => {
    const y = ids.map((c) => [c === 0 ? 1 : 0]);
    const hp = await fitOnce(classifier('sigmoid', 1), { x, y }, { name: 'binaryCrossEntropy', fromLogits: false });
    const hl = await fitOnce(classifier('linear', 1), { x, y }, 'binaryCrossEntropy');
    hp.epochs.forEach((e, i) => expect(Math.abs(e.loss - hl.epochs[i].loss)).toBeLessThan(1e-5 * hl.epochs[i].loss));
    expect(hp.epochs.map((e) => e.accuracy)).toEqual(hl.epochs.map((e) => e.accuracy));
  });
});

describe('class ids', () => {
  test('plain numbers, an Int32Array and an Int32Array tensor train the same bits as a Float32 tensor', async () => {
    const ref = classifier();
    await fitOnce(ref, { x, y: tensor(Float32Array.from(ids), [24]) }, 'crossEntropy');
    for (const y of [ids, Int32Array.from(ids), { shape: [24], data: Int32Array.from(ids) }]) {
      const m = classifier();
      await fitOnce(m, { x, y }, 'crossEntropy');
      const a = m.stateDict(), b = ref.stateDict();
      for (const k of Object.keys(a)) expect(firstBitMismatch(a[k].data, b[k].data), k).toBe(-1);
    }
  });

  test('an id that is no class of the model is refused by name', async () => {
    const m = classifier();
    await expect(fitOnce(m, { x, y: ids.map((c, i) => (i === 5 ? 3 : c)) }, 'crossEntropy'))
      .rejects.toThrow(/Expected a class id \(an integer in 0\.\.2: the model outputs 3 classes\) for data\.y\[5\] but received 3/);
    await expect(fitOnce(m, { x, y: ids.map((c, i) => (i === 2 ? 0.5 : c)) }, 'crossEntropy')).rejects.toThrow(/data\.y\[2\]/);
    await expect(fitOnce(m, { x, y: { shape: [24], data: Int32Array.from(ids, (c, i) => (i === 7 ? -1 : c)) } }, 'crossEntropy'))
      .rejects.toThrow(/data\.y\.data\[7\] but received -1/);
    await expect(fitOnce(m, { x, y: Int32Array.from(ids) }, 'mse')).rejects.toThrow(/Int32Array holds class ids/);
  });
});

describe('target shapes name the axis that does not fit', () => {
  const regressor = (returnSequences: boolean) => new Sequential([
    new LSTM({ inputSize: 2, hiddenSize: 4, returnSequences, seed: 1 }), new Dense({ units: 3, seed: 2 })]);

  test('tensors', async () => {
    const m = regressor(false);
    await expect(fitOnce(m, { x, y: tensor(new Float32Array(24 * 2), [24, 2]) }, 'mse'))
      .rejects.toThrow(/Expected 3 \(the model outputs 3 per row\) for data\.y\.shape\[1\] \(features\) but received 2/);
    await expect(fitOnce(m, { x, y: tensor(new Float32Array(20 * 3), [20, 3]) }, 'mse'))
      .rejects.toThrow(/Expected 24 \(as many as data\.x has\) for data\.y\.shape\[0\] \(sequences\) but received 20/);
    await expect(fitOnce(m, { x, y: tensor(new Float32Array(24 * 5 * 3), [24, 5, 3]) }, 'mse'))
      .rejects.toThrow(/rank 2, \[N, 3\] \(one per sequence: the model's output has no time axis/);
    await expect(fitOnce(regressor(true), { x, y: tensor(new Float32Array(24 * 4 * 3), [24, 4, 3]) }, 'mse'))
      .rejects.toThrow(/Expected at least 5 \(the longest sequence of x; more allowed\) for data\.y\.shape\[1\] \(steps\) but received 4/);
  });

  test('arrays', async () => {
    await expect(fitOnce(regressor(false), { x, y: x.map(() => [[1, 2, 3]]) }, 'mse'))
      .rejects.toThrow(/Expected 3 numbers \(the model outputs 3 features per row\); one per sequence: the model's output has no time axis .* for data\.y\[0\]/);
    await expect(fitOnce(regressor(true), { x, y: x.map(() => [[1, 2, 3]]) }, 'mse'))
      .rejects.toThrow(/Expected 5 targets \(one per step: the model outputs a row per step\) for data\.y\[0\]/);
  });
});
