// Issue 10, defect 6: a 1 KB model file declaring Embedding(2**27, 4) made Sequential.load
// allocate 2.1 GB for 27 s before refusing. The sizes a file's config declares are checked
// against the weights it holds before any layer is built.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, test } from 'vitest';
import { Dense, Dropout, Embedding, GRU, LSTM, RNN, saveSafetensors, Sequential } from '../../lib/index';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'frnn-sizes-'));

function forgedFile(layers: object[], tensors: Record<string, { shape: number[]; data: Float32Array }>): string {
  const file = path.join(tmp(), 'model.safetensors');
  saveSafetensors(file, tensors, { 'fused-rnn.config': JSON.stringify({ format: 'fused-rnn.sequential', version: 1, layers }) });
  return file;
}

describe('model files: declared sizes against the weights present', () => {
  test('Embedding(2**27, 4) in a tiny file is refused at once, naming the layer', async () => {
    const file = forgedFile([{ kind: 'Embedding', options: { numEmbeddings: 2 ** 27, embeddingDim: 4, seed: 1 } }],
      { '0.weight': { shape: [2, 4], data: new Float32Array(8) } });
    expect(fs.statSync(file).size).toBeLessThan(2048);
    const t0 = Date.now();
    const err = await Sequential.load(file).catch((e: Error) => e);
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(err).toBeInstanceOf(RangeError);
    expect((err as Error).message).toMatch(/layers\[0\] \(Embedding\)/);
    expect((err as Error).message).toMatch(/536870912 weights/);
  });

  test('huge LSTM and Dense declarations are refused the same way', async () => {
    const lstm = forgedFile([{ kind: 'LSTM', options: { inputSize: 4096, hiddenSize: 8192, seed: 1 } }], {});
    await expect(Sequential.load(lstm)).rejects.toThrow(/layers\[0\] \(LSTM\)/);
    const dense = forgedFile([{ kind: 'Dense', options: { units: 2 ** 20, inputSize: 2 ** 10, seed: 1 } }],
      { '0.weight': { shape: [1, 1], data: new Float32Array(1) } });
    await expect(Sequential.load(dense)).rejects.toThrow(/layers\[0\] \(Dense\)/);
  });

  test('every kind of layer still round-trips through save / load', async () => {
    const models = [
      new Sequential([new Embedding({ numEmbeddings: 7, embeddingDim: 3, seed: 1 }), new LSTM({ inputSize: 3, hiddenSize: 4, projSize: 2, numLayers: 2, bidirectional: true, seed: 2 }),
        new Dropout({ rate: 0.1 }), new Dense({ units: 5, seed: 3 })]),
      new Sequential([new LSTM({ inputSize: 2, hiddenSize: 3, peephole: true, learnInitialState: true, bias: false, seed: 4 }),
        new GRU({ inputSize: 3, hiddenSize: 2, direction: 'reverse', learnInitialState: true, seed: 5 }),
        new RNN({ inputSize: 2, hiddenSize: 2, numLayers: 3, bidirectional: true, mergeMode: 'sum', returnSequences: false, seed: 6 }),
        new Dense({ units: 1, bias: false, activation: 'tanh', seed: 7 })]),
    ];
    for (const m of models) {
      const dir = tmp();
      await m.save(dir);
      const again = await Sequential.load(dir);
      expect(again.stateDict()).toEqual(m.stateDict());
    }
  });
});
