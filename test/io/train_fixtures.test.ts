// Sanity checks of the PyTorch training fixtures in test/fixtures/train/ (format: its README.md): the files
// load, every tensor's shape matches its data and the config, numbers are finite, and training did reduce
// the loss. The parity test against this package's training comes separately.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

const DIR = path.join(__dirname, '..', 'fixtures', 'train');
const NAMES = ['0.weight_ih_l0', '0.weight_hh_l0', '0.bias_ih_l0', '0.bias_hh_l0', '1.weight', '1.bias'];

interface FT { shape: number[]; data: number[] }
type Dict = Record<string, FT>;
interface Layer { type: string; inputSize: number; hiddenSize: number; inFeatures: number; outFeatures: number }
interface Config {
  name: string;
  model: { layers: [Layer, Layer]; mode: 'many-to-many' | 'many-to-one' };
  optimizer: { type: 'sgd' | 'adam'; lr: number };
  clipGradNorm: { maxNorm: number } | null;
  data: { T: number; B: number; numBatches: number };
  steps: number;
  clippedSteps: number;
}
interface Batch { x: FT; y?: FT; targets?: FT; lengths?: number[] }
interface TrainFixture {
  config: Config; init: Dict; batches: Batch[]; losses: number[]; gradNorms: number[];
  firstStep: { loss: number; gradNorm: number; grads: Dict; params: Dict }; final: Dict;
}
interface TbpttFixture {
  config: Config; init: Dict; batches: Batch[];
  accumulated: { chunkLength: number; batch: number; losses: number[]; grads: Dict };
  full: { chunkLength: number; batch: number; loss: number; grads: Dict };
  sgd: { chunkLength: number; losses: number[]; final: Dict };
  stateful: { chunkLength: number; losses: number[]; final: Dict };
}

function load<T>(name: string): T {
  return JSON.parse(fs.readFileSync(path.join(DIR, name), 'utf8')) as T;
}

function checkTensor(what: string, t: FT, shape: number[]): void {
  expect(t.shape, `${what} shape`).toEqual(shape);
  expect(t.data.length, `${what} length`).toBe(shape.reduce((a, b) => a * b, 1));
  for (const v of t.data) {
    if (!Number.isFinite(v)) expect.fail(`${what} holds ${v}`);
  }
}

function expectedShapes(cfg: Config): Record<string, number[]> {
  const [rnn, lin] = cfg.model.layers;
  const G = { lstm: 4, gru: 3 }[rnn.type as 'lstm' | 'gru'] * rnn.hiddenSize;
  expect(lin.inFeatures).toBe(rnn.hiddenSize);
  return {
    '0.weight_ih_l0': [G, rnn.inputSize], '0.weight_hh_l0': [G, rnn.hiddenSize], '0.bias_ih_l0': [G], '0.bias_hh_l0': [G],
    '1.weight': [lin.outFeatures, lin.inFeatures], '1.bias': [lin.outFeatures],
  };
}

function checkDict(what: string, d: Dict, cfg: Config): void {
  const shapes = expectedShapes(cfg);
  expect(Object.keys(d), what).toEqual(NAMES);
  for (const k of NAMES) checkTensor(`${what}.${k}`, d[k], shapes[k]);
}

function checkBatches(f: { config: Config; batches: Batch[] }, count: number): void {
  const { T, B } = f.config.data;
  const [rnn, lin] = f.config.model.layers;
  expect(f.batches.length).toBe(count);
  f.batches.forEach((b, i) => {
    checkTensor(`batches[${i}].x`, b.x, [T, B, rnn.inputSize]);
    if (f.config.model.mode === 'many-to-many') {
      checkTensor(`batches[${i}].y`, b.y!, [T, B, lin.outFeatures]);
    } else {
      checkTensor(`batches[${i}].targets`, b.targets!, [B]);
      for (const c of b.targets!.data) expect(Number.isInteger(c) && c >= 0 && c < lin.outFeatures).toBe(true);
      expect(b.lengths!.length).toBe(B);
      for (const n of b.lengths!) expect(Number.isInteger(n) && n >= 3 && n <= T).toBe(true);
      expect(Math.max(...b.lengths!)).toBe(T);
    }
  });
}

