// convertModel between .onnx, TF.js model.json and safetensors: each conversion of a fixture made by
// the real tool still matches that tool's outputs (1e-5 relative); names whose format is unclear and
// layers the target cannot hold are refused.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { Sequential, convertModel, loadOnnx, loadTfjs } from '../../lib/index';
import { FIXTURES, Worst, transpose } from './helpers';

const TFJS = path.join(__dirname, '..', 'fixtures', 'tfjs');
const worst = new Worst('convertModel outputs vs the producing framework');
let dir = '';
beforeAll(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fused-rnn-convert-')); });
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
  console.log(worst.summary());
});

const json = (file: string) => JSON.parse(fs.readFileSync(file, 'utf8'));
const f32 = (t: { shape: number[]; data: number[] }) => ({ shape: t.shape, data: Float32Array.from(t.data) });

describe('convertModel', () => {
  it('ONNX (torch) -> TF.js -> ONNX: still torch\'s outputs', async () => {
    const fx = json(path.join(FIXTURES, 'lstm_l2_bi_bf_hn2_o13.json'));
    const r = await convertModel(path.join(FIXTURES, 'lstm_l2_bi_bf_hn2_o13.onnx'), path.join(dir, 'a', 'model.json'));
    expect(r).toMatchObject({ from: 'onnx', to: 'tfjs', layers: ['LSTM', 'Dense'] });
    const viaTfjs = await loadTfjs(path.join(dir, 'a', 'model.json'));
    let got = viaTfjs.predictSync(f32(fx.x));
    worst.check('onnx -> tfjs', got.data, got.shape, fx.y.data, fx.y.shape);
    await convertModel(path.join(dir, 'a'), path.join(dir, 'a.onnx'), { opset: 11 });
    got = (await loadOnnx(path.join(dir, 'a.onnx'))).predictSync(f32(fx.x));
    worst.check('onnx -> tfjs -> onnx', got.data, got.shape, fx.y.data, fx.y.shape);
  });

  it('TF.js -> ONNX and TF.js -> safetensors (file and directory): still tfjs\' outputs', async () => {
    const fx = json(path.join(TFJS, 'embedding_lstm', 'reference.json'));
    const src = path.join(TFJS, 'embedding_lstm', 'model.json');
    expect(await convertModel(src, path.join(dir, 'b.onnx'))).toMatchObject({ from: 'tfjs', to: 'onnx', layers: ['Embedding', 'LSTM', 'Dense'] });
    let got = (await loadOnnx(path.join(dir, 'b.onnx'))).predictSync(f32(fx.x));
    worst.check('tfjs -> onnx', got.data, got.shape, fx.y.data, fx.y.shape);
    expect((await convertModel(src, path.join(dir, 'b.safetensors'))).to).toBe('safetensors');
    got = (await Sequential.load(path.join(dir, 'b.safetensors'))).predictSync(f32(fx.x));
    worst.check('tfjs -> safetensors', got.data, got.shape, fx.y.data, fx.y.shape);
    await convertModel(path.join(TFJS, 'embedding_lstm'), path.join(dir, 'b_dir'), { to: 'safetensors' });
    expect(fs.readdirSync(path.join(dir, 'b_dir')).sort()).toEqual(['config.json', 'model.safetensors']);
    const back = await convertModel(path.join(dir, 'b_dir'), path.join(dir, 'b2', 'model.json'));
    expect(back.from).toBe('safetensors');
    got = (await loadTfjs(path.join(dir, 'b2'))).predictSync(f32(fx.x));
    worst.check('tfjs -> safetensors -> tfjs', got.data, got.shape, fx.y.data, fx.y.shape);
  });

  it('ONNX (torch, time-major) -> safetensors: PyTorch names, torch\'s outputs', async () => {
    const fx = json(path.join(FIXTURES, 'gru_l3_mlp_o17.json'));
    await convertModel(path.join(FIXTURES, 'gru_l3_mlp_o17.onnx'), path.join(dir, 'c.safetensors'));
    const model = await Sequential.load(path.join(dir, 'c.safetensors'));
    expect(Object.keys(model.stateDict())).toContain('0.weight_ih_l2');
    const got = model.predictSync(transpose(fx.x.data, fx.x.shape, [1, 0, 2]));
    const ref = transpose(fx.y.data, fx.y.shape, [1, 0, 2]);
    worst.check('onnx -> safetensors', got.data, got.shape, ref.data, ref.shape);
  });

  it('refuses unclear names and what the target cannot hold, naming the layer', async () => {
    const onnx = path.join(FIXTURES, 'gru_l3_mlp_o17.onnx');
    await expect(convertModel(onnx, path.join(dir, 'out'))).rejects.toThrow(/cannot tell the format to write/);
    await expect(convertModel(onnx, path.join(dir, 'x.json'))).rejects.toThrow(/directory or \.\.\.\/model\.json/);
    await expect(convertModel(path.join(dir, 'nothing-here'), path.join(dir, 'y.onnx'))).rejects.toThrow(/cannot tell the format/);
    await expect(convertModel(onnx, path.join(dir, 'd', 'model.json'))).rejects.toThrow(/layers\[0\] \(GRU\): resetAfter: true/);
    await expect(convertModel(onnx, path.join(dir, 'e.onnx'), { to: 'keras' as never })).rejects.toThrow(RangeError);
  });
});
