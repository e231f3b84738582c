// Sequential: a stack of layers run one after the other; forward, backward, predict, state dicts.
// Training (fit, evaluate) lives in fit.ts; files in model_file.ts; Keras weight lists in keras_weights.ts.
import { checkAllFinite, checkInteger, checkNumbers, Described, invalidArg, invalidType, ownOptions } from '../internal/check';
import { Recurrent, checkPrecision } from '../layers/recurrent/recurrent';
import type { Precision } from '../native';
import { checkTensorRank, type Tensor } from '../tensor';
import { Samples, type BatchedDataset, type DataSpec, type Dataset, type SequenceArray } from './data';
import { Dense } from '../layers/dense';
import { Dropout } from '../layers/dropout';
import { Embedding } from '../layers/embedding';
import {
  evaluate, fit, testOnBatch, trainOnBatch, type BatchResult, type EvaluateOptions, type FitOptions, type History, type TrainOnBatchOptions,
} from './fit';
import { loadModel, saveModel, type SaveOptions } from './model_file';
import { getKerasWeights, setKerasWeights } from './keras_weights';
import type { Flow, LayerContext, ModelLayer, ParamRef } from '../layers/layer';
import type { Model, SequentialLayer } from './model';
import { WeightStore, acquireAll, syncReadView, type WriterToken } from '../internal/weight_store';
import { RecurrentBlock, type StepArrays } from './recurrent_block';
import { isBatchIterable, streamBatches, type BatchIterable } from './batch_source';
import { serveModel, type ModelServeOptions } from './serving';
import type { ModelServer } from '../serve/server';
import { exportOnnx, type ExportOnnxOptions } from '../convert/onnx_export';
import { saveTfjs } from '../convert/tfjs_export';

export type { SequentialLayer };

/** What model.step() returns and takes back: each layer's state (opaque). */
export interface ModelState {
  layers: unknown[];
}

export interface PredictOptions {
  /** Valid steps per row of a tensor x.
   * @defaultValue every row all T steps */
  lengths?: Int32Array | number[];
  /** Sequences per forward call.
   * @defaultValue 64
   */
  batchSize?: number;
  /** The recurrent layers' precision for this call ('fp32', 'bf16'): like a PyTorch autocast
   * region, the layers' own setPrecision() is left as it is.
   * @defaultValue each layer's precision */
  precision?: Precision;
}

export interface ModelStepOptions {
  /** The recurrent layers' precision for this step (see PredictOptions.precision).
   * @defaultValue each layer's precision */
  precision?: Precision;
}

function stepPrecision(opts: ModelStepOptions): Precision | undefined {
  const o = ownOptions<ModelStepOptions>('step options', opts, ['precision']);
  return o.precision === undefined ? undefined : checkPrecision(o.precision);
}

export class Sequential implements Model {
  /** The layers as given. */
  readonly layers: readonly SequentialLayer[];
  /** The same layers behind the model interface (recurrent layers wrapped). */
  readonly blocks: readonly ModelLayer[];
  /** Features per step of the input; null when the model starts with an Embedding (token ids). */
  readonly inputFeatures: number | null;
  readonly outputFeatures: number;
  /** Whether the output keeps the time axis (many-to-many) or not (many-to-one). */
  readonly outputHasTime: boolean;
  /** Each layer's output: features per row and whether it keeps the time axis (for summary()). */
  private readonly outputs: { features: number; hasTime: boolean }[] = [];

