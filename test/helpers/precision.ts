// Shared by the reduced-precision suites (test/layers/precision.test.ts for bf16,
// test/layers/int8.test.ts): the torch fixtures' layers in both GRU forms, their forward
// options, and the error measure the bounds are stated in.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { expect, it } from 'vitest';
import { GRU, LSTM, RNN, setNumThreads } from '../../lib/index';
import type { Recurrent } from '../../lib/layers/recurrent/recurrent';
import type { PrecisionsInfo } from '../../lib/native';
import { caseName, fixturesDir, listJsonFiles, loadJson, toTensor, toTensorDict, type Tensor, type TorchFixture } from './fixtures';

/** The fixture's layer with torch's weights. */
export function fromFixture(fx: TorchFixture): Recurrent {
  const common = { inputSize: fx.inputSize, hiddenSize: fx.hiddenSize, numLayers: fx.numLayers, bidirectional: fx.bidirectional, bias: fx.bias };
  const w = toTensorDict(fx.weights);
  switch (fx.cell) {
    case 'lstm': return LSTM.fromTorch({ ...common, projSize: fx.projSize }, w);
    case 'gru': return GRU.fromTorch(common, w);
    case 'rnn_tanh': return RNN.fromTorch(common, w);
    case 'rnn_relu': return RNN.fromTorch({ ...common, nonlinearity: 'relu' }, w);
  }
}

/** The fixture's layer, and for a GRU file a reset-before GRU with the same weights too. */
export function fixtureForms(fx: TorchFixture, file: string): [string, () => Recurrent][] {
  const forms: [string, () => Recurrent][] = [[caseName(file), () => fromFixture(fx)]];
  if (fx.cell === 'gru') {
    forms.push([`${caseName(file)} (reset before)`, () => {
      const rb = new GRU({ inputSize: fx.inputSize, hiddenSize: fx.hiddenSize, numLayers: fx.numLayers,
        bidirectional: fx.bidirectional, bias: fx.bias, resetAfter: false });
      rb.weights.set(fromFixture(fx).weights);  // the same flat layout
      rb.weightsChanged();
      return rb;
    }]);
  }
  return forms;
}

/** The fixture's initial states and lengths as forward options. */
export function fixtureForwardOptions(fx: TorchFixture): { h0?: Tensor; c0?: Tensor; lengths?: number[] } {
  const opts: { h0?: Tensor; c0?: Tensor; lengths?: number[] } = {};
  if (fx.h0) opts.h0 = toTensor(fx.h0);
  if (fx.c0) opts.c0 = toTensor(fx.c0);
  if (fx.lengths) opts.lengths = [...fx.lengths];
  return opts;
}

/** Largest |reduced - fp32| over elements with |fp32| <= 1, and relative to |fp32| above that. */
export function worstError(reduced: Float32Array, fp32: Float32Array): number {
  let worst = 0;
  for (let i = 0; i < fp32.length; i++) worst = Math.max(worst, Math.abs(reduced[i] - fp32[i]) / Math.max(1, Math.abs(fp32[i])));
  return worst;
}

/** A digest of an array's bits (to compare runs in other processes). */
export const hash = (a: Float32Array): string => createHash('sha1').update(Buffer.from(a.buffer, a.byteOffset, a.byteLength)).digest('hex');

/**
 * Inside a describe(): a test per torch fixture (GRU files in both forms) that the layer's
 * forward in `precision` is within `bound` of fp32 (output, hN, cN; worstError), is not fp32's
 * bits (really the reduced products), and gives the same bits on 2 threads and forwardAsync.
 * Returns the worst error of each fixture, filled in as the tests run (for an afterAll summary).
 */
export function fixtureAgreementTests(precision: 'bf16' | 'int8', bound: number): [string, number][] {
  const dir = fixturesDir('torch');
  const files = listJsonFiles(dir);
  const seen: [string, number][] = [];
  it('has the torch fixtures', () => expect(files.length).toBeGreaterThan(0));
  for (const file of files) {
    const fx = loadJson<TorchFixture>(path.join(dir, file));
    for (const [name, make] of fixtureForms(fx, file)) {
      it(`${name}: within ${bound} of fp32, the same for 1 and 2 threads, forwardAsync alike`, async () => {
        const layer = make();
        const opts = fixtureForwardOptions(fx);
        const x = toTensor(fx.input);
        const f32 = layer.forward(x, opts);
        layer.setPrecision(precision);
        const low = layer.forward(x, opts);
        const worst = Math.max(worstError(low.output.data, f32.output.data), worstError(low.hN.data, f32.hN.data),
          f32.cN ? worstError(low.cN!.data, f32.cN.data) : 0);
        seen.push([name, worst]);
        expect(worst).toBeLessThanOrEqual(bound);
        expect(hash(low.output.data)).not.toBe(hash(f32.output.data));
        setNumThreads(2);
        try {
          const two = layer.forward(x, opts);
          const both = await layer.forwardAsync(x, opts);
          for (const r of [two, both]) {
            expect(hash(r.output.data)).toBe(hash(low.output.data));
            expect(hash(r.hN.data)).toBe(hash(low.hN.data));
          }
        } finally {
          setNumThreads(1);
        }
      });
    }
  }
  return seen;
}

/**
 * Whole forwards in `precision` of five layers (bidirectional LSTM, LSTM with projection, 2-layer
 * GRU reset-after, GRU reset-before, RNN; lengths given) in a child process with FUSED_RNN_ISA =
 * `isa`: a digest of each layer's outputs, and that process's info().precisions.
 */
export function forwardDigestsUnderIsa(precision: 'bf16' | 'int8', isa: string): { digests: Record<string, string>; precisions: PrecisionsInfo } {
  const lib = JSON.stringify(path.resolve(__dirname, '../../lib/index'));
  const script = `
    const { LSTM, GRU, RNN, info, tensor } = require(${lib});
    const { createHash } = require('node:crypto');
    const digests = {};
    const x = tensor(new Float32Array(9 * 6 * 30).map((_, i) => Math.sin(i * 0.37)), [9, 6, 30]);
    for (const [name, L] of [['lstm', new LSTM({ inputSize: 30, hiddenSize: 64, seed: 1, bidirectional: true })],
        ['lstmp', new LSTM({ inputSize: 30, hiddenSize: 64, projSize: 24, seed: 1 })],
        ['gru_ra', new GRU({ inputSize: 30, hiddenSize: 96, seed: 1, numLayers: 2 })],
        ['gru_rb', new GRU({ inputSize: 30, hiddenSize: 96, seed: 1, resetAfter: false })],
        ['rnn', new RNN({ inputSize: 30, hiddenSize: 33, seed: 1 })]]) {
      L.setPrecision(${JSON.stringify(precision)});
      const r = L.forward(x, { lengths: [9, 3, 1, 9, 5, 7] });
      digests[name] = createHash('sha1').update(Buffer.from(r.output.data.buffer)).update(Buffer.from(r.hN.data.buffer)).digest('hex');
    }
    console.log(JSON.stringify({ digests, precisions: info().precisions }));`;
  const r = spawnSync(process.execPath, ['-r', path.resolve(__dirname, 'ts-register.cjs'), '-e', script],
    { env: { ...process.env, FUSED_RNN_ISA: isa }, encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`FUSED_RNN_ISA=${isa} forwards failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as { digests: Record<string, string>; precisions: PrecisionsInfo };
}
