// Shared helpers for the conformance suites in test/conformance/.
//
// - Locating and loading the JSON fixture files (test/fixtures/{torch,ort,seed}, ../shared/fixtures/onnx).
// - Turning fixture tensors ({shape, data} with float32-exact decimals) into Tensors: Float32Array.from(data)
//   is lossless for the inputs/weights, because every such number was written as the shortest decimal of a
//   float32 value. Reference outputs stay as doubles (number[]) and are compared as such.
// - Tolerance checks with failure messages that name the tensor, the max error, where it is, and the bound,
//   plus an ErrorRecorder that keeps the largest error seen per fixture set for a one-line summary.
// - Layout transposes between ONNX (Y [T,D,B,H], states [B,D,H] for layout 1) and this package
//   (output [T,B,D*H], states [L*D,B,H]).
// - runOnnxFixture(): the shared ONNX-format runner (fromOnnx + forward + conversion of our results to ONNX
//   shapes) used by both test/conformance/ort.test.ts and test/conformance/onnx.test.ts.
//
// Only node:fs and node:path are used; no Python or other tooling at test time.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect } from 'vitest';
import type { Recurrent, Tensor } from '../../lib/index';

// ---------------------------------------------------------------------------------------------------------
// Types
// ---------------------------------------------------------------------------------------------------------

export type { Tensor };

/** A tensor as stored in the fixture JSON: flat row-major data. */
export interface FixtureTensor {
  shape: number[];
  data: number[];
  dtype?: string;
}

/** What a reference may be given as: plain numbers, a Float32Array, or a fixture tensor (then its shape is checked too). */
/** One case of test/fixtures/torch (generate.py): a torch.nn RNN module, its inputs, outputs and gradients. */
export interface TorchFixture {
  name: string;
  cell: 'lstm' | 'gru' | 'rnn_tanh' | 'rnn_relu';
  inputSize: number;
  hiddenSize: number;
  numLayers: number;
  bidirectional: boolean;
  projSize: number;
  bias: boolean;
  seqLen: number;
  batch: number;
  lengths: number[] | null;
  numDirections: number;
  outputHiddenSize: number;
  weights: Record<string, FixtureTensor>;
  input: FixtureTensor;
  h0: FixtureTensor | null;
  c0: FixtureTensor | null;
  output: FixtureTensor;
  hN: FixtureTensor;
  cN: FixtureTensor | null;
  gradOutput: FixtureTensor;
  gradHN: FixtureTensor;
  gradCN: FixtureTensor | null;
  grads: Record<string, FixtureTensor>;
}

export type RefLike = number[] | Float32Array | FixtureTensor;

/** What a result may be given as. */
export type GotLike = Float32Array | Tensor;

/** What the conformance suites use of an LSTM/GRU/RNN layer. */
export type RnnLayerLike = Pick<Recurrent, 'forward' | 'backward' | 'stateDict' | 'loadStateDict'>;

/** A class with the static ONNX constructor (LSTM, GRU, RNN). */
export interface OnnxFactory {
  fromOnnx(
    attributes: Record<string, unknown>,
    weights: { W: Tensor; R: Tensor; B?: Tensor; P?: Tensor },
  ): RnnLayerLike;
}

/** The JSON format shared by ../shared/fixtures/onnx and test/fixtures/ort (see their READMEs). */
export interface OnnxFixture {
  name: string;
  opType: 'LSTM' | 'GRU' | 'RNN';
  attributes: Record<string, unknown>;
  effectiveAttributes?: Record<string, unknown>;
  inputNames: string[];
  outputNames: string[];
  inputs: Record<string, FixtureTensor>;
  outputs: Record<string, FixtureTensor>;
  tolerance: { rtol: number; atol: number; atolScale?: string; note?: string };
}

// ---------------------------------------------------------------------------------------------------------
// Locations and loading
// ---------------------------------------------------------------------------------------------------------

/** Repository root (this file lives in <root>/test/helpers). */
export const repoRoot: string = path.resolve(__dirname, '..', '..');

/** test/fixtures/<set> inside the repository. */
export function fixturesDir(set: 'torch' | 'ort' | 'seed'): string {
  return path.join(repoRoot, 'test', 'fixtures', set);
}

/** The ONNX node-test vectors are not copied into the repo; they are read from the shared folder next to it. */
export const onnxFixturesDir: string = path.resolve(repoRoot, '../shared/fixtures/onnx');

