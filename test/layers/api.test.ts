// Public API behaviour that the numeric fixtures do not pin: tensor(), initialisation, parameter names and shapes,
// state dicts in the three layouts (round trips and gate-block permutations), gradient accumulation, live views,
// forwardAsync and info().

import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tensor, LSTM, GRU, RNN, info } from '../../lib/index';
import type { Tensor } from '../../lib/index';
import { mulberry32, randomTensor, describeBitDiff, maxAbs, maxAbsDiff, numel } from '../helpers/gradcheck';

type Layer = InstanceType<typeof LSTM> | InstanceType<typeof GRU> | InstanceType<typeof RNN>;
type Kind = 'lstm' | 'gru' | 'rnn';
type Dict = Record<string, Tensor>;
type Layout = 'torch' | 'onnx' | 'keras';

interface Cfg {
  kind: Kind;
  I: number;
  H: number;
  L?: number;
  bi?: boolean;
  P?: number;
  bias?: boolean;
  peephole?: boolean;
  resetAfter?: boolean;
}

const GATES: Record<Kind, number> = { lstm: 4, gru: 3, rnn: 1 };

function make(c: Cfg, seed = 1): Layer {
  const o: Record<string, unknown> = { inputSize: c.I, hiddenSize: c.H, numLayers: c.L ?? 1, bidirectional: !!c.bi, seed };
  if (c.bias === false) o.bias = false;
  if (c.kind === 'lstm') {
    if (c.P) o.projSize = c.P;
    if (c.peephole) o.peephole = true;
    return new LSTM(o as unknown as ConstructorParameters<typeof LSTM>[0]);
  }
  if (c.kind === 'gru') {
    if (c.resetAfter !== undefined) o.resetAfter = c.resetAfter;
    return new GRU(o as unknown as ConstructorParameters<typeof GRU>[0]);
  }
  return new RNN(o as unknown as ConstructorParameters<typeof RNN>[0]);
}

/** PyTorch state_dict names and shapes (plus our weight_peephole_l{k}[_reverse] [3H]). */
function torchShapes(c: Cfg): Record<string, number[]> {
  const G = GATES[c.kind];
  const L = c.L ?? 1;
  const D = c.bi ? 2 : 1;
  const Hout = c.P || c.H;
  const r: Record<string, number[]> = {};
  for (let k = 0; k < L; k++) {
    for (let d = 0; d < D; d++) {
      const s = `_l${k}${d ? '_reverse' : ''}`;
      const Ik = k === 0 ? c.I : D * Hout;
      r[`weight_ih${s}`] = [G * c.H, Ik];
      r[`weight_hh${s}`] = [G * c.H, Hout];
      if (c.bias !== false) {
        r[`bias_ih${s}`] = [G * c.H];
        r[`bias_hh${s}`] = [G * c.H];
      }
      if (c.P) r[`weight_hr${s}`] = [c.P, c.H];
      if (c.peephole) r[`weight_peephole${s}`] = [3 * c.H];
    }
  }
  return r;
}

function shapesOf(d: Dict): Record<string, number[]> {
  return Object.fromEntries(Object.entries(d).map(([k, v]) => [k, [...v.shape]]));
}

/** Asserts two dicts have the same keys, shapes and float32 bit patterns. */
function expectDictBits(actual: Dict, expected: Dict, what: string): void {
  expect(Object.keys(actual).sort(), `${what}: keys`).toEqual(Object.keys(expected).sort());
  for (const k of Object.keys(expected)) {
    expect(actual[k].data, `${what}: ${k} is a Float32Array`).toBeInstanceOf(Float32Array);
    expect(describeBitDiff(actual[k], expected[k]), `${what}: ${k}`).toBeNull();
  }
}

function cloneDict(d: Dict): Dict {
  return Object.fromEntries(Object.entries(d).map(([k, v]) => [k, tensor(new Float32Array(v.data), [...v.shape])]));
}

function xFor(c: Cfg, seed: number, T = 4, B = 2): Tensor {
  return randomTensor(mulberry32(seed), [T, B, c.I]);
}

