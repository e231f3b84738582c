// Losses over a model's output: the value (mean over valid elements) and dL/d(output).
// Sequences are masked by their lengths: steps past a sequence's end add nothing.
import { checkBoolean, checkNumbers, checkOneOf, invalidArg, invalidType, ownOptions } from '../internal/check';
import { checkTensorRank, type Tensor } from '../tensor';
import { native } from '../native';
import type { Flow } from '../layers/layer';

export type LossName = 'mse' | 'mae' | 'huber' | 'crossEntropy' | 'binaryCrossEntropy';
/**
 * A loss by name, or an object with its options: `{ name: 'huber', delta }` (delta default 1, as
 * PyTorch's HuberLoss); `{ name: 'crossEntropy' | 'binaryCrossEntropy', fromLogits: false }` takes
 * the model's output as probabilities (a last Dense with activation 'softmax' / 'sigmoid', as
 * Keras' from_logits=False, clipped to [1e-7, 1 - 1e-7]) instead of logits (the default, as PyTorch).
 */
export type LossSpec = LossName | {
  name: LossName;
  /** huber: where the loss turns from quadratic to linear.
   * @defaultValue 1 */
  delta?: number;
  /** crossEntropy, binaryCrossEntropy: false takes probabilities (after softmax / sigmoid).
   * @defaultValue true */
  fromLogits?: boolean;
};

export interface LossResult {
  /** Mean over valid elements (rows for crossEntropy). */
  loss: number;
  /** dLoss/d(output), same shape as the output. */
  grad: Float32Array;
  /** Correct / counted (classification losses only). */
  correct: number;
  counted: number;
}

export interface Loss {
  readonly name: LossName;
  /** Classification losses: whether the output is logits (true) or probabilities. */
  readonly fromLogits: boolean;
  /** 'classes': one integer id per output row (crossEntropy); 'values': one target per output element. */
  readonly targets: 'classes' | 'values';
  readonly hasAccuracy: boolean;
  compute(output: Flow, target: Float32Array): LossResult;
  /** compute() in slices, yielding to the event loop between them (big outputs: an LM's vocabulary). */
  computeAsync(output: Flow, target: Float32Array): Promise<LossResult>;
}

const NAMES = ['mse', 'mae', 'huber', 'crossEntropy', 'binaryCrossEntropy'] as const;

export function resolveLoss(spec: unknown): Loss {
  if (typeof spec === 'string') return makeLoss(checkOneOf('loss', spec, NAMES), 1);
  const s = ownOptions<{ name: unknown; delta?: unknown; fromLogits?: unknown }>('loss', spec, ['name', 'delta', 'fromLogits'],
    `one of ${NAMES.join(', ')} or { name, delta?, fromLogits? }`);
  const name = checkOneOf('loss.name', s.name, NAMES);
  const delta = s.delta ?? 1;
  if (typeof delta !== 'number' || !(delta > 0) || !Number.isFinite(delta)) throw invalidArg('loss.delta', 'a positive number', delta);
  if (s.delta !== undefined && name !== 'huber') throw invalidArg('loss.delta', "undefined (only 'huber' has a delta)", s.delta);
  const fromLogits = checkBoolean('loss.fromLogits', s.fromLogits ?? true);
  if (!fromLogits && name !== 'crossEntropy' && name !== 'binaryCrossEntropy') {
    throw invalidArg('loss.fromLogits', "true or undefined (only 'crossEntropy' and 'binaryCrossEntropy' take probabilities)", false);
  }
  return fromLogits ? makeLoss(name, delta) : fromProbabilities(name as 'crossEntropy' | 'binaryCrossEntropy');
}

/** Which output rows count: all, or (sequences) those before each sequence's end. */
export function rowMask(output: Flow): { rows: number; valid: (r: number) => boolean; validRows: number } {
  const F = output.shape[output.shape.length - 1];
  const rows = output.data.length / F;
  const lengths = output.lengths;
  if (!lengths || output.shape.length !== 3) return { rows, valid: () => true, validRows: rows };
  const B = output.shape[1];
  let validRows = 0;
  for (let b = 0; b < B; b++) validRows += lengths[b];
  return { rows, valid: (r) => Math.floor(r / B) < lengths[r % B], validRows };
}

/** Running sums over the rows done so far. */
interface Sums { loss: number; correct: number }

/**
 * A loss = a per-row kernel over [r0, r1): adds each valid row's loss to sums and writes its
 * gradient (already divided by `count`, the number of terms of the mean).
 */
