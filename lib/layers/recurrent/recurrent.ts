// The shared machinery of LSTM, GRU and RNN: parameters in one flat buffer, forward,
// backward, streaming steps, and state dicts. Cell-specific math lives in native/src/cells.
import { Described, checkBoolean, checkInteger, checkKnownKeys, checkOneOf, invalidArg, invalidType, ownOptions } from '../../internal/check';
import { mixSeed, mulberry32 } from '../../internal/random';
import { native, ParamKind, type NativeRnn, type ParamEntry, type Precision, type RnnBackwardArgs, type RnnForwardArgs } from '../../native';
import { checkTensor, checkTensorRank, type Tensor } from '../../tensor';
import type { ParamRef, ResolvedSequenceOptions } from '../layer';
import { copyOf, give, take } from '../../internal/scratch';
import { WeightStore, isPinned, type WriterToken } from '../../internal/weight_store';
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
  /** Arrays to write the results into instead of new ones, each exactly the result's length: no
   * fresh memory per call (a new multi-MB array costs a page fault per 4 KiB on first touch). The
   * result's tensors are views of them. An async call fills them when it settles. */
  out?: { output?: Float32Array; hN?: Float32Array; cN?: Float32Array };
  /** This call's precision instead of the layer's (setPrecision), like a PyTorch autocast region;
   * a training call's backward() uses it too.
   * @defaultValue the layer's precision */
  precision?: Precision;
}

export interface BackwardOptions {
  /** Arrays for the input and initial-state gradients instead of new ones (see ForwardOptions.out). */
  out?: { input?: Float32Array; h0?: Float32Array; c0?: Float32Array };
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

export interface RecurrentStepOptions {
  /** Arrays to write the results into instead of new ones (they may be the state's own arrays:
   * the state is read before anything is written). A server stepping one batch after another
   * reuses them and saves the page faults of fresh arrays, a large part of a big batch's step. */
  out?: { output?: Float32Array; h?: Float32Array; c?: Float32Array };
  /** This step's precision instead of the layer's (setPrecision).
   * @defaultValue the layer's precision */
  precision?: Precision;
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
  /** The forward's precision: backward() runs its products in the same one. */
  precision: Precision;
}

export abstract class Recurrent {
  readonly config: Readonly<ResolvedConfig>;
  /** How this layer hands its output on inside a Sequential (read by lib/model only). */
  readonly inSequential: Readonly<ResolvedSequenceOptions>;
  readonly paramEntries: readonly ParamEntry[];
  /** The weights and gradients under the readers/writers rules (lib/internal/weight_store.ts). */
  readonly store: WeightStore;
  private readonly handle: NativeRnn;
  private record: TrainingRecord | null = null;
  /** Per-layer handles for training with dropout between layers (made on first use). */
  private layerwise: Layerwise | null = null;
  private dropoutCalls = 0;
  private precisionValue: Precision = 'fp32';

  protected constructor(cell: CellKind, options: unknown) {
    const resolved = resolveOptions(cell, options);
    this.config = Object.freeze(resolved.config);
    this.inSequential = Object.freeze(resolved.inSequential);
    this.handle = new native.NativeRnn(toNativeConfig(this.config));
    this.paramEntries = Object.freeze(this.handle.paramLayout());
    this.store = new WeightStore(this.className, this.handle.paramCount());
    this.resetParameters(this.config.seed);
  }

  /** All weights in one buffer (layout: paramEntries), on a SharedArrayBuffer. Views from
   * parameters() share it. Write them through loadStateDict or an optimizer; after writing through
   * a view kept from earlier, call weightsChanged() so that async inference sees the change. */
  get weights(): Float32Array {
    this.store.touch();
    return this.store.weights;
  }

  /** Gradients, same layout as weights; backward() accumulates into it. */
  get grads(): Float32Array { return this.store.grads; }

  /** Tells async inference that the weights were written through a view kept from earlier. */
  weightsChanged(): void { this.store.touch(); }

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

  /** The number format of inference's matrix products (setPrecision). */
  get precision(): Precision { return this.precisionValue; }

  /**
   * Every call (forward, forwardAsync, step, and training: forward with `training` and the
   * backward() after it) runs its matrix products in `precision`: 'fp32' (the default), 'bf16'
   * (weights and the products' inputs rounded to bfloat16; sums, gate math, states, gradients
   * and the weights themselves stay float32: mixed-precision training) or 'int8' (inference
   * only: weights s8 per gate row, x and h u8 per row with dynamic scales, exact integer sums;
   * a training forward then throws). README, Precision.
   * @throws RangeError for any other value.
   */
  setPrecision(precision: Precision): this {
    this.precisionValue = checkPrecision(precision);
    return this;
  }

