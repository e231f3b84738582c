// Training/prediction data: arrays of variable-length sequences or pre-batched tensors, turned
// into padded, time-major batches with lengths (the masking the kernels and losses apply).
// Every value is checked where it enters: a string, a hole or another non-number in a plain array
// is a TypeError naming it (`data.x[0][3][1]`), a NaN or ±Infinity a RangeError (one such value
// would otherwise turn every weight into NaN at the first update).
import { checkAllFinite, checkNumbers, invalidArg, invalidType } from '../internal/check';
import { checkTensorRank, type Tensor } from '../tensor';
import type { Flow } from '../layers/layer';

/** Per sequence: steps of features (number[][]), or of token ids / single features (number[]). */
export type SequenceArray = number[][] | number[];
export type TargetArray = number[][] | number[] | number;

/**
 * x: N sequences as arrays (different lengths allowed) or a tensor [N, T, F] ([N, T] of token
 * ids); y: per sequence a target per step (many-to-many) or one target (many-to-one); class ids
 * for crossEntropy. lengths: valid steps of each row of a tensor x (default all T).
 */
export interface Dataset {
  x: SequenceArray[] | Tensor;
  /** Targets; class ids (crossEntropy) may also be an Int32Array (one id per sequence) or a tensor of Int32Array data. */
  y?: TargetArray[] | Tensor | ClassIds;
  /** Valid steps of each row of a tensor x.
   * @defaultValue every row all T steps */
  lengths?: Int32Array | number[];
}

/** Class ids as integers: one per sequence (many-to-one), or a `{ shape: [N, T], data }` tensor of them. */
export type ClassIds = Int32Array | { shape: number[]; data: Int32Array };

/** Data already cut into batches (your own pipeline): each entry is one update's data. */
export interface BatchedDataset {
  batches: Dataset[];
}

/** What the model expects, derived from its layers and loss. */
export interface DataSpec {
  /** Features per step; null = token ids (Embedding first). */
  inputFeatures: number | null;
  /** Whether the output has a time axis (many-to-many). */
  outputHasTime: boolean;
  /** Target numbers per output row: output features, or 1 for class ids. */
  targetWidth: number;
  /** Classification (crossEntropy): the number of classes, each target an integer id below it. */
  classes?: number | null;
}

/** One sample: its steps and its target, flat. */
interface Sample {
  x: Float32Array;
  steps: number;
  y: Float32Array | null;
}

export interface Batch {
  x: Flow;
  /** Time-major [T, B, width] targets or [B, width]; null when the data has no targets. */
  y: Float32Array | null;
}

export class Samples {
  private constructor(readonly items: Sample[], readonly spec: DataSpec) {}

  get length(): number { return this.items.length; }

  /** `name`: how errors call the dataset ('data', 'validation'; '' for predict's bare x). */
  static from(data: Dataset, spec: DataSpec, name = 'data', needTargets = true): Samples {
    const field = (f: string) => (name ? `${name}.${f}` : f);
    if (typeof data !== 'object' || data === null) throw invalidType(name, '{ x, y }', data);
    if (Array.isArray(data.x) && data.lengths !== undefined) throw invalidArg(field('lengths'), 'undefined when x is arrays (each has its own length)', data.lengths);
    const xs = Array.isArray(data.x) ? fromArrays(data.x, spec, field('x')) : fromTensor(data.x, data.lengths, spec, field('x'));
    if (data.y === undefined) {
      if (needTargets) throw invalidArg(field('y'), 'targets (one per sequence or per step)', undefined);
    } else {
      const yIn = classIdsAsTargets(data.y, spec, field('y'));
      const ys = Array.isArray(yIn) ? yIn.map((t, i) => targetFromArray(t, xs[i]?.steps ?? 0, spec, `${field('y')}[${i}]`))
        : targetsFromTensor(yIn, xs, spec, field('y'));
      if (ys.length !== xs.length) throw invalidArg(field('y'), `${xs.length} targets (one per sequence)`, `${ys.length}`);
      xs.forEach((s, i) => { s.y = ys[i]; });
    }
    if (xs.length === 0) throw invalidArg(field('x'), 'at least one sequence', 0);
    return new Samples(xs, spec);
  }

