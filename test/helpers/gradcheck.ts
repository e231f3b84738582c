// Central-difference gradient checker for the layer API (forward / backward / parameters / zeroGrad),
// plus the small deterministic utilities the layer tests share (PRNG, random tensors, bit comparison).
//
// The checked function is the scalar
//   loss = sum(output * gO) + sum(hN * gH) (+ sum(cN * gC) for LSTM)
// with fixed random gO/gH/gC, accumulated in float64 in JS. Its analytic gradient is exactly what
// backward({ gradOutput: gO, gradHN: gH, gradCN: gC }) returns (input, h0, c0) and accumulates into the
// parameter gradients. Numerically, each entry of every parameter (through the live `value` views), of x, h0
// and c0 is perturbed by +-eps and the loss re-evaluated with an inference forward.
//
// Everything is deterministic: the checker overwrites every parameter with values from its own seeded mulberry32,
// so the outcome does not depend on the implementation's initialiser.

import { tensor } from '../../lib/index';
import type { Recurrent, Tensor } from '../../lib/index';

/** mulberry32: tiny, fast, well-distributed 32-bit PRNG; returns floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Fills `arr` with U(lo, hi) draws from `rng`. */
export function fillUniform(arr: Float32Array, rng: () => number, lo = -1, hi = 1): Float32Array {
  for (let i = 0; i < arr.length; i++) arr[i] = lo + (hi - lo) * rng();
  return arr;
}

/** A tensor of the given shape with U(lo, hi) entries. */
export function randomTensor(rng: () => number, shape: number[], lo = -1, hi = 1): Tensor {
  return tensor(fillUniform(new Float32Array(numel(shape)), rng, lo, hi), shape);
}

/** Deep copy of a tensor (own shape array, own buffer). */
export function cloneTensor(t: Tensor): Tensor {
  return tensor(new Float32Array(t.data), [...t.shape]);
}

/** Index of the first element whose float32 bit pattern differs (or -1 when identical, lengths included). */
export function firstBitMismatch(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < ua.length; i++) if (ua[i] !== ub[i]) return i;
  return -1;
}

/** Describes the first bit-level difference between two tensors, or returns null when they are identical. */
export function describeBitDiff(a: Tensor, b: Tensor): string | null {
  if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) {
    return `shape [${a.shape.join(', ')}] vs [${b.shape.join(', ')}]`;
  }
  const i = firstBitMismatch(a.data, b.data);
  return i < 0 ? null : `first difference at flat index ${i}: ${a.data[i]} vs ${b.data[i]}`;
}

export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (Number.isNaN(d)) return NaN;
    if (d > m) m = d;
  }
  return m;
}

/** What the checker uses of a layer (LSTM, GRU and RNN all are one). */
export type LayerLike = Pick<Recurrent, 'forward' | 'backward' | 'parameters' | 'zeroGrad'>;

export interface GradCheckOptions {
  /** Sequence length, batch size, input features. */
  T: number;
  B: number;
  I: number;
  /** x is [B, T, I] instead of [T, B, I] (must match the layer's batchFirst). */
  batchFirst?: boolean;
  lengths?: number[];
  /** 'random' (default): h0/c0 ~ U(-0.5, 0.5); 'zero': zero tensors (still checked); 'none': not passed, not checked. */
  initialState?: 'random' | 'zero' | 'none';
  seed?: number;
  /**
   * Parameters are overwritten with U(-s, s), s = weightScale (default 0.5, i.e. 1/sqrt(4)): with I, H <= 4 and
   * inputs in (-1, 1) the gate pre-activations then have a standard deviation around 0.5, well inside the smooth,
   * non-saturated region of sigmoid/tanh. Raise it to push gates into a clip. A function gets the parameter name.
   */
  weightScale?: number | ((name: string) => number);
  /** Central-difference step (default 1e-2, see the tolerance comment in gradCheck). */
  eps?: number;
  /** Relative tolerance factor (default 2e-3): |num - ana| <= tol * max(1, max|ana| of that tensor). */
  tol?: number;
  /** At most this many entries per tensor are checked (a deterministic sample; default 60). */
  maxEntries?: number;
  /**
   * Entries whose numeric derivative is unstable (it changes between eps and eps/4 by more than tol/2 although
   * neither matches the analytic value) straddle a kink of a piecewise activation or clip; they are skipped.
   * At most max(1, maxKinkFraction * checked) entries of a tensor may be skipped (default 0.1) before that is a
   * failure too, so a broken implementation cannot hide behind the kink rule.
   */
  maxKinkFraction?: number;
}

