// loadKerasWeights on Keras HDF5 weight files written by h5py in Keras' layouts
// (test/fixtures/keras_h5/generate.py): each loads the same bits as setKerasWeights with the arrays
// generate.py wrote; files that do not fit the model, are damaged or are not Keras' are refused
// with the layer or dataset named, and the model keeps its weights. loadKerasModel (and
// convertModel from .h5) on the two files saved whole: the model its model_config describes.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it, expect, afterAll } from 'vitest';
import { loadKerasWeights, loadKerasModel, convertModel, TfjsImportError, Sequential, LSTM, GRU, Dense, Embedding, Dropout, type SequentialLayer, type Tensor } from '../../lib/index';

const DIR = path.join(__dirname, '..', 'fixtures', 'keras_h5');
const fixture = (name: string) => path.join(DIR, name);

// The architectures of generate.py's MODELS.
const MODELS: Record<string, () => SequentialLayer[]> = {
  lstm_dense: () => [new LSTM({ inputSize: 3, hiddenSize: 4, seed: 1 }), new Dense({ units: 2, seed: 2 })],
  gru_dense: () => [new GRU({ inputSize: 3, hiddenSize: 5, resetAfter: true, seed: 3 }), new Dropout({ rate: 0.2 }), new Dense({ units: 3, seed: 4 })],
  embedding_lstm: () => [
    new Embedding({ numEmbeddings: 7, embeddingDim: 3, seed: 5 }), new LSTM({ inputSize: 3, hiddenSize: 4, seed: 6 }),
    new LSTM({ inputSize: 4, hiddenSize: 2, seed: 7 }), new Dense({ units: 2, seed: 8 }),
  ],
  bilstm_dense: () => [new LSTM({ inputSize: 2, hiddenSize: 3, bidirectional: true, seed: 9 }), new Dense({ units: 2, seed: 10 })],
  stacked_gru: () => [new GRU({ inputSize: 3, hiddenSize: 4, numLayers: 2, resetAfter: true, seed: 11 }), new Dense({ units: 1, seed: 12 })],
};

/** generate.py's weights: array k (get_weights() order), element i = ((i*37 + k*101) % 2048 - 1024) / 1024. */
function generated(model: Sequential): Tensor[] {
  return model.getKerasWeights().map((t, k) => ({
    shape: t.shape, data: Float32Array.from(t.data, (_v, i) => (((i * 37 + k * 101) % 2048) - 1024) / 1024),
  }));
}

const bytesOf = (ts: Tensor[]) => ts.map((t) => ({ shape: t.shape, bytes: Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength).toString('hex') }));

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'keras-h5-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('loadKerasWeights: Keras 3 .weights.h5 and Keras 2 .h5 files', () => {
  const cases: [file: string, model: string][] = [
    ['keras3_lstm_dense.weights.h5', 'lstm_dense'],
    ['keras3_gru_dense.weights.h5', 'gru_dense'],
    ['keras3_embedding_lstm.weights.h5', 'embedding_lstm'],
    ['keras3_bilstm_dense.weights.h5', 'bilstm_dense'],
    ['keras3_stacked_gru.weights.h5', 'stacked_gru'],  // Keras' gru and gru_1: our numLayers: 2
    ['legacy_lstm_dense.h5', 'lstm_dense'],             // save_weights('x.h5'), Keras 3's weight names
    ['legacy_gru_dense_model.h5', 'gru_dense'],         // model.save('x.h5'): under model_weights, Dropout listed
    ['legacy_embedding_lstm.h5', 'embedding_lstm'],
    ['legacy_bilstm_dense.h5', 'bilstm_dense'],         // layer_names split into layer_names0, layer_names1
  ];
  for (const [file, arch] of cases) {
    it(`${file} = setKerasWeights of the arrays written`, async () => {
      const loaded = new Sequential(MODELS[arch]());
      expect(await loadKerasWeights(loaded, fixture(file))).toBe(loaded);
      const reference = new Sequential(MODELS[arch]());
      reference.setKerasWeights(generated(reference));
      expect(bytesOf(loaded.getKerasWeights())).toEqual(bytesOf(reference.getKerasWeights()));
      expect(bytesOf(loaded.getKerasWeights())).toEqual(bytesOf(generated(loaded)));
    });
  }

  it('takes the file as bytes too', async () => {
    const model = await loadKerasWeights(new Sequential(MODELS.lstm_dense()), fs.readFileSync(fixture('keras3_lstm_dense.weights.h5')));
    expect(bytesOf(model.getKerasWeights())).toEqual(bytesOf(generated(model)));
  });

  it('runs from the CommonJS build (jsfive through a dynamic import())', async () => {
    const dist = path.join(__dirname, '..', '..', 'dist', 'index.js');
    if (!fs.existsSync(dist)) return;  // dist/ is built by npm run build:ts, not by the test run
    const { execFileSync } = await import('node:child_process');
    const out = execFileSync(process.execPath, ['-e', `
      const f = require(${JSON.stringify(dist)});
      const m = new f.Sequential([new f.LSTM({ inputSize: 3, hiddenSize: 4 }), new f.Dense({ units: 2 })]);
      f.loadKerasWeights(m, ${JSON.stringify(fixture('legacy_lstm_dense.h5'))}).then(() => console.log(m.getKerasWeights()[3].data[0]));
    `], { encoding: 'utf8' });
    expect(Number(out.trim())).toBe((303 - 1024) / 1024);
  });
});