const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;

describe.each(['lstm_sgd', 'lstm_adam', 'gru_sgd', 'gru_adam'])('%s.json', (name) => {
  const f = load<TrainFixture>(`${name}.json`);

  it('has consistent shapes and finite numbers', () => {
    expect(f.config.name).toBe(name);
    expect(f.config.model.layers[0].type).toBe(name.split('_')[0]);
    expect(f.config.optimizer.type).toBe(name.split('_')[1]);
    checkDict('init', f.init, f.config);
    checkDict('final', f.final, f.config);
    checkDict('firstStep.grads', f.firstStep.grads, f.config);
    checkDict('firstStep.params', f.firstStep.params, f.config);
    checkBatches(f, 5);
  });

  it('records 50 losses and pre-clip gradient norms, and the loss goes down', () => {
    expect(f.config.steps).toBe(50);
    expect(f.losses.length).toBe(50);
    expect(f.gradNorms.length).toBe(50);
    for (const v of [...f.losses, ...f.gradNorms]) expect(Number.isFinite(v) && v > 0).toBe(true);
    expect(f.firstStep.loss).toBe(f.losses[0]);
    expect(f.firstStep.gradNorm).toBe(f.gradNorms[0]);
    expect(f.config.clippedSteps).toBe(f.gradNorms.filter((g) => g > f.config.clipGradNorm!.maxNorm).length);
    // The same batch (every 5th step) comes back with a lower loss, and the last steps beat the first.
    expect(mean(f.losses.slice(-5))).toBeLessThan(mean(f.losses.slice(0, 5)));
    for (let b = 0; b < 5; b++) expect(f.losses[45 + b], `batch ${b}`).toBeLessThan(f.losses[b]);
    // The recorded norm is the norm of the recorded gradients.
    const norm = Math.sqrt(NAMES.reduce((s, k) => s + f.firstStep.grads[k].data.reduce((a, v) => a + v * v, 0), 0));
    expect(Math.abs(norm - f.gradNorms[0]) / norm).toBeLessThan(1e-5);
    expect(f.final['0.weight_hh_l0'].data).not.toEqual(f.init['0.weight_hh_l0'].data);
  });
});

describe('lstm_tbptt.json', () => {
  const f = load<TbpttFixture>('lstm_tbptt.json');

  it('has consistent shapes and finite numbers', () => {
    checkDict('init', f.init, f.config);
    checkBatches(f, 3);
    checkDict('accumulated.grads', f.accumulated.grads, f.config);
    checkDict('full.grads', f.full.grads, f.config);
    checkDict('sgd.final', f.sgd.final, f.config);
    checkDict('stateful.final', f.stateful.final, f.config);
    expect(f.accumulated.chunkLength).toBe(4);
    expect(f.full.chunkLength).toBe(12);
  });

  it('chunk losses are consistent between the parts', () => {
    expect(f.accumulated.losses.length).toBe(3);
    expect(f.sgd.losses.length).toBe(9);
    expect(f.stateful.losses.length).toBe(9);
    // Detaching does not change the forward pass: the chunk losses average to the full-sequence loss...
    expect(Math.abs(mean(f.accumulated.losses) - f.full.loss)).toBeLessThan(1e-6);
    // ...but it does change the gradients.
    expect(f.accumulated.grads['0.weight_hh_l0'].data).not.toEqual(f.full.grads['0.weight_hh_l0'].data);
    // The first chunk is the same everywhere; sgd and stateful agree on batch 0 and then part ways.
    expect(f.sgd.losses[0]).toBe(f.accumulated.losses[0]);
    expect(f.sgd.losses.slice(0, 3)).toEqual(f.stateful.losses.slice(0, 3));
    expect(f.sgd.losses[3]).not.toBe(f.stateful.losses[3]);
    expect(f.sgd.final['1.weight'].data).not.toEqual(f.stateful.final['1.weight'].data);
  });
});
