// Dense: y = act(x·Wᵀ + b) over the last axis (applied at every step of a sequence).
import { allocF32, checkBoolean, checkInteger, checkOneOf, checkSize, Described, invalidArg, MAX_ELEMENTS, ownOptions } from '../internal/check';
import { mulberry32, randomSeed } from '../internal/random';
import { WeightStore, sharedFloat32, type WriterToken } from '../internal/weight_store';
import { native } from '../native';
import { rowsOf, type Flow, type LayerContext, type ModelLayer, type ParamRef } from './layer';

export type DenseActivation = 'linear' | 'relu' | 'tanh' | 'sigmoid' | 'softmax';

export interface DenseOptions {
  /** Output features. Required. */
  units: number;
  /** Input features; taken from the previous layer inside a Sequential when absent. */
  inputSize?: number;
  /** Applied to the output. 'softmax' normalises over the last axis.
   * @defaultValue 'linear'
   */
  activation?: DenseActivation;
  /** Add a bias.
   * @defaultValue true
   */
  bias?: boolean;
  /** Seed of PyTorch's Linear init: uniform(-1/sqrt(in), 1/sqrt(in)).
   * @defaultValue random
   */
  seed?: number;
}

export class Dense implements ModelLayer {
  readonly kind = 'Dense';
  readonly units: number;
  readonly activation: DenseActivation;
  readonly useBias: boolean;
  readonly seed: number;
  private inFeatures = 0;
  /** [units, in] as PyTorch's Linear.weight, then [units] bias, in one buffer (made once the input size is known). */
  private store: WeightStore | null = null;
  private saved: { x: Float32Array; y: Float32Array; rows: number } | null = null;
  /** A writer's (fit's) output and input-gradient arrays, reused update after update: fit uses
   * them before its next update, and a fresh multi-MB array costs its page faults. */
  private readonly reused = { y: null as Float32Array | null, dx: null as Float32Array | null };

  constructor(optionsIn: DenseOptions) {
    const options = ownOptions<DenseOptions>('Dense options', optionsIn, ['units', 'inputSize', 'activation', 'bias', 'seed']);
    this.units = checkSize('units', options.units);
    this.activation = checkOneOf('activation', options.activation ?? 'linear', ['linear', 'relu', 'tanh', 'sigmoid', 'softmax'] as const);
    this.useBias = checkBoolean('bias', options.bias ?? true);
    this.seed = options.seed === undefined ? randomSeed() : checkInteger('seed', options.seed, 0);
    if (options.inputSize !== undefined) this.build(checkSize('inputSize', options.inputSize));
  }

  get inputSize(): number { return this.inFeatures; }

  /** [units, in] as PyTorch's Linear.weight, then [units] bias, in one buffer (SharedArrayBuffer). */
  get weights(): Float32Array {
    const s = this.built();
    s.touch();  // a writable view
    return s.weights;
  }

  get grads(): Float32Array { return this.built().grads; }

  stores(): WeightStore[] { return [this.built()]; }

  connect(inputFeatures: number | null, index: number): number {
    if (inputFeatures === null) throw invalidArg(`layers[${index}] (Dense) input`, 'features (put an Embedding before it for token ids)', 'token ids');
    if (this.inFeatures === 0) this.build(inputFeatures);
    else if (this.inFeatures !== inputFeatures) throw invalidArg(`layers[${index}].inputSize`, `${inputFeatures} (the previous layer's output size)`, this.inFeatures);
    return this.units;
  }

  keepsTime(inputHasTime: boolean): boolean { return inputHasTime; }

  private build(inFeatures: number): void {
    const n = this.units * inFeatures + (this.useBias ? this.units : 0);
    if (n > MAX_ELEMENTS) throw invalidArg('units * inputSize', `at most ${MAX_ELEMENTS} (2^31) weights`, new Described(String(n)));
    this.store = new WeightStore('Dense', n);
    this.inFeatures = inFeatures;
    const w = this.store.weights;
    const rand = mulberry32(this.seed);
    const k = 1 / Math.sqrt(inFeatures);
    for (let i = 0; i < n; i++) w[i] = (2 * rand() - 1) * k;
  }