  /** PyTorch's init: every weight and bias uniform(-1/sqrt(H), 1/sqrt(H)). */
  resetParameters(seed: number): void {
    this.store.checkWritable(null, `${this.className}.resetParameters`);
    checkInteger('seed', seed, 0);
    const rand = mulberry32(seed);
    const k = 1 / Math.sqrt(this.config.hiddenSize);
    const w = this.store.weights;
    for (let i = 0; i < w.length; i++) w[i] = (2 * rand() - 1) * k;
    this.store.touch();
  }

  /** Clears the gradient buffer. */
  zeroGrad(writer: WriterToken | null = null): void {
    this.store.checkWritable(writer, `${this.className}.zeroGrad`);
    this.store.grads.fill(0);
  }

  /** Every weight with its gradient, PyTorch names, views on the live buffers (the one
   * parameter shape of every layer and model: { name, shape, value, grad }). */
  parameters(): ParamRef[] {
    this.store.touch();  // hands out writable views
    const { weights, grads } = this.store;
    return this.paramEntries.map((e) => {
      const size = e.rows * e.cols;
      const shape = e.cols === 1 && e.kind !== ParamKind.W && e.kind !== ParamKind.R && e.kind !== ParamKind.Proj
        ? [e.rows] : [e.rows, e.cols];
      return { name: torchName(e), shape, value: weights.subarray(e.offset, e.offset + size), grad: grads.subarray(e.offset, e.offset + size) };
    });
  }

  /** Copies of the weights (or, with { grad: true }, the gradients) in a framework's layout. */
  stateDict(layout: Layout = 'torch', opts: { grad?: boolean } = {}): Record<string, Tensor> {
    opts = ownOptions('opts', opts, ['grad']);
    const grad = opts.grad === undefined ? false : checkBoolean('grad', opts.grad);
    return exportStateDict(this, grad ? this.store.grads : this.store.forSyncRead(), layout);
  }

  /** Loads weights from a framework's layout; all or nothing (weights unchanged on error). */
  loadStateDict(dict: Record<string, Tensor>, layout: Layout = 'torch'): this {
    this.store.checkWritable(null, `${this.className}.loadStateDict`);
    const next = importStateDict(this, dict, layout);
    this.store.weights.set(next);
    this.store.touch();
    return this;
  }

  /** The options this layer was built with (all resolved), for fromConfig / saving. */
  getConfig(): ResolvedConfig {
    return JSON.parse(JSON.stringify(this.config)) as ResolvedConfig;
  }

  /**
   * Runs the whole sequence. Inference reads the weights only and may run at any time, any number
   * at once; a training call (it records what backward() needs) is a writer.
   * @example lstm.forward(tensor(data, [T, B, I])) // output [T, B, D*Hout], hN [L*D, B, Hout]
   * @throws TypeError / RangeError for a wrong shape, dtype, lengths or state.
   */
  forward(x: Tensor, opts: ForwardOptions = {}): ForwardResult {
    return this.forwardAs(null, x, opts);
  }

  /** forward() on a worker thread; the event loop stays free. A training call waits for the
   * writers before it (fit, other training calls, optimizer updates of these weights). */
  forwardAsync(x: Tensor, opts: ForwardOptions = {}): Promise<ForwardResult> {
    return this.forwardAsyncAs(null, x, opts);
  }

  /** @internal forward() for `writer` (fit), which may already hold the weights. */
  forwardAs(writer: WriterToken | null, x: Tensor, opts: ForwardOptions): ForwardResult {
    const call = this.prepareForward(x, opts);
    if (!call.training) {
      this.handle.forward(...call.args(this.store.forSyncRead()));
      return call.result;
    }
    this.store.checkWritable(writer, `${this.className}.forward (training)`);
    const record = call.startRecord();
    if (call.byLayer) record.layerwise = this.runLayerwise().forward(this.store.weights, call.layerwise(record));
    else this.handle.forward(...call.args(this.store.weights));
    this.record = record;
    return call.result;
  }

