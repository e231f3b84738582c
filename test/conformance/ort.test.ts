// ONNX LSTM / GRU / RNN semantics, with onnxruntime as the oracle.
//
// Data: test/fixtures/ort/*.json (a copy of /work/shared/fixtures/ort; see its README.md). Each file is one ONNX
// LSTM/GRU/RNN node (opset 22) on random float32 inputs; the expected outputs are onnxruntime-node 1.30.0 (CPU,
// float32) results, cross-checked against an independent float64 implementation. The cases cover directions,
// sequence_lens, peepholes, clip, input_forget, linear_before_reset, every activation with alpha/beta consumed in
// order, optional inputs left out (an omitted initial_c with initial_h given means zeros) and layout = 1.
//
// For each case (one `it` per file): XXX.fromOnnx(fixture.attributes, { W, R, B?, P? }), forward with
// { h0: initial_h, c0: initial_c, lengths: sequence_lens } (states transposed [B,D,H] -> [D,B,H] for layout 1),
// and every requested output (Y, Y_h, Y_c), converted to the ONNX shapes, is compared with the fixture's rule
// (README "Tolerance"): per tensor, max|got - ref| <= tolerance.atol (1e-5) * max(1, max|ref|).
import * as path from 'node:path';
import { describe, it, expect, afterAll } from 'vitest';
import { LSTM, GRU, RNN } from '../../lib/index';
import {
  ErrorRecorder,
  type OnnxFactory,
  type OnnxFixture,
  caseName,
  fixturesDir,
  listJsonFiles,
  loadJson,
  runOnnxFixture,
} from '../helpers/fixtures';

const dir = fixturesDir('ort');
const files = listJsonFiles(dir);
const recorder = new ErrorRecorder('ort fixtures');
const classes = { LSTM, GRU, RNN } as unknown as { LSTM: OnnxFactory; GRU: OnnxFactory; RNN: OnnxFactory };

describe('ONNX semantics vs onnxruntime (test/fixtures/ort)', () => {
  afterAll(() => {
    console.log(recorder.summary());
  });

  it('fixture folder test/fixtures/ort holds the cases', () => {
    expect(files.length, `no *.json in ${dir}`).toBeGreaterThan(0);
  });

  for (const file of files) {
    const name = caseName(file);
    it(name, () => {
      const fx = loadJson<OnnxFixture>(path.join(dir, file));
      const check = recorder.forCase(name);
      const { outputs, requested } = runOnnxFixture(fx, classes);
      expect(requested.length, `${name}: no requested output`).toBeGreaterThan(0);
      const atol = fx.tolerance.atol;
      for (const slot of requested) {
        const ref = fx.outputs[slot];
        expect(ref, `${name}: fixture lacks the expected ${slot}`).toBeDefined();
        check.close(outputs[slot as 'Y' | 'Y_h' | 'Y_c'], ref, atol, slot);
      }
    });
  }
});