describe('loadKerasWeights refusals leave the weights as they were', () => {
  async function refuses(layers: SequentialLayer[], src: string | Uint8Array, type: typeof TypeError | typeof RangeError, message: RegExp) {
    const model = new Sequential(layers);
    const before = bytesOf(model.getKerasWeights());
    const err = await loadKerasWeights(model, src).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(type);
    expect((err as Error).message).toMatch(message);
    expect(bytesOf(model.getKerasWeights())).toEqual(before);
  }

  it('a file that is not HDF5', async () => {
    const text = path.join(tmp, 'weights.h5');
    fs.writeFileSync(text, 'not hdf5 at all, just text that is long enough to hold a signature');
    await refuses(MODELS.lstm_dense(), text, TypeError, /'.*weights\.h5' is not an HDF5 file/);
    await refuses(MODELS.lstm_dense(), new Uint8Array(3), TypeError, /the bytes given is not an HDF5 file/);
  });

  it('an HDF5 file that is not Keras weights', async () => {
    await refuses(MODELS.lstm_dense(), fixture('not_keras.h5'), TypeError, /is HDF5 but not Keras weights \(no 'layer_names' attribute.*no 'layers' group/);
  });

  it('truncated files', async () => {
    for (const file of ['keras3_lstm_dense.weights.h5', 'legacy_gru_dense_model.h5']) {
      const whole = fs.readFileSync(fixture(file));
      for (const keep of [16, 2048, Math.floor(whole.length / 2), whole.length - 100]) {
        await refuses(file.startsWith('keras3') ? MODELS.lstm_dense() : MODELS.gru_dense(), whole.subarray(0, keep), RangeError,
          new RegExp(`the bytes given is truncated: ${keep} bytes${keep === 16 ? ', not even a whole superblock' : ` of the ${whole.length} its superblock declares`}`));
      }
    }
  });

  it('a dataset missing (Keras 3: a layer holding fewer arrays; .h5: a weight name without its dataset)', async () => {
    await refuses(MODELS.lstm_dense(), fixture('broken_no_bias.weights.h5'), RangeError,
      /'layers\/lstm\/cell\/vars' holds 2 arrays; layers\[0\] \(LSTM\) has 3 \(kernel, recurrent_kernel, bias\)/);
    await refuses(MODELS.lstm_dense(), fixture('broken_legacy_no_kernel.h5'), RangeError,
      /has no dataset 'dense\/dense\/kernel:0' \(kernel of layers\[1\] \(Dense\)\)/);
  });

  it('a shape that differs names the dataset and both shapes', async () => {
    const wider = () => [new LSTM({ inputSize: 3, hiddenSize: 5 }), new Dense({ units: 2 })];
    await refuses(wider(), fixture('keras3_lstm_dense.weights.h5'), RangeError,
      /'layers\/lstm\/cell\/vars\/0' has shape \[3, 16\]; kernel of layers\[0\] \(LSTM\) has \[3, 20\]/);
    await refuses(wider(), fixture('legacy_lstm_dense.h5'), RangeError,
      /'lstm\/lstm\/lstm_cell\/kernel' has shape \[3, 16\]; kernel of layers\[0\] \(LSTM\) has \[3, 20\]/);
  });

  it('a layer missing or left over (another architecture)', async () => {
    const deeper = () => [new LSTM({ inputSize: 3, hiddenSize: 4 }), new Dense({ units: 2 }), new Dense({ units: 2 })];
    await refuses(deeper(), fixture('keras3_lstm_dense.weights.h5'), RangeError,
      /has no group 'layers\/dense_1\/vars' for layers\[2\] \(Dense\) \(layers in the file: dense, lstm\)/);
    await refuses(deeper(), fixture('legacy_lstm_dense.h5'), RangeError,
      /has 2 layers with weights \(lstm, dense\); the model has 3 \(layers\[0\] \(LSTM\), layers\[1\] \(Dense\), layers\[2\] \(Dense\)\)/);
    const noDense = () => MODELS.embedding_lstm().slice(0, 3);
    await refuses(noDense(), fixture('keras3_embedding_lstm.weights.h5'), RangeError, /has weights for layers the model does not have: 'layers\/dense'/);
    // A GRU where the file has an LSTM: Keras 3 finds no 'layers/gru'; the .h5 has other shapes.
    await refuses([new GRU({ inputSize: 3, hiddenSize: 4 }), new Dense({ units: 2 })], fixture('keras3_lstm_dense.weights.h5'), RangeError,
      /has no group 'layers\/gru\/cell\/vars' for layers\[0\] \(GRU\)/);
    await refuses([new GRU({ inputSize: 3, hiddenSize: 4, resetAfter: false }), new Dense({ units: 2 })], fixture('legacy_lstm_dense.h5'), RangeError,
      /has shape \[3, 16\]; kernel of layers\[0\] \(GRU\) has \[3, 12\]/);
  });

  it('arguments of the wrong type', async () => {
    const model = new Sequential(MODELS.lstm_dense());
    await expect(loadKerasWeights(model, 42 as unknown as string)).rejects.toThrow(TypeError);
    await expect(loadKerasWeights({} as Sequential, fixture('legacy_lstm_dense.h5'))).rejects.toThrow(/expected a Sequential/);
  });
});

describe('loadKerasModel: .h5 files saved whole (model.save)', () => {
  const x = { shape: [2, 6, 3], data: Float32Array.from({ length: 36 }, (_v, i) => Math.sin(i)) };
  const cases = [
    // tf.keras 2: InputLayer [null, null, 3], GRU(5, reset_after, return_sequences) -> Dropout -> Dense(3)
    { file: 'legacy_gru_dense_model.h5', input: x, same: () => [
      new GRU({ inputSize: 3, hiddenSize: 5, resetAfter: true, returnSequences: true }), new Dropout({ rate: 0.2 }), new Dense({ units: 3 })] },
    // Keras 3's legacy .h5: InputLayer batch_shape [null, 6, 2], Bidirectional(LSTM(3)) concat -> Dense(2, softmax)
    { file: 'legacy_bilstm_dense_model.h5', input: { shape: [2, 6, 2], data: x.data.slice(0, 24) }, same: () => [
      new LSTM({ inputSize: 2, hiddenSize: 3, bidirectional: true, returnSequences: false }), new Dense({ units: 2, activation: 'softmax' as const })] },
  ];
  for (const c of cases) {
    it(`${c.file}: the architecture of model_config, the weights written, the same output as loadKerasWeights into that model`, async () => {
      const model = await loadKerasModel(fixture(c.file));
      expect(bytesOf(model.getKerasWeights())).toEqual(bytesOf(generated(model)));
      const built = await loadKerasWeights(new Sequential(c.same()), fixture(c.file));
      expect(model.paramCount).toBe(built.paramCount);
      const [a, b] = [model.predictSync(c.input), built.predictSync(c.input)];
      expect(a.shape).toEqual(b.shape);
      expect(Buffer.from(a.data.buffer).equals(Buffer.from(b.data.buffer))).toBe(true);
    });
  }

  it('convertModel reads .h5 (the format from the name), never writes it', async () => {
    const out = path.join(tmp, 'gru.safetensors');
    const r = await convertModel(fixture('legacy_gru_dense_model.h5'), out);
    expect(r).toMatchObject({ from: 'keras-h5', to: 'safetensors', layers: ['GRU', 'Dropout', 'Dense'] });
    const back = await Sequential.load(out);
    expect(bytesOf(back.getKerasWeights())).toEqual(bytesOf(generated(back)));
    await expect(convertModel(out, path.join(tmp, 'x.h5'))).rejects.toThrow(/Keras \.h5 files are read, not written/);
    await expect(convertModel(out, tmp, { to: 'keras-h5' })).rejects.toThrow(RangeError);
  });

  it('refuses weights-only files, naming loadKerasWeights, and layers it cannot map', async () => {
    for (const f of ['legacy_lstm_dense.h5', 'keras3_lstm_dense.weights.h5', 'not_keras.h5']) {
      await expect(loadKerasModel(fixture(f))).rejects.toThrow(/is not a whole Keras model .*use loadKerasWeights/);
    }
    await expect(loadKerasModel(Buffer.from('text'))).rejects.toThrow(/loadKerasModel: the bytes given is not an HDF5 file/);
    // model_config naming a layer fused-rnn has not: the TF.js importer's refusal, with the file named.
    const whole = fs.readFileSync(fixture('legacy_gru_dense_model.h5'));
    const at = whole.indexOf('"class_name": "Dropout"');
    const conv = Buffer.from(whole);
    conv.write('"class_name": "Conv1Dx"', at);  // same length: the HDF5 structure is untouched
    const err = await loadKerasModel(conv).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(TfjsImportError);
    expect((err as Error).message).toMatch(/^the bytes given: layer 'dropout' \(Conv1Dx\): no fused-rnn layer for it/);
  });
});