  constructor(layers: SequentialLayer[]) {
    if (!Array.isArray(layers) || layers.length === 0) throw invalidType('layers', 'non-empty array of layers', layers);
    // One layer object twice would share weights and a training record between two places,
    // and the second forward overwrites what the first one's backward needs: refused.
    layers.forEach((l, i) => {
      const j = layers.indexOf(l);
      if (j < i) {
        throw invalidArg(`layers[${i}]`, 'a layer object not already in the model',
          new Described(`the ${(l as { constructor?: { name?: string } })?.constructor?.name ?? 'layer'} object of layers[${j}] again (make a new layer for each place)`));
      }
    });
    this.layers = Object.freeze([...layers]);
    this.blocks = Object.freeze(layers.map((l, i) => {
      if (l instanceof Recurrent) return new RecurrentBlock(l);
      if (l instanceof Dense || l instanceof Embedding || l instanceof Dropout) return l;
      throw invalidType(`layers[${i}]`, 'LSTM, GRU, RNN, Dense, Embedding or Dropout', l);
    }));
    const first = layers[0];
    this.inputFeatures = first instanceof Embedding ? null
      : first instanceof Recurrent ? first.inputSize
        : first instanceof Dense && first.inputSize > 0 ? first.inputSize : -1;
    if (this.inputFeatures === -1) throw invalidArg('layers[0]', 'a layer that knows its input size (Embedding, LSTM/GRU/RNN, or Dense with inputSize)', first);
    let features: number | null = this.inputFeatures;
    let hasTime = true;
    this.blocks.forEach((b, i) => {
      if (!hasTime && b instanceof RecurrentBlock) throw invalidArg(`layers[${i}]`, 'a sequence input (the layer before it has returnSequences: false)', b.kind);
      features = b.connect(features, i);
      hasTime = b.keepsTime(hasTime);
      this.outputs.push({ features, hasTime });
    });
    this.outputFeatures = features as unknown as number;
    this.outputHasTime = hasTime;
  }

  /** Every trainable tensor, PyTorch nn.Sequential names (`0.weight_ih_l0`, `1.weight`, ...). */
  parameters(): ParamRef[] {
    return this.blocks.flatMap((b, i) => b.parameters().map((p) => ({ ...p, name: `${i}.${p.name}` })));
  }

  get paramCount(): number {
    return this.parameters().reduce((n, p) => n + p.value.length, 0);
  }

  zeroGrad(writer?: WriterToken): void {
    for (const b of this.blocks) b.zeroGrad(writer);
  }

  /** The weight stores of every layer (lib/internal/weight_store.ts). */
  stores(): WeightStore[] {
    return this.blocks.flatMap((b) => b.stores());
  }

  /** Forgets the state carried by stateful recurrent layers. */
  resetStates(): void {
    for (const b of this.blocks) if (b instanceof RecurrentBlock) b.resetStates();
  }

  /**
   * Every recurrent layer's precision (Recurrent.setPrecision): predict, step, serve and fit
   * then run the recurrent layers' products in it (fit in 'bf16': mixed precision, the weights,
   * gradients and optimizer state stay float32; 'int8' is inference only, fit and trainOnBatch
   * throw); Dense and Embedding layers stay fp32.
   * @throws RangeError for any other value; no layer changes then.
   */
  setPrecision(precision: Precision): this {
    const p = checkPrecision(precision);
    for (const l of this.layers) if (l instanceof Recurrent) l.setPrecision(p);
    return this;
  }

