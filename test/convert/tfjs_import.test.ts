// loadTfjs on files made by @tensorflow/tfjs itself (test/fixtures/tfjs, generate/ beside them):
// every model matches tfjs' own predict() output within 1e-5 relative; layers that cannot map are
// refused with the layer named; the three ways in (path, parsed model.json, artifacts) agree.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it, expect, afterAll } from 'vitest';
import { loadTfjs, TfjsImportError, type TfjsModelJson } from '../../lib/index';
import { Worst } from './helpers';
import { halfToFloat } from '../../lib/convert/tfjs_format';

const DIR = path.join(__dirname, '..', 'fixtures', 'tfjs');
interface TfjsFixture {
  name: string;
  producer: string;
  expect: 'load' | 'refuse';
  refuse_layer?: string;
  x?: { shape: number[]; data: number[] };
  y?: { shape: number[]; data: number[] };
}
const all: TfjsFixture[] = fs.readdirSync(DIR).filter((d) => fs.existsSync(path.join(DIR, d, 'reference.json'))).sort()
  .map((d) => JSON.parse(fs.readFileSync(path.join(DIR, d, 'reference.json'), 'utf8')) as TfjsFixture);
const worst = new Worst('loadTfjs vs @tensorflow/tfjs');

function input(fx: TfjsFixture) {
  const { shape, data } = fx.x!;
  return { shape, data: Float32Array.from(data) };
}

describe('loadTfjs: tfjs model.save() files against tfjs predict()', () => {
  afterAll(() => console.log(worst.summary()));
  it('has fixtures', () => expect(all.filter((f) => f.expect === 'load').length).toBeGreaterThanOrEqual(8));

  for (const fx of all.filter((f) => f.expect === 'load')) {
    it(fx.name, async () => {
      const model = await loadTfjs(path.join(DIR, fx.name, 'model.json'));
      const got = model.predictSync(input(fx));
      worst.check(fx.name, got.data, got.shape, fx.y!.data, fx.y!.shape);
    });
  }

  for (const fx of all.filter((f) => f.expect === 'refuse')) {
    it(`${fx.name}: refused naming layer ${fx.refuse_layer}`, async () => {
      const err = await loadTfjs(path.join(DIR, fx.name)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TfjsImportError);
      expect((err as TfjsImportError).layer).toBe(fx.refuse_layer);
      expect((err as Error).message).toContain(`'${fx.refuse_layer}'`);
    });
  }
});