  /** @internal forwardAsync() for `writer`; `weights` pins the version an async model call reads.
   * `privateArrays` (inference only): x, h0, c0 and the `out` arrays are the caller's alone until
   * the call settles (the model server's batch buffers), so they are used in place, not copied. */
  async forwardAsyncAs(writer: WriterToken | null, x: Tensor, opts: ForwardOptions, weights?: Float32Array, privateArrays = false): Promise<ForwardResult> {
    const call = this.prepareForward(x, opts);
    if (!call.training && privateArrays) {
      await this.handle.forwardAsync(...call.args(weights ?? this.store.forAsyncRead(), true));
      return call.result;
    }
    if (!call.training) {
      // A reader: a snapshot of one complete version, inputs the caller cannot take away meanwhile.
      const job = call.asyncArgs(weights ?? this.store.forAsyncRead());
      try {
        await this.handle.forwardAsync(...job.args);
      } finally {
        job.finish();
      }
      return call.result;
    }
    const owner = writer ?? {};
    await this.store.acquire(owner);
    try {
      const record = call.startRecord();
      if (call.byLayer) record.layerwise = await this.runLayerwise().forwardAsync(this.store.weights, call.layerwise(record));
      else {
        const job = call.asyncArgs(this.store.weights);
        try {
          await this.handle.forwardAsync(...job.args);
        } finally {
          job.finish();
        }
      }
      this.record = record;
    } finally {
      this.store.release(owner);
    }
    return call.result;
  }

  /**
   * Back-propagates through the last training forward. Weight gradients ACCUMULATE into
   * `grads`; returns the gradients of the input and the initial states.
   */
  backward(grads: BackwardGrads = {}, opts: BackwardOptions = {}): BackwardResult {
    return this.backwardAs(null, grads, opts);
  }

  /** backward() on a worker thread; the event loop stays free. */
  backwardAsync(grads: BackwardGrads = {}, opts: BackwardOptions = {}): Promise<BackwardResult> {
    return this.backwardAsyncAs(null, grads, opts);
  }

  /** @internal */
  backwardAs(writer: WriterToken | null, grads: BackwardGrads, opts: BackwardOptions = {}): BackwardResult {
    this.store.checkWritable(writer, `${this.className}.backward`);
    const call = this.prepareBackward(grads, opts, false);
    const { weights, grads: g } = this.store;
    if (call.layerwise) this.runLayerwise().backward(weights, g, call.layerwise);
    else this.handle.backward(...call.args);
    return call.result;
  }

  /** @internal */
  async backwardAsyncAs(writer: WriterToken | null, grads: BackwardGrads, opts: BackwardOptions = {}): Promise<BackwardResult> {
    const owner = writer ?? {};
    await this.store.acquire(owner);
    try {
      // Read the record once this call holds the weights: a training forward before it may replace it.
      const call = this.prepareBackward(grads, opts, true);
      const { weights, grads: g } = this.store;
      try {
        if (call.layerwise) await this.runLayerwise().backwardAsync(weights, g, call.layerwise);
        else await this.handle.backwardAsync(...call.args);
      } finally {
        call.finish();
      }
      return call.result;
    } finally {
      this.store.release(owner);
    }
  }

  /** `pin`: the call outlives this turn (async), so the caller's arrays are copied unless pinned. */
  private prepareBackward(grads: BackwardGrads, opts: BackwardOptions, pin: boolean) {
    const rec = this.record;
    if (!rec) throw new Error(`${this.className}.backward() needs a forward(x, { training: true }) first`);
    grads = ownOptions<BackwardGrads>('backward grads', grads, ['gradOutput', 'gradHN', 'gradCN']);
    const { T, B } = rec;
    const D = this.numDirections, L = this.numLayers, Hout = this.outputSize, H = this.hiddenSize;
    const lstm = this.cell === 'lstm';
    const outShape = this.batchFirst ? [B, T, D * Hout] : [T, B, D * Hout];
    // An async call gets private copies of the caller's arrays (reused ones: scratch.ts) unless
    // they are pinned, and writes `out` arrays that are not pinned at the end.
    const mine: Float32Array[] = [];
    const keep = (a: Float32Array | null) => {
      if (!pin || a === null || isPinned(a)) return a;
      const c = copyOf(a);
      mine.push(c);
      return c;
    };
    const staged: { mine: Float32Array; theirs: Float32Array }[] = [];
    const target = (given: Float32Array | undefined, n: number) => {
      if (given === undefined) return new Float32Array(n);
      if (!pin || isPinned(given)) return given;
      const m = take(n);
      staged.push({ mine: m, theirs: given });
      return m;
    };
    const out = outArrays('out', opts.out, { input: rec.x.length, h0: L * D * B * Hout, c0: lstm ? L * D * B * H : 0 });
    const dy = grads.gradOutput === undefined ? null : keep(checkTensor('gradOutput', grads.gradOutput, outShape).data);
    const dhN = grads.gradHN === undefined ? null : keep(checkTensor('gradHN', grads.gradHN, [L * D, B, Hout]).data);
    if (!lstm && grads.gradCN !== undefined) throw invalidArg('gradCN', `undefined (${this.className} has no cell state)`, grads.gradCN);
    const dcN = grads.gradCN === undefined ? null : keep(checkTensor('gradCN', grads.gradCN, [L * D, B, H]).data);
    const input = target(out.input, rec.x.length);
    const h0 = target(out.h0, L * D * B * Hout);
    const c0 = lstm ? target(out.c0, L * D * B * H) : null;
    const args: RnnBackwardArgs = [this.store.weights, rec.x, T, B, this.batchFirst, rec.lengths, rec.h0, rec.c0, rec.saved,
      dy, dhN, dcN, input, h0, c0, this.store.grads, rec.precision];
    const layerwise = rec.layerwise ? { rec: rec.layerwise, dy, dhN, dcN, dx: input, dh0: h0, dc0: c0 } : null;
    const result: BackwardResult = {
      input: { shape: [...rec.xShape], data: out.input ?? input }, h0: { shape: [L * D, B, Hout], data: out.h0 ?? h0 },
    };
    if (c0) result.c0 = { shape: [L * D, B, H], data: out.c0 ?? c0 };
    const finish = () => {
      for (const st of staged) st.theirs.set(st.mine);
      give(...mine, ...staged.map((st) => st.mine));
    };
    return { args, result, layerwise, finish };
  }

