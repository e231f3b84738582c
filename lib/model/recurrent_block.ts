// A LSTM/GRU/RNN inside a Sequential: many-to-many or many-to-one (returnSequences), the
// merge of a bidirectional layer's two directions (mergeMode), and the state carried between
// calls for truncated BPTT and stateful models.
import { invalidArg } from '../internal/check';
import { mixSeed } from '../internal/random';
import { optionsFromResolved } from '../layers/recurrent/config';
import type { BackwardGrads, BackwardOptions, BackwardResult, ForwardOptions, ForwardResult, Recurrent, StepState } from '../layers/recurrent/recurrent';
import type { Precision } from '../native';
import type { Tensor } from '../tensor';
import type { Flow, LayerContext, ModelLayer, ParamRef } from '../layers/layer';
import { WeightStore, sharedFloat32, type WriterToken } from '../internal/weight_store';

/** The carried state of a recurrent layer: final hN (and cN) of the previous call. */
interface CarriedState {
  h: Tensor;
  c?: Tensor;
}

/** Result arrays of a step the caller keeps and reuses (the model server's batches), in the
 * shape of ForwardOptions.out: written in place, never copied, so nobody else may hold them
 * while the step runs. */
export interface StepArrays {
  output: Float32Array;
  hN: Float32Array;
  cN?: Float32Array;
}

export class RecurrentBlock implements ModelLayer {
  readonly kind: string;
  private state: CarriedState | null = null;
  /** Place in the model: with the call's seed, picks this layer's dropout masks. */
  private index = 0;
  private merged: { halves: Float32Array[] | null; T: number; B: number; hasTime: boolean } | null = null;
  /** Learned initial state (learnInitialState): h0 [L*D, Hout] then c0 [L*D, H] (LSTM), and its gradient. */
  private readonly init: WeightStore | null;
  /** Whether the last training forward started from the learned state (its gradient then flows). */
  private usedInit = false;
  /** fit's output and input-gradient arrays, reused update after update (a fresh multi-MB array
   * per update costs its page faults): fit is the only writer and uses them before the next update. */
  private readonly reused = { output: null as Float32Array | null, input: null as Float32Array | null };

  constructor(readonly layer: Recurrent) {
    this.kind = layer.className;
    const slots = layer.numLayers * layer.numDirections;
    const n = slots * (layer.outputSize + (layer.cell === 'lstm' ? layer.hiddenSize : 0));
    this.init = layer.inSequential.learnInitialState ? new WeightStore(`${layer.className} initial state`, n) : null;
  }

  private get D(): number { return this.layer.numDirections; }
  private get mergedSize(): number {
    return this.layer.inSequential.mergeMode === 'concat' ? this.D * this.layer.outputSize : this.layer.outputSize;
  }

  connect(inputFeatures: number | null, index: number): number {
    this.index = index;
    if (inputFeatures === null) throw invalidArg(`layers[${index}] (${this.kind}) input`, 'features (put an Embedding first for token ids)', 'token ids');
    if (inputFeatures !== this.layer.inputSize) {
      throw invalidArg(`layers[${index}].inputSize`, `${inputFeatures} (the previous layer's output size)`, this.layer.inputSize);
    }
    if (this.layer.batchFirst) throw invalidArg(`layers[${index}].batchFirst`, 'false (a Sequential takes [N, T, F] data and runs time-major inside)', true);
    return this.mergedSize;
  }

  keepsTime(inputHasTime: boolean): boolean {
    return inputHasTime && this.layer.inSequential.returnSequences;
  }

  parameters(): ParamRef[] {
    const out = this.layer.parameters();
    if (this.init) {
      this.init.touch();  // writable views
      const slots = this.layer.numLayers * this.D, nh = slots * this.layer.outputSize;
      const { weights: w, grads: g } = this.init;
      out.push({ name: 'h0', shape: [slots, this.layer.outputSize], value: w.subarray(0, nh), grad: g.subarray(0, nh) });
      if (this.layer.cell === 'lstm') out.push({ name: 'c0', shape: [slots, this.layer.hiddenSize], value: w.subarray(nh), grad: g.subarray(nh) });
    }
    return out;
  }

  stores(): WeightStore[] {
    return this.init ? [this.layer.store, this.init] : [this.layer.store];
  }

  zeroGrad(writer?: WriterToken): void {
    this.layer.zeroGrad(writer ?? null);
    this.init?.grads.fill(0);
  }

