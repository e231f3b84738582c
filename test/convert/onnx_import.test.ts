// loadOnnx on files made by the real tools (test/fixtures/onnx_files, generate.py beside them):
// torch.onnx.export graphs match torch's stored outputs; single-operator graphs (onnx.helper) match
// onnxruntime-node on the same file; graphs that cannot map are refused with the node named.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it, expect, afterAll } from 'vitest';
import { loadOnnx, OnnxImportError } from '../../lib/index';
import { FIXTURES, SKIP_ORT, Worst, fixtures, loadOrt, runOrt, transpose } from './helpers';

const all = fixtures();
const worstTorch = new Worst('loadOnnx vs torch 1.13');
const worstOrt = new Worst('loadOnnx vs onnxruntime-node (single operators)');

/** The graph's input -> the Sequential's [N, T, F]. */
function modelInput(fx: (typeof all)[number]) {
  const { shape, data } = fx.x;
  if (shape.length === 2) return fx.batch_first ? { data: Float32Array.from(data), shape } : transpose(data, shape, [1, 0]);  // token ids
  return fx.batch_first ? { data: Float32Array.from(data), shape } : transpose(data, shape, [1, 0, 2]);
}

describe('loadOnnx: torch.onnx.export files against torch', () => {
  afterAll(() => console.log(worstTorch.summary()));
  it('has fixtures', () => expect(all.filter((f) => f.y).length).toBeGreaterThanOrEqual(15));

  for (const fx of all.filter((f) => f.expect === 'load' && f.y)) {
    it(`${fx.name} (opset ${fx.opset})`, async () => {
      const model = await loadOnnx(path.join(FIXTURES, `${fx.name}.onnx`));
      const got = model.predictSync(modelInput(fx));
      let ref: { data: Float32Array; shape: number[] } = { data: Float32Array.from(fx.y!.data), shape: fx.y!.shape };
      if (ref.shape.length === 3 && !fx.batch_first) ref = transpose(ref.data, ref.shape, [1, 0, 2]);
      worstTorch.check(fx.name, got.data, got.shape, ref.data, ref.shape);
    });
  }
});

describe('loadOnnx: single LSTM / GRU / RNN operators against onnxruntime-node', () => {
  const { ort, error } = loadOrt();
  afterAll(() => console.log(ort ? worstOrt.summary() : `[loadOnnx vs onnxruntime-node] NOT RUN: onnxruntime-node unavailable (${error})`));
  if (!ort && SKIP_ORT) {
    it.skip(`onnxruntime-node unavailable (${error}); skipped because FUSED_RNN_SKIP_ORT=1`, () => {});
    return;
  }
  it('onnxruntime-node loads (a devDependency; FUSED_RNN_SKIP_ORT=1 skips these)', () => {
    expect(ort, `onnxruntime-node: ${error}`).not.toBeNull();
  });
  for (const fx of all.filter((f) => f.expect === 'load' && !f.y)) {
    it(`${fx.name} (opset ${fx.opset}, output ${fx.output})`, async () => {
      const file = path.join(FIXTURES, `${fx.name}.onnx`);
      const model = await loadOnnx(file);
      const got = model.predictSync(modelInput(fx));
      // onnxruntime refuses layout 1: its twin with layout 0 (same weights) gives the reference.
      const x0 = fx.ort_twin ? transpose(fx.x.data, fx.x.shape, [1, 0, 2]) : { data: Float32Array.from(fx.x.data), shape: fx.x.shape };
      const ortOut = await runOrt(fx.ort_twin ? path.join(FIXTURES, fx.ort_twin) : file, { X: x0 });
      const y = ortOut[fx.output!];
      let ref: { data: Float32Array; shape: number[] };
      if (fx.output === 'Y') {
        // [T, D, B, H] -> [B, T, D*H]
        const t = transpose(y.data, y.shape, [2, 0, 1, 3]);
        ref = { data: t.data, shape: [t.shape[0], t.shape[1], t.shape[2] * t.shape[3]] };
      } else {
        // Y_h [D, B, H] -> [B, D*H]
        const t = transpose(y.data, y.shape, [1, 0, 2]);
        ref = { data: t.data, shape: [t.shape[0], t.shape[1] * t.shape[2]] };
      }
      worstOrt.check(fx.name, got.data, got.shape, ref.data, ref.shape);
    });
  }
});

describe('loadOnnx refuses what it cannot map, naming the node', () => {
  for (const fx of all.filter((f) => f.expect === 'refuse')) {
    it(`${fx.name}: ${fx.note}`, async () => {
      const err = await loadOnnx(path.join(FIXTURES, `${fx.name}.onnx`)).then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(OnnxImportError);
      expect((err as OnnxImportError).node).toBe(fx.refuse_node);
      expect((err as Error).message).toContain(`'${fx.refuse_node}'`);
    });
  }

  it('names a missing output, a bad file and external data without a directory', async () => {
    const file = path.join(FIXTURES, 'lstm_seq_o9.onnx');
    await expect(loadOnnx(file, { output: 'nope' })).rejects.toThrow(/no graph output 'nope'/);
    await expect(loadOnnx(new Uint8Array([1, 2, 3, 4, 5]))).rejects.toThrow(/not an ONNX model/);
    const ext = fs.readFileSync(path.join(FIXTURES, 'lstm_external_o13.onnx'));
    await expect(loadOnnx(ext)).rejects.toThrow(/external file 'lstm_external_o13.onnx.data'/);
    await expect(loadOnnx(ext, { baseDir: FIXTURES })).resolves.toBeDefined();
  });
});
