// Seed examples: two small, fully specified lecture examples computed independently of any RNN library.
//
// Data: test/fixtures/seed/ (a copy of /work/shared/fixtures/seed; see its README.md). Values were computed with
// 60-digit decimal arithmetic and rounded once to float64.
//
// 1. lstm_memory.json: a hand-wired single LSTM cell (hidden size 1, input size 3) with sigmoid gates and
//    IDENTITY cell-input / output activations that adds x1 to its memory when x2 = 1, resets it when x2 = -1 and
//    emits it when x3 = 1, so y ~ [0, 0, 0, 7, 0, 0, 6]. Built twice:
//      - new LSTM({ activations: { gate: 'sigmoid', cell: 'identity', hidden: 'identity' } }) + loadStateDict of
//        the 'pytorch' block weights (torch layout, gate order i,f,g,o);
//      - LSTM.fromOnnx with the 'onnx' block (activations Sigmoid, Affine(1,0), Affine(1,0); gate order i,o,f,c).
//    y must match expected.y elementwise within 1e-5 * max(1, |ref|): an absolute 1e-5 for the near-zero steps,
//    because in float32 sigmoid(-90) / sigmoid(-110) underflow and step 5 comes out 0 instead of 2.6e-43.
//    Also the 'pytorchTanhVariant' (same weights, default tanh activations, torch.nn.LSTM float64 result).
// 2. linear_rnn.json: h_t = w*h_{t-1} + x_t over 1000 steps (RNN, nonlinearity 'identity', no bias,
//    weight_ih = 1, weight_hh = w, x = [1, 0, 0, ...]): y_1000 = w^999 from forward and dy_1000/dw = 999*w^998
//    from backward (gradOutput one-hot at t = 999, gradHN = 0), for w = 1, 1.01, 0.99 and 0.5.
import * as path from 'node:path';
import { describe, it, expect, afterAll } from 'vitest';
import { LSTM, RNN } from '../../lib/index';
import {
  ErrorRecorder,
  type FixtureTensor,
  type RnnLayerLike,
  type Tensor,
  fixturesDir,
  loadJson,
  oursToOnnxY,
  toTensor,
  toTensorDict,
  zeros,
} from '../helpers/fixtures';

interface LstmMemoryFixture {
  input: FixtureTensor;
  expected: { y: FixtureTensor; c: FixtureTensor; yApprox: number[] };
  onnx: {
    attributes: Record<string, unknown>;
    inputs: { X: FixtureTensor; W: FixtureTensor; R: FixtureTensor; B: FixtureTensor };
    outputs: { Y: FixtureTensor; Y_h: FixtureTensor; Y_c: FixtureTensor };
  };
  pytorch: { weights: Record<string, FixtureTensor> };
  pytorchTanhVariant?: { output: FixtureTensor; hN: FixtureTensor; cN: FixtureTensor };
}

interface LinearRnnCase {
  w: string;
  wFloat64: number;
  wFloat32: number;
  y1000: { float64: number; float32Recurrence: number; float64Recurrence: number };
  dy1000_dw: { float64: number; float32BPTT: number; float64BPTT: number };
}

interface LinearRnnFixture {
  steps: number;
  cases: LinearRnnCase[];
}

const dir = fixturesDir('seed');
const recorder = new ErrorRecorder('seed fixtures');

// 1e-5 * max(1, |ref|) per element (absolute near zero, relative above 1).
const MEMORY_TOL = 1e-5;

// A float32 implementation of the linear RNN lands near the stored float32 recurrence / BPTT values (exactly on
// them if it accumulates in the same order; the sums may be reordered, e.g. with FMA). Relative 1e-4 is a fair
// bound: it is ~10x the whole float32 deviation from the exact value for w = 1.01 / 0.99 (8.8e-6 for y_1000,
// 8.7e-6 for dy/dw, mostly from rounding w itself to float32), yet far below the error of any wrong recurrence or
// gradient. A zero reference (w = 0.5: everything underflows in float32) must come out exactly 0.
const LINEAR_REL_TOL = 1e-4;

