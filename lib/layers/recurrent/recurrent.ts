// The shared machinery of LSTM, GRU and RNN: parameters in one flat buffer, forward,
// backward, streaming steps, and state dicts. Cell-specific math lives in native/src/cells.
import { Described, checkBoolean, checkInteger, invalidArg, invalidType, ownOptions } from '../../internal/check';
import { mixSeed, mulberry32 } from '../../internal/random';
import { native, ParamKind, type NativeRnn, type ParamEntry, type RnnBackwardArgs, type RnnForwardArgs } from '../../native';
import { checkTensor, checkTensorRank, type Tensor } from '../../tensor';
import type { ResolvedSequenceOptions } from '../layer';
import { Layerwise, type LayerwiseRecord } from './layerwise';
import { exportStateDict, importStateDict, torchName, type Layout } from './layouts';
import {
  CELL_CLASS_NAMES, gateCount, numDirections, outputSize, resolveOptions, toNativeConfig,
  type CellKind, type ResolvedConfig,
} from './config';

export interface ForwardOptions {
  /** Initial hidden state [L*D, B, Hout]; zeros when absent. */
  h0?: Tensor;
  /** Initial cell state [L*D, B, H] (LSTM); zeros when absent. */
  c0?: Tensor;
  /** Per-sequence lengths in 1..T (PyTorch packed / ONNX sequence_lens semantics). */
  lengths?: Int32Array | number[];
  /** Record what backward() needs. Default false. */
  training?: boolean;
  /** Seed of this call's dropout masks (config.dropout > 0, training); default: from config.seed
   * and a call counter. */
  dropoutSeed?: number;
}

export interface ForwardResult {
  /** [T, B, D*Hout] ([B, T, D*Hout] when batchFirst); 0 past each sequence's end. */
  output: Tensor;
  /** Final hidden state per layer and direction, [L*D, B, Hout]. */
  hN: Tensor;
  /** Final cell state, [L*D, B, H] (LSTM only). */
  cN?: Tensor;
}

export interface BackwardGrads {
  gradOutput?: Tensor;
  gradHN?: Tensor;
  gradCN?: Tensor;
}

export interface BackwardResult {
  input: Tensor;
  h0: Tensor;
  c0?: Tensor;
}

export interface StepState {
  h: Tensor;
  c?: Tensor;
}

export interface StepResult {
  /** Top layer's new hidden state, [B, Hout]. */
  output: Tensor;
  /** [L, B, Hout] */
  h: Tensor;
  /** [L, B, H] (LSTM) */
  c?: Tensor;
  /** Feed back into the next step(). */
  state: StepState;
}

/** What a training forward keeps for backward(). */
interface TrainingRecord {
  x: Float32Array;
  xShape: number[];
  T: number;
  B: number;
  lengths: Int32Array | null;
  h0: Float32Array | null;
  c0: Float32Array | null;
  saved: Float32Array;
  /** Set instead of `saved` when the layers ran one by one (dropout between them). */
  layerwise: LayerwiseRecord | null;
}

export abstract class Recurrent {
  readonly config: Readonly<ResolvedConfig>;
  /** How this layer hands its output on inside a Sequential (read by lib/model only). */
  readonly inSequential: Readonly<ResolvedSequenceOptions>;
  /** All weights in one buffer (layout: paramEntries). Views from parameters() share it. */
  readonly weights: Float32Array;
  /** Gradients, same layout as weights; backward() accumulates into it. */
  readonly grads: Float32Array;
  readonly paramEntries: readonly ParamEntry[];
  private readonly handle: NativeRnn;
  private record: TrainingRecord | null = null;
  private busy = false;
  /** Per-layer handles for training with dropout between layers (made on first use). */
  private layerwise: Layerwise | null = null;
  private dropoutCalls = 0;

  protected constructor(cell: CellKind, options: unknown) {
    const resolved = resolveOptions(cell, options);
    this.config = Object.freeze(resolved.config);
    this.inSequential = Object.freeze(resolved.inSequential);
    this.handle = new native.NativeRnn(toNativeConfig(this.config));
    this.paramEntries = Object.freeze(this.handle.paramLayout());
    const count = this.handle.paramCount();
    this.weights = new Float32Array(count);
    this.grads = new Float32Array(count);
    this.resetParameters(this.config.seed);
  }