describe('loadTfjs: the other ways in and bad files', () => {
  const name = 'bidirectional_mix';
  const file = path.join(DIR, name, 'model.json');
  const json = JSON.parse(fs.readFileSync(file, 'utf8')) as TfjsModelJson;
  const fx = all.find((f) => f.name === name)!;

  it('a parsed model.json with baseDir, and tfjs artifacts, give the same output as the path', async () => {
    const ref = (await loadTfjs(file)).predictSync(input(fx));
    const fromJson = (await loadTfjs(json, { baseDir: path.join(DIR, name) })).predictSync(input(fx));
    const group = json.weightsManifest[0];
    const weightData = Buffer.concat(group.paths.map((p) => fs.readFileSync(path.join(DIR, name, p))));
    const fromArtifacts = (await loadTfjs({ modelTopology: json.modelTopology, weightSpecs: group.weights, weightData })).predictSync(input(fx));
    expect(fromJson.data).toEqual(ref.data);
    expect(fromArtifacts.data).toEqual(ref.data);
  });

  it('refuses a shard that is short, a shard path leaving the directory, and a parsed model.json without baseDir', async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'frnn-tfjs-'));
    try {
      for (const p of json.weightsManifest[0].paths) fs.copyFileSync(path.join(DIR, name, p), path.join(tmp, p));
      fs.truncateSync(path.join(tmp, json.weightsManifest[0].paths[2]), 4);
      fs.writeFileSync(path.join(tmp, 'model.json'), JSON.stringify(json));
      await expect(loadTfjs(tmp)).rejects.toThrow(/hold \d+ bytes; the manifest describes \d+/);
      const escaping = { ...json, weightsManifest: [{ ...json.weightsManifest[0], paths: ['../x.bin'] }] };
      await expect(loadTfjs(escaping, { baseDir: tmp })).rejects.toThrow(/leaves the model's directory/);
      await expect(loadTfjs(json)).rejects.toThrow(TypeError);
      await expect(loadTfjs(42 as never)).rejects.toThrow(TypeError);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('uint8 / uint16 quantized weights load as q * scale + min, float16 ones as IEEE halves; other dtypes are refused', async () => {
    const src = path.join(DIR, 'lstm_last_softmax');
    const j = JSON.parse(fs.readFileSync(path.join(src, 'model.json'), 'utf8')) as TfjsModelJson;
    const raw = fs.readFileSync(path.join(src, j.weightsManifest[0].paths[0]));
    const floats = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
    const x = input(all.find((f) => f.name === 'lstm_last_softmax')!);
    for (const [dtype, levels, bytes] of [['uint8', 255, 1], ['uint16', 65535, 2]] as const) {
      const specs = [], parts: Buffer[] = [], dequantized: number[] = [];
      let at = 0;
      for (const w of j.weightsManifest[0].weights) {
        const n = w.shape.reduce((a, b) => a * b, 1), v = floats.subarray(at, at + n);
        at += n;
        const min = Math.min(...v), scale = (Math.max(...v) - min) / levels;
        const q = Array.from(v, (e) => Math.round((e - min) / scale));
        const buf = Buffer.alloc(n * bytes);
        q.forEach((e, i) => (bytes === 1 ? buf.writeUInt8(e, i) : buf.writeUInt16LE(e, 2 * i)));
        parts.push(buf);
        dequantized.push(...q.map((e) => e * scale + min));
        specs.push({ ...w, quantization: { dtype, scale, min } });
      }
      const quantized = await loadTfjs({ modelTopology: j.modelTopology, weightSpecs: specs, weightData: Buffer.concat(parts) });
      const plain = await loadTfjs({ modelTopology: j.modelTopology, weightSpecs: j.weightsManifest[0].weights, weightData: new Uint8Array(Float32Array.from(dequantized).buffer) });
      expect(Array.from(quantized.predictSync(x).data)).toEqual(Array.from(plain.predictSync(x).data));
    }
    // float16 (tfjs' --quantize_float16): IEEE halves. Weights rounded to multiples of 2^-10 in
    // [-2, 2] are exact halves, so the model must equal the plain one holding those floats.
    const toHalf = (v: number) => {  // exact for these values only: sign, exponent, 10 fraction bits
      if (v === 0) return Object.is(v, -0) ? 0x8000 : 0;
      const e = Math.floor(Math.log2(Math.abs(v)));
      return (v < 0 ? 0x8000 : 0) | ((e + 15) << 10) | (Math.abs(v) / 2 ** e * 1024 - 1024);
    };
    const exact = Array.from(floats, (e) => Math.max(-2048, Math.min(2048, Math.round(e * 1024))) / 1024);
    const halves = Buffer.alloc(exact.length * 2);
    exact.forEach((e, i) => halves.writeUInt16LE(toHalf(e), 2 * i));
    const half = j.weightsManifest[0].weights.map((w) => ({ ...w, quantization: { dtype: 'float16' } }));
    const fromHalves = await loadTfjs({ modelTopology: j.modelTopology, weightSpecs: half, weightData: halves });
    const plain = await loadTfjs({ modelTopology: j.modelTopology, weightSpecs: j.weightsManifest[0].weights, weightData: new Uint8Array(Float32Array.from(exact).buffer) });
    expect(Array.from(fromHalves.predictSync(x).data)).toEqual(Array.from(plain.predictSync(x).data));
    // A half's bits against known values: 1, -2, 65504 (the largest), 2^-24 (the smallest subnormal), -0, Inf, NaN.
    expect([0x3c00, 0xc000, 0x7bff, 0x0001, 0x8000, 0x7c00].map(halfToFloat)).toEqual([1, -2, 65504, 2 ** -24, -0, Infinity]);
    expect(halfToFloat(0x7e00)).toBeNaN();
    const other = j.weightsManifest[0].weights.map((w) => ({ ...w, quantization: { dtype: 'int4' } }));
    await expect(loadTfjs({ modelTopology: j.modelTopology, weightSpecs: other, weightData: raw })).rejects.toThrow(/quantized as int4; float32 \(plain, or uint8 \/ uint16 \/ float16 quantized\)/);
  });

  it('refuses a functional model and unsupported options naming the layer', async () => {
    const functional = { ...json, modelTopology: { ...(json.modelTopology as object), class_name: 'Model' } };
    await expect(loadTfjs(functional, { baseDir: path.join(DIR, name) })).rejects.toThrow(/only Sequential models/);
    const topo = JSON.parse(JSON.stringify(json.modelTopology)) as { config: { layers: { config: Record<string, unknown> }[] } };
    topo.config.layers[1].config.merge_mode = null;
    const err = await loadTfjs({ ...json, modelTopology: topo }, { baseDir: path.join(DIR, name) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TfjsImportError);
    expect((err as TfjsImportError).layer).toBe('bidirectional_Bidirectional2');
    expect((err as Error).message).toMatch(/merge_mode null/);
  });
});