  /** Forgets the carried state (stateful models, between independent sequences). */
  resetStates(): void { this.state = null; }

  forward(x: Flow, ctx: LayerContext & { carryState?: boolean }): Flow {
    const opts = this.forwardOptions(x, ctx);
    return this.finishForward(x, this.layer.forwardAs(ctx.writer ?? null, this.asTensor(x), opts), ctx);
  }

  async forwardAsync(x: Flow, ctx: LayerContext & { carryState?: boolean }): Promise<Flow> {
    const opts = this.forwardOptions(x, ctx);
    const weights = ctx.training ? undefined : ctx.reads?.get(this.layer.store);
    return this.finishForward(x, await this.layer.forwardAsyncAs(ctx.writer ?? null, this.asTensor(x), opts, weights), ctx);
  }

  backward(dy: Float32Array, writer?: WriterToken): Float32Array {
    return this.finishBackward(this.layer.backwardAs(writer ?? null, this.backwardGrads(dy), this.backwardOptions(writer)));
  }

  async backwardAsync(dy: Float32Array, writer?: WriterToken): Promise<Float32Array> {
    return this.finishBackward(await this.layer.backwardAsyncAs(writer ?? null, this.backwardGrads(dy), this.backwardOptions(writer)));
  }

  private backwardOptions(writer: WriterToken | undefined): BackwardOptions {
    const m = this.merged;
    if (!writer || !m) return {};
    return { out: { input: this.reusedArray('input', m.T * m.B * this.layer.inputSize) } };
  }

  /** One of fit's reused arrays, on a SharedArrayBuffer (an async call writes it in place). */
  private reusedArray(which: 'output' | 'input', n: number): Float32Array {
    const a = this.reused[which];
    if (a && a.length === n) return a;
    return (this.reused[which] = sharedFloat32(n));
  }

  /** The learned initial state's gradient: dh0 (dc0) summed over the batch. */
  private finishBackward(r: BackwardResult): Float32Array {
    if (this.init && this.usedInit) {
      const slots = this.layer.numLayers * this.D, Hout = this.layer.outputSize, H = this.layer.hiddenSize;
      const B = r.h0.shape[1], g = this.init.grads;
      sumOverBatch(r.h0.data, slots, B, Hout, g, 0);
      if (r.c0) sumOverBatch(r.c0.data, slots, B, H, g, slots * Hout);
    }
    return r.input.data;
  }

  /** One step with the layer's own step() (unidirectional layers); the state is a StepState. */
  step(x: Flow, state: unknown, _reads?: ReadonlyMap<WeightStore, Float32Array>, precision?: Precision): { y: Flow; state: unknown } {
    const B = x.shape[0];
    let s = state as StepState | undefined;
    if (s === undefined) s = this.learnedStepState(B);
    const r = this.layer.step({ shape: x.shape, data: x.data }, s, precision === undefined ? {} : { precision });
    return { y: { data: r.output.data, shape: r.output.shape, lengths: null }, state: r.state };
  }

  /**
   * step() on a worker thread: forwardAsync with T = 1 from the state (h0, c0), the same kernel
   * call as the layer's step(), so the same numbers. Added for the model server (lib/serve).
   */
  async stepAsync(x: Flow, state: unknown, reads?: ReadonlyMap<WeightStore, Float32Array>, precision?: Precision,
    into?: StepArrays): Promise<{ y: Flow; state: unknown }> {
    const layer = this.layer;
    if (layer.config.direction !== 'forward') throw invalidArg('direction', "'forward' (step() streams forward in time)", layer.config.direction);
    const [B, F] = x.shape;
    const L = layer.numLayers, Hout = layer.outputSize, H = layer.hiddenSize;
    let s = state as StepState | undefined;
    if (s === undefined) s = this.learnedStepState(B, reads);
    const opts: ForwardOptions = {};
    if (precision !== undefined) opts.precision = precision;
    if (s?.h !== undefined) opts.h0 = s.h;
    if (s?.c !== undefined) opts.c0 = s.c;
    if (into) opts.out = into;
    const r = await layer.forwardAsyncAs(null, { shape: [1, B, F], data: x.data }, opts, reads?.get(layer.store), into !== undefined);
    const next: StepState = { h: { shape: [L, B, Hout], data: r.hN.data } };
    if (r.cN) next.c = { shape: [L, B, H], data: r.cN.data };
    return { y: { data: r.output.data, shape: [B, Hout], lengths: null }, state: next };
  }

