// Saving and loading models: bit-identical predictions after a round trip, files PyTorch can
// read (names, shapes, safetensors layout), corrupt files refused, Keras weight lists.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, test } from 'vitest';
import { Dense, Dropout, Embedding, GRU, LSTM, RNN, Sequential, tensor } from '../../lib/index';
import { decodeSafetensors } from '../../lib/io/safetensors';
import { firstBitMismatch } from '../helpers/gradcheck';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'fused-rnn-io-'));

function bigModel(): Sequential {
  return new Sequential([
    new Embedding({ numEmbeddings: 20, embeddingDim: 6, seed: 1 }),
    new LSTM({ inputSize: 6, hiddenSize: 8, numLayers: 2, bidirectional: true, mergeMode: 'ave', seed: 2,
      peephole: true, activations: { hidden: ['tanh', 'softsign'] } }),
    new Dropout({ rate: 0.1 }),
    new GRU({ inputSize: 8, hiddenSize: 5, resetAfter: false, learnInitialState: true, returnSequences: false, seed: 3 }),
    new Dense({ units: 4, activation: 'softmax', seed: 4 }),
  ]);
}

describe('save / load', () => {
  test('round trip: same architecture, bit-identical predictions', async () => {
    const m = bigModel();
    for (const p of m.parameters()) if (p.name.endsWith('h0')) p.value.fill(0.25);
    const dir = tmp();
    await m.save(dir);
    const back = await Sequential.load(dir);
    expect(back.summary()).toBe(m.summary());
    const x = [[1, 2, 3, 19], [0, 5], [7, 7, 7]];
    expect(firstBitMismatch(back.predictSync(x).data, m.predictSync(x).data)).toBe(-1);
    const alone = await Sequential.load(path.join(dir, 'model.safetensors'));
    expect(firstBitMismatch(alone.predictSync(x).data, m.predictSync(x).data)).toBe(-1);
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')).layers.map((l: { kind: string }) => l.kind))
      .toEqual(['Embedding', 'LSTM', 'Dropout', 'GRU', 'Dense']);
  });

  test('the weights file has PyTorch nn.Sequential names and shapes', async () => {
    const m = new Sequential([new LSTM({ inputSize: 3, hiddenSize: 8, seed: 1 }), new Dense({ units: 2, seed: 2 })]);
    const dir = tmp();
    await m.save(dir);
    const st = decodeSafetensors(new Uint8Array(fs.readFileSync(path.join(dir, 'model.safetensors'))));
    expect(Object.fromEntries(Object.entries(st.tensors).map(([k, v]) => [k, v.shape]))).toEqual({
      '0.weight_ih_l0': [32, 3], '0.weight_hh_l0': [32, 8], '0.bias_ih_l0': [32], '0.bias_hh_l0': [32],
      '1.weight': [2, 8], '1.bias': [2],
    });
    expect(st.metadata.format).toBe('pt');
  });

  test('a truncated or corrupt file is refused with its name; a failed load changes nothing', async () => {
    const m = new Sequential([new RNN({ inputSize: 2, hiddenSize: 3, seed: 1 })]);
    const dir = tmp();
    await m.save(dir);
    const file = path.join(dir, 'model.safetensors');
    const bytes = fs.readFileSync(file);
    fs.writeFileSync(file, bytes.subarray(0, bytes.length - 5));
    await expect(Sequential.load(dir)).rejects.toThrow(/model\.safetensors/);
    const flipped = Buffer.from(bytes);
    flipped[3] = 0x7f;  // header size far past the end
    fs.writeFileSync(file, flipped);
    await expect(Sequential.load(dir)).rejects.toThrow(/model\.safetensors/);
    await expect(Sequential.load(path.join(dir, 'missing'))).rejects.toThrow(/ENOENT/);
  });

  test('saving over an existing model replaces it whole (atomic rename)', async () => {
    const dir = tmp();
    await new Sequential([new RNN({ inputSize: 2, hiddenSize: 3, seed: 1 })]).save(dir);
    const m2 = new Sequential([new RNN({ inputSize: 2, hiddenSize: 3, seed: 9 })]);
    await m2.save(dir);
    const back = await Sequential.load(dir);
    expect(firstBitMismatch(back.parameters()[0].value, m2.parameters()[0].value)).toBe(-1);
    expect(fs.readdirSync(dir).sort()).toEqual(['config.json', 'model.safetensors']);
  });
});

describe('Keras weights', () => {
  test('get_weights order and shapes; set round trip is bit-exact', () => {
    const make = (seed: number) => new Sequential([
      new Embedding({ numEmbeddings: 10, embeddingDim: 4, seed }),
      new GRU({ inputSize: 4, hiddenSize: 3, bidirectional: true, seed: seed + 1 }),
      new LSTM({ inputSize: 6, hiddenSize: 2, returnSequences: false, seed: seed + 2 }),
      new Dense({ units: 5, seed: seed + 3 }),
    ]);
    const a = make(1), b = make(50);
    const w = a.getKerasWeights();
    expect(w.map((t) => t.shape)).toEqual([
      [10, 4],
      [4, 9], [3, 9], [2, 9], [4, 9], [3, 9], [2, 9],  // Bidirectional(GRU(reset_after=True)): forward, backward
      [6, 8], [2, 8], [8],                              // LSTM: kernel, recurrent_kernel, bias
      [2, 5], [5],                                      // Dense: kernel [in, units], bias
    ]);
    b.setKerasWeights(w);
    const sa = a.stateDict(), sb = b.stateDict();
    for (const k of Object.keys(sa)) {
      // Keras keeps one LSTM bias: the sum lands in bias_ih, bias_hh becomes 0.
      if (k.startsWith('2.bias')) continue;
      expect(firstBitMismatch(sa[k].data, sb[k].data), k).toBe(-1);
    }
    const x = [[1, 2, 3], [4, 5]];
    const pa = a.predictSync(x).data, pb = b.predictSync(x).data;
    for (let i = 0; i < pa.length; i++) expect(Math.abs(pa[i] - pb[i])).toBeLessThan(1e-6);
    // The Dense kernel is the transpose of the PyTorch weight.
    const dense = sa['3.weight'];
    expect(w[10].data[1 * 5 + 3]).toBe(dense.data[3 * 2 + 1]);
  });

  test('a wrong list is refused and nothing changes', () => {
    const m = new Sequential([new LSTM({ inputSize: 2, hiddenSize: 2, seed: 1 }), new Dense({ units: 1, seed: 1 })]);
    const before = m.stateDict();
    const w = m.getKerasWeights();
    expect(() => m.setKerasWeights(w.slice(1))).toThrow(/5 arrays.*for weights/);
    const bad = [...w];
    bad[4] = tensor([1, 2], [2]);
    expect(() => m.setKerasWeights(bad)).toThrow(/shape \[1\].*for weights\[4\]/);
    for (const k of Object.keys(before)) expect(firstBitMismatch(m.stateDict()[k].data, before[k].data)).toBe(-1);
  });
});
