// Quantized model files (README, Precision): model.save(dir, { quantize: 'int8' }) writes the
// recurrent weight matrices as I8 with one float32 scale per row; load() gives them back as
// float32 (q · scale) with the recurrent layers in precision 'int8'; setPrecision('fp32') and
// save() again give a plain float32 file.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Dense, GRU, LSTM, Sequential, convertModel, tensor } from '../../lib/index';
import { dequantizeRows, quantizeRows } from '../../lib/io/quantize';
import { decodeSafetensors, encodeSafetensors } from '../../lib/io/safetensors';
import { mulberry32 } from '../helpers/gradcheck';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'frnn-quant-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** The dtype each tensor has in a safetensors file's header. */
function dtypes(file: string): Record<string, string> {
  const bytes = fs.readFileSync(file);
  const n = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8')) as Record<string, { dtype: string }>;
  return Object.fromEntries(Object.entries(header).filter(([k]) => k !== '__metadata__').map(([k, v]) => [k, v.dtype]));
}

function makeModel(): Sequential {
  return new Sequential([
    new LSTM({ inputSize: 8, hiddenSize: 32, numLayers: 2, seed: 1 }),
    new GRU({ inputSize: 32, hiddenSize: 16, bidirectional: true, seed: 2 }),
    new Dense({ units: 3, seed: 3 }),
  ]);
}

describe('quantizeRows / dequantizeRows', () => {
  it('maps each row symmetrically onto -127..127 with its own scale; the error is at most half a step', () => {
    const rng = mulberry32(1);
    const rows = 7, cols = 33;
    const w = Float32Array.from({ length: rows * cols }, (_v, i) => (2 * rng() - 1) * (1 + (i % cols === 0 ? 0 : Math.floor(i / cols))));
    w.fill(0, 3 * cols, 4 * cols);  // a row of zeros: scale 0, q 0
    const { q, scale } = quantizeRows(w, rows);
    const back = dequantizeRows(q, scale, rows);
    for (let r = 0; r < rows; r++) {
      const row = Array.from(w.subarray(r * cols, (r + 1) * cols));
      const max = Math.max(...row.map(Math.abs));
      expect(scale[r]).toBe(Math.fround(max / 127));
      const qs = Array.from(q.subarray(r * cols, (r + 1) * cols));
      if (max > 0) expect(Math.max(...qs.map(Math.abs))).toBe(127);
      for (let c = 0; c < cols; c++) expect(Math.abs(back[r * cols + c] - row[c])).toBeLessThanOrEqual(scale[r] / 2 + 1e-7 * max);
    }
    expect(Array.from(q.subarray(3 * cols, 4 * cols)).every((v) => v === 0)).toBe(true);
  });

  it('rounds ties to even', () => {
    // scale = 127/127 = 1: 0.5 -> 0, 1.5 -> 2, 2.5 -> 2, -0.5 -> 0, -1.5 -> -2
    const { q } = quantizeRows(Float32Array.from([127, 0.5, 1.5, 2.5, -0.5, -1.5]), 1);
    expect(Array.from(q)).toEqual([127, 0, 2, 2, 0, -2]);
  });

  it('safetensors writes Int8Array data as I8 and reads it back exactly', () => {
    const bytes = encodeSafetensors({ q: { shape: [2, 2], data: Int8Array.from([-128, -1, 0, 127]) }, s: tensor([0.5, 2], [2]) });
    const st = decodeSafetensors(bytes);
    expect(Array.from(st.tensors.q.data)).toEqual([-128, -1, 0, 127]);
    expect(st.tensors.q.shape).toEqual([2, 2]);
  });
});