export interface TensorCheck {
  name: string;
  checked: number;
  skippedKinks: number;
  /** max |analytic| over the whole tensor (the tolerance scale is max(1, this)). */
  maxAnalytic: number;
  maxError: number;
}

export interface GradCheckReport {
  /** Human-readable failure lines; empty when everything matches. */
  failures: string[];
  tensors: TensorCheck[];
  /** Loss at the unperturbed point, and the forward results of the training pass (for extra assertions). */
  loss: number;
  result: { output: Tensor; hN: Tensor; cN?: Tensor };
  /** The inputs the check used (restored to their unperturbed values), to re-run forward on another layer. */
  inputs: { x: Tensor; h0?: Tensor; c0?: Tensor; lengths?: number[] };
}

function dot(a: Float32Array, g: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * g[i];
  return s;
}

function sampleIndices(n: number, max: number, rng: () => number): number[] {
  const idx = Array.from({ length: n }, (_, i) => i);
  if (n <= max) return idx;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [idx[i], idx[j]] = [idx[j], idx[i]];
  }
  return idx.slice(0, max).sort((a, b) => a - b);
}

/**
 * Runs the gradient check and returns a report; assert `expect(report.failures).toEqual([])` so a failure
 * prints every offending tensor entry with its numeric and analytic values.
 */