  /** All batches' samples in one list, and which indices form each batch. */
  static fromBatches(data: BatchedDataset, spec: DataSpec, name = 'data'): { samples: Samples; groups: number[][] } {
    if (!Array.isArray(data.batches) || data.batches.length === 0) throw invalidType(`${name}.batches`, 'non-empty array of { x, y }', data.batches);
    const items: Sample[] = [], groups: number[][] = [];
    data.batches.forEach((b, k) => {
      const part = Samples.from(b, spec, `${name}.batches[${k}]`);
      groups.push(part.items.map((_s, j) => items.length + j));
      items.push(...part.items);
    });
    return { samples: new Samples(items, spec), groups };
  }

  subset(indices: number[]): Samples {
    return new Samples(indices.map((i) => this.items[i]), this.spec);
  }

  /** Pads the samples at `indices` to the longest and lays them out time-major. */
  batch(indices: readonly number[]): Batch {
    const B = indices.length;
    const F = this.spec.inputFeatures ?? 1;
    let T = 0;
    for (const i of indices) T = Math.max(T, this.items[i].steps);
    const lengths = new Int32Array(B);
    let ragged = false;
    const x = new Float32Array(T * B * F);
    indices.forEach((i, b) => {
      const s = this.items[i];
      lengths[b] = s.steps;
      if (s.steps !== T) ragged = true;
      for (let t = 0; t < s.steps; t++) x.set(s.x.subarray(t * F, t * F + F), (t * B + b) * F);
    });
    const xShape = this.spec.inputFeatures === null ? [T, B] : [T, B, F];
    const flow: Flow = { data: x, shape: xShape, lengths: ragged ? lengths : null };
    if (this.items[indices[0]].y === null) return { x: flow, y: null };
    const W = this.spec.targetWidth;
    let y: Float32Array;
    if (this.spec.outputHasTime) {
      y = new Float32Array(T * B * W);
      indices.forEach((i, b) => {
        const s = this.items[i];
        for (let t = 0; t < s.steps; t++) y.set(s.y!.subarray(t * W, t * W + W), (t * B + b) * W);
      });
    } else {
      y = new Float32Array(B * W);
      indices.forEach((i, b) => y.set(this.items[i].y!, b * W));
    }
    return { x: flow, y };
  }
}

function fromArrays(xs: SequenceArray[], spec: DataSpec, name: string): Sample[] {
  const F = spec.inputFeatures;
  return xs.map((seq, i) => {
    if (!Array.isArray(seq)) throw invalidType(`${name}[${i}]`, 'array of steps', seq);
    if (seq.length === 0) throw invalidArg(`${name}[${i}]`, 'at least one step', 'an empty sequence');
    const width = F ?? 1;
    const out = new Float32Array(seq.length * width);
    for (let t = 0; t < seq.length; t++) {
      const step: unknown = seq[t];
      if (typeof step === 'number') {
        if (width !== 1) throw invalidArg(`${name}[${i}][${t}]`, `${width} features`, step);
        if (step - step !== 0) throw invalidArg(`${name}[${i}][${t}]`, 'finite number', step);
        out[t] = step;
      } else {
        if (!Array.isArray(step) || step.length !== width || F === null) {
          if (!(t in seq)) throw invalidType(`${name}[${i}][${t}]`, F === null ? 'a token id' : `${width} features`, step);
          throw (Array.isArray(step) || typeof step === 'number' ? invalidArg : invalidType)(
            `${name}[${i}][${t}]`, F === null ? 'a token id' : `${width} features`, step);
        }
        checkNumbers(`${name}[${i}][${t}]`, step);
        checkAllFinite(`${name}[${i}][${t}]`, step as number[]);
        for (let f = 0; f < width; f++) out[t * width + f] = step[f] as number;
      }
    }
    checkFloat32Range(out, (k) => (typeof seq[0] === 'number' ? `${name}[${i}][${k}]` : `${name}[${i}][${Math.floor(k / width)}][${k % width}]`),
      (k) => (seq as unknown[][])[Math.floor(k / width)]?.[k % width] ?? seq[k]);
    return { x: out, steps: seq.length, y: null };
  });
}