/** Sorted *.json file names in a directory ([] when the directory does not exist). */
export function listJsonFiles(dir: string): string[] {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort();
}

export function loadJson<T = unknown>(file: string): T {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
}

/** Case name of a fixture file: its base name without ".json". */
export function caseName(file: string): string {
  return path.basename(file, '.json');
}

// ---------------------------------------------------------------------------------------------------------
// Tensors
// ---------------------------------------------------------------------------------------------------------

export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Fixture tensor -> Tensor. Float32Array.from(data) is exact for the float32-valued fixture inputs. */
export function toTensor(ft: FixtureTensor): Tensor {
  const data = Float32Array.from(ft.data);
  if (data.length !== numel(ft.shape)) {
    throw new Error(`fixture tensor has ${data.length} values but shape [${ft.shape.join(', ')}]`);
  }
  return { shape: [...ft.shape], data };
}

/** Record of fixture tensors (e.g. a state_dict) -> record of Tensors. */
export function toTensorDict(dict: Record<string, FixtureTensor>): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const [name, ft] of Object.entries(dict)) out[name] = toTensor(ft);
  return out;
}

export function zeros(shape: number[]): Tensor {
  return { shape: [...shape], data: new Float32Array(numel(shape)) };
}

/** General row-major transpose: result[i_perm[0], i_perm[1], ...] = src[i_0, i_1, ...]. */
export function transpose(
  data: ArrayLike<number>,
  shape: readonly number[],
  perm: readonly number[],
): Tensor {
  const rank = shape.length;
  if (perm.length !== rank) throw new Error(`transpose: perm [${perm}] does not match rank ${rank}`);
  if (data.length !== numel(shape)) {
    throw new Error(`transpose: ${data.length} values do not fit shape [${shape.join(', ')}]`);
  }
  const outShape = perm.map((p) => shape[p]);
  const srcStrides = new Array<number>(rank);
  let s = 1;
  for (let k = rank - 1; k >= 0; k--) {
    srcStrides[k] = s;
    s *= shape[k];
  }
  // Stride in the source for each output axis.
  const strideForOut = perm.map((p) => srcStrides[p]);
  const out = new Float32Array(data.length);
  const idx = new Array<number>(rank).fill(0);
  for (let o = 0; o < out.length; o++) {
    let src = 0;
    for (let k = 0; k < rank; k++) src += idx[k] * strideForOut[k];
    out[o] = data[src];
    for (let k = rank - 1; k >= 0; k--) {
      if (++idx[k] < outShape[k]) break;
      idx[k] = 0;
    }
  }
  return { shape: outShape, data: out };
}

/** ONNX Y [T, D, B, H] -> ours [T, B, D*H]. */
export function onnxYToOurs(y: ArrayLike<number>, T: number, D: number, B: number, H: number): Tensor {
  const t = transpose(y, [T, D, B, H], [0, 2, 1, 3]);
  return { shape: [T, B, D * H], data: t.data };
}

/** Ours [T, B, D*H] -> ONNX Y [T, D, B, H]. */
export function oursToOnnxY(out: ArrayLike<number>, T: number, B: number, D: number, H: number): Tensor {
  return transpose(out, [T, B, D, H], [0, 2, 1, 3]);
}

/** [B, D, H] (ONNX layout-1 states) -> [D, B, H] (our states). */
export function bdhToDbh(x: ArrayLike<number>, B: number, D: number, H: number): Tensor {
  return transpose(x, [B, D, H], [1, 0, 2]);
}

/** [D, B, H] (our states) -> [B, D, H] (ONNX layout-1 states). */
export function dbhToBdh(x: ArrayLike<number>, D: number, B: number, H: number): Tensor {
  return transpose(x, [D, B, H], [1, 0, 2]);
}

// ---------------------------------------------------------------------------------------------------------
// Comparison
// ---------------------------------------------------------------------------------------------------------