  /** Copies of the weights, PyTorch names: `torch.nn.Sequential(...).load_state_dict` reads them.
   * A reader: during fit it copies one complete version (the one before an update in flight). */
  stateDict(): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    for (const p of this.parameters()) out[p.name] = { shape: [...p.shape], data: syncReadView(p.value).slice() };
    return out;
  }

  /** Loads every weight (all or nothing: nothing changes when a name or shape is wrong). A writer:
   * refused while fit or another writer holds the weights. */
  loadStateDict(dict: Record<string, Tensor>): this {
    return this.assignStateDict(dict, null);
  }

  /** @internal loadStateDict for `writer` (fit resuming inside its own call). */
  assignStateDict(dict: Record<string, Tensor>, writer: WriterToken | null): this {
    for (const s of this.stores()) s.checkWritable(writer, 'Sequential.loadStateDict');
    if (typeof dict !== 'object' || dict === null) throw invalidType('stateDict', 'object of tensors', dict);
    const params = this.parameters();
    const known = new Set(params.map((p) => p.name));
    for (const k of Object.keys(dict)) if (!known.has(k)) throw invalidArg(`stateDict['${k}']`, `one of ${[...known].join(', ')}`, 'an unknown name');
    for (const p of params) {
      const t = dict[p.name];
      if (!t || !(t.data instanceof Float32Array)) throw invalidArg(`stateDict['${p.name}']`, `a tensor [${p.shape.join(', ')}]`, t);
      if (t.data.length !== p.value.length || t.shape.length !== p.shape.length || t.shape.some((d, j) => d !== p.shape[j])) {
        throw invalidArg(`stateDict['${p.name}']`, `shape [${p.shape.join(', ')}]`, t.shape);
      }
    }
    for (const p of params) p.value.set(dict[p.name].data);
    for (const s of this.stores()) s.touch();
    return this;
  }

  /**
   * Saves to a directory: `model.safetensors` (PyTorch nn.Sequential names; the architecture rides
   * in its metadata) and `config.json` (the same architecture, for people and tools). Atomic per file.
   */
  save(dir: string, options?: SaveOptions): Promise<void> {
    return saveModel(this, dir, options);
  }

  /** Loads a model written by save() (its directory or the .safetensors file); a file saved with
   * quantize: 'int8' comes back with float32 weights (q · scale) and its recurrent layers in
   * precision 'int8' (setPrecision('fp32') and save() again give a float32 file). */
  static async load(location: string): Promise<Sequential> {
    const { layers, weights, quantized } = await loadModel(location);
    const model = new Sequential(layers).loadStateDict(weights);
    return quantized ? model.setPrecision(quantized) : model;
  }

  /** Writes an ONNX file onnxruntime runs (input 'x' [T, B, F], output 'y'): lib/convert/onnx_export.ts. */
  exportOnnx(file: string, options?: ExportOnnxOptions): Promise<void> {
    return exportOnnx(this, file, options);
  }

  /** Writes a TF.js layers model (model.json + weights.bin) that tfjs' `loadLayersModel` and
   * loadTfjs read: lib/convert/tfjs_export.ts. */
  saveTfjs(dir: string): Promise<void> {
    return saveTfjs(this, dir);
  }

  /** The weights as Keras' `model.get_weights()` lists them (layer order, Keras layouts). */
  getKerasWeights(): Tensor[] {
    return getKerasWeights(this);
  }

  /** Loads Keras' `model.get_weights()` list (e.g. exported with numpy); all or nothing. */
  setKerasWeights(weights: Tensor[]): this {
    for (const s of this.stores()) s.checkWritable(null, 'Sequential.setKerasWeights');
    setKerasWeights(this, weights);
    for (const s of this.stores()) s.touch();
    return this;
  }

  /** Keras-style table: each layer, its output shape and parameter count, then the totals. */
  summary(): string {
    const rows: string[][] = [['#', 'Layer', 'Output', 'Params']];
    let total = 0;
    this.blocks.forEach((b, i) => {
      const n = b.parameters().reduce((s, p) => s + p.value.length, 0);
      total += n;
      const { features, hasTime } = this.outputs[i];
      rows.push([String(i), describeLayer(this.layers[i]), hasTime ? `[T, B, ${features}]` : `[B, ${features}]`, n.toLocaleString('en-US')]);
    });
    const widths = rows[0].map((_c, j) => Math.max(...rows.map((r) => r[j].length)));
    const line = (r: string[]) => r.map((c, j) => (j === 3 ? c.padStart(widths[j]) : c.padEnd(widths[j]))).join('  ');
    const rule = '-'.repeat(widths.reduce((a, w) => a + w + 2, -2));
    return [line(rows[0]), rule, ...rows.slice(1).map(line), rule, `Total params: ${total.toLocaleString('en-US')}`].join('\n');
  }

  /**
   * Trains on `data` (arrays of variable-length sequences or [N, T, F] tensors): see FitOptions.
   * The recurrent layers run off the main thread; the loop yields after every update.
   * @example await model.fit({ x, y }, { epochs: 10, optimizer: new Adam({ lr: 1e-3 }), loss: 'mse' })
   */
  fit(data: Dataset | BatchedDataset | BatchIterable, opts: FitOptions): Promise<History> {
    return fit(this, data, opts);
  }

  /** Mean loss (and accuracy for classification losses, and the metrics asked for) over a dataset. */
  evaluate(data: Dataset | BatchIterable, opts: EvaluateOptions): Promise<BatchResult> {
    return evaluate(this, data, opts);
  }

  /**
   * One update on `data`, all of it one batch (Keras' train_on_batch): the same bits as
   * fit({ epochs: 1, shuffle: false }) on it. For loops of your own (see fitProgress for output).
   * @example const { loss } = await model.trainOnBatch({ x, y }, { optimizer, loss: 'mse' })
   */
  trainOnBatch(data: Dataset, opts: TrainOnBatchOptions): Promise<BatchResult> {
    return trainOnBatch(this, data, opts);
  }

  /** evaluate() on `data` as one batch (Keras' test_on_batch). */
  testOnBatch(data: Dataset, opts: Omit<EvaluateOptions, 'batchSize'>): Promise<BatchResult> {
    return testOnBatch(this, data, opts);
  }

  /**
   * Streaming inference, one time step for a batch of B streams: x [B, F] (token ids [B] for an
   * Embedding model, or plain arrays) -> output [B, O] and the state to pass to the next call
   * (undefined to start). Every recurrent layer must run forward in time.
   * @example let s = model.step([[0.1, 1]]); s = model.step([[0.7, 0]], s.state); // s.output [1, O]
   */
  step(x: Tensor | number[][] | number[], state?: ModelState, opts: ModelStepOptions = {}): { output: Tensor; state: ModelState } {
    const flow = this.stepInput(x);
    const precision = stepPrecision(opts);
    if (state !== undefined && (typeof state !== 'object' || state === null || !Array.isArray(state.layers) || state.layers.length !== this.blocks.length)) {
      throw invalidType('state', 'the state a previous step() returned', state);
    }
    const next: unknown[] = [];
    let f = flow;
    this.blocks.forEach((b, i) => {
      const r = b instanceof RecurrentBlock ? b.step(f, state?.layers[i], undefined, precision) : b.step(f, state?.layers[i]);
      next.push(r.state);
      f = r.y;
    });
    return { output: { shape: f.shape, data: f.data }, state: { layers: next } };
  }

  /**
   * step() with the recurrent layers on worker threads (forwardAsync with T = 1 from the carried
   * state): the same outputs and states as step(), the event loop free meanwhile. A reader, like
   * predict(): every layer at the weight version of the call's start.
   */
  stepAsync(x: Tensor | number[][] | number[], state?: ModelState, opts: ModelStepOptions = {}): Promise<{ output: Tensor; state: ModelState }> {
    return this.stepAsyncInto(x, state, stepPrecision(opts), null);
  }

  /** @internal stepAsync() writing each recurrent layer's results into `into[i]` (arrays from
   * stepArrays(), the caller's alone while the step runs: used in place), or new arrays when null. */
  async stepAsyncInto(x: Tensor | number[][] | number[], state: ModelState | undefined, precision: Precision | undefined,
    into: readonly (StepArrays | null)[] | null): Promise<{ output: Tensor; state: ModelState }> {
    const flow = this.stepInput(x);
    if (state !== undefined && (typeof state !== 'object' || state === null || !Array.isArray(state.layers) || state.layers.length !== this.blocks.length)) {
      throw invalidType('state', 'the state a previous step() returned', state);
    }
    const reads = this.readVersion();
    const next: unknown[] = [];
    let f = flow;
    for (let i = 0; i < this.blocks.length; i++) {
      const b = this.blocks[i];
      const r = b instanceof RecurrentBlock ? await b.stepAsync(f, state?.layers[i], reads, precision, into?.[i] ?? undefined) : b.step(f, state?.layers[i], reads);
      next.push(r.state);
      f = r.y;
    }
    return { output: { shape: f.shape, data: f.data }, state: { layers: next } };
  }

  /** @internal Arrays for stepAsyncInto() with B streams: one set per recurrent layer (null elsewhere). */
  stepArrays(B: number): (StepArrays | null)[] {
    return this.blocks.map((b) => (b instanceof RecurrentBlock ? b.stepArrays(B) : null));
  }

  /**
   * The shapes of one stream's step state, per recurrent layer (index in the model): h [L, Hout]
   * and, for an LSTM, c [L, H]; `initial` is the learned initial state (h then c) or null (zeros).
   * Null when a recurrent layer cannot step (bidirectional or reverse).
   */
  streamStateSpec(): { layer: number; h: [number, number]; c: [number, number] | null; initial: Float32Array | null }[] | null {
    const out = [];
    for (let i = 0; i < this.blocks.length; i++) {
      const b = this.blocks[i];
      if (!(b instanceof RecurrentBlock)) continue;
      const spec = b.stepStateSpec();
      if (spec === null) return null;
      out.push({ layer: i, ...spec });
    }
    return out;
  }

  /**
   * A micro-batching server front: concurrent `server.predict(sequence)` and `server.step(x,
   * state)` requests run as batched calls (see ModelServer, ServeOptions). Batches read the live
   * weights; a learned initial state (learnInitialState) is copied now: serve() again after training it.
   * @example const server = model.serve({ maxBatchSize: 64, maxDelayMs: 2 }); await server.predict(seq)
   */
  serve(options: ModelServeOptions = {}): ModelServer {
    return serveModel(this, options);
  }

  /** Inference over a dataset (no targets needed); output batch-first: [N, T, O] (zeros past each end) or [N, O]. */
  predictSync(x: SequenceArray[] | Tensor, opts: PredictOptions = {}): Tensor {
    const { samples, batches, precision } = this.predictPlan(x, opts);
    const parts = batches.map((idx) => ({ idx, flow: this.forwardSync(samples.batch(idx).x, { training: false, seed: 0, precision }) }));
    return this.assemble(samples, parts);
  }

  /**
   * predictSync() with the recurrent layers on worker threads; the event loop stays free. Any
   * number may run at once, also during fit: each reads one complete version of the weights.
   * Given an async iterable of batches (`{ x, lengths? }` each, read one ahead), it yields each
   * batch's output in turn, batch-first as above.
   */
  predict(x: SequenceArray[] | Tensor, opts?: PredictOptions): Promise<Tensor>;
  predict(x: BatchIterable): AsyncGenerator<Tensor>;
  predict(x: SequenceArray[] | Tensor | BatchIterable, opts: PredictOptions = {}): Promise<Tensor> | AsyncGenerator<Tensor> {
    if (isBatchIterable(x)) return this.predictStream(x);
    return this.predictInMemory(x, opts);
  }

  private async predictInMemory(x: SequenceArray[] | Tensor, opts: PredictOptions): Promise<Tensor> {
    const { samples, batches, precision } = this.predictPlan(x, opts);
    const ctx = { training: false, seed: 0, reads: this.readVersion(), precision };
    const parts = [];
    for (const idx of batches) parts.push({ idx, flow: await this.forwardAsync(samples.batch(idx).x, ctx) });
    return this.assemble(samples, parts);
  }

  /** A reader over the whole stream: every batch at the weight version of the call's start. */
  private async *predictStream(data: BatchIterable): AsyncGenerator<Tensor> {
    const ctx = { training: false, seed: 0, reads: this.readVersion() };
    for await (const b of streamBatches(data, this.dataSpec(1), 'x', 0, false)) {
      const flow = await this.forwardAsync(b.x, ctx);
      const O = this.outputFeatures;
      if (!this.outputHasTime) {
        yield { shape: [...flow.shape], data: flow.data };
        continue;
      }
      const [T, B] = b.x.shape;
      const out = new Float32Array(B * T * O);
      for (let i = 0; i < B; i++) {
        const steps = b.x.lengths?.[i] ?? T;
        for (let t = 0; t < steps; t++) out.set(flow.data.subarray((t * B + i) * O, (t * B + i + 1) * O), (i * T + t) * O);
      }
      yield { shape: [B, T, O], data: out };
    }
  }

  /** @internal The weights an async inference call reads, every layer at one version. */
  readVersion(): ReadonlyMap<WeightStore, Float32Array> {
    return new Map(this.stores().map((s) => [s, s.forAsyncRead()]));
  }

  /** @internal Runs fn as the model's one writer: it holds every layer's weights (waiting for
   * writers before it) until fn settles. */
  async asWriter<R>(fn: (writer: WriterToken) => Promise<R>): Promise<R> {
    const writer = {};
    const release = await acquireAll(this.stores(), writer);
    try {
      return await fn(writer);
    } finally {
      for (const s of this.stores()) s.touch();  // fit may have set weights directly (restoreBest, rollback)
      release();
    }
  }

  /** @internal */
  dataSpec(targetWidth: number): DataSpec {
    return { inputFeatures: this.inputFeatures, outputHasTime: this.outputHasTime, targetWidth };
  }

  /** @internal Forward through every layer (training records what backward needs). */
  forwardSync(x: Flow, ctx: LayerContext & { carryState?: boolean }): Flow {
    let f = x;
    for (const b of this.blocks) f = b.forward(f, ctx);
    return f;
  }

  /** @internal */
  async forwardAsync(x: Flow, ctx: LayerContext & { carryState?: boolean }): Promise<Flow> {
    let f = x;
    for (const b of this.blocks) f = b.forwardAsync ? await b.forwardAsync(f, ctx) : b.forward(f, ctx);
    return f;
  }

  /** @internal Backward from dL/d(output) for `writer`; weight gradients accumulate. */
  async backwardAsync(dy: Float32Array, writer?: WriterToken): Promise<void> {
    let g: Float32Array | null = dy;
    for (let i = this.blocks.length - 1; i >= 0 && g; i--) {
      const b = this.blocks[i];
      g = b.backwardAsync ? await b.backwardAsync(g, writer) : b.backward(g, writer);
    }
  }

  /** @internal */
  backwardSync(dy: Float32Array, writer?: WriterToken): void {
    let g: Float32Array | null = dy;
    for (let i = this.blocks.length - 1; i >= 0 && g; i--) g = this.blocks[i].backward(g, writer);
  }

  private stepInput(x: Tensor | number[][] | number[]): Flow {
    const F = this.inputFeatures;
    if (Array.isArray(x)) {
      const B = x.length;
      if (B === 0) throw invalidArg('x', 'at least one stream', '[]');
      const data = new Float32Array(B * (F ?? 1));
      checkNumbers('x', F === null ? x : []);
      x.forEach((row, b) => {
        if (F === null ? typeof row !== 'number' : !Array.isArray(row) || row.length !== F) {
          throw invalidArg(`x[${b}]`, F === null ? 'a token id' : `${F} features`, row);
        }
        if (Array.isArray(row)) {
          checkNumbers(`x[${b}]`, row);
          checkAllFinite(`x[${b}]`, row);
        }
        if (typeof row === 'number') data[b] = row;
        else data.set(row, b * F!);
      });
      return { data, shape: F === null ? [B] : [B, F], lengths: null };
    }
    const t = checkTensorRank('x', x, F === null ? 1 : 2);
    if (F !== null && t.shape[1] !== F) throw invalidArg('x', `shape [B, ${F}]`, t.shape);
    checkAllFinite('x.data', t.data);
    return { data: t.data, shape: [...t.shape], lengths: null };
  }

  private predictPlan(x: SequenceArray[] | Tensor, opts: PredictOptions) {
    opts = ownOptions<PredictOptions>('opts', opts, ['lengths', 'batchSize', 'precision']);
    const batchSize = checkInteger('batchSize', opts.batchSize ?? 64, 1);
    const precision = opts.precision === undefined ? undefined : checkPrecision(opts.precision);
    const data: Dataset = { x };
    if (opts.lengths !== undefined) data.lengths = opts.lengths;
    const samples = Samples.from(data, this.dataSpec(1), '', false);
    const batches: number[][] = [];
    for (let s = 0; s < samples.length; s += batchSize) {
      batches.push(Array.from({ length: Math.min(batchSize, samples.length - s) }, (_v, j) => s + j));
    }
    return { samples, batches, precision };
  }

  /** Batch outputs (time-major) -> one batch-first tensor over all samples. */
  private assemble(samples: Samples, parts: { idx: number[]; flow: Flow }[]): Tensor {
    const O = this.outputFeatures, N = samples.length;
    if (!this.outputHasTime) {
      const out = new Float32Array(N * O);
      for (const { idx, flow } of parts) idx.forEach((i, b) => out.set(flow.data.subarray(b * O, b * O + O), i * O));
      return { shape: [N, O], data: out };
    }
    const T = Math.max(...samples.items.map((s) => s.steps));
    const out = new Float32Array(N * T * O);
    for (const { idx, flow } of parts) {
      const B = idx.length;
      idx.forEach((i, b) => {
        for (let t = 0; t < samples.items[i].steps; t++) out.set(flow.data.subarray((t * B + b) * O, (t * B + b) * O + O), (i * T + t) * O);
      });
    }
    return { shape: [N, T, O], data: out };
  }
}

function describeLayer(l: SequentialLayer): string {
  if (l instanceof Recurrent) {
    const name = l.className;
    const extras = [
      l.numLayers > 1 ? `${l.numLayers} layers` : '',
      l.bidirectional ? `bidirectional ${l.inSequential.mergeMode}` : '',
      l.inSequential.returnSequences ? '' : 'last step',
    ].filter(Boolean);
    return `${name}(${l.inputSize} -> ${l.hiddenSize}${extras.length ? `, ${extras.join(', ')}` : ''})`;
  }
  if (l instanceof Dense) return `Dense(${l.inputSize} -> ${l.units}${l.activation === 'linear' ? '' : `, ${l.activation}`})`;
  if (l instanceof Embedding) return `Embedding(${l.numEmbeddings}, ${l.embeddingDim})`;
  return `Dropout(${l.rate})`;
}