describe("model.save(dir, { quantize: 'int8' })", () => {
  it('writes the recurrent matrices as I8 (+ scales), under 40% of the float file; load gives q · scale in precision int8', async () => {
    const m = makeModel();
    const fp = path.join(tmp, 'fp32'), q8 = path.join(tmp, 'int8');
    await m.save(fp);
    await m.save(q8, { quantize: 'int8' });
    const types = dtypes(path.join(q8, 'model.safetensors'));
    for (const [name, t] of Object.entries(types)) {
      if (/weight_(ih|hh)_l\d+(_reverse)?$/.test(name) && name !== '2.weight') expect(t).toBe('I8');
      else expect(t).toBe('F32');
    }
    expect(types['0.weight_hh_l1.scale']).toBe('F32');
    const sizeOf = (d: string) => fs.statSync(path.join(d, 'model.safetensors')).size;
    expect(sizeOf(q8)).toBeLessThan(sizeOf(fp) / 2.5);  // biases and Dense stay F32

    const loaded = await Sequential.load(q8);
    const want = m.stateDict();
    const got = loaded.stateDict();
    for (const [name, t] of Object.entries(want)) {
      if (!/weight_(ih|hh)_l\d+(_reverse)?$/.test(name) || name === '2.weight') {
        expect(Array.from(got[name].data)).toEqual(Array.from(t.data));
        continue;
      }
      const { q, scale } = quantizeRows(t.data, t.shape[0]);
      expect(Array.from(got[name].data)).toEqual(Array.from(dequantizeRows(q, scale, t.shape[0])));
    }
    expect(loaded.layers.filter((l) => !(l instanceof Dense)).map((l) => (l as LSTM | GRU).precision)).toEqual(['int8', 'int8']);

    // Back to float32: the dequantized weights in a plain F32 file.
    const back = path.join(tmp, 'back');
    await loaded.setPrecision('fp32').save(back);
    expect(Object.values(dtypes(path.join(back, 'model.safetensors'))).every((t) => t === 'F32')).toBe(true);
    const again = await Sequential.load(back);
    for (const [name, t] of Object.entries(got)) expect(Array.from(again.stateDict()[name].data)).toEqual(Array.from(t.data));
    expect((again.layers[0] as LSTM).precision).toBe('fp32');
  });

  it('convertModel quantizes a float file and turns a quantized one back into float32', async () => {
    const m = makeModel();
    const dir = path.join(tmp, 'conv');
    await m.save(dir);
    const q8 = path.join(tmp, 'conv-int8.safetensors'), f32 = path.join(tmp, 'conv-fp32.safetensors');
    await convertModel(dir, q8, { quantize: 'int8' });
    expect(dtypes(q8)['0.weight_ih_l0']).toBe('I8');
    await convertModel(q8, f32);
    expect(Object.values(dtypes(f32)).every((t) => t === 'F32')).toBe(true);
    const a = (await Sequential.load(q8)).stateDict(), b = (await Sequential.load(f32)).stateDict();
    for (const k of Object.keys(a)) expect(Array.from(b[k].data)).toEqual(Array.from(a[k].data));
    await expect(convertModel(dir, path.join(tmp, 'x.onnx'), { quantize: 'int8' })).rejects.toThrow(/quantize is for a safetensors output/);
  });

  it('refuses bad options and bad quantized files, naming what is wrong', async () => {
    const m = makeModel();
    await expect(m.save(path.join(tmp, 'x'), { quantize: 'int4' as never })).rejects.toThrow(/quantize/);
    await expect(m.save(path.join(tmp, 'x'), { quantise: 'int8' } as never)).rejects.toThrow(/quantise/);
    const dir = path.join(tmp, 'bad');
    await m.save(dir, { quantize: 'int8' });
    const file = path.join(dir, 'model.safetensors');
    const st = decodeSafetensors(fs.readFileSync(file));
    const rewrite = (tensors: Record<string, { shape: number[]; data: Float32Array | Int8Array }>, meta = st.metadata) => {
      const f = path.join(tmp, `bad-${Math.random().toString(36).slice(2)}.safetensors`);
      fs.writeFileSync(f, encodeSafetensors(tensors, meta));
      return f;
    };
    const wrongShape = { ...st.tensors, '0.weight_hh_l0.scale': tensor([1, 2, 3], [3]) };
    await expect(Sequential.load(rewrite(wrongShape))).rejects.toThrow(/shape \[128\] \(one scale per row of a matrix\).*weight_hh_l0\.scale/);
    const negative = { ...st.tensors, '0.weight_hh_l0.scale': { shape: st.tensors['0.weight_hh_l0.scale'].shape, data: st.tensors['0.weight_hh_l0.scale'].data.map(() => -1) } };
    await expect(Sequential.load(rewrite(negative))).rejects.toThrow(/finite scales >= 0/);
    const orphan = { ...st.tensors, '0.nothing.scale': tensor([1], [1]) };
    await expect(Sequential.load(rewrite(orphan))).rejects.toThrow(/0\.nothing\.scale/);
    await expect(Sequential.load(rewrite(st.tensors, { ...st.metadata, 'fused-rnn.quantized': 'int4' }))).rejects.toThrow(/fused-rnn\.quantized/);
  });
});
