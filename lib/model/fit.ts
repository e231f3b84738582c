// Training: model.fit(), trainOnBatch(), evaluate() and testOnBatch(). Batches (in memory or from
// an async iterable), truncated BPTT, clipping, the optimizer update, validation, metrics,
// callbacks, progress, early stopping, checkpoints, and stopping on an abort or error with the
// weights of the last complete update kept (options: fit_options.ts).
// The recurrent layers, large Dense products and the optimizer run on worker threads, losses in
// slices, and the loop yields to the event loop after every update: a server stays responsive.
import type { Precision } from '../native';
import { checkInteger, invalidArg, ownOptions } from '../internal/check';
import { mixSeed, mulberry32 } from '../internal/random';
import { clipCoefficient, gradNorm } from '../optim/clip';
import { readCheckpoint, writeCheckpoint, type EarlyStoppingState } from './checkpoint';
import { Samples, type Batch, type BatchedDataset, type DataSpec, type Dataset } from './data';
import { emptyStreamError, inOrder, isBatchIterable, memoryBatches, streamBatches, type BatchIterable } from './batch_source';
import { Dense } from '../layers/dense';
import { Dropout } from '../layers/dropout';
import {
  FitStoppedError, resolveFitOptions, type BatchInfo, type BatchResult, type EpochInfo, type EvaluateOptions, type FitOptions, type History,
  type ResolvedFit, type TrainOnBatchOptions,
} from './fit_options';
import type { Flow, ParamRef } from '../layers/layer';
import { fitProgress, type FitProgress, type ProgressLogs } from './progress';
import { resolveMetrics, type MetricSet } from './metrics';
import { resolveLoss, type Loss } from './losses';
import { RecurrentBlock } from './recurrent_block';
import type { WriterToken } from '../internal/weight_store';
import type { Model } from './model';
import { int8TrainingError } from '../layers/recurrent/recurrent';

export {
  FitStoppedError, type BatchInfo, type BatchResult, type EpochInfo, type EvaluateOptions, type FitOptions, type History, type TrainOnBatchOptions,
} from './fit_options';