describe('seed examples (test/fixtures/seed)', () => {
  afterAll(() => {
    console.log(recorder.summary());
  });

  describe('lstm_memory.json: hand-wired LSTM memory cell', () => {
    const fx = loadJson<LstmMemoryFixture>(path.join(dir, 'lstm_memory.json'));
    const T = fx.input.shape[0];

    const checkMemoryRun = (caseLabel: string, y: Float32Array, hN: Tensor, cN: Tensor | undefined) => {
      const check = recorder.forCase(caseLabel);
      check.closeRelative(y, fx.expected.y.data, MEMORY_TOL, 1, 'y');
      const rounded = Array.from(y, (v) => Math.round(v) + 0); // + 0 turns -0 into 0
      expect.soft(rounded, `${caseLabel}: rounded y`).toEqual(fx.expected.yApprox);
      // Final states: h_T = y_T, c_T = expected.c at the last step.
      check.closeRelative(hN, [fx.expected.y.data[T - 1]], MEMORY_TOL, 1, 'hN');
      check.closeRelative(cN, [fx.expected.c.data[T - 1]], MEMORY_TOL, 1, 'cN');
    };

    it('torch-layout weights via loadStateDict, activations { gate: sigmoid, cell: identity, hidden: identity }', () => {
      const layer = new LSTM({
        inputSize: 3,
        hiddenSize: 1,
        activations: { gate: 'sigmoid', cell: 'identity', hidden: 'identity' },
      }) as unknown as RnnLayerLike;
      layer.loadStateDict(toTensorDict(fx.pytorch.weights), 'torch');
      const out = layer.forward(toTensor(fx.input));
      expect(out.output.shape, 'output shape').toEqual([T, 1, 1]);
      checkMemoryRun('lstm_memory (torch weights)', out.output.data, out.hN, out.cN);
    });

    it('LSTM.fromOnnx with activations Sigmoid, Affine(1,0), Affine(1,0)', () => {
      const o = fx.onnx;
      const layer = LSTM.fromOnnx(o.attributes as Parameters<typeof LSTM.fromOnnx>[0], {
        W: toTensor(o.inputs.W),
        R: toTensor(o.inputs.R),
        B: toTensor(o.inputs.B),
      }) as unknown as RnnLayerLike;
      const out = layer.forward(toTensor(o.inputs.X));
      expect(out.output.shape, 'output shape').toEqual([T, 1, 1]);
      checkMemoryRun('lstm_memory (onnx)', out.output.data, out.hN, out.cN);
      // The ONNX-shaped outputs too (Y [T, D, B, H]).
      const check = recorder.forCase('lstm_memory (onnx)');
      check.closeRelative(oursToOnnxY(out.output.data, T, 1, 1, 1), o.outputs.Y, MEMORY_TOL, 1, 'Y');
      check.closeRelative(out.hN, o.outputs.Y_h, MEMORY_TOL, 1, 'Y_h');
      check.closeRelative(out.cN, o.outputs.Y_c, MEMORY_TOL, 1, 'Y_c');
    });

    const tv = fx.pytorchTanhVariant;
    if (tv) {
      it('pytorchTanhVariant: same weights with the default (tanh) activations', () => {
        const layer = LSTM.fromTorch(
          { inputSize: 3, hiddenSize: 1 },
          toTensorDict(fx.pytorch.weights),
        ) as unknown as RnnLayerLike;
        const out = layer.forward(toTensor(fx.input));
        const check = recorder.forCase('lstm_memory (tanh variant)');
        check.close(out.output, tv.output, MEMORY_TOL, 'output');
        check.close(out.hN, tv.hN, MEMORY_TOL, 'hN');
        check.close(out.cN, tv.cN, MEMORY_TOL, 'cN');
      });
    }
  });

  describe('linear_rnn.json: h_t = w*h_{t-1} + x_t over 1000 steps', () => {
    const fx = loadJson<LinearRnnFixture>(path.join(dir, 'linear_rnn.json'));
    const T = fx.steps;

    for (const c of fx.cases) {
      it(`w = ${c.w}: y_1000 (forward) and dy_1000/dw (backward)`, () => {
        const label = `linear_rnn w=${c.w}`;
        const check = recorder.forCase(label);
        const layer = new RNN({
          inputSize: 1,
          hiddenSize: 1,
          nonlinearity: 'identity',
          bias: false,
        }) as unknown as RnnLayerLike;
        layer.loadStateDict(
          {
            weight_ih_l0: { shape: [1, 1], data: Float32Array.of(1) },
            weight_hh_l0: { shape: [1, 1], data: Float32Array.of(c.wFloat32) },
          },
          'torch',
        );
        const x = zeros([T, 1, 1]);
        x.data[0] = 1;
        const out = layer.forward(x, { training: true });
        expect(out.output.shape, `${label}: output shape`).toEqual([T, 1, 1]);
        const y = out.output.data[T - 1];
        expect.soft(out.hN.data[0], `${label}: hN equals output[T-1]`).toBe(y);

        const gradOutput = zeros([T, 1, 1]);
        gradOutput.data[T - 1] = 1;
        layer.backward({ gradOutput, gradHN: zeros([1, 1, 1]) });
        const gw = layer.stateDict('torch', { grad: true }).weight_hh_l0;
        expect(gw, `${label}: stateDict('torch', { grad: true }).weight_hh_l0`).toBeDefined();
        const dw = gw.data[0];

        // Against the float32 recurrence / BPTT values (relative 1e-4; exactly 0 when those are 0).
        check.closeRelative(Float32Array.of(y), [c.y1000.float32Recurrence], LINEAR_REL_TOL, 0, 'y1000');
        check.closeRelative(Float32Array.of(dw), [c.dy1000_dw.float32BPTT], LINEAR_REL_TOL, 0, 'dy1000_dw');
        // And, where float32 does not underflow, against the exact value (the same bound holds).
        if (c.y1000.float32Recurrence !== 0) {
          check.closeRelative(Float32Array.of(y), [c.y1000.float64], LINEAR_REL_TOL, 0, 'y1000 vs exact');
        }
        if (c.dy1000_dw.float32BPTT !== 0) {
          check.closeRelative(Float32Array.of(dw), [c.dy1000_dw.float64], LINEAR_REL_TOL, 0, 'dy1000_dw vs exact');
        }
      });
    }
  });
});