interface RowKernel {
  name: LossName;
  /** false: the output rows are probabilities (default true). */
  fromLogits?: boolean;
  targets: 'classes' | 'values';
  hasAccuracy: boolean;
  /** Terms of the mean: valid elements, or valid rows for crossEntropy. */
  count(validRows: number, F: number): number;
  rows(out: Float32Array, target: Float32Array, F: number, r0: number, r1: number, valid: (r: number) => boolean,
    count: number, grad: Float32Array, sums: Sums): void;
}

/** Elements per slice of computeAsync (about 1 ms of work between yields). */
const SLICE = 1 << 18;

function fromKernel(k: RowKernel): Loss {
  const setup = (output: Flow) => {
    const F = output.shape[output.shape.length - 1];
    const { rows, valid, validRows } = rowMask(output);
    return { F, rows, valid, count: k.count(validRows, F), grad: new Float32Array(output.data.length), sums: { loss: 0, correct: 0 } };
  };
  const result = (c: ReturnType<typeof setup>): LossResult => ({
    loss: c.sums.loss / c.count, grad: c.grad, correct: c.sums.correct, counted: k.hasAccuracy ? c.count : 0,
  });
  return {
    name: k.name, targets: k.targets, hasAccuracy: k.hasAccuracy, fromLogits: k.fromLogits ?? true,
    compute(output, target) {
      const c = setup(output);
      k.rows(output.data, target, c.F, 0, c.rows, c.valid, c.count, c.grad, c.sums);
      return result(c);
    },
    async computeAsync(output, target) {
      const c = setup(output);
      const step = Math.max(1, Math.floor(SLICE / c.F));
      for (let r0 = 0; r0 < c.rows; r0 += step) {
        if (r0 > 0) await new Promise((resolve) => setImmediate(resolve));
        k.rows(output.data, target, c.F, r0, Math.min(c.rows, r0 + step), c.valid, c.count, c.grad, c.sums);
      }
      return result(c);
    },
  };
}

/** A loss applied element by element: f(y - t, y, t) -> [loss, dloss/dy]. */
function elementwise(name: LossName, f: (d: number, y: number, t: number) => [number, number], accuracy = false, fromLogits = true): Loss {
  return fromKernel({
    name, targets: 'values', hasAccuracy: accuracy, fromLogits,
    count: (validRows, F) => validRows * F,
    rows(out, target, F, r0, r1, valid, count, grad, sums) {
      for (let r = r0; r < r1; r++) {
        if (!valid(r)) continue;
        for (let j = r * F; j < r * F + F; j++) {
          const y = out[j], t = target[j];
          const [l, g] = f(y - t, y, t);
          sums.loss += l;
          grad[j] = g / count;
          if (accuracy && (fromLogits ? y > 0 : y > 0.5) === (t > 0.5)) sums.correct++;
        }
      }
    },
  });
}

/** Softmax cross-entropy, natively (vectorised exp, float64 row sums); the mask as bytes per row. */
const crossEntropyKernel: RowKernel = {
  name: 'crossEntropy', targets: 'classes', hasAccuracy: true,
  count: (validRows) => validRows,
  rows(out, target, C, r0, r1, valid, count, grad, sums) {
    const n = r1 - r0;
    const mask = new Uint8Array(n);
    for (let r = r0; r < r1; r++) mask[r - r0] = valid(r) ? 1 : 0;
    const [loss, correct] = native.softmaxCrossEntropy(out.subarray(r0 * C, r1 * C), n, C, target.subarray(r0, r1), mask,
      1 / count, grad.subarray(r0 * C, r1 * C)) as [number, number];
    sums.loss += loss;
    sums.correct += correct;
  },
};

function makeLoss(name: LossName, delta: number): Loss {
  switch (name) {
    case 'mse': return elementwise(name, (d) => [d * d, 2 * d]);
    case 'mae': return elementwise(name, (d) => [Math.abs(d), d > 0 ? 1 : d < 0 ? -1 : 0]);
    case 'huber': return elementwise(name, (d) => Math.abs(d) <= delta
      ? [0.5 * d * d, d]
      : [delta * (Math.abs(d) - 0.5 * delta), d > 0 ? delta : -delta]);
    // With logits z and targets t in [0, 1]: max(z,0) - z t + log(1 + e^-|z|) (PyTorch BCEWithLogits).
    case 'binaryCrossEntropy': return elementwise(name, (_d, z, t) => [
      Math.max(z, 0) - z * t + Math.log1p(Math.exp(-Math.abs(z))), 1 / (1 + Math.exp(-z)) - t], true);
    case 'crossEntropy': return fromKernel(crossEntropyKernel);
  }
}