  parameters(): ParamRef[] {
    const s = this.built();
    s.touch();  // writable views
    const nw = this.units * this.inFeatures;
    const out: ParamRef[] = [{ name: 'weight', shape: [this.units, this.inFeatures], value: s.weights.subarray(0, nw), grad: s.grads.subarray(0, nw) }];
    if (this.useBias) out.push({ name: 'bias', shape: [this.units], value: s.weights.subarray(nw), grad: s.grads.subarray(nw) });
    return out;
  }

  zeroGrad(): void { this.built().grads.fill(0); }

  forward(x: Flow, ctx: LayerContext): Flow {
    const call = this.prepareForward(x, ctx, false);
    if (call.rows > 0) native.matmul(false, true, call.rows, this.units, this.inFeatures, x.data, call.w, call.y, this.useBias);
    return this.finishForward(x, call.y, call.rows, ctx);
  }

  /** forward() with a large product on a worker thread (the event loop stays free). */
  async forwardAsync(x: Flow, ctx: LayerContext): Promise<Flow> {
    const call = this.prepareForward(x, ctx, true);
    await product(false, true, call.rows, this.units, this.inFeatures, x.data, call.w, call.y, this.useBias);
    return this.finishForward(x, call.y, call.rows, ctx);
  }

  backward(dy: Float32Array, writer?: WriterToken): Float32Array {
    const { dz, x, rows, dx } = this.prepareBackward(dy, writer);
    const O = this.units, I = this.inFeatures, { weights, grads } = this.built();
    if (rows > 0) {
      native.matmul(true, false, O, I, rows, dz, x, grads.subarray(0, O * I), true);
      if (this.useBias) native.matmul(false, false, 1, O, rows, ones(rows), dz, grads.subarray(O * I), true);
      native.matmul(false, false, rows, I, O, dz, weights.subarray(0, O * I), dx, false);
    }
    return dx;
  }

  async backwardAsync(dy: Float32Array, writer?: WriterToken): Promise<Float32Array> {
    const { dz, x, rows, dx } = this.prepareBackward(dy, writer);
    const O = this.units, I = this.inFeatures, { weights, grads } = this.built();
    await product(true, false, O, I, rows, dz, x, grads.subarray(0, O * I), true);
    if (this.useBias) await product(false, false, 1, O, rows, ones(rows), dz, grads.subarray(O * I), true);
    await product(false, false, rows, I, O, dz, weights.subarray(0, O * I), dx, false);
    return dx;
  }

  /** The output rows (bias first) and the weight matrix this call reads: the live weights for
   * training (a writer), else one complete version (lib/internal/weight_store.ts). */
  private prepareForward(x: Flow, ctx: LayerContext, async: boolean) {
    const store = this.built();
    if (ctx.training) store.checkWritable(ctx.writer ?? null, 'Dense.forward (training)');
    const all = ctx.training ? store.weights : ctx.reads?.get(store) ?? (async ? store.forAsyncRead() : store.forSyncRead());
    const I = this.inFeatures;
    if (x.shape[x.shape.length - 1] !== I) throw invalidArg('Dense input', `last axis ${I}`, x.shape);
    const rows = rowsOf(x.shape), O = this.units;
    const y = ctx.training && ctx.writer ? this.reusedArray('y', rows * O) : new Float32Array(rows * O);
    if (this.useBias) {  // y starts as the bias rows; the product accumulates onto them
      const b = all.subarray(O * I);
      for (let r = 0; r < rows; r++) y.set(b, r * O);
    }
    return { rows, y, w: all.subarray(0, O * I) };
  }

  private finishForward(x: Flow, y: Float32Array, rows: number, ctx: LayerContext): Flow {
    const O = this.units;
    applyActivation(this.activation, y, rows, O);
    if (ctx.training) this.saved = { x: x.data, y, rows };  // inference leaves training state alone
    return { data: y, shape: [...x.shape.slice(0, -1), O], lengths: x.lengths };
  }