  /** The arrays a stepAsync() with `into` writes: output [B, Hout], hN [L, B, Hout], cN [L, B, H] (LSTM). */
  stepArrays(B: number): StepArrays {
    const L = this.layer.numLayers, Hout = this.layer.outputSize, H = this.layer.hiddenSize;
    const a: StepArrays = { output: new Float32Array(B * Hout), hN: new Float32Array(L * B * Hout) };
    if (this.layer.cell === 'lstm') a.cN = new Float32Array(L * B * H);
    return a;
  }

  /** A new stream's state from the learned initial state (undefined: zeros), for B streams. */
  private learnedStepState(B: number, reads?: ReadonlyMap<WeightStore, Float32Array>): StepState | undefined {
    if (!this.init) return undefined;
    const L = this.layer.numLayers, Hout = this.layer.outputSize, H = this.layer.hiddenSize;
    const w = reads?.get(this.init) ?? this.init.forSyncRead();
    const s: StepState = { h: { shape: [L, B, Hout], data: repeatOverBatch(w.subarray(0, L * Hout), L, B, Hout) } };
    if (this.layer.cell === 'lstm') s.c = { shape: [L, B, H], data: repeatOverBatch(w.subarray(L * Hout), L, B, H) };
    return s;
  }

  /** The shapes of one stream's step state ([L, Hout] h, [L, H] c) and where a new stream starts
   * (the learned initial state, or null for zeros); null for layers that cannot step. */
  stepStateSpec(): { h: [number, number]; c: [number, number] | null; initial: Float32Array | null } | null {
    const layer = this.layer;
    if (layer.config.direction !== 'forward') return null;
    const L = layer.numLayers;
    return {
      h: [L, layer.outputSize],
      c: layer.cell === 'lstm' ? [L, layer.hiddenSize] : null,
      initial: this.init ? this.init.forSyncRead().slice() : null,
    };
  }

  getConfig(): object {
    return optionsFromResolved(this.layer.config, this.layer.inSequential);
  }

  private asTensor(x: Flow): Tensor {
    if (x.shape.length !== 3) throw invalidArg(`${this.kind} input`, 'a sequence [T, B, F]', x.shape);
    return { shape: x.shape, data: x.data };
  }

  private forwardOptions(x: Flow, ctx: LayerContext & { carryState?: boolean }): ForwardOptions {
    const opts: ForwardOptions = { training: ctx.training };
    if (ctx.precision !== undefined) opts.precision = ctx.precision;
    if (ctx.training && this.layer.config.dropout > 0) opts.dropoutSeed = mixSeed(ctx.seed, this.index);
    if (ctx.writer && ctx.training) {
      const [T, B] = x.shape;
      opts.out = { output: this.reusedArray('output', T * B * this.D * this.layer.outputSize) };
    }
    if (x.lengths) opts.lengths = x.lengths;
    const B = x.shape[1];
    if (ctx.training) this.usedInit = false;  // inference leaves training state alone
    if (ctx.carryState && this.state && this.state.h.shape[1] === B) {
      opts.h0 = this.state.h;
      if (this.state.c) opts.c0 = this.state.c;
    } else if (this.init) {
      const slots = this.layer.numLayers * this.D, Hout = this.layer.outputSize, H = this.layer.hiddenSize;
      const w = ctx.training ? this.init.weights : ctx.reads?.get(this.init) ?? this.init.forSyncRead();
      opts.h0 = { shape: [slots, B, Hout], data: repeatOverBatch(w.subarray(0, slots * Hout), slots, B, Hout) };
      if (this.layer.cell === 'lstm') opts.c0 = { shape: [slots, B, H], data: repeatOverBatch(w.subarray(slots * Hout), slots, B, H) };
      if (ctx.training) this.usedInit = true;
    }
    return opts;
  }