/** Keras' clipping of probabilities: log(0) would be -Infinity. */
const EPS = 1e-7;

/**
 * The classification losses on probabilities (a softmax or sigmoid layer before them), Keras'
 * from_logits=False: p clipped to [EPS, 1 - EPS]; where the clip applies, no gradient flows (as
 * through Keras' clip_by_value).
 */
function fromProbabilities(name: 'crossEntropy' | 'binaryCrossEntropy'): Loss {
  const clip = (y: number) => Math.min(Math.max(y, EPS), 1 - EPS);
  if (name === 'binaryCrossEntropy') {
    return elementwise(name, (_d, y, t) => {
      const p = clip(y);
      return [-(t * Math.log(p) + (1 - t) * Math.log(1 - p)), p === y ? (p - t) / (p * (1 - p)) : 0];
    }, true, false);
  }
  return fromKernel({
    name, targets: 'classes', hasAccuracy: true, fromLogits: false,
    count: (validRows) => validRows,
    rows(out, target, C, r0, r1, valid, count, grad, sums) {
      for (let r = r0; r < r1; r++) {
        if (!valid(r)) continue;
        const t = target[r], y = out[r * C + t], p = clip(y);
        sums.loss -= Math.log(p);
        grad[r * C + t] = p === y ? -1 / (p * count) : 0;
        let best = 0;
        for (let j = 1; j < C; j++) if (out[r * C + j] > out[r * C + best]) best = j;
        if (best === t) sums.correct++;
      }
    },
  });
}

/** What a loss function returns: the loss (mean over elements, or rows for crossEntropy) and dLoss/dOutput. */
export interface LossValue {
  loss: number;
  grad: Tensor;
  /** Classification losses: the fraction predicted right. */
  accuracy?: number;
}

/** One loss as a function of (output, target), PyTorch's argument order. */
function lossFunction(name: LossName) {
  return (output: Tensor, target: Tensor | ArrayLike<number>, options: { delta?: number; fromLogits?: boolean } = {}): LossValue => {
    const loss = resolveLoss({ name, ...ownOptions<object>('options', options, ['delta', 'fromLogits']) });
    const out = checkTensorRank('output', output, Array.isArray(output?.shape) ? Math.max(1, output.shape.length) : 1);
    const F = out.shape[out.shape.length - 1];
    const t = target !== null && typeof target === 'object' && 'data' in target ? (target as Tensor).data : target;
    const want = loss.targets === 'classes' ? out.data.length / F : out.data.length;
    if (t === null || typeof t !== 'object' || typeof (t as ArrayLike<number>).length !== 'number') {
      throw invalidType('target', loss.targets === 'classes' ? 'class ids (array, Int32Array or tensor)' : 'a tensor or array of numbers', target);
    }
    if (t.length !== want) throw invalidArg('target', `${want} ${loss.targets === 'classes' ? 'class ids (one per row of output)' : 'numbers (one per output element)'}`, t.length);
    checkNumbers('target', t);
    for (let i = 0; i < t.length; i++) {
      const v = t[i];
      if (loss.targets === 'classes' ? !(Number.isInteger(v) && v >= 0 && v < F) : v - v !== 0) {
        throw invalidArg(`target[${i}]`, loss.targets === 'classes' ? `a class id in 0..${F - 1}` : 'finite number', v);
      }
    }
    const res = loss.compute({ data: out.data, shape: out.shape, lengths: null }, t instanceof Float32Array ? t : Float32Array.from(t));
    const value: LossValue = { loss: res.loss, grad: { shape: [...out.shape], data: res.grad } };
    if (loss.hasAccuracy && res.counted > 0) value.accuracy = res.correct / res.counted;
    return value;
  };
}

/**
 * The losses fit uses, as functions of (output, target) → { loss, grad, accuracy? }: output a
 * tensor whose last axis is the features (logits for the classification losses unless
 * fromLogits: false), target a tensor or array of as many numbers (class ids, one per row, for
 * crossEntropy). No masking: every row counts.
 * @example losses.crossEntropy(tensor([2, 0, -1, 1], [2, 2]), [0, 1]).loss
 */
export const losses = {
  mse: lossFunction('mse'),
  mae: lossFunction('mae'),
  /** options.delta: default 1. */
  huber: lossFunction('huber'),
  /** options.fromLogits: false takes probabilities (after softmax). */
  crossEntropy: lossFunction('crossEntropy'),
  /** options.fromLogits: false takes probabilities (after sigmoid). */
  binaryCrossEntropy: lossFunction('binaryCrossEntropy'),
};