export interface CloseStats {
  /** Number of compared elements. */
  n: number;
  /** max |got - ref| (NaN/Infinity in got count as Infinity). */
  maxAbsErr: number;
  /** Flat index of max |got - ref|. */
  maxErrIndex: number;
  /** max |ref|. */
  maxAbsRef: number;
  /** maxAbsErr / max(1, maxAbsRef): the per-tensor scaled error, comparable across suites. */
  scaleRatio: number;
  /** Largest error / bound over the elements (<= 1 means the check passes). */
  boundRatio: number;
  /** Flat index of the element with the largest error / bound. */
  worstIndex: number;
  /** The bound at worstIndex. */
  worstBound: number;
  /** Count of non-finite values in got where ref is finite. */
  nonFinite: number;
}

/** Bound for each element: a function of the element's reference value and max|ref| over the tensor. */
export type BoundFn = (ref: number, maxAbsRef: number) => number;

function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return '0';
  const a = Math.abs(x);
  return a >= 1e-3 && a < 1e5 ? String(Number(x.toPrecision(6))) : x.toExponential(3);
}

function unravel(flat: number, shape: readonly number[] | undefined): string {
  if (!shape || shape.length === 0) return `[${flat}]`;
  const idx: number[] = [];
  let r = flat;
  for (let k = shape.length - 1; k >= 0; k--) {
    idx.unshift(r % shape[k]);
    r = Math.floor(r / shape[k]);
  }
  return `[${idx.join(', ')}]`;
}

function gotData(got: GotLike): Float32Array {
  return got instanceof Float32Array ? got : got.data;
}

function gotShape(got: GotLike): number[] | undefined {
  return got instanceof Float32Array ? undefined : got.shape;
}

function refData(ref: RefLike): ArrayLike<number> {
  return Array.isArray(ref) || ref instanceof Float32Array ? ref : ref.data;
}

function refShape(ref: RefLike): number[] | undefined {
  return Array.isArray(ref) || ref instanceof Float32Array ? undefined : ref.shape;
}

/** Measures got against ref under an elementwise bound. Assumes equal lengths. */
export function measureClose(got: ArrayLike<number>, ref: ArrayLike<number>, bound: BoundFn): CloseStats {
  const n = Math.min(got.length, ref.length);
  let maxAbsRef = 0;
  for (let i = 0; i < n; i++) maxAbsRef = Math.max(maxAbsRef, Math.abs(ref[i]));
  const st: CloseStats = {
    n,
    maxAbsErr: 0,
    maxErrIndex: -1,
    maxAbsRef,
    scaleRatio: 0,
    boundRatio: 0,
    worstIndex: -1,
    worstBound: 0,
    nonFinite: 0,
  };
  for (let i = 0; i < n; i++) {
    const g = got[i];
    const r = ref[i];
    let err = Math.abs(g - r);
    if (Number.isNaN(err) || !Number.isFinite(err)) {
      if (Number.isFinite(r)) st.nonFinite++;
      err = Infinity;
    }
    if (err > st.maxAbsErr || st.maxErrIndex < 0) {
      st.maxAbsErr = err;
      st.maxErrIndex = i;
    }
    const b = bound(r, maxAbsRef);
    const ratio = err === 0 ? 0 : b > 0 ? err / b : Infinity;
    if (ratio > st.boundRatio || st.worstIndex < 0) {
      st.boundRatio = ratio;
      st.worstIndex = i;
      st.worstBound = b;
    }
  }
  st.scaleRatio = st.maxAbsErr / Math.max(1, maxAbsRef);
  return st;
}

export interface CheckOptions {
  /** Use expect.soft so later checks in the same test still run (default false). */
  soft?: boolean;
  /** Record the measured error here. */
  recorder?: ErrorRecorder;
  /** Case name for the recorder (defaults to the label). */
  caseName?: string;
  /** Tensor name for the recorder (defaults to the label). */
  tensorName?: string;
}

function assertion(opts: CheckOptions | undefined) {
  return opts?.soft ? expect.soft : expect;
}

/**
 * Core check: shape/size, then every element against bound(ref_i, max|ref|).
 * `boundText` describes the bound for the failure message.
 */