  /**
   * One time step of streaming inference (unidirectional layers).
   * @example let s = lstm.step(tensor(x0, [B, I])); s = lstm.step(tensor(x1, [B, I]), s.state) // s.output [B, Hout]
   */
  step(x: Tensor, state?: StepState, opts: RecurrentStepOptions = {}): StepResult {
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
    opts = ownOptions<RecurrentStepOptions>('opts', opts, ['out', 'precision']);
    const precision = opts.precision === undefined ? this.precisionValue : checkPrecision(opts.precision);
    const given = outArrays('out', opts.out, { output: B * Hout, h: L * B * Hout, c: lstm ? L * B * H : 0 });
    // The outputs not given are views of one buffer: a typed array of its own costs ~0.6 µs to
    // allocate, a tenth of a step.
    const sizes = [given.output ? 0 : B * Hout, given.h ? 0 : L * B * Hout, lstm && !given.c ? L * B * H : 0];
    const all = sizes[0] + sizes[1] + sizes[2] > 0 ? new Float32Array(sizes[0] + sizes[1] + sizes[2]) : null;
    const out = given.output ?? all!.subarray(0, sizes[0]);
    const h = given.h ?? all!.subarray(sizes[0], sizes[0] + sizes[1]);
    const c = !lstm ? null : given.c ?? all!.subarray(sizes[0] + sizes[1]);
    const weights = this.store.forSyncRead();
    this.handle.forward(weights, xt.data, 1, B, false, null, h0, c0, out, h, c, null, precision, this.store.versionOf(weights));
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

  private prepareForward(x: Tensor, opts: ForwardOptions) {
    opts = ownOptions<ForwardOptions>('forward options', opts, ['h0', 'c0', 'lengths', 'training', 'dropoutSeed', 'out', 'precision']);
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
    const precision = opts.precision === undefined ? this.precisionValue : checkPrecision(opts.precision);
    if (training && precision === 'int8') throw int8TrainingError(`${this.className}.forward (training)`, this.className);
    const dropoutSeed = opts.dropoutSeed === undefined ? null : checkInteger('dropoutSeed', opts.dropoutSeed, 0, 0xffffffff);
    const byLayer = training && this.config.dropout > 0 && L > 1;
    const out = outArrays('out', opts.out, { output: T * B * D * Hout, hN: L * D * B * Hout, cN: lstm ? L * D * B * H : 0 });
    const output = out.output ?? new Float32Array(T * B * D * Hout);
    const hN = out.hN ?? new Float32Array(L * D * B * Hout);
    const cN = lstm ? out.cN ?? new Float32Array(L * D * B * H) : null;
    const result: ForwardResult = {
      output: { shape: this.batchFirst ? [B, T, D * Hout] : [T, B, D * Hout], data: output },
      hN: { shape: [L * D, B, Hout], data: hN },
    };
    if (cN) result.cN = { shape: [L * D, B, H], data: cN };
    // A training call's record, made once the call holds the weights (it may reuse the buffer of
    // the record a running backward reads). Copies: backward must see what forward saw even if
    // the caller reuses its buffers.
    let record: TrainingRecord | null = null;
    const startRecord = (): TrainingRecord => {
      const previous = this.record;
      const saved = byLayer ? new Float32Array(0) : this.recordBuffer(this.handle.savedSize(T, B));
      if (byLayer) this.record = null;  // superseded
      const x = previous?.x.length === xt.data.length ? previous.x : new Float32Array(xt.data.length);
      x.set(xt.data);
      record = { x, xShape: [...xt.shape], T, B, lengths, h0: h0 && h0.slice(), c0: c0 && c0.slice(), saved, layerwise: null, precision };
      return record;
    };
    // The native call's arguments, given the weights to read. Inference on a worker thread and
    // streaming steps read weights packed (for bf16 and int8: converted, quantized) once per
    // weight version and kept on the handle, as inference engines pre-pack (a step would
    // otherwise spend a quarter of its time packing, an int8 sequence a twentieth quantizing).
    // A sync forward of a sequence packs the live weights itself: it sees writes made through
    // any view at once, without weightsChanged() (finite-difference checks rely on it).
    const args = (weights: Float32Array, async = false): RnnForwardArgs => record
      ? [weights, record.x, T, B, this.batchFirst, lengths, record.h0, record.c0, output, hN, cN, record.saved, precision]
      : [weights, xt.data, T, B, this.batchFirst, lengths, h0, c0, output, hN, cN, null, precision,
        T === 1 || async ? this.store.versionOf(weights) : null];
    // The same for a call that outlives this turn: the caller's arrays (inputs, and `out` arrays
    // JS could take away meanwhile) replaced by private ones; finish() copies the results out and
    // returns the private arrays for reuse.
    const asyncArgs = (weights: Float32Array) => {
      const a = args(weights, true);
      const own = (i: number, copyIn: boolean) => {
        const v = a[i] as Float32Array | null;
        if (v === null || isPinned(v) || (i >= 8 && !(v === out.output || v === out.hN || v === out.cN))) return null;
        const mine = copyIn ? copyOf(v) : take(v.length);
        a[i] = mine;
        return { i, mine, theirs: v };
      };
      // A training call's inputs are the record's own copies already.
      const inputs = record ? [] : [own(1, true), own(6, true), own(7, true)];
      const swaps = [...inputs, own(8, false), own(9, false), own(10, false)].filter((x) => x !== null);
      const finish = () => {
        for (const sw of swaps) if (sw!.i >= 8) sw!.theirs.set(sw!.mine);
        for (const sw of swaps) give(sw!.mine);
      };
      return { args: a, finish };
    };
    // Dropout between stacked layers: the layers run one by one (layerwise.ts).
    const layerwise = (rec: TrainingRecord) => ({
      x: rec.x, T, B, lengths, h0: rec.h0, c0: rec.c0, output, hN, cN,
      seed: dropoutSeed ?? mixSeed(this.config.seed, this.dropoutCalls++), precision,
    });
    return { training, byLayer, args, asyncArgs, result, startRecord, layerwise };
  }
}

/** A precision setPrecision() accepts: 'fp32', 'bf16' or 'int8'. */
export function checkPrecision(precision: unknown): Precision {
  return checkOneOf('precision', precision, ['fp32', 'bf16', 'int8'] as const);
}

/** What a training call on a layer set to int8 throws (nothing has changed then). */
export function int8TrainingError(call: string, layer: string): Error {
  return new Error(`${call}: ${layer} is set to int8, which is inference only; setPrecision('fp32') or 'bf16' to train it`);
}

/** The caller's `out` arrays, each checked to be a Float32Array of exactly its result's length. */
function outArrays<K extends string>(name: string, out: unknown, lengths: Record<K, number>): Partial<Record<K, Float32Array>> {
  if (out === undefined) return {};
  if (typeof out !== 'object' || out === null) throw invalidType(name, 'object of Float32Arrays', out);
  checkKnownKeys(name, out, Object.keys(lengths).filter((k) => lengths[k as K] > 0));
  const got: Partial<Record<K, Float32Array>> = {};
  for (const k of Object.keys(out) as K[]) {
    const a = (out as Record<K, unknown>)[k];
    if (a === undefined) continue;
    if (!(a instanceof Float32Array)) throw invalidType(`${name}.${k}`, 'Float32Array', a);
    if (a.length !== lengths[k]) throw invalidArg(`${name}.${k}`, `Float32Array of length ${lengths[k]}`, a);
    got[k] = a;
  }
  return got;
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