export function shuffledOrder(n: number, seed: number): number[] {
  const order = Array.from({ length: n }, (_v, i) => i);
  const rand = mulberry32(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

/** model.fit(): see FitOptions. Resolves with the per-epoch history; a fit that stops on an error
 * or an abort rejects with a FitStoppedError and keeps the weights of its last complete update. */
export async function fit(model: Model, data: Dataset | BatchedDataset | BatchIterable, optsIn: FitOptions): Promise<History> {
  const r = resolveFitOptions(optsIn);
  if (r.precision === undefined) refuseInt8(model, 'fit');  // fit's own precision overrides the layers'
  const opts = r.options;
  const { train, validation } = prepareData(model, data, opts.validation, r);
  if (r.bptt && model.blocks.some((b) => b instanceof RecurrentBlock && b.layer.numDirections > 1)) {
    throw invalidArg('bptt', 'undefined for bidirectional layers (the reverse direction needs the whole sequence)', opts.bptt);
  }
  const params = model.parameters();
  const optimizer = r.optimizer;
  const history: History = { epochs: [], stopped: 'completed', updates: 0 };
  if (r.nonFinite === 'skip') history.skipped = 0;
  const progress = fitProgress(r.verbose, { epochs: r.epochs });

  // fit is the model's one writer: it holds every layer's weights until it settles (readers are
  // served meanwhile from snapshots; other writers wait, or throw if they are sync).
  return model.asWriter(async (writer) => {
    // Where training stands: the epoch running and its next batch; updates since the last checkpoint.
    const at: Position = { epoch: r.initialEpoch ?? 0, batch: 0, chunk: 0, unsaved: 0 };
    const state: TrainState = { writer, history, progress, at, skipBatches: 0, skipChunks: 0 };
    let early: EarlyStopping | null = null, training = false;
    try {
      let firstEpoch = r.initialEpoch ?? 0;
      early = r.early ? new EarlyStopping(r.early, params) : null;
      if (r.resumeFrom !== null) {
        const cp = await readCheckpoint(r.resumeFrom);
        // All or nothing: a checkpoint that does not fit the model leaves the optimizer as it was.
        const optimizerBefore = optimizer.stateDict();
        optimizer.loadStateDict(cp.optimizer);
        try {
          model.assignStateDict(cp.weights, writer);
        } catch (e) {
          optimizer.loadStateDict(optimizerBefore);
          throw e;
        }
        firstEpoch = r.initialEpoch ?? cp.epoch + 1;
        // A checkpoint written inside an epoch goes on at the batch (or BPTT chunk) after the last one trained.
        if (firstEpoch === cp.epoch + 1) {
          state.skipBatches = cp.batch;
          state.skipChunks = cp.chunk;
        }
        // Early stopping goes on counting where the interrupted fit stood (same monitor only).
        if (early && cp.early && cp.early.monitor === r.early!.monitor) early.restore(r.resumeFrom, cp.early);
      }
      training = true;
      for (let epoch = firstEpoch; epoch < r.epochs; epoch++) {
        at.epoch = epoch;
        at.batch = 0;
        at.chunk = 0;
        if (r.lrSchedule && !r.lrPerUpdate) optimizer.lr = r.lrSchedule.lr(epoch, optimizer.initialLr);
        model.resetStates();
        const info = await trainEpoch(model, train(epoch, state.skipBatches), epoch, r, opts, params, state);
        state.skipBatches = 0;
        state.skipChunks = 0;
        if (validation) {
          const v = await evaluateBatches(model, validation(), r.loss, r.metrics(), writer, r.precision);
          info.valLoss = v.loss;
          if (v.accuracy !== undefined) info.valAccuracy = v.accuracy;
          if (v.metrics) info.valMetrics = v.metrics;
        }
        history.epochs.push(info);
        progress?.epochEnd(epochLogs(info));
        const stop = early?.shouldStop(info) ?? false;  // before the checkpoint, which keeps its counters
        if (r.checkpoint && (epoch + 1) % r.checkpoint.every === 0) {
          await writeCheckpoint(r.checkpoint.path, model, optimizer, { epoch, batch: 0 }, early?.state() ?? null);
          at.unsaved = 0;
        }
        at.epoch = epoch + 1;
        at.batch = 0;
        at.chunk = 0;
        if (stop) history.stopped = 'earlyStopping';
        if (opts.onEpochEnd && (await opts.onEpochEnd(info)) === 'stop') history.stopped = 'callback';
        if (history.stopped !== 'completed') break;
      }
      early?.restoreBest();
      return history;
    } catch (e) {
      if (!training) throw e;  // a checkpoint that could not be resumed: nothing was trained
      throw await stopped(e, model, r, state, early);
    } finally {
      progress?.close();
    }
  });
}

/** An epoch's values flat, as Keras logs them (validation ones prefixed: valLoss, valMae, ...). */
function epochLogs(info: EpochInfo): ProgressLogs {
  const logs: ProgressLogs = { loss: info.loss, accuracy: info.accuracy, ...info.metrics, valLoss: info.valLoss, valAccuracy: info.valAccuracy };
  for (const [k, v] of Object.entries(info.valMetrics ?? {})) logs[`val${k[0].toUpperCase()}${k.slice(1)}`] = v;
  return logs;
}

/** Where a fit stands: `epoch` running, `batch` batches of it done and `chunk` truncated-BPTT
 * chunks of the next; updates not yet in a checkpoint. */
interface Position { epoch: number; batch: number; chunk: number; unsaved: number }

interface TrainState {
  writer: WriterToken;
  history: History;
  progress: FitProgress | null;
  at: Position;
  /** Batches of the first epoch already trained (a fit resumed from a checkpoint written inside it). */
  skipBatches: number;
  /** Chunks of the batch after those already trained (truncated BPTT; the hidden state they carried
   * is not in the checkpoint: the resumed batch starts its next chunk from zeros). */
  skipChunks: number;
}

/**
 * A fit interrupted by an error or an abort keeps the weights and optimizer state of its last
 * complete update (Keras and TF.js keep them too); the updates after the last checkpoint are
 * written to it first. The error says how far training got.
 */
async function stopped(cause: unknown, model: Model, r: ResolvedFit, { history, at }: TrainState,
  early: EarlyStopping | null): Promise<FitStoppedError> {
  const aborted = r.options.signal?.aborted === true && cause === r.options.signal.reason;
  history.stopped = aborted ? 'aborted' : 'error';
  history.stoppedAt = { epoch: at.epoch, batch: at.batch, chunk: at.chunk };
  let checkpointError: unknown = null;
  if (r.checkpoint && at.unsaved > 0) {
    // Position: the epochs completed before this one and the batches of it trained.
    try {
      await writeCheckpoint(r.checkpoint.path, model, r.optimizer, { epoch: at.epoch - 1, batch: at.batch, chunk: at.chunk }, early?.state() ?? null);
    } catch (e) {
      checkpointError = e;
    }
  }
  return new FitStoppedError(cause, history, checkpointError);
}
/**
 * What the data must hold for this model and loss. Refuses a loss that would apply the last
 * layer's softmax or sigmoid a second time (Keras users write Dense softmax + crossentropy; the
 * loss here takes logits unless told otherwise, so training would stall).
 */
export function dataSpecFor(model: Model, loss: Loss): DataSpec {
  const last = [...model.layers].reverse().find((l) => !(l instanceof Dropout));
  const squash = loss.name === 'crossEntropy' ? 'softmax' : loss.name === 'binaryCrossEntropy' ? 'sigmoid' : null;
  if (loss.fromLogits && squash && last instanceof Dense && last.activation === squash) {
    throw new RangeError(`Expected logits for loss '${loss.name}' but the model ends in Dense({ activation: '${squash}' }), ` +
      `which would apply ${squash} twice (training stalls). Either remove activation: '${squash}' from the last Dense ` +
      `(the loss applies it; predict then gives logits, ${squash} them for probabilities) or pass ` +
      `loss: { name: '${loss.name}', fromLogits: false } to use the ${squash} output as probabilities (Keras' from_logits=False).`);
  }
  const classes = loss.targets === 'classes';
  return { ...model.dataSpec(classes ? 1 : model.outputFeatures), classes: classes ? model.outputFeatures : null };
}

/** An epoch's training batches (those after the first `skip`) and how many there are (null: unknown). */
type EpochSource = (epoch: number, skip: number) => { batches: AsyncIterable<Batch>; total: number | null };

/**
 * Where training and validation batches come from: samples in memory (batches cut and shuffled
 * per epoch; pre-batched data keeps its batches), or async iterables read as training goes.
 */
function prepareData(model: Model, data: Dataset | BatchedDataset | BatchIterable, validationData: Dataset | BatchIterable | undefined,
  r: ResolvedFit): { train: EpochSource; validation: (() => AsyncIterable<Batch>) | null } {
  const spec = dataSpecFor(model, r.loss);
  const validation = validationData == null ? null  // NaN, 0, '' refused below
    : isBatchIterable(validationData) ? () => streamBatches(validationData, spec, 'validation')
      : memorySource(Samples.from(validationData, spec, 'validation'), r.batchSize);
  if (isBatchIterable(data)) {
    // The stream's own order: what shuffling there is, the stream does (it may read per epoch).
    if (r.options.shuffle === true) throw invalidArg('shuffle', 'false or undefined for an async iterable of batches (read in its order)', true);
    if (r.validationSplit !== null) throw invalidArg('validationSplit', 'undefined for an async iterable of batches (pass validation)', r.validationSplit);
    return { train: (_epoch, skip) => ({ batches: streamBatches(data, spec, 'data', skip), total: null }), validation };
  }
  const batched = typeof data === 'object' && data !== null && 'batches' in data ? Samples.fromBatches(data, spec) : null;
  let train = batched ? batched.samples : Samples.from(data as Dataset, spec, 'data');
  let split = validation;
  if (r.validationSplit !== null) {
    if (batched) throw invalidArg('validationSplit', 'undefined for pre-batched data (pass validation)', r.validationSplit);
    const nVal = Math.floor(train.length * r.validationSplit);
    if (nVal < 1 || nVal >= train.length) {
      throw invalidArg('validationSplit', `a fraction leaving both parts non-empty (${train.length} sequences)`, r.validationSplit);
    }
    const all = Array.from({ length: train.length }, (_v, i) => i);
    split = memorySource(train.subset(all.slice(train.length - nVal)), r.batchSize);
    train = train.subset(all.slice(0, train.length - nVal));
  }
  const samples = train, groups = batched?.groups ?? null;
  return {
    train: (epoch, skip) => {
      const batches = epochBatches(samples.length, groups, r.batchSize, r.shuffle ? mixSeed(r.seed, epoch) : null);
      return { batches: memoryBatches(samples, batches, skip), total: batches.length };
    },
    validation: split,
  };
}

/** Samples in memory read in order, batchSize at a time. */
function memorySource(samples: Samples, batchSize: number): () => AsyncIterable<Batch> {
  const batches = inOrder(samples.length, batchSize);
  return () => memoryBatches(samples, batches);
}

/** One pass over the training data: an update per batch (per chunk with truncated BPTT). */
async function trainEpoch(model: Model, source: ReturnType<EpochSource>, epoch: number, r: ResolvedFit,
  opts: FitOptions, params: ParamRef[], state: TrainState): Promise<EpochInfo> {
  const { writer, history, progress, at } = state;
  const optimizer = r.optimizer;
  const targetWidth = r.loss.targets === 'classes' ? 1 : model.outputFeatures;
  const metrics = r.metrics();
  let lossSum = 0, updates = 0, correct = 0, counted = 0, skipped = 0;
  progress?.epochStart(epoch, source.total);
  let batch = state.skipBatches;
  for await (const b of source.batches) {
    const chunks = chunkBatch(b, r.bptt?.steps ?? 0, model.outputHasTime, targetWidth);
    if (r.bptt && !r.bptt.stateful) model.resetStates();
    const firstChunk = batch === state.skipBatches ? state.skipChunks : 0;  // a resumed batch goes on where it stopped
    for (let c = firstChunk; c < chunks.length; c++) {
      opts.signal?.throwIfAborted();
      const step = await trainStep(model, chunks[c], mixSeed(r.seed, epoch, batch, c), r.bptt !== null, r, params, writer);
      if (step === null) continue;  // many-to-one: only the last chunk has a target
      const { res, norm } = step;
      if (!step.applied) {
        if (r.nonFinite === 'stop') throw nonFiniteError(`fit (epoch ${epoch}, batch ${batch})`, res.loss, norm);
        advance(at, batch, c, chunks.length);
        skipped++;
        history.skipped!++;
        await yieldToEventLoop();
        continue;
      }
      advance(at, batch, c, chunks.length);
      at.unsaved++;
      history.updates++;
      lossSum += res.loss;
      updates++;
      correct += res.correct;
      counted += res.counted;
      metrics.add(step.output, step.target, res);
      const info: BatchInfo = { epoch, batch, update: history.updates, loss: res.loss, gradNorm: norm, lr: optimizer.lr };
      if (opts.onBatchEnd) await opts.onBatchEnd(info);
      if (opts.onProgress) await opts.onProgress(info);
      await yieldToEventLoop();
    }
    progress?.batchEnd(batch + 1, updates, { loss: updates > 0 ? lossSum / updates : undefined,
      accuracy: counted > 0 ? correct / counted : undefined, ...metrics.values() });
    batch++;
  }
  if (batch === 0) throw emptyStreamError('data', epoch);
  const info: EpochInfo = { epoch, loss: updates === 0 && skipped > 0 ? NaN : lossSum / Math.max(1, updates), lr: optimizer.lr };
  if (r.nonFinite === 'skip') info.skipped = skipped;
  if (r.loss.hasAccuracy && counted > 0) info.accuracy = correct / counted;
  if (!metrics.empty) info.metrics = metrics.values();
  return info;
}

/** Past chunk c of `chunks` of batch `batch`: the batch is done after its last chunk. */
function advance(at: Position, batch: number, c: number, chunks: number): void {
  if (c + 1 === chunks) {
    at.batch = batch + 1;
    at.chunk = 0;
  } else {
    at.batch = batch;
    at.chunk = c + 1;
  }
}

/** What one update needs of fit's options (trainOnBatch passes its own). */
type UpdateSettings = Pick<ResolvedFit, 'loss' | 'optimizer' | 'clipGradNorm' | 'clipGradValue' | 'lrSchedule' | 'lrPerUpdate' | 'precision'>;

/**
 * One update: forward, loss, backward, the global gradient norm, then the optimizer step unless a
 * value is NaN or infinite (applied: false; one such value would make every weight NaN). Null when
 * the chunk has no target (a many-to-one model's chunks before the last). The update is all or
 * nothing: the optimizer checks everything before writing a weight, and a failed update leaves
 * the learning rate as it was too.
 */
async function trainStep(model: Model, chunk: Chunk, seed: number, carryState: boolean, s: UpdateSettings,
  params: ParamRef[], writer: WriterToken) {
  model.zeroGrad(writer);
  const out = await model.forwardAsync(chunk.x, { training: chunk.y !== null, seed, carryState, writer, precision: s.precision });
  if (chunk.y === null) return null;
  const output: Flow = { ...out, lengths: chunk.mask ?? out.lengths };
  const res = await s.loss.computeAsync(output, chunk.y);
  await model.backwardAsync(res.grad, writer);
  const norm = gradNorm(params);
  const step = { output, target: chunk.y, res, norm, applied: false };
  // The global norm is NaN or infinite when any gradient is.
  if (!Number.isFinite(res.loss) || !Number.isFinite(norm)) return step;
  const gradScale = s.clipGradNorm > 0 ? clipCoefficient(norm, s.clipGradNorm) : 1;
  const optimizer = s.optimizer, lrBefore = optimizer.lr;
  try {
    if (s.lrSchedule && s.lrPerUpdate) optimizer.lr = s.lrSchedule.lr(optimizer.stepCount, optimizer.initialLr);
    await optimizer.stepAsyncAs(writer, params, s.clipGradValue > 0 ? { gradScale, clipValue: s.clipGradValue } : { gradScale });
  } catch (e) {
    optimizer.lr = lrBefore;
    throw e;
  }
  step.applied = true;
  return step;
}

/**
 * model.trainOnBatch(): one update on `data`, all of it one batch (Keras' train_on_batch): the
 * same bits as fit({ epochs: 1, shuffle: false }) on data of one batch. Dropout masks derive from
 * (seed, the optimizer's step count), so successive calls draw new ones.
 */
export async function trainOnBatch(model: Model, data: Dataset, optsIn: TrainOnBatchOptions): Promise<BatchResult> {
  refuseInt8(model, 'trainOnBatch');
  const o = ownOptions<TrainOnBatchOptions>('trainOnBatch options', optsIn, ['optimizer', 'loss', 'clipGradNorm', 'clipGradValue', 'seed', 'metrics']);
  const r = resolveFitOptions({ epochs: 1, optimizer: o.optimizer, loss: o.loss, clipGradNorm: o.clipGradNorm, clipGradValue: o.clipGradValue,
    seed: o.seed, metrics: o.metrics });
  const samples = Samples.from(data, dataSpecFor(model, r.loss), 'data');
  const all = Array.from({ length: samples.length }, (_v, i) => i);
  const params = model.parameters();
  const metrics = r.metrics();
  return model.asWriter(async (writer) => {
    const chunk: Chunk = { ...samples.batch(all), mask: null };
    const step = (await trainStep(model, chunk, mixSeed(r.seed, r.optimizer.stepCount, 0, 0), false, r, params, writer))!;
    if (!step.applied) throw nonFiniteError('trainOnBatch', step.res.loss, step.norm);
    metrics.add(step.output, step.target, step.res);
    return batchResult(r.loss, step.res.loss, step.res.correct, step.res.counted, metrics, step.norm);
  });
}

function batchResult(loss: Loss, value: number, correct: number, counted: number, metrics: MetricSet, gradNorm?: number): BatchResult {
  const out: BatchResult = { loss: value };
  if (gradNorm !== undefined) out.gradNorm = gradNorm;
  if (loss.hasAccuracy && counted > 0) out.accuracy = correct / counted;
  if (!metrics.empty) out.metrics = metrics.values();
  return out;
}

function nonFiniteError(where: string, loss: number, norm: number): RangeError {
  return new RangeError(`Expected a finite loss and finite gradients in ${where} but received ` +
    `loss ${loss} and gradient norm ${norm}: this update was not applied. ` +
    "Check the data's scale and the learning rate, or pass nonFinite: 'skip' to skip such batches.");
}

/** Keras EarlyStopping: stop after `patience` epochs without an improvement of minDelta. */
class EarlyStopping {
  private best = Infinity;
  private waited = 0;
  private bestWeights: Float32Array[] | null = null;

  constructor(private readonly o: NonNullable<ResolvedFit['early']>, private readonly params: ParamRef[]) {}

  shouldStop(info: EpochInfo): boolean {
    const value = this.o.monitor === 'valLoss' ? info.valLoss! : info.loss;
    if (value < this.best - this.o.minDelta) {
      this.best = value;
      this.waited = 0;
      if (this.o.restoreBest) this.bestWeights = this.params.map((p) => p.value.slice());
      return false;
    }
    return ++this.waited > this.o.patience;
  }

  restoreBest(): void {
    if (this.bestWeights) this.params.forEach((p, i) => p.value.set(this.bestWeights![i]));
  }

  state(): EarlyStoppingState {
    return { monitor: this.o.monitor, best: this.best, waited: this.waited, bestWeights: this.bestWeights };
  }

  /** Continues from a checkpoint's state; its best weights must fit these parameters. */
  restore(file: string, s: EarlyStoppingState): void {
    const w = s.bestWeights;
    if (w && (w.length !== this.params.length || w.some((a, i) => a.length !== this.params[i].value.length))) {
      throw invalidArg(`${file} earlyStopping weights`, `${this.params.length} tensors sized like the model's parameters`,
        w.map((a) => a.length));
    }
    this.best = s.best;
    this.waited = s.waited;
    this.bestWeights = this.o.restoreBest ? w : null;  // fresh arrays from the file: no copy
  }
}

/** Loss (and accuracy, metrics) of the model over a dataset, without training. */
export async function evaluate(model: Model, data: Dataset | BatchIterable, opts: EvaluateOptions): Promise<BatchResult> {
  opts = ownOptions('evaluate options', opts, ['loss', 'batchSize', 'metrics']);
  const loss = resolveLoss(opts.loss);
  const metrics = resolveMetrics(opts.metrics, loss);
  const spec = dataSpecFor(model, loss);
  const batchSize = checkInteger('batchSize', opts.batchSize ?? 64, 1);
  const batches = isBatchIterable(data) ? streamBatches(data, spec, 'data') : memorySource(Samples.from(data, spec, 'data'), batchSize)();
  return evaluateBatches(model, batches, loss, metrics(), undefined);
}

/** model.testOnBatch(): evaluate() on `data` as one batch (Keras' test_on_batch). */
export function testOnBatch(model: Model, data: Dataset, opts: Omit<EvaluateOptions, 'batchSize'>): Promise<BatchResult> {
  opts = ownOptions('testOnBatch options', opts, ['loss', 'metrics']);
  return evaluate(model, data, { ...opts, batchSize: Number.MAX_SAFE_INTEGER });
}

/** A reader: every batch at the weight version of the call's start. fit's validation passes its
 * writer (fit holds the weights, so no version can change under it). */
async function evaluateBatches(model: Model, batches: AsyncIterable<Batch>, loss: Loss, metrics: MetricSet, writer: WriterToken | undefined,
  precision?: Precision) {
  const ctx = writer ? { training: false, seed: 0, writer, precision } : { training: false, seed: 0, reads: model.readVersion() };
  let sum = 0, weight = 0, correct = 0, counted = 0;
  for await (const b of batches) {
    const out = await model.forwardAsync(b.x, ctx);
    const res = await loss.computeAsync(out, b.y!);
    const n = b.x.shape[1];
    sum += res.loss * n;  // batch means weighted by sequences
    weight += n;
    correct += res.correct;
    counted += res.counted;
    metrics.add(out, b.y!, res);
    await yieldToEventLoop();
  }
  if (weight === 0) throw emptyStreamError('data', 0);
  return batchResult(loss, sum / weight, correct, counted, metrics);
}

/** This epoch's batches: sample indices cut by batchSize, or the given groups; shuffled when seeded. */
function epochBatches(n: number, groups: number[][] | null, batchSize: number, seed: number | null): number[][] {
  if (groups) return seed === null ? groups : shuffledOrder(groups.length, seed).map((i) => groups[i]);
  const order = seed === null ? Array.from({ length: n }, (_v, i) => i) : shuffledOrder(n, seed);
  const out: number[][] = [];
  for (let s = 0; s < n; s += batchSize) out.push(order.slice(s, s + batchSize));
  return out;
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

interface Chunk {
  x: Flow;
  y: Float32Array | null;
  /** Loss mask lengths (0 allowed) when they differ from the kernel lengths (clamped to 1). */
  mask: Int32Array | null;
}

/**
 * Splits a batch into chunks of `steps` time steps (truncated BPTT); one chunk when steps is 0.
 * In stateful mode a last batch of another size starts from zeros (its rows continue nothing).
 */
function chunkBatch(b: Batch, steps: number, outputHasTime: boolean, targetWidth: number): Chunk[] {
  const T = b.x.shape[0], B = b.x.shape[1];
  if (steps === 0 || steps >= T) return [{ x: b.x, y: b.y, mask: null }];
  if (!outputHasTime && b.x.lengths) {
    throw invalidArg('bptt', 'sequences of equal length for a many-to-one model (the target is at the last chunk)', 'ragged lengths');
  }
  const F = b.x.data.length / (T * B);
  const chunks: Chunk[] = [];
  for (let t0 = 0; t0 < T; t0 += steps) {
    const t1 = Math.min(T, t0 + steps), n = t1 - t0;
    const x: Flow = { data: b.x.data.subarray(t0 * B * F, t1 * B * F), shape: [n, ...b.x.shape.slice(1)], lengths: null };
    let mask: Int32Array | null = null;
    if (b.x.lengths) {
      const kernel = new Int32Array(B);
      mask = new Int32Array(B);
      for (let i = 0; i < B; i++) {
        mask[i] = Math.max(0, Math.min(n, b.x.lengths[i] - t0));
        kernel[i] = Math.max(1, mask[i]);  // a finished sequence idles one masked step
      }
      x.lengths = kernel;
    }
    if (mask && mask.every((m) => m === 0)) continue;  // every sequence ended before this chunk
    let y: Float32Array | null = null;
    if (b.y) {
      if (outputHasTime) y = b.y.subarray(t0 * B * targetWidth, t1 * B * targetWidth);
      else if (t1 === T) y = b.y;
    }
    chunks.push({ x, y, mask });
  }
  return chunks;
}

/** Training needs every recurrent layer in fp32 or bf16: int8 is inference only. */
function refuseInt8(model: Model, call: string): void {
  model.blocks.forEach((b, i) => {
    if (b instanceof RecurrentBlock && b.layer.precision === 'int8') throw int8TrainingError(call, `layer ${i} (${b.layer.className})`);
  });
}