export function gradCheck(make: () => LayerLike, opts: GradCheckOptions): GradCheckReport {
  const {
    T,
    B,
    I,
    batchFirst = false,
    lengths,
    initialState = 'random',
    seed = 1234,
    weightScale = 0.5,
    eps = 1e-2,
    tol = 2e-3,
    maxEntries = 60,
    maxKinkFraction = 0.1,
  } = opts;
  const rng = mulberry32(seed);
  const layer = make();
  const params = layer.parameters();
  for (const p of params) {
    const s = typeof weightScale === 'function' ? weightScale(p.name) : weightScale;
    fillUniform(p.value, rng, -s, s);
  }
  const x = randomTensor(rng, batchFirst ? [B, T, I] : [T, B, I]);

  // A first forward tells the state shapes ([L*D, B, Hout] and, for LSTM, [L*D, B, H]).
  const probe = layer.forward(x, lengths ? { lengths } : {});
  const isLstm = probe.cN !== undefined;
  const stateTensor = (shape: number[]): Tensor =>
    initialState === 'random' ? randomTensor(rng, shape, -0.5, 0.5) : tensor(new Float32Array(numel(shape)), shape);
  const h0 = initialState === 'none' ? undefined : stateTensor(probe.hN.shape);
  const c0 = initialState === 'none' || !isLstm ? undefined : stateTensor(probe.cN!.shape);
  const fwdOpts = () => {
    const o: { h0?: Tensor; c0?: Tensor; lengths?: number[] } = {};
    if (h0) o.h0 = h0;
    if (c0) o.c0 = c0;
    if (lengths) o.lengths = lengths;
    return o;
  };

  const gO = randomTensor(rng, [...probe.output.shape]);
  const gH = randomTensor(rng, [...probe.hN.shape]);
  const gC = isLstm ? randomTensor(rng, [...probe.cN!.shape]) : undefined;
  const lossOf = (r: { output: Tensor; hN: Tensor; cN?: Tensor }): number =>
    dot(r.output.data, gO.data) + dot(r.hN.data, gH.data) + (gC && r.cN ? dot(r.cN.data, gC.data) : 0);
  const loss = (): number => lossOf(layer.forward(x, fwdOpts()));

  const failures: string[] = [];

  // Analytic gradients.
  layer.zeroGrad();
  const result = layer.forward(x, { ...fwdOpts(), training: true });
  const trainLoss = lossOf(result);
  const grads = layer.backward(gC ? { gradOutput: gO, gradHN: gH, gradCN: gC } : { gradOutput: gO, gradHN: gH });
  const baseLoss = loss();
  // The inference pass (used for the numeric side) and the training pass must compute the same function.
  if (!(Math.abs(trainLoss - baseLoss) <= 1e-5 * Math.max(1, Math.abs(baseLoss)))) {
    failures.push(`training forward loss ${trainLoss} != inference forward loss ${baseLoss}`);
  }

  type Target = { name: string; data: Float32Array; ana: Float32Array };
  const targets: Target[] = [];
  for (const p of params) targets.push({ name: p.name, data: p.value, ana: new Float32Array(p.grad) });
  const shapeIs = (t: Tensor | undefined, shape: readonly number[]) =>
    !!t && t.shape.length === shape.length && t.shape.every((d, i) => d === shape[i]);
  if (!shapeIs(grads.input, x.shape)) {
    failures.push(`backward().input has shape [${grads.input?.shape}] instead of [${x.shape}]`);
  } else targets.push({ name: 'x', data: x.data, ana: new Float32Array(grads.input.data) });
  if (h0) {
    if (!shapeIs(grads.h0, h0.shape)) failures.push(`backward().h0 has shape [${grads.h0?.shape}] instead of [${h0.shape}]`);
    else targets.push({ name: 'h0', data: h0.data, ana: new Float32Array(grads.h0.data) });
  }
  if (c0) {
    if (!shapeIs(grads.c0, c0.shape)) failures.push(`backward().c0 has shape [${grads.c0?.shape}] instead of [${c0.shape}]`);
    else targets.push({ name: 'c0', data: c0.data, ana: new Float32Array(grads.c0!.data) });
  }

  // Central difference with the perturbation actually stored in float32 (orig +- eps is rounded), so the step
  // in the denominator is exact. The original float32 value is written back bit for bit.
  const central = (data: Float32Array, j: number, e: number): number => {
    const orig = data[j];
    data[j] = orig + e;
    const up = data[j] - orig;
    const lp = loss();
    data[j] = orig - e;
    const down = orig - data[j];
    const lm = loss();
    data[j] = orig;
    return (lp - lm) / (up + down);
  };

  // Tolerance. The forward runs in float32: each output carries a rounding error of a few 1e-7, so the float64
  // sum over the ~100 weighted outputs of these tiny cases is noisy by a few 1e-6, i.e. ~1e-4 after dividing by
  // 2*eps = 2e-2. The truncation error of the central difference is eps^2/6 * |d3L| ~ 1e-5 * |d3L| ~ 1e-4.
  // 2e-3 * max(1, max|ana|) leaves a 10x margin over both, while a wrong gate, a missing activation derivative or
  // a swapped gate block changes the affected gradient entries by a sizeable fraction of their O(0.1..1) values.
  const tensors: TensorCheck[] = [];
  for (const tg of targets) {
    const maxAna = maxAbs(tg.ana);
    const bound = tol * Math.max(1, maxAna);
    const idx = sampleIndices(tg.data.length, maxEntries, rng);
    let skipped = 0;
    let maxErr = 0;
    const bad: string[] = [];
    for (const j of idx) {
      const a = tg.ana[j];
      const n1 = central(tg.data, j, eps);
      let err = Math.abs(n1 - a);
      if (!(err <= bound)) {
        // Maybe a kink of a piecewise function lies within eps: a 4x smaller step usually avoids it.
        const n2 = central(tg.data, j, eps / 4);
        const err2 = Math.abs(n2 - a);
        if (err2 <= bound) err = err2;
        else if (Math.abs(n1 - n2) > bound / 2) {
          skipped++;
          continue;
        } else bad.push(`${tg.name}[${j}]: numeric ${n1.toPrecision(6)} (eps/4: ${n2.toPrecision(6)}) vs analytic ${a}`);
      }
      if (err > maxErr || Number.isNaN(err)) maxErr = err;
    }
    if (bad.length) {
      failures.push(`${tg.name}: ${bad.length}/${idx.length} entries off by more than ${bound.toExponential(2)}`);
      failures.push(...bad.slice(0, 8).map((s) => '  ' + s));
    }
    if (skipped > Math.max(1, maxKinkFraction * idx.length)) {
      failures.push(`${tg.name}: ${skipped}/${idx.length} entries have an unstable numeric derivative (too many kinks)`);
    }
    tensors.push({ name: tg.name, checked: idx.length - skipped, skippedKinks: skipped, maxAnalytic: maxAna, maxError: maxErr });
  }

  // Every perturbed value was restored: the loss must be bit-identical to the unperturbed one.
  const after = loss();
  if (after !== baseLoss) failures.push(`loss changed after the check (${baseLoss} -> ${after}): a value was not restored`);

  return { failures, tensors, loss: baseLoss, result, inputs: { x, ...fwdOpts() } };
}