function fromTensor(x: Tensor, lengthsIn: Int32Array | number[] | undefined, spec: DataSpec, name: string): Sample[] {
  const rank = spec.inputFeatures === null ? 2 : 3;
  const t = checkTensorRank(name, x, rank);
  const [N, T] = t.shape;
  const F = spec.inputFeatures ?? 1;
  if (rank === 3 && t.shape[2] !== F) throw invalidArg(name, `shape [N, T, ${F}]`, t.shape);
  if (lengthsIn !== undefined && (!(Array.isArray(lengthsIn) || lengthsIn instanceof Int32Array) || lengthsIn.length !== N)) {
    throw invalidArg('lengths', `${N} integers in 1..${T}`, lengthsIn);
  }
  const out: Sample[] = [];
  for (let i = 0; i < N; i++) {
    const steps = lengthsIn === undefined ? T : lengthsIn[i];
    if (!Number.isInteger(steps) || steps < 1 || steps > T) throw invalidArg(`lengths[${i}]`, `integer in 1..${T}`, steps);
    out.push({ x: t.data.subarray(i * T * F, i * T * F + steps * F), steps, y: null });
  }
  checkFiniteParts(`${name}.data`, t.data, out.map((s, i) => [i * T * F, s.steps * F]));
  return out;
}

/** Integer class ids as the float targets the rest reads (only for a classification loss). */
function classIdsAsTargets(y: TargetArray[] | Tensor | ClassIds, spec: DataSpec, name: string): TargetArray[] | Tensor {
  const ids = y instanceof Int32Array ? y : typeof y === 'object' && y !== null && 'data' in y && y.data instanceof Int32Array ? y.data : null;
  if (ids === null) return y as TargetArray[] | Tensor;
  if (!spec.classes) throw invalidType(name, `${spec.targetWidth} numbers per row in a Float32Array (Int32Array holds class ids, for crossEntropy)`, y);
  if (y instanceof Int32Array) {
    if (spec.outputHasTime) throw invalidArg(name, 'class ids per step: arrays, or a tensor { shape: [N, T], data: Int32Array }', 'a flat Int32Array');
    return Array.from(y);
  }
  return { shape: (y as { shape: number[] }).shape, data: Float32Array.from(ids) };
}

/** What one row of targets must be, and why (the model's output). */
function rowExpectation(spec: DataSpec): string {
  const C = spec.classes;
  if (C) return `a class id (an integer in 0..${C - 1}: the model outputs ${C} classes)`;
  const W = spec.targetWidth;
  return `${W === 1 ? 'a number' : `${W} numbers`} (the model outputs ${W} feature${W === 1 ? '' : 's'} per row)`;
}

/** Why there is one target per sequence or one per step. */
function perWhat(spec: DataSpec): string {
  return spec.outputHasTime ? 'one per step: the model outputs a row per step'
    : "one per sequence: the model's output has no time axis (a recurrent layer with returnSequences: false)";
}

function targetFromArray(t: TargetArray, steps: number, spec: DataSpec, name: string): Float32Array {
  const W = spec.targetWidth, C = spec.classes;
  const row = (v: unknown, where: string, into: Float32Array, at: number) => {
    if (typeof v === 'number' && W === 1) {
      if (v - v !== 0) throw invalidArg(where, 'finite number', v);
      if (C && !(Number.isInteger(v) && v >= 0 && v < C)) throw invalidArg(where, rowExpectation(spec), v);
      into[at] = v;
    } else if (Array.isArray(v) && v.length === W && !C) {
      checkNumbers(where, v);
      checkAllFinite(where, v as number[]);
      into.set(v as number[], at);
    } else {
      const extra = !spec.outputHasTime && Array.isArray(v) && v.some(Array.isArray) ? `; ${perWhat(spec)}` : '';
      throw (typeof v === 'number' || Array.isArray(v) ? invalidArg : invalidType)(where, rowExpectation(spec) + extra, v);
    }
  };
  if (!spec.outputHasTime) {
    const out = new Float32Array(W);
    row(t, name, out, 0);
    checkFloat32Range(out, (k) => (W === 1 ? name : `${name}[${k}]`), (k) => (W === 1 ? t : (t as number[])[k]));
    return out;
  }
  if (!Array.isArray(t) || t.length !== steps) throw invalidArg(name, `${steps} targets (${perWhat(spec)})`, t);
  const out = new Float32Array(steps * W);
  (t as unknown[]).forEach((v, s) => row(v, `${name}[${s}]`, out, s * W));
  checkFloat32Range(out, (k) => (W === 1 ? `${name}[${k}]` : `${name}[${Math.floor(k / W)}][${k % W}]`),
    (k) => (W === 1 ? (t as number[])[k] : (t as number[][])[Math.floor(k / W)][k % W]));
  return out;
}