  get cell(): CellKind { return this.config.cell; }
  get inputSize(): number { return this.config.inputSize; }
  get hiddenSize(): number { return this.config.hiddenSize; }
  get numLayers(): number { return this.config.numLayers; }
  get numDirections(): number { return numDirections(this.config); }
  get bidirectional(): boolean { return this.config.direction === 'bidirectional'; }
  get batchFirst(): boolean { return this.config.batchFirst; }
  /** Hout: projSize when projecting, else hiddenSize. */
  get outputSize(): number { return outputSize(this.config); }
  get gateCount(): number { return gateCount(this.config.cell); }
  /** 'LSTM', 'GRU' or 'RNN'. */
  get className(): string { return CELL_CLASS_NAMES[this.config.cell]; }

  /** PyTorch's init: every weight and bias uniform(-1/sqrt(H), 1/sqrt(H)). */
  resetParameters(seed: number): void {
    this.checkIdle();
    checkInteger('seed', seed, 0);
    const rand = mulberry32(seed);
    const k = 1 / Math.sqrt(this.config.hiddenSize);
    for (let i = 0; i < this.weights.length; i++) this.weights[i] = (2 * rand() - 1) * k;
  }

  /** Clears the gradient buffer. */
  zeroGrad(): void {
    this.checkIdle();
    this.grads.fill(0);
  }

  /** Every weight with its gradient, PyTorch names, views on the live buffers. */
  parameters(): { name: string; value: Tensor; grad: Tensor }[] {
    return this.paramEntries.map((e) => {
      const size = e.rows * e.cols;
      const shape = e.cols === 1 && e.kind !== ParamKind.W && e.kind !== ParamKind.R && e.kind !== ParamKind.Proj
        ? [e.rows] : [e.rows, e.cols];
      return {
        name: torchName(e),
        value: { shape, data: this.weights.subarray(e.offset, e.offset + size) },
        grad: { shape: [...shape], data: this.grads.subarray(e.offset, e.offset + size) },
      };
    });
  }

  /** Copies of the weights (or, with { grad: true }, the gradients) in a framework's layout. */
  stateDict(layout: Layout = 'torch', opts: { grad?: boolean } = {}): Record<string, Tensor> {
    opts = ownOptions('opts', opts, ['grad']);
    const grad = opts.grad === undefined ? false : checkBoolean('grad', opts.grad);
    return exportStateDict(this, grad ? this.grads : this.weights, layout);
  }

  /** Loads weights from a framework's layout; all or nothing (weights unchanged on error). */
  loadStateDict(dict: Record<string, Tensor>, layout: Layout = 'torch'): this {
    this.checkIdle();
    const next = importStateDict(this, dict, layout);
    this.weights.set(next);
    return this;
  }

  /** The options this layer was built with (all resolved), for fromConfig / saving. */
  getConfig(): ResolvedConfig {
    return JSON.parse(JSON.stringify(this.config)) as ResolvedConfig;
  }

  /**
   * Runs the whole sequence.
   * @example lstm.forward(tensor(data, [T, B, I])) // output [T, B, D*Hout], hN [L*D, B, Hout]
   * @throws TypeError / RangeError for a wrong shape, dtype, lengths or state.
   */
  forward(x: Tensor, opts: ForwardOptions = {}): ForwardResult {
    const call = this.prepareForward(x, opts);
    if (call.layerwise) call.record!.layerwise = this.runLayerwise().forward(this.weights, call.layerwise);
    else this.handle.forward(...call.args);
    this.record = call.record;
    return call.result;
  }

  /** forward() on a worker thread; the event loop stays free. */
  async forwardAsync(x: Tensor, opts: ForwardOptions = {}): Promise<ForwardResult> {
    const call = this.prepareForward(x, opts);
    this.busy = true;
    try {
      if (call.layerwise) call.record!.layerwise = await this.runLayerwise().forwardAsync(this.weights, call.layerwise);
      else await this.handle.forwardAsync(...call.args);
    } finally {
      this.busy = false;
    }
    this.record = call.record;
    return call.result;
  }

  /**
   * Back-propagates through the last training forward. Weight gradients ACCUMULATE into
   * `grads`; returns the gradients of the input and the initial states.
   */
  backward(grads: BackwardGrads = {}): BackwardResult {
    const call = this.prepareBackward(grads);
    if (call.layerwise) this.runLayerwise().backward(this.weights, this.grads, call.layerwise);
    else this.handle.backward(...call.args);
    return call.result;
  }

  /** backward() on a worker thread; the event loop stays free. */
  async backwardAsync(grads: BackwardGrads = {}): Promise<BackwardResult> {
    const call = this.prepareBackward(grads);
    this.busy = true;
    try {
      if (call.layerwise) await this.runLayerwise().backwardAsync(this.weights, this.grads, call.layerwise);
      else await this.handle.backwardAsync(...call.args);
    } finally {
      this.busy = false;
    }
    return call.result;
  }

