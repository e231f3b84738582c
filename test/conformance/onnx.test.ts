// ONNX operator conformance: the upstream ONNX backend node tests for LSTM, GRU and RNN.
//
// Data: ../shared/fixtures/onnx/*.json, read in place (NOT copied into this repo), resolved from the repository
// root as path.resolve(repoRoot, '../shared/fixtures/onnx'). They are the 12 node tests (test_lstm_*, test_gru_*,
// test_*rnn_*) of github.com/onnx/onnx at commit 6be0677 converted to JSON (see that folder's README.md).
// When the folder is absent this suite says so with console.warn and a single skipped test instead of passing
// silently.
//
// For each case (one `it` per file): the same runner as ort.test.ts (XXX.fromOnnx(attributes, { W, R, B?, P? }),
// forward with initial_h / initial_c / sequence_lens, our results converted to ONNX shapes), but with that
// folder's tolerance, the ONNX backend runner rule applied elementwise: |got - ref| <= atol + rtol * |ref|
// (fixture.tolerance: rtol 1e-3, atol 1e-7).
import * as path from 'node:path';
import { describe, it, expect, afterAll } from 'vitest';
import { LSTM, GRU, RNN } from '../../lib/index';
import {
  ErrorRecorder,
  type OnnxFactory,
  type OnnxFixture,
  caseName,
  listJsonFiles,
  loadJson,
  onnxFixturesDir,
  runOnnxFixture,
} from '../helpers/fixtures';

const dir = onnxFixturesDir;
const files = listJsonFiles(dir);
const recorder = new ErrorRecorder('onnx fixtures');
const classes = { LSTM, GRU, RNN } as unknown as { LSTM: OnnxFactory; GRU: OnnxFactory; RNN: OnnxFactory };

describe('ONNX backend node tests (../shared/fixtures/onnx)', () => {
  if (files.length === 0) {
    console.warn(
      `\n*** ONNX conformance data absent: ${dir} not found (or holds no *.json). ` +
        `The ONNX backend node-test suite is NOT being run. ***\n`,
    );
    it.skip('ONNX conformance data absent: ../shared/fixtures/onnx not found', () => {});
    return;
  }

  afterAll(() => {
    console.log(recorder.summary());
  });

  for (const file of files) {
    const name = caseName(file);
    it(name, () => {
      const fx = loadJson<OnnxFixture>(path.join(dir, file));
      const check = recorder.forCase(name);
      const { outputs, requested } = runOnnxFixture(fx, classes);
      expect(requested.length, `${name}: no requested output`).toBeGreaterThan(0);
      const { atol, rtol } = fx.tolerance;
      for (const slot of requested) {
        const ref = fx.outputs[slot];
        expect(ref, `${name}: fixture lacks the expected ${slot}`).toBeDefined();
        check.closeElementwise(outputs[slot as 'Y' | 'Y_h' | 'Y_c'], ref, atol, rtol, slot);
      }
    });
  }
});