/** A finite number beyond float32's range (3.4e38) becomes ±Infinity when stored: refused by name. */
function checkFloat32Range(out: Float32Array, where: (k: number) => string, given: (k: number) => unknown): void {
  for (let k = 0; k < out.length; k++) {
    if (!Number.isFinite(out[k])) throw invalidArg(where(k), 'a number within float32 range (|v| <= 3.4028234663852886e38)', given(k));
  }
}

function targetsFromTensor(y: Tensor, xs: Sample[], spec: DataSpec, name: string): Float32Array[] {
  const W = spec.targetWidth;
  const N = xs.length;
  const T = Math.max(...xs.map((s) => s.steps));
  // Each axis: its meaning, what it must be, and why.
  const axes: [string, number, string][] = [['sequences', N, 'as many as data.x has']];
  if (spec.outputHasTime) axes.push(['steps', T, 'the longest sequence of x; more allowed']);
  if (W > 1 || (y as Tensor).shape?.length === axes.length + 1) axes.push(['features', W, spec.classes ? 'one class id per row' : `the model outputs ${W} per row`]);
  const wanted = `[${axes.map(([what]) => what === 'sequences' ? 'N' : what === 'steps' ? 'T' : String(W)).join(', ')}]`;
  if (typeof y === 'object' && y !== null && Array.isArray((y as Tensor).shape) && (y as Tensor).shape.length !== axes.length) {
    throw invalidArg(`${name}.shape`, `rank ${axes.length}, ${wanted} (${perWhat(spec)})`, (y as Tensor).shape);
  }
  const t = checkTensorRank(name, y, axes.length);
  axes.forEach(([what, size, why], d) => {
    if (what === 'steps' ? t.shape[d] < size : t.shape[d] !== size) {
      throw invalidArg(`${name}.shape[${d}] (${what})`, `${what === 'steps' ? 'at least ' : ''}${size} (${why})`, t.shape[d]);
    }
  });
  const stride = spec.outputHasTime ? t.shape[1] * W : W;
  const parts: [number, number][] = xs.map((s, i) => [i * stride, (spec.outputHasTime ? s.steps : 1) * W]);
  checkFiniteParts(`${name}.data`, t.data, parts);
  if (spec.classes) checkClassIds(`${name}.data`, t.data, parts, spec);
  return parts.map(([start, n]) => t.data.subarray(start, start + n));
}

function checkClassIds(name: string, data: Float32Array, parts: [number, number][], spec: DataSpec): void {
  const C = spec.classes!;
  for (const [start, n] of parts) {
    for (let k = start; k < start + n; k++) {
      if (!(Number.isInteger(data[k]) && data[k] >= 0 && data[k] < C)) throw invalidArg(`${name}[${k}]`, rowExpectation(spec), data[k]);
    }
  }
}

/** The values of `data` in each [start, length) part are finite (steps past a sequence's length are not read). */
function checkFiniteParts(name: string, data: Float32Array, parts: [number, number][]): void {
  for (const [start, n] of parts) {
    for (let k = start; k < start + n; k++) {
      const v = data[k];
      if (v - v !== 0) throw invalidArg(`${name}[${k}]`, 'finite number', v);
    }
  }
}
