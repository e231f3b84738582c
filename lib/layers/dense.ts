// Dense: y = act(x·Wᵀ + b) over the last axis (applied at every step of a sequence).
import { allocF32, checkBoolean, checkInteger, checkOneOf, checkSize, Described, invalidArg, MAX_ELEMENTS, ownOptions } from '../internal/check';
import { mulberry32, randomSeed } from '../internal/random';
import { native } from '../native';
import { rowsOf, type Flow, type LayerContext, type ModelLayer, type ParamRef } from './layer';

export type DenseActivation = 'linear' | 'relu' | 'tanh' | 'sigmoid' | 'softmax';

export interface DenseOptions {
  /** Output features. Required. */
  units: number;
  /** Input features; taken from the previous layer inside a Sequential when absent. */
  inputSize?: number;
  /** Applied to the output. 'softmax' normalises over the last axis. Default 'linear'. */
  activation?: DenseActivation;
  /** Add a bias. Default true. */
  bias?: boolean;
  /** Seed of PyTorch's Linear init: uniform(-1/sqrt(in), 1/sqrt(in)). Default random. */
  seed?: number;
}

export class Dense implements ModelLayer {
  readonly kind = 'Dense';
  readonly units: number;
  readonly activation: DenseActivation;
  readonly useBias: boolean;
  readonly seed: number;
  private inFeatures = 0;
  /** [units, in] as PyTorch's Linear.weight, then [units] bias, in one buffer. */
  weights = new Float32Array(0);
  grads = new Float32Array(0);
  private saved: { x: Float32Array; y: Float32Array; rows: number } | null = null;

  constructor(optionsIn: DenseOptions) {
    const options = ownOptions<DenseOptions>('Dense options', optionsIn, ['units', 'inputSize', 'activation', 'bias', 'seed']);
    this.units = checkSize('units', options.units);
    this.activation = checkOneOf('activation', options.activation ?? 'linear', ['linear', 'relu', 'tanh', 'sigmoid', 'softmax'] as const);
    this.useBias = checkBoolean('bias', options.bias ?? true);
    this.seed = options.seed === undefined ? randomSeed() : checkInteger('seed', options.seed, 0);
    if (options.inputSize !== undefined) this.build(checkSize('inputSize', options.inputSize));
  }

  get inputSize(): number { return this.inFeatures; }

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
    this.weights = allocF32('Dense weights', n);
    this.grads = allocF32('Dense gradients', n);
    this.inFeatures = inFeatures;
    const rand = mulberry32(this.seed);
    const k = 1 / Math.sqrt(inFeatures);
    for (let i = 0; i < n; i++) this.weights[i] = (2 * rand() - 1) * k;
  }

  private get weightView(): Float32Array { return this.weights.subarray(0, this.units * this.inFeatures); }

  parameters(): ParamRef[] {
    this.checkBuilt();
    const nw = this.units * this.inFeatures;
    const out: ParamRef[] = [{ name: 'weight', shape: [this.units, this.inFeatures], value: this.weights.subarray(0, nw), grad: this.grads.subarray(0, nw) }];
    if (this.useBias) out.push({ name: 'bias', shape: [this.units], value: this.weights.subarray(nw), grad: this.grads.subarray(nw) });
    return out;
  }

  zeroGrad(): void { this.grads.fill(0); }

  forward(x: Flow, ctx: LayerContext): Flow {
    const call = this.prepareForward(x);
    if (call.rows > 0) native.matmul(false, true, call.rows, this.units, this.inFeatures, x.data, this.weightView, call.y, this.useBias);
    return this.finishForward(x, call.y, call.rows, ctx);
  }

  /** forward() with a large product on a worker thread (the event loop stays free). */
  async forwardAsync(x: Flow, ctx: LayerContext): Promise<Flow> {
    const call = this.prepareForward(x);
    await product(false, true, call.rows, this.units, this.inFeatures, x.data, this.weightView, call.y, this.useBias);
    return this.finishForward(x, call.y, call.rows, ctx);
  }

  backward(dy: Float32Array): Float32Array {
    const { dz, x, rows, dx } = this.prepareBackward(dy);
    const O = this.units, I = this.inFeatures;
    if (rows > 0) {
      native.matmul(true, false, O, I, rows, dz, x, this.grads.subarray(0, O * I), true);
      if (this.useBias) native.matmul(false, false, 1, O, rows, ones(rows), dz, this.grads.subarray(O * I), true);
      native.matmul(false, false, rows, I, O, dz, this.weightView, dx, false);
    }
    return dx;
  }

  async backwardAsync(dy: Float32Array): Promise<Float32Array> {
    const { dz, x, rows, dx } = this.prepareBackward(dy);
    const O = this.units, I = this.inFeatures;
    await product(true, false, O, I, rows, dz, x, this.grads.subarray(0, O * I), true);
    if (this.useBias) await product(false, false, 1, O, rows, ones(rows), dz, this.grads.subarray(O * I), true);
    await product(false, false, rows, I, O, dz, this.weightView, dx, false);
    return dx;
  }

  private prepareForward(x: Flow) {
    this.checkBuilt();
    const I = this.inFeatures;
    if (x.shape[x.shape.length - 1] !== I) throw invalidArg('Dense input', `last axis ${I}`, x.shape);
    const rows = rowsOf(x.shape), O = this.units;
    const y = new Float32Array(rows * O);
    if (this.useBias) {  // y starts as the bias rows; the product accumulates onto them
      const b = this.weights.subarray(O * I);
      for (let r = 0; r < rows; r++) y.set(b, r * O);
    }
    return { rows, y };
  }

  private finishForward(x: Flow, y: Float32Array, rows: number, ctx: LayerContext): Flow {
    const O = this.units;
    applyActivation(this.activation, y, rows, O);
    this.saved = ctx.training ? { x: x.data, y, rows } : null;
    return { data: y, shape: [...x.shape.slice(0, -1), O], lengths: x.lengths };
  }

  /** dL/dz; the products (weight, bias and input gradients) are the caller's. */
  private prepareBackward(dy: Float32Array) {
    const s = this.saved;
    if (!s) throw new Error('Dense.backward() needs a training forward first');
    const dz = activationBackward(this.activation, s.y, dy, s.rows, this.units);
    return { dz, x: s.x, rows: s.rows, dx: new Float32Array(s.rows * this.inFeatures) };
  }

  step(x: Flow, state: unknown): { y: Flow; state: unknown } {
    return { y: this.forward(x, { training: false, seed: 0 }), state };
  }

  getConfig(): object {
    return { units: this.units, inputSize: this.inFeatures, activation: this.activation, bias: this.useBias, seed: this.seed };
  }

  private checkBuilt(): void {
    if (this.inFeatures === 0) throw new Error('Dense has no inputSize yet: pass inputSize or put it in a Sequential');
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