  private finishForward(x: Flow, r: ForwardResult, ctx: LayerContext & { carryState?: boolean }): Flow {
    if (ctx.carryState) this.state = r.cN ? { h: r.hN, c: r.cN } : { h: r.hN };
    const [T, B] = x.shape;
    const D = this.D, Hout = this.layer.outputSize, L = this.layer.numLayers;
    let whole: Float32Array, rows: number, shape: number[];
    if (this.layer.inSequential.returnSequences) {
      whole = r.output.data;
      rows = T * B;
      shape = [T, B];
    } else {
      // Last valid step of each sequence = the top layer's final state, per direction.
      whole = new Float32Array(B * D * Hout);
      for (let d = 0; d < D; d++) {
        const top = r.hN.data.subarray(((L - 1) * D + d) * B * Hout, ((L - 1) * D + d + 1) * B * Hout);
        for (let b = 0; b < B; b++) whole.set(top.subarray(b * Hout, b * Hout + Hout), (b * D + d) * Hout);
      }
      rows = B;
      shape = [B];
    }
    const { data, halves } = mergeDirections(this.layer.inSequential.mergeMode, whole, rows, D, Hout);
    if (ctx.training) this.merged = { halves, T, B, hasTime: this.layer.inSequential.returnSequences };
    return { data, shape: [...shape, this.mergedSize], lengths: this.layer.inSequential.returnSequences ? x.lengths : null };
  }

  private backwardGrads(dy: Float32Array): BackwardGrads {
    const m = this.merged;
    if (!m) throw new Error(`${this.kind} block: backward() needs a training forward first`);
    const D = this.D, Hout = this.layer.outputSize, L = this.layer.numLayers;
    const rows = m.hasTime ? m.T * m.B : m.B;
    const dWhole = unmergeGrad(this.layer.inSequential.mergeMode, dy, m.halves, rows, D, Hout);
    if (m.hasTime) return { gradOutput: { shape: [m.T, m.B, D * Hout], data: dWhole } };
    const dhN = new Float32Array(L * D * m.B * Hout);
    for (let d = 0; d < D; d++) {
      const base = ((L - 1) * D + d) * m.B * Hout;
      for (let b = 0; b < m.B; b++) dhN.set(dWhole.subarray((b * D + d) * Hout, (b * D + d + 1) * Hout), base + b * Hout);
    }
    return { gradHN: { shape: [L * D, m.B, Hout], data: dhN } };
  }
}

/** [slots, n] -> [slots, B, n]: the same vector for every sequence. */
function repeatOverBatch(v: Float32Array, slots: number, B: number, n: number): Float32Array {
  const out = new Float32Array(slots * B * n);
  for (let s = 0; s < slots; s++) for (let b = 0; b < B; b++) out.set(v.subarray(s * n, s * n + n), (s * B + b) * n);
  return out;
}

/** g[offset + s*n + j] += Σ_b d[s, b, j]. */
function sumOverBatch(d: Float32Array, slots: number, B: number, n: number, g: Float32Array, offset: number): void {
  for (let s = 0; s < slots; s++) {
    for (let b = 0; b < B; b++) for (let j = 0; j < n; j++) g[offset + s * n + j] += d[(s * B + b) * n + j];
  }
}

/** Rows of [D*Hout] (directions side by side) -> rows of the merged size. */
function mergeDirections(mode: string, whole: Float32Array, rows: number, D: number, Hout: number) {
  if (D === 1 || mode === 'concat') return { data: whole, halves: null };
  const data = new Float32Array(rows * Hout);
  const halves = mode === 'mul' ? [new Float32Array(rows * Hout), new Float32Array(rows * Hout)] : null;
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < Hout; j++) {
      const f = whole[r * 2 * Hout + j], b = whole[r * 2 * Hout + Hout + j];
      data[r * Hout + j] = mode === 'sum' ? f + b : mode === 'ave' ? (f + b) / 2 : f * b;
      if (halves) {
        halves[0][r * Hout + j] = f;
        halves[1][r * Hout + j] = b;
      }
    }
  }
  return { data, halves };
}

function unmergeGrad(mode: string, dy: Float32Array, halves: Float32Array[] | null, rows: number, D: number, Hout: number): Float32Array {
  if (D === 1 || mode === 'concat') return dy;
  const out = new Float32Array(rows * 2 * Hout);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < Hout; j++) {
      const g = dy[r * Hout + j];
      let gf = g, gb = g;
      if (mode === 'ave') gf = gb = g / 2;
      else if (mode === 'mul' && halves) {
        gf = g * halves[1][r * Hout + j];
        gb = g * halves[0][r * Hout + j];
      }
      out[r * 2 * Hout + j] = gf;
      out[r * 2 * Hout + Hout + j] = gb;
    }
  }
  return out;
}
