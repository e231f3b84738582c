// PyTorch parity: forward results and every gradient against float64 PyTorch references.
//
// Data: test/fixtures/torch/*.json (a copy of /work/shared/fixtures/torch; see its README.md). Each file is one
// torch.nn.LSTM / GRU / RNN run (multi-layer, bidirectional, projection, no-bias, packed variable lengths),
// computed in float64 by PyTorch 1.13 from float32-exact inputs, with random upstream gradients.
//
// For each case (one `it` per file) this checks:
//   - LSTM/GRU/RNN.fromTorch(config, weights) loads the state_dict, and layer.stateDict('torch') gives it back
//     bit-exactly (same names, shapes and bits);
//   - forward(input, { h0, c0, lengths, training: true }): output, hN, cN;
//   - backward({ gradOutput, gradHN, gradCN }): grads.input, grads.h0 / grads.c0 (when the file has an initial
//     state) and every weight gradient read via layer.stateDict('torch', { grad: true }).
// Tolerance (README "Recommended check"): per tensor, max|got - ref| <= 1e-5 * max(1, max|ref|). PyTorch's own
// float32 run stays within 3.2e-7 of the reference on this measure.
import * as path from 'node:path';
import { describe, it, expect, afterAll } from 'vitest';
import { LSTM, GRU, RNN } from '../../lib/index';
import {
  ErrorRecorder,
  type FixtureTensor,
  type RnnLayerLike,
  type Tensor,
  caseName,
  fixturesDir,
  listJsonFiles,
  loadJson,
  toTensor,
  toTensorDict,
  type TorchFixture,
} from '../helpers/fixtures';


const TOL = 1e-5;
const dir = fixturesDir('torch');
const files = listJsonFiles(dir);
const recorder = new ErrorRecorder('torch fixtures');

// The structural RnnLayerLike view keeps this file independent of how lib names its option/result types.
function build(fx: TorchFixture, weights: Record<string, Tensor>): RnnLayerLike {
  return buildLayer(fx, weights) as unknown as RnnLayerLike;
}

function buildLayer(fx: TorchFixture, weights: Record<string, Tensor>) {
  const common = {
    inputSize: fx.inputSize,
    hiddenSize: fx.hiddenSize,
    numLayers: fx.numLayers,
    bidirectional: fx.bidirectional,
    bias: fx.bias,
  };
  switch (fx.cell) {
    case 'lstm':
      return LSTM.fromTorch({ ...common, projSize: fx.projSize }, weights);
    case 'gru':
      return GRU.fromTorch(common, weights);
    case 'rnn_tanh':
      // nonlinearity left out on purpose: 'tanh' is the documented default.
      return RNN.fromTorch(common, weights);
    case 'rnn_relu':
      return RNN.fromTorch({ ...common, nonlinearity: 'relu' }, weights);
    default:
      throw new Error(`unknown cell ${String((fx as { cell: unknown }).cell)}`);
  }
}

describe('PyTorch parity (test/fixtures/torch)', () => {
  afterAll(() => {
    console.log(recorder.summary());
  });

  it('fixture folder test/fixtures/torch holds the cases', () => {
    expect(files.length, `no *.json in ${dir}`).toBeGreaterThan(0);
  });

  for (const file of files) {
    const name = caseName(file);
    it(name, () => {
      const fx = loadJson<TorchFixture>(path.join(dir, file));
      const check = recorder.forCase(name);
      const isLstm = fx.cell === 'lstm';

      // Build from the PyTorch state_dict; the torch-layout state dict must round-trip bit-exactly.
      const layer = build(fx, toTensorDict(fx.weights));
      const sd = layer.stateDict('torch');
      expect.soft(Object.keys(sd).sort(), `${name}: stateDict('torch') names`).toEqual(Object.keys(fx.weights).sort());
      for (const [wname, w] of Object.entries(fx.weights)) check.bitExact(sd[wname], w, `stateDict.${wname}`);

      // Forward.
      const fwdOpts: { h0?: Tensor; c0?: Tensor; lengths?: number[]; training: boolean } = { training: true };
      if (fx.h0) fwdOpts.h0 = toTensor(fx.h0);
      if (fx.c0) fwdOpts.c0 = toTensor(fx.c0);
      if (fx.lengths) fwdOpts.lengths = [...fx.lengths];
      const out = layer.forward(toTensor(fx.input), fwdOpts);
      check.close(out.output, fx.output, TOL, 'output');
      check.close(out.hN, fx.hN, TOL, 'hN');
      if (isLstm && fx.cN) check.close(out.cN, fx.cN, TOL, 'cN');

      // Backward seeded with dL/d(output), dL/d(hN), dL/d(cN).
      const seed: { gradOutput: Tensor; gradHN: Tensor; gradCN?: Tensor } = {
        gradOutput: toTensor(fx.gradOutput),
        gradHN: toTensor(fx.gradHN),
      };
      if (isLstm && fx.gradCN) seed.gradCN = toTensor(fx.gradCN);
      const g = layer.backward(seed);
      check.close(g.input, fx.grads.input, TOL, 'grads.input');
      if (fx.grads.h0) check.close(g.h0, fx.grads.h0, TOL, 'grads.h0');
      if (fx.grads.c0) check.close(g.c0, fx.grads.c0, TOL, 'grads.c0');

      // Every weight gradient, by its PyTorch name.
      const gd = layer.stateDict('torch', { grad: true });
      expect
        .soft(Object.keys(gd).sort(), `${name}: stateDict('torch', { grad: true }) names`)
        .toEqual(Object.keys(fx.weights).sort());
      for (const wname of Object.keys(fx.weights)) {
        const ref = fx.grads[wname];
        expect(ref, `${name}: fixture lacks grads.${wname}`).toBeDefined();
        check.close(gd[wname], ref, TOL, `grads.${wname}`);
      }
    });
  }
});