export function checkClose(
  got: GotLike | undefined | null,
  ref: RefLike,
  bound: BoundFn,
  boundText: (st: CloseStats) => string,
  label: string,
  opts?: CheckOptions,
): CloseStats | undefined {
  const ex = assertion(opts);
  if (got === undefined || got === null) {
    ex('missing', `${label}: the implementation returned no tensor (expected ${refData(ref).length} values)`).toBe('present');
    return undefined;
  }
  const g = gotData(got);
  const r = refData(ref);
  const gs = gotShape(got);
  const rs = refShape(ref);
  if (gs && rs) {
    ex(gs, `${label}: shape [${gs.join(', ')}] but the reference is [${rs.join(', ')}]`).toEqual(rs);
  }
  ex(Object.prototype.toString.call(g), `${label}: data is not a Float32Array`).toBe('[object Float32Array]');
  if (g.length !== r.length) {
    ex(
      g.length,
      `${label}: got ${g.length} values${gs ? ` (shape [${gs.join(', ')}])` : ''} but the reference has ${r.length}` +
        `${rs ? ` (shape [${rs.join(', ')}])` : ''}`,
    ).toBe(r.length);
    return undefined;
  }
  const st = measureClose(g, r, bound);
  if (opts?.recorder) opts.recorder.record(opts.caseName ?? label, opts.tensorName ?? label, st);
  if (st.boundRatio > 1) {
    const shape = gs ?? rs;
    const w = st.worstIndex;
    const m = st.maxErrIndex;
    let msg =
      `${label}: |got - ref| = ${fmt(Math.abs(g[w] - r[w]))} at ${unravel(w, shape)} ` +
      `(got ${fmt(g[w])}, ref ${fmt(r[w])}) exceeds the bound ${boundText(st)} = ${fmt(st.worstBound)}; ` +
      `max |got - ref| = ${fmt(st.maxAbsErr)} at ${unravel(m, shape)} (got ${fmt(g[m])}, ref ${fmt(r[m])}), ` +
      `max|ref| = ${fmt(st.maxAbsRef)}, ${st.n} values`;
    if (st.nonFinite > 0) msg += `, ${st.nonFinite} non-finite values in got`;
    ex(st.boundRatio, `${msg}; error/bound`).toBeLessThanOrEqual(1);
  }
  return st;
}

/**
 * Per-tensor check: max|got - ref| <= tolFactor * max(1, max|ref|).
 * `got` may be a Tensor or a Float32Array; `ref` number[] / Float32Array, or a fixture tensor (shape checked).
 */
export function expectClose(
  got: GotLike | undefined | null,
  ref: RefLike,
  tolFactor: number,
  label: string,
  opts?: CheckOptions,
): CloseStats | undefined {
  return checkClose(
    got,
    ref,
    (_r, maxAbsRef) => tolFactor * Math.max(1, maxAbsRef),
    (st) => `${tolFactor} * max(1, max|ref| = ${fmt(st.maxAbsRef)})`,
    label,
    opts,
  );
}

/** Elementwise check (ONNX backend runner rule): |got_i - ref_i| <= atol + rtol * |ref_i| for every i. */
export function expectCloseElementwise(
  got: GotLike | undefined | null,
  ref: RefLike,
  atol: number,
  rtol: number,
  label: string,
  opts?: CheckOptions,
): CloseStats | undefined {
  return checkClose(
    got,
    ref,
    (r) => atol + rtol * Math.abs(r),
    () => `atol ${atol} + rtol ${rtol} * |ref|`,
    label,
    opts,
  );
}

/** Elementwise relative check with an absolute floor: |got_i - ref_i| <= tol * max(floor, |ref_i|). */
export function expectCloseRelative(
  got: GotLike | undefined | null,
  ref: RefLike,
  tol: number,
  floor: number,
  label: string,
  opts?: CheckOptions,
): CloseStats | undefined {
  return checkClose(
    got,
    ref,
    (r) => tol * Math.max(floor, Math.abs(r)),
    () => `${tol} * max(${floor}, |ref|)`,
    label,
    opts,
  );
}