describe('tensor()', () => {
  it('copies a plain array into a Float32Array with the given shape', () => {
    const src = [1, 2, 3, 4, 5, 0.1];
    const t = tensor(src, [2, 3]);
    expect(t.shape).toEqual([2, 3]);
    expect(t.data).toBeInstanceOf(Float32Array);
    expect(Array.from(t.data)).toEqual([1, 2, 3, 4, 5, Math.fround(0.1)]);
    src[0] = 99;
    expect(t.data[0]).toBe(1);
  });

  it('accepts a Float32Array', () => {
    const t = tensor(new Float32Array([1, 2, 3, 4, 5, 6]), [3, 2]);
    expect(t.shape).toEqual([3, 2]);
    expect(t.data).toBeInstanceOf(Float32Array);
    expect(Array.from(t.data)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('accepts rank 1 and rank 3 shapes', () => {
    expect(tensor([1, 2], [2]).shape).toEqual([2]);
    expect(tensor(new Float32Array(24), [2, 3, 4]).shape).toEqual([2, 3, 4]);
  });

  it('rejects a data length that does not match the shape', () => {
    expect(() => tensor([1, 2, 3, 4, 5], [2, 3])).toThrow(RangeError);
    expect(() => tensor([1, 2, 3, 4, 5], [2, 3])).toThrow(/Expected .* but received .*/);
    expect(() => tensor(new Float32Array(7), [2, 3])).toThrow(RangeError);
  });

  it('rejects negative or fractional dimensions', () => {
    expect(() => tensor([], [-1])).toThrow(RangeError);
    expect(() => tensor([1, 2, 3], [1.5, 2])).toThrow(RangeError);
  });
});

describe('default initialisation', () => {
  const cfgs: [string, Cfg][] = [
    ['LSTM', { kind: 'lstm', I: 5, H: 16, L: 2, bi: true }],
    ['LSTM projSize', { kind: 'lstm', I: 5, H: 16, P: 8 }],
    ['LSTM peephole', { kind: 'lstm', I: 5, H: 16, peephole: true }],
    ['GRU', { kind: 'gru', I: 5, H: 16, L: 2 }],
    ['RNN', { kind: 'rnn', I: 5, H: 16, bi: true }],
  ];
  for (const [name, c] of cfgs) {
    it(`${name}: every parameter in [-1/sqrt(H), 1/sqrt(H)] and spread over it`, () => {
      const bound = 1 / Math.sqrt(c.H);
      const layer = make(c, 123);
      for (const p of layer.parameters()) {
        const m = maxAbs(p.value);
        expect(m, `${p.name} max |w|`).toBeLessThanOrEqual(bound * (1 + 1e-6));
        if (p.name.startsWith('weight_peephole')) continue; // our own extension: any init inside the bound is fine
        if (p.value.length >= 64) {
          let lo = Infinity;
          let hi = -Infinity;
          let mean = 0;
          for (const v of p.value) {
            lo = Math.min(lo, v);
            hi = Math.max(hi, v);
            mean += v / p.value.length;
          }
          expect(hi, `${p.name} max`).toBeGreaterThan(0.8 * bound);
          expect(lo, `${p.name} min`).toBeLessThan(-0.8 * bound);
          expect(Math.abs(mean), `${p.name} mean`).toBeLessThan(0.25 * bound);
        }
      }
    });

    it(`${name}: the same seed reproduces the weights bit for bit, another seed does not`, () => {
      const a = make(c, 5).stateDict();
      const b = make(c, 5).stateDict();
      const other = make(c, 6).stateDict();
      expectDictBits(a, b, 'same seed');
      for (const k of Object.keys(a)) {
        if (a[k].data.length < 4) continue;
        expect(describeBitDiff(a[k], other[k]), `${k} differs with another seed`).not.toBeNull();
      }
    });
  }
});

describe('parameters() and stateDict() names and shapes match PyTorch', () => {
  const cfgs: [string, Cfg][] = [
    ['LSTM', { kind: 'lstm', I: 3, H: 5 }],
    ['LSTM projSize, bidirectional, 2 layers', { kind: 'lstm', I: 3, H: 5, P: 2, bi: true, L: 2 }],
    ['LSTM bidirectional 3 layers', { kind: 'lstm', I: 3, H: 5, bi: true, L: 3 }],
    ['LSTM bias=false', { kind: 'lstm', I: 3, H: 5, bias: false }],
    ['LSTM peephole bidirectional 2 layers', { kind: 'lstm', I: 3, H: 5, bi: true, L: 2, peephole: true }],
    ['GRU', { kind: 'gru', I: 3, H: 5 }],
    ['GRU bidirectional 2 layers', { kind: 'gru', I: 3, H: 5, bi: true, L: 2 }],
    ['GRU resetAfter=false bias=false', { kind: 'gru', I: 3, H: 5, bias: false, resetAfter: false }],
    ['RNN', { kind: 'rnn', I: 3, H: 5 }],
    ['RNN bidirectional 2 layers', { kind: 'rnn', I: 3, H: 5, bi: true, L: 2 }],
  ];
  for (const [name, c] of cfgs) {
    it(name, () => {
      const layer = make(c);
      const expected = torchShapes(c);
      const params = layer.parameters();
      expect(params.length).toBe(Object.keys(expected).length);
      const got: Record<string, number[]> = {};
      for (const p of params) {
        got[p.name] = [...p.shape];
        expect(p.value.length).toBe(numel(p.shape));
        expect(p.grad.length).toBe(numel(p.shape));
      }
      expect(got).toEqual(expected);
      expect(shapesOf(layer.stateDict())).toEqual(expected);
      expect(shapesOf(layer.stateDict('torch'))).toEqual(expected);
      expect(shapesOf(layer.stateDict('torch', { grad: true }))).toEqual(expected);
    });
  }
});

describe('live views and copies', () => {
  const c: Cfg = { kind: 'lstm', I: 3, H: 4, bi: true };

  it('writing through parameters()[i].value changes the next forward', () => {
    const layer = make(c, 1);
    const x = xFor(c, 10);
    const before = layer.forward(x).output;
    const w = layer.parameters().find((p) => p.name === 'weight_ih_l0')!;
    w.value[0] += 0.5;
    const after = layer.forward(x).output;
    expect(maxAbsDiff(before.data, after.data)).toBeGreaterThan(1e-4);
    // ... exactly as if the modified dict had been loaded into another layer.
    const twin = make(c, 2);
    twin.loadStateDict(layer.stateDict());
    expect(describeBitDiff(twin.forward(x).output, after)).toBeNull();
  });

  it('grad views obtained before backward() see the accumulated gradients', () => {
    const layer = make(c, 1);
    const params = layer.parameters();
    const x = xFor(c, 11);
    const r = layer.forward(x, { training: true });
    layer.backward({ gradOutput: tensor(new Float32Array(r.output.data.length).fill(1), [...r.output.shape]) });
    const g = layer.stateDict('torch', { grad: true });
    for (const p of params) expect(describeBitDiff({ shape: p.shape, data: p.grad }, g[p.name]), p.name).toBeNull();
    expect(maxAbs(g.weight_ih_l0.data)).toBeGreaterThan(0);
  });

  it('stateDict() returns copies', () => {
    const layer = make(c, 1);
    const d = layer.stateDict();
    const ref = cloneDict(d);
    for (const t of Object.values(d)) t.data.fill(7);
    expectDictBits(layer.stateDict(), ref, 'after mutating an exported dict');
  });

  it('loadStateDict() copies: mutating the loaded dict later does not change the layer', () => {
    const layer = make(c, 1);
    const d = cloneDict(make(c, 2).stateDict());
    layer.loadStateDict(d);
    const ref = cloneDict(d);
    for (const t of Object.values(d)) t.data.fill(7);
    expectDictBits(layer.stateDict(), ref, 'after mutating the loaded dict');
  });
});

// ---------------------------------------------------------------------------------------------------------------
// State dict layouts

const ROUND_TRIP: [string, Cfg, Layout[]][] = [
  ['LSTM bidirectional 2 layers', { kind: 'lstm', I: 3, H: 4, L: 2, bi: true }, ['torch', 'onnx', 'keras']],
  ['LSTM peephole bidirectional', { kind: 'lstm', I: 3, H: 4, bi: true, peephole: true }, ['torch', 'onnx']],
  ['LSTM projSize bidirectional 2 layers', { kind: 'lstm', I: 3, H: 4, P: 2, L: 2, bi: true }, ['torch']],
  ['LSTM bias=false', { kind: 'lstm', I: 3, H: 4, bias: false }, ['torch']],
  ['GRU resetAfter=true bidirectional 2 layers', { kind: 'gru', I: 3, H: 4, L: 2, bi: true, resetAfter: true }, ['torch', 'onnx', 'keras']],
  ['GRU resetAfter=false bidirectional 2 layers', { kind: 'gru', I: 3, H: 4, L: 2, bi: true, resetAfter: false }, ['torch', 'onnx', 'keras']],
  ['RNN bidirectional 2 layers', { kind: 'rnn', I: 3, H: 4, L: 2, bi: true }, ['torch', 'onnx', 'keras']],
];

describe('stateDict / loadStateDict round trips', () => {
  for (const [name, c, layouts] of ROUND_TRIP) {
    for (const layout of layouts) {
      it(`${name}: '${layout}' export -> load into a fresh layer -> export is bit-exact`, () => {
        const a = make(c, 1);
        // Non-trivial biases in both bias vectors (default init already is), distinct from the fresh layer's.
        const exported = a.stateDict(layout);
        const b = make(c, 2);
        b.loadStateDict(cloneDict(exported), layout);
        expectDictBits(b.stateDict(layout), exported, `re-exported '${layout}'`);

        const x = xFor(c, 20);
        const ya = a.forward(x);
        const yb = b.forward(x);
        // A Keras single bias is loaded as bias_ih = b_ih + b_hh, bias_hh = 0: same function, rounding may differ.
        const singleBias = layout === 'keras' && !(c.kind === 'gru' && c.resetAfter !== false);
        if (singleBias) {
          expect(maxAbsDiff(yb.output.data, ya.output.data)).toBeLessThanOrEqual(1e-6 * Math.max(1, maxAbs(ya.output.data)));
          expect(maxAbsDiff(yb.hN.data, ya.hN.data)).toBeLessThanOrEqual(1e-6 * Math.max(1, maxAbs(ya.hN.data)));
        } else {
          expect(describeBitDiff(yb.output, ya.output), 'output').toBeNull();
          expect(describeBitDiff(yb.hN, ya.hN), 'hN').toBeNull();
          if (ya.cN) expect(describeBitDiff(yb.cN!, ya.cN), 'cN').toBeNull();
          // Loading torch/onnx restores the very same parameters.
          expectDictBits(b.stateDict('torch'), a.stateDict('torch'), 'torch view after load');
        }
      });
    }
  }

  it("'onnx' export of an LSTM with projSize throws", () => {
    const layer = make({ kind: 'lstm', I: 3, H: 4, P: 2 });
    expect(() => layer.stateDict('onnx')).toThrow();
  });

  it('stateDict(layout, { grad: true }) exports the gradients in that layout', () => {
    const c: Cfg = { kind: 'gru', I: 3, H: 4, bi: true };
    const layer = make(c, 1);
    const r = layer.forward(xFor(c, 21), { training: true });
    layer.backward({ gradOutput: randomTensor(mulberry32(22), [...r.output.shape]) });
    // The gradient dict converts between layouts exactly like the weight dict.
    const gTorch = layer.stateDict('torch', { grad: true });
    const gOnnx = layer.stateDict('onnx', { grad: true });
    const probe = make(c, 3);
    probe.loadStateDict(gOnnx, 'onnx');
    expectDictBits(probe.stateDict('torch'), gTorch, 'onnx gradient dict loaded as weights');
  });
});

// Gate-block permutations. Every entry of the hand-made torch dict is distinct (tensor id * 1000 + flat index, exact
// in float32), so any misplaced block, transposition or swapped tensor/direction shows up.
const ONNX_PERM: Record<Kind, number[]> = { lstm: [0, 3, 1, 2], gru: [1, 0, 2], rnn: [0] }; // i,o,f,c / z,r,h from i,f,g,o / r,z,n
const KERAS_PERM: Record<Kind, number[]> = { lstm: [0, 1, 2, 3], gru: [1, 0, 2], rnn: [0] }; // i,f,c,o / z,r,h
const PEEP_ONNX_PERM = [0, 2, 1]; // torch-layout peephole i,f,o -> ONNX P i,o,f

function encodedTorchDict(c: Cfg): Dict {
  const shapes = torchShapes(c);
  const d: Dict = {};
  Object.keys(shapes).forEach((k, id) => {
    const n = numel(shapes[k]);
    const data = new Float32Array(n);
    for (let j = 0; j < n; j++) data[j] = (id + 1) * 1000 + j;
    d[k] = tensor(data, shapes[k]);
  });
  return d;
}

/** Rows of a [G*H, C] (or [G*H]) block matrix reordered so block g' is the source block perm[g']. */
function permuteBlocks(src: Float32Array, H: number, C: number, perm: number[]): Float32Array {
  const out = new Float32Array(src.length);
  perm.forEach((from, to) => out.set(src.subarray(from * H * C, (from + 1) * H * C), to * H * C));
  return out;
}

function transpose(src: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(src.length);
  for (let r = 0; r < rows; r++) for (let q = 0; q < cols; q++) out[q * rows + r] = src[r * cols + q];
  return out;
}

function expectedOnnx(c: Cfg, t: Dict): Dict {
  const G = GATES[c.kind];
  const D = c.bi ? 2 : 1;
  const H = c.H;
  const out: Dict = {};
  for (let k = 0; k < (c.L ?? 1); k++) {
    const sfx = k === 0 ? '' : `_l${k}`;
    const Ik = k === 0 ? c.I : D * H;
    const W = new Float32Array(D * G * H * Ik);
    const R = new Float32Array(D * G * H * H);
    const Bv = new Float32Array(D * 2 * G * H);
    const P = new Float32Array(D * 3 * H);
    for (let d = 0; d < D; d++) {
      const s = `_l${k}${d ? '_reverse' : ''}`;
      W.set(permuteBlocks(t[`weight_ih${s}`].data, H, Ik, ONNX_PERM[c.kind]), d * G * H * Ik);
      R.set(permuteBlocks(t[`weight_hh${s}`].data, H, H, ONNX_PERM[c.kind]), d * G * H * H);
      if (c.bias !== false) {
        Bv.set(permuteBlocks(t[`bias_ih${s}`].data, H, 1, ONNX_PERM[c.kind]), d * 2 * G * H);
        Bv.set(permuteBlocks(t[`bias_hh${s}`].data, H, 1, ONNX_PERM[c.kind]), d * 2 * G * H + G * H);
      }
      if (c.peephole) P.set(permuteBlocks(t[`weight_peephole${s}`].data, H, 1, PEEP_ONNX_PERM), d * 3 * H);
    }
    out[`W${sfx}`] = tensor(W, [D, G * H, Ik]);
    out[`R${sfx}`] = tensor(R, [D, G * H, H]);
    if (c.bias !== false) out[`B${sfx}`] = tensor(Bv, [D, 2 * G * H]);
    if (c.peephole) out[`P${sfx}`] = tensor(P, [D, 3 * H]);
  }
  return out;
}

function expectedKeras(c: Cfg, t: Dict): Dict {
  const G = GATES[c.kind];
  const D = c.bi ? 2 : 1;
  const H = c.H;
  const perm = KERAS_PERM[c.kind];
  const out: Dict = {};
  for (let k = 0; k < (c.L ?? 1); k++) {
    const Ik = k === 0 ? c.I : D * H;
    for (let d = 0; d < D; d++) {
      const s = `_l${k}${d ? '_reverse' : ''}`;
      out[`kernel${s}`] = tensor(transpose(permuteBlocks(t[`weight_ih${s}`].data, H, Ik, perm), G * H, Ik), [Ik, G * H]);
      out[`recurrent_kernel${s}`] = tensor(transpose(permuteBlocks(t[`weight_hh${s}`].data, H, H, perm), G * H, H), [H, G * H]);
      const bi = permuteBlocks(t[`bias_ih${s}`].data, H, 1, perm);
      const bh = permuteBlocks(t[`bias_hh${s}`].data, H, 1, perm);
      if (c.kind === 'gru' && c.resetAfter !== false) {
        const b2 = new Float32Array(2 * G * H);
        b2.set(bi, 0);
        b2.set(bh, G * H);
        out[`bias${s}`] = tensor(b2, [2, G * H]);
      } else {
        out[`bias${s}`] = tensor(bi.map((v, i) => v + bh[i]), [G * H]);
      }
    }
  }
  return out;
}

describe('cross-layout gate-block permutations', () => {
  const onnxCases: [string, Cfg][] = [
    ['LSTM bidirectional 2 layers (i,f,g,o -> i,o,f,c)', { kind: 'lstm', I: 3, H: 2, L: 2, bi: true }],
    ['LSTM peephole bidirectional (P: i,f,o -> i,o,f)', { kind: 'lstm', I: 3, H: 2, bi: true, peephole: true }],
    ['GRU resetAfter=true bidirectional 2 layers (r,z,n -> z,r,h)', { kind: 'gru', I: 3, H: 2, L: 2, bi: true, resetAfter: true }],
    ['GRU resetAfter=false', { kind: 'gru', I: 3, H: 2, resetAfter: false }],
    ['RNN bidirectional 2 layers', { kind: 'rnn', I: 3, H: 2, L: 2, bi: true }],
  ];
  for (const [name, c] of onnxCases) {
    it(`torch -> onnx: ${name}`, () => {
      const t = encodedTorchDict(c);
      const layer = make(c, 1);
      layer.loadStateDict(cloneDict(t), 'torch');
      expectDictBits(layer.stateDict('torch'), t, 'torch');
      const want = expectedOnnx(c, t);
      expectDictBits(layer.stateDict('onnx'), want, 'onnx');
      // And back: loading the ONNX dict reproduces the torch dict.
      const back = make(c, 2);
      back.loadStateDict(cloneDict(want), 'onnx');
      expectDictBits(back.stateDict('torch'), t, 'torch after loading onnx');
    });
  }

  const kerasCases: [string, Cfg][] = [
    ['LSTM bidirectional 2 layers (i,f,g,o -> i,f,c,o, transposed, biases summed)', { kind: 'lstm', I: 3, H: 2, L: 2, bi: true }],
    ['GRU resetAfter=true bidirectional 2 layers (r,z,n -> z,r,h, bias [2, 3H])', { kind: 'gru', I: 3, H: 2, L: 2, bi: true, resetAfter: true }],
    ['GRU resetAfter=false (bias summed)', { kind: 'gru', I: 3, H: 2, resetAfter: false }],
    ['RNN bidirectional', { kind: 'rnn', I: 3, H: 2, bi: true }],
  ];
  for (const [name, c] of kerasCases) {
    it(`torch -> keras: ${name}`, () => {
      const t = encodedTorchDict(c);
      const layer = make(c, 1);
      layer.loadStateDict(cloneDict(t), 'torch');
      const want = expectedKeras(c, t);
      expectDictBits(layer.stateDict('keras'), want, 'keras');
      const back = make(c, 2);
      back.loadStateDict(cloneDict(want), 'keras');
      const single = !(c.kind === 'gru' && c.resetAfter !== false);
      if (!single) {
        expectDictBits(back.stateDict('torch'), t, 'torch after loading keras');
      } else {
        // A single Keras bias goes entirely into bias_ih; bias_hh becomes 0.
        const expectTorch = cloneDict(t);
        for (const k of Object.keys(t)) {
          if (k.startsWith('bias_ih')) {
            const hh = t[k.replace('bias_ih', 'bias_hh')].data;
            expectTorch[k] = tensor(t[k].data.map((v, i) => v + hh[i]), [...t[k].shape]);
          } else if (k.startsWith('bias_hh')) {
            expectTorch[k] = tensor(new Float32Array(t[k].data.length), [...t[k].shape]);
          }
        }
        expectDictBits(back.stateDict('torch'), expectTorch, 'torch after loading keras');
      }
    });
  }

  it('onnx -> keras through a layer (LSTM bidirectional, 2 layers)', () => {
    const c: Cfg = { kind: 'lstm', I: 3, H: 2, L: 2, bi: true };
    const t = encodedTorchDict(c);
    const layer = make(c, 1);
    layer.loadStateDict(expectedOnnx(c, t), 'onnx');
    expectDictBits(layer.stateDict('keras'), expectedKeras(c, t), 'keras');
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('gradient accumulation', () => {
  for (const [name, c] of [
    ['LSTM bidirectional 2 layers', { kind: 'lstm', I: 3, H: 4, L: 2, bi: true }],
    ['GRU', { kind: 'gru', I: 3, H: 4 }],
    ['RNN', { kind: 'rnn', I: 3, H: 4, bi: true }],
  ] as [string, Cfg][]) {
    it(`${name}: two backward calls add up, zeroGrad() resets`, () => {
      const layer = make(c, 1);
      const rng = mulberry32(30);
      const x = randomTensor(rng, [4, 2, c.I]);
      const r0 = layer.forward(x, { training: true });
      const gO = randomTensor(rng, [...r0.output.shape]);
      const gH = randomTensor(rng, [...r0.hN.shape]);
      const grads = r0.cN ? { gradOutput: gO, gradHN: gH, gradCN: randomTensor(rng, [...r0.cN.shape]) } : { gradOutput: gO, gradHN: gH };

      layer.zeroGrad();
      for (const p of layer.parameters()) expect(maxAbs(p.grad), `${p.name} after zeroGrad`).toBe(0);
      const b1 = layer.backward(grads);
      const g1 = cloneDict(layer.stateDict('torch', { grad: true }));
      expect(Math.max(...Object.values(g1).map((t) => maxAbs(t.data)))).toBeGreaterThan(0);

      layer.forward(x, { training: true });
      const b2 = layer.backward(grads);
      const g2 = layer.stateDict('torch', { grad: true });
      for (const k of Object.keys(g1)) {
        const twice = g1[k].data.map((v) => 2 * v);
        expect(maxAbsDiff(g2[k].data, twice), `${k} after two backward calls`).toBeLessThanOrEqual(
          1e-6 * Math.max(1e-3, maxAbs(twice)),
        );
      }
      // Input and initial-state gradients are returned, not accumulated.
      expect(describeBitDiff(b2.input, b1.input)).toBeNull();
      expect(describeBitDiff(b2.h0, b1.h0)).toBeNull();

      layer.zeroGrad();
      for (const p of layer.parameters()) expect(maxAbs(p.grad), `${p.name} after zeroGrad`).toBe(0);
      layer.forward(x, { training: true });
      layer.backward(grads);
      expectDictBits(layer.stateDict('torch', { grad: true }), g1, 'gradients after zeroGrad + one backward');
    });
  }
});

describe('forwardAsync', () => {
  const cases: [string, Cfg, boolean][] = [
    ['LSTM bidirectional 2 layers with h0, c0 and lengths', { kind: 'lstm', I: 3, H: 4, L: 2, bi: true }, true],
    ['LSTM projSize', { kind: 'lstm', I: 3, H: 4, P: 3 }, false],
    ['GRU with lengths', { kind: 'gru', I: 3, H: 4, bi: true }, true],
    ['RNN', { kind: 'rnn', I: 3, H: 4 }, false],
  ];
  for (const [name, c, withState] of cases) {
    it(`${name}: bit-identical to forward`, async () => {
      const layer = make(c, 1);
      const rng = mulberry32(40);
      const T = 5;
      const B = 3;
      const x = randomTensor(rng, [T, B, c.I]);
      const S = (c.L ?? 1) * (c.bi ? 2 : 1);
      const opts: Record<string, unknown> = {};
      if (withState) {
        opts.h0 = randomTensor(rng, [S, B, c.P || c.H]);
        if (c.kind === 'lstm') opts.c0 = randomTensor(rng, [S, B, c.H]);
        opts.lengths = [5, 2, 4];
      }
      const sync = layer.forward(x, opts);
      const p = layer.forwardAsync(x, opts);
      expect(p).toBeInstanceOf(Promise);
      const res = await p;
      expect(describeBitDiff(res.output, sync.output), 'output').toBeNull();
      expect(describeBitDiff(res.hN, sync.hN), 'hN').toBeNull();
      if (sync.cN) expect(describeBitDiff(res.cN!, sync.cN), 'cN').toBeNull();
      else expect(res.cN).toBeUndefined();
    });
  }

  it('several concurrent calls on different layers all resolve to their forward results', async () => {
    const layers = [0, 1, 2, 3].map((s) => make({ kind: 'lstm', I: 3, H: 8 }, s + 1));
    const x = randomTensor(mulberry32(41), [6, 2, 3]);
    const outs = await Promise.all(layers.map((l) => l.forwardAsync(x)));
    outs.forEach((o, i) => expect(describeBitDiff(o.output, layers[i].forward(x).output)).toBeNull());
  });
});

describe('info()', () => {
  it('returns { version, isa, threads }', () => {
    const i = info();
    expect(typeof i.version).toBe('string');
    expect(i.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(['avx512', 'avx2', 'neon', 'scalar']).toContain(i.isa);
    expect(Number.isInteger(i.threads)).toBe(true);
    expect(i.threads).toBeGreaterThanOrEqual(1);
  });

  it('build says whether the addon loaded is a shipped prebuild (prebuilds/) or built here', () => {
    const i = info();
    expect(i.build).toBe(/[/\\]prebuilds[/\\]/.test(i.addon) ? 'prebuild' : 'source');
    expect(i.addon).toMatch(/\.node$/);
  });

  it("version is the package's version", () => {
    const pkg = JSON.parse(readFileSync(fileURLToPath(new URL('../../package.json', import.meta.url)), 'utf8'));
    expect(info().version).toBe(pkg.version);
  });
});