  /** dL/dz; the products (weight, bias and input gradients) are the caller's. */
  private prepareBackward(dy: Float32Array, writer: WriterToken | undefined) {
    const s = this.saved;
    if (!s) throw new Error('Dense.backward() needs a training forward first');
    const dz = activationBackward(this.activation, s.y, dy, s.rows, this.units);
    const n = s.rows * this.inFeatures;
    return { dz, x: s.x, rows: s.rows, dx: writer ? this.reusedArray('dx', n) : new Float32Array(n) };
  }

  /** One of a writer's reused arrays, on a SharedArrayBuffer (an async product writes it in place). */
  private reusedArray(which: 'y' | 'dx', n: number): Float32Array {
    const a = this.reused[which];
    if (a && a.length === n) return a;
    return (this.reused[which] = sharedFloat32(n));
  }

  step(x: Flow, state: unknown, reads?: ReadonlyMap<WeightStore, Float32Array>): { y: Flow; state: unknown } {
    return { y: this.forward(x, reads ? { training: false, seed: 0, reads } : { training: false, seed: 0 }), state };
  }

  getConfig(): object {
    return { units: this.units, inputSize: this.inFeatures, activation: this.activation, bias: this.useBias, seed: this.seed };
  }

  private built(): WeightStore {
    if (!this.store) throw new Error('Dense has no inputSize yet: pass inputSize or put it in a Sequential');
    return this.store;
  }
}

/** A row of ones: the bias gradient is 1ᵀ·dz, a product like the others. */
function ones(n: number): Float32Array {
  return new Float32Array(n).fill(1);
}

/** Products below this many multiply-adds (about 0.1 ms) run inline: a worker round trip costs more. */
const ASYNC_MIN_MACS = 1 << 18;

/** C (+)= op(A)·op(B) on a worker thread when it is big enough to matter. */
async function product(transA: boolean, transB: boolean, m: number, n: number, k: number, a: Float32Array,
  b: Float32Array, c: Float32Array, accumulate: boolean): Promise<void> {
  if (m === 0) return;
  if (m * n * k < ASYNC_MIN_MACS) native.matmul(transA, transB, m, n, k, a, b, c, accumulate);
  else await native.matmulAsync(transA, transB, m, n, k, a, b, c, accumulate);
}

function applyActivation(act: DenseActivation, y: Float32Array, rows: number, O: number): void {
  switch (act) {
    case 'linear': return;
    case 'relu': for (let i = 0; i < y.length; i++) if (!(y[i] > 0)) y[i] = 0; return;
    case 'tanh': for (let i = 0; i < y.length; i++) y[i] = Math.tanh(y[i]); return;
    case 'sigmoid': for (let i = 0; i < y.length; i++) y[i] = 1 / (1 + Math.exp(-y[i])); return;
    case 'softmax':
      for (let r = 0; r < rows; r++) {
        const row = y.subarray(r * O, r * O + O);
        let max = -Infinity;
        for (const v of row) if (v > max) max = v;
        let sum = 0;
        for (let o = 0; o < O; o++) sum += Math.exp(row[o] - max);
        for (let o = 0; o < O; o++) row[o] = Math.exp(row[o] - max) / sum;
      }
  }
}

/** dL/dz from dL/dy and the activated output y. */
function activationBackward(act: DenseActivation, y: Float32Array, dy: Float32Array, rows: number, O: number): Float32Array {
  if (act === 'linear') return dy;
  const dz = new Float32Array(dy.length);
  switch (act) {
    case 'relu': for (let i = 0; i < dy.length; i++) dz[i] = y[i] > 0 ? dy[i] : 0; break;
    case 'tanh': for (let i = 0; i < dy.length; i++) dz[i] = dy[i] * (1 - y[i] * y[i]); break;
    case 'sigmoid': for (let i = 0; i < dy.length; i++) dz[i] = dy[i] * y[i] * (1 - y[i]); break;
    case 'softmax':
      for (let r = 0; r < rows; r++) {
        let dot = 0;
        for (let o = 0; o < O; o++) dot += dy[r * O + o] * y[r * O + o];
        for (let o = 0; o < O; o++) dz[r * O + o] = y[r * O + o] * (dy[r * O + o] - dot);
      }
  }
  return dz;
}