/** Bit-exact comparison of a Tensor with a fixture tensor read through Float32Array (shape and every bit). */
export function expectBitExact(
  got: Tensor | undefined | null,
  ref: FixtureTensor,
  label: string,
  opts?: { soft?: boolean },
): void {
  const ex = assertion(opts);
  if (got === undefined || got === null) {
    ex('missing', `${label}: the implementation returned no tensor (expected shape [${ref.shape.join(', ')}])`).toBe('present');
    return;
  }
  ex(got.shape, `${label}: shape [${got.shape?.join(', ')}] but expected [${ref.shape.join(', ')}]`).toEqual(ref.shape);
  const want = Float32Array.from(ref.data);
  if (!(got.data instanceof Float32Array) || got.data.length !== want.length) {
    ex(got.data?.length, `${label}: ${got.data?.length} values (a Float32Array is expected) but expected ${want.length}`).toBe(
      want.length,
    );
    return;
  }
  const a = new Uint32Array(got.data.buffer, got.data.byteOffset, got.data.length);
  const b = new Uint32Array(want.buffer, want.byteOffset, want.length);
  let bad = -1;
  let count = 0;
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) {
      if (bad < 0) bad = i;
      count++;
    }
  }
  if (bad >= 0) {
    ex(
      count,
      `${label}: not bit-exact: ${count} of ${a.length} values differ; first at ${unravel(bad, ref.shape)}: ` +
        `got ${got.data[bad]} (0x${a[bad].toString(16)}), expected ${want[bad]} (0x${b[bad].toString(16)}); differing values`,
    ).toBe(0);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Error recorder (per fixture set)
// ---------------------------------------------------------------------------------------------------------

interface Worst {
  caseName: string;
  tensor: string;
  stats: CloseStats;
}

/**
 * Keeps the largest error seen over a fixture set, for a one-line summary in afterAll, e.g.
 * "torch fixtures: max err/scale 3.1e-7 over 32 cases (worst: gru_large grads.weight_ih_l0, ...)".
 */
export class ErrorRecorder {
  private readonly cases = new Set<string>();
  private tensors = 0;
  private overBound = 0;
  private worstScale: Worst | undefined;
  private worstBound: Worst | undefined;

  constructor(readonly setName: string) {}

  record(caseName: string, tensor: string, stats: CloseStats): void {
    this.cases.add(caseName);
    this.tensors++;
    if (stats.boundRatio > 1) this.overBound++;
    if (!this.worstScale || stats.scaleRatio > this.worstScale.stats.scaleRatio) {
      this.worstScale = { caseName, tensor, stats };
    }
    if (!this.worstBound || stats.boundRatio > this.worstBound.stats.boundRatio) {
      this.worstBound = { caseName, tensor, stats };
    }
  }

  /** A checker bound to one case: every comparison is soft (all mismatches of a case get reported) and recorded. */
  forCase(caseName: string): CaseChecker {
    return new CaseChecker(this, caseName);
  }

  get caseCount(): number {
    return this.cases.size;
  }

  summary(): string {
    if (!this.worstScale || !this.worstBound) return `${this.setName}: no comparison was made`;
    const ws = this.worstScale;
    const wb = this.worstBound;
    return (
      `${this.setName}: max err/scale ${fmt(ws.stats.scaleRatio)} over ${this.cases.size} cases ` +
      `(${this.tensors} tensors; worst ${ws.caseName} ${ws.tensor}, max abs err ${fmt(ws.stats.maxAbsErr)}); ` +
      `largest error/bound ${fmt(wb.stats.boundRatio)} (${wb.caseName} ${wb.tensor})` +
      (this.overBound > 0 ? `; ${this.overBound} tensors OVER the bound` : '')
    );
  }
}

export class CaseChecker {
  constructor(
    private readonly recorder: ErrorRecorder,
    readonly caseName: string,
  ) {}

  private opts(tensorName: string): CheckOptions {
    return { soft: true, recorder: this.recorder, caseName: this.caseName, tensorName };
  }

  /** max|got - ref| <= tolFactor * max(1, max|ref|) */
  close(got: GotLike | undefined | null, ref: RefLike, tolFactor: number, tensorName: string): CloseStats | undefined {
    return expectClose(got, ref, tolFactor, `${this.caseName}: ${tensorName}`, this.opts(tensorName));
  }

  /** |got_i - ref_i| <= atol + rtol * |ref_i| */
  closeElementwise(
    got: GotLike | undefined | null,
    ref: RefLike,
    atol: number,
    rtol: number,
    tensorName: string,
  ): CloseStats | undefined {
    return expectCloseElementwise(got, ref, atol, rtol, `${this.caseName}: ${tensorName}`, this.opts(tensorName));
  }

  /** |got_i - ref_i| <= tol * max(floor, |ref_i|) */
  closeRelative(
    got: GotLike | undefined | null,
    ref: RefLike,
    tol: number,
    floor: number,
    tensorName: string,
  ): CloseStats | undefined {
    return expectCloseRelative(got, ref, tol, floor, `${this.caseName}: ${tensorName}`, this.opts(tensorName));
  }

  bitExact(got: Tensor | undefined | null, ref: FixtureTensor, tensorName: string): void {
    expectBitExact(got, ref, `${this.caseName}: ${tensorName}`, { soft: true });
  }
}

// ---------------------------------------------------------------------------------------------------------
// ONNX-format runner (ort and onnx suites)
// ---------------------------------------------------------------------------------------------------------

export interface OnnxRunResult {
  /** Our results converted to the ONNX output shapes of the fixture's layout (only Y_c for LSTM). */
  outputs: Record<'Y' | 'Y_h' | 'Y_c', Tensor | undefined>;
  /** The requested output slots (non-empty names in outputNames). */
  requested: string[];
}

/**
 * Builds the layer with XXX.fromOnnx(fixture.attributes, {W, R, B?, P?}), runs forward with
 * { h0: initial_h, c0: initial_c, lengths: sequence_lens } (states transposed [B,D,H] -> [D,B,H] for layout 1;
 * an omitted initial_c is simply not passed, which means zeros), checks the shapes of our results and converts
 * them to ONNX shapes:
 *   layout 0: our output [T,B,D*H] -> Y [T,D,B,H]; states [D,B,H] = Y_h/Y_c.
 *   layout 1: our output [B,T,D*H] has the memory order of Y [B,T,D,H]; states [D,B,H] -> [B,D,H].
 */
export function runOnnxFixture(
  fx: OnnxFixture,
  classes: { LSTM: OnnxFactory; GRU: OnnxFactory; RNN: OnnxFactory },
): OnnxRunResult {
  const cls = classes[fx.opType];
  if (!cls) throw new Error(`${fx.name}: unknown opType ${String(fx.opType)}`);
  const inp = fx.inputs;
  const layout = Number(fx.attributes.layout ?? 0);
  const X = inp.X;
  const W = inp.W;
  const R = inp.R;
  if (!X || !W || !R) throw new Error(`${fx.name}: fixture lacks X, W or R`);
  const D = W.shape[0];
  const H = Number(fx.attributes.hidden_size ?? R.shape[2]);
  const [T, B] = layout === 1 ? [X.shape[1], X.shape[0]] : [X.shape[0], X.shape[1]];

  const weights: { W: Tensor; R: Tensor; B?: Tensor; P?: Tensor } = { W: toTensor(W), R: toTensor(R) };
  if (inp.B) weights.B = toTensor(inp.B);
  if (inp.P) weights.P = toTensor(inp.P);
  const layer = cls.fromOnnx(fx.attributes, weights);

  const toState = (ft: FixtureTensor): Tensor =>
    layout === 1 ? bdhToDbh(ft.data, ft.shape[0], ft.shape[1], ft.shape[2]) : toTensor(ft);
  const opts: { h0?: Tensor; c0?: Tensor; lengths?: Int32Array } = {};
  if (inp.initial_h) opts.h0 = toState(inp.initial_h);
  if (inp.initial_c) opts.c0 = toState(inp.initial_c);
  if (inp.sequence_lens) opts.lengths = Int32Array.from(inp.sequence_lens.data);

  const res = layer.forward(toTensor(X), opts);

  const outShape = layout === 1 ? [B, T, D * H] : [T, B, D * H];
  expect(res.output?.shape, `${fx.name}: forward(...).output shape`).toEqual(outShape);
  expect(res.hN?.shape, `${fx.name}: forward(...).hN shape (states are [D, B, H] in every layout)`).toEqual([D, B, H]);
  if (fx.opType === 'LSTM') {
    expect(res.cN?.shape, `${fx.name}: forward(...).cN shape (an LSTM must return cN)`).toEqual([D, B, H]);
  }

  const Y =
    layout === 1
      ? { shape: [B, T, D, H], data: res.output.data }
      : oursToOnnxY(res.output.data, T, B, D, H);
  const state = (t: Tensor | undefined): Tensor | undefined =>
    t === undefined ? undefined : layout === 1 ? dbhToBdh(t.data, D, B, H) : { shape: [D, B, H], data: t.data };

  return {
    outputs: {
      Y,
      Y_h: state(res.hN),
      Y_c: fx.opType === 'LSTM' ? state(res.cN) : undefined,
    },
    requested: fx.outputNames.filter((n) => n !== ''),
  };
}