  private prepareBackward(grads: BackwardGrads) {
    this.checkIdle();
    const rec = this.record;
    if (!rec) throw new Error(`${this.className}.backward() needs a forward(x, { training: true }) first`);
    grads = ownOptions<BackwardGrads>('backward grads', grads, ['gradOutput', 'gradHN', 'gradCN']);
    const { T, B } = rec;
    const D = this.numDirections, L = this.numLayers, Hout = this.outputSize, H = this.hiddenSize;
    const lstm = this.cell === 'lstm';
    const outShape = this.batchFirst ? [B, T, D * Hout] : [T, B, D * Hout];
    const dy = grads.gradOutput === undefined ? null : checkTensor('gradOutput', grads.gradOutput, outShape).data;
    const dhN = grads.gradHN === undefined ? null : checkTensor('gradHN', grads.gradHN, [L * D, B, Hout]).data;
    if (!lstm && grads.gradCN !== undefined) throw invalidArg('gradCN', `undefined (${this.className} has no cell state)`, grads.gradCN);
    const dcN = grads.gradCN === undefined ? null : checkTensor('gradCN', grads.gradCN, [L * D, B, H]).data;
    const input = new Float32Array(rec.x.length);
    const h0 = new Float32Array(L * D * B * Hout);
    const c0 = lstm ? new Float32Array(L * D * B * H) : null;
    const args: RnnBackwardArgs = [this.weights, rec.x, T, B, this.batchFirst, rec.lengths, rec.h0, rec.c0, rec.saved,
      dy, dhN, dcN, input, h0, c0, this.grads];
    const layerwise = rec.layerwise ? { rec: rec.layerwise, dy, dhN, dcN, dx: input, dh0: h0, dc0: c0 } : null;
    const result: BackwardResult = { input: { shape: [...rec.xShape], data: input }, h0: { shape: [L * D, B, Hout], data: h0 } };
    if (c0) result.c0 = { shape: [L * D, B, H], data: c0 };
    return { args, result, layerwise };
  }

  /**
   * One time step of streaming inference (unidirectional layers).
   * @example let s = lstm.step(tensor(x0, [B, I])); s = lstm.step(tensor(x1, [B, I]), s.state) // s.output [B, Hout]
   */
  step(x: Tensor, state?: StepState): StepResult {
    if (this.config.direction !== 'forward') {
      throw invalidArg('direction', "'forward' (step() streams forward in time)", this.config.direction);
    }
    if (state !== undefined) state = ownOptions<StepState>('state', state, ['h', 'c'], 'the state a previous step() returned, or undefined');
    const xt = checkTensorRank('x', x, 2);
    const B = xt.shape[0];
    if (xt.shape[1] !== this.inputSize) throw invalidArg('x', `shape [${B}, ${this.inputSize}]`, xt.shape);
    const L = this.numLayers, Hout = this.outputSize, H = this.hiddenSize;
    const lstm = this.cell === 'lstm';
    const h0 = state?.h === undefined ? null : checkTensor('state.h', state.h, [L, B, Hout]).data;
    if (!lstm && state?.c !== undefined) throw invalidArg('state.c', `undefined (${this.className} has no cell state)`, state.c);
    const c0 = state?.c === undefined ? null : checkTensor('state.c', state.c, [L, B, H]).data;
    this.checkIdle();
    // The three outputs are views of one buffer: a typed array of its own costs ~0.6 µs to
    // allocate, a tenth of a step.
    const all = new Float32Array(B * Hout + L * B * Hout + (lstm ? L * B * H : 0));
    const out = all.subarray(0, B * Hout);
    const h = all.subarray(B * Hout, B * Hout + L * B * Hout);
    const c = lstm ? all.subarray(B * Hout + L * B * Hout) : null;
    this.handle.forward(this.weights, xt.data, 1, B, false, null, h0, c0, out, h, c, null);
    const hT = { shape: [L, B, Hout], data: h };
    const result: StepResult = { output: { shape: [B, Hout], data: out }, h: hT, state: { h: hT } };
    if (c) {
      result.c = { shape: [L, B, H], data: c };
      result.state.c = result.c;
    }
    return result;
  }

  private runLayerwise(): Layerwise {
    if (!this.layerwise) {
      const firsts = Array.from({ length: this.numLayers }, (_v, l) => Math.min(...this.paramEntries.filter((e) => e.layer === l).map((e) => e.offset)));
      this.layerwise = new Layerwise(this.config, firsts);
    }
    return this.layerwise;
  }

  /**
   * The buffer for a new training record: the previous record's when the size repeats (every
   * batch of a fit), saving the page faults of a fresh multi-MiB array per call. The previous
   * record is dropped first: its buffer is about to be overwritten.
   */
  private recordBuffer(size: number): Float32Array {
    const previous = this.record?.saved;
    this.record = null;
    return previous && previous.length === size ? previous : new Float32Array(size);
  }

  private checkIdle(): void {
    if (this.busy) throw new Error(`This ${this.className} is busy in an async call`);
  }

  private prepareForward(x: Tensor, opts: ForwardOptions) {
    this.checkIdle();
    opts = ownOptions<ForwardOptions>('forward options', opts, ['h0', 'c0', 'lengths', 'training', 'dropoutSeed']);
    const xt = checkTensorRank('x', x, 3);
    const [d0, d1, I] = xt.shape;
    const [T, B] = this.batchFirst ? [d1, d0] : [d0, d1];
    if (I !== this.inputSize) {
      const want = this.batchFirst ? `[${B}, ${T}, ${this.inputSize}]` : `[${T}, ${B}, ${this.inputSize}]`;
      throw invalidArg('x', `shape ${want}`, xt.shape);
    }
    const D = this.numDirections, L = this.numLayers, Hout = this.outputSize, H = this.hiddenSize;
    const lstm = this.cell === 'lstm';
    const h0 = opts.h0 === undefined ? null : checkTensor('h0', opts.h0, [L * D, B, Hout]).data;
    if (!lstm && opts.c0 !== undefined) throw invalidArg('c0', `undefined (${this.className} has no cell state)`, opts.c0);
    const c0 = opts.c0 === undefined ? null : checkTensor('c0', opts.c0, [L * D, B, H]).data;
    const lengths = opts.lengths === undefined ? null : checkLengths(opts.lengths, T, B);
    const training = opts.training === undefined ? false : checkBoolean('training', opts.training);
    const dropoutSeed = opts.dropoutSeed === undefined ? null : checkInteger('dropoutSeed', opts.dropoutSeed, 0, 0xffffffff);
    const byLayer = training && this.config.dropout > 0 && L > 1;
    const saved = training && !byLayer ? this.recordBuffer(this.handle.savedSize(T, B)) : null;
    const output = new Float32Array(T * B * D * Hout);
    const hN = new Float32Array(L * D * B * Hout);
    const cN = lstm ? new Float32Array(L * D * B * H) : null;
    const args: RnnForwardArgs = [this.weights, xt.data, T, B, this.batchFirst, lengths, h0, c0, output, hN, cN, saved];
    const result: ForwardResult = {
      output: { shape: this.batchFirst ? [B, T, D * Hout] : [T, B, D * Hout], data: output },
      hN: { shape: [L * D, B, Hout], data: hN },
    };
    if (cN) result.cN = { shape: [L * D, B, H], data: cN };
    if (byLayer) this.record = null;  // superseded
    const record: TrainingRecord | null = training
      // Copies: backward must see what forward saw even if the caller reuses its buffers.
      ? { x: xt.data.slice(), xShape: [...xt.shape], T, B, lengths, h0: h0 && h0.slice(), c0: c0 && c0.slice(), saved: saved ?? new Float32Array(0), layerwise: null }
      : null;
    const layerwise = byLayer ? {
      x: record!.x, T, B, lengths, h0: record!.h0, c0: record!.c0, output, hN, cN,
      seed: dropoutSeed ?? mixSeed(this.config.seed, this.dropoutCalls++),
    } : null;
    return { args, result, record, layerwise };
  }
}

function checkLengths(lengths: unknown, T: number, B: number): Int32Array {
  if (!Array.isArray(lengths) && !(lengths instanceof Int32Array)) throw invalidType('lengths', 'Int32Array or number[]', lengths);
  if (lengths.length !== B) throw invalidArg('lengths', `${B} entries (one per sequence)`, new Described(`${lengths.length} entries`));
  const out = new Int32Array(B);
  for (let b = 0; b < B; b++) {
    const v = lengths[b];
    if (typeof v !== 'number') throw invalidType(`lengths[${b}]`, `integer in 1..${T}`, v);
    if (!Number.isInteger(v) || v < 1 || v > T) throw invalidArg(`lengths[${b}]`, `integer in 1..${T}`, v);
    out[b] = v;
  }
  return out;
}
