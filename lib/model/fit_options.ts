// fit()'s options: their types and their validation, all done before training starts.
import type { Precision } from '../native';
import { checkBoolean, checkInteger, checkNonNegative, checkOneOf, invalidArg, invalidType, ownOptions } from '../internal/check';
import { Optimizer } from '../optim/optimizers';
import type { Schedule } from '../optim/schedules';
import type { Dataset } from './data';
import type { BatchIterable } from './batch_source';
import { resolveLoss, type Loss, type LossSpec } from './losses';
import { checkVerbose, type Verbosity } from './progress';
import { resolveMetrics, type MetricSet, type MetricSpec } from './metrics';

export interface BatchInfo {
  epoch: number;
  /** Batch index in the epoch. */
  batch: number;
  /** Update count since the start of this fit. */
  update: number;
  loss: number;
  /** Global L2 norm of the gradients before clipping. */
  gradNorm: number;
  lr: number;
}

export interface EpochInfo {
  epoch: number;
  /** Mean loss over the updates applied (batches skipped for non-finite values not counted). */
  loss: number;
  /** With nonFinite: 'skip': batches of this epoch whose loss or gradients were NaN or infinite
   * (no update was applied for them). */
  skipped?: number;
  accuracy?: number;
  valLoss?: number;
  valAccuracy?: number;
  /** The `metrics` asked for, by key (mae, perplexity, top5, ...): means over the epoch's updates. */
  metrics?: Record<string, number>;
  /** The same over the validation data. */
  valMetrics?: Record<string, number>;
  lr: number;
}

/** What trainOnBatch, testOnBatch and evaluate return. */
export interface BatchResult {
  /** The loss: mean over valid elements (rows for crossEntropy); evaluate weights batches by sequences. */
  loss: number;
  /** Classification losses: the fraction of rows (elements for binaryCrossEntropy) predicted right. */
  accuracy?: number;
  /** The `metrics` asked for, by key. */
  metrics?: Record<string, number>;
  /** trainOnBatch: the global L2 norm of the gradients before clipping. */
  gradNorm?: number;
}

export interface EvaluateOptions {
  loss: LossSpec;
  /** Sequences per forward call.
   * @defaultValue 64 */
  batchSize?: number;
  /** Metrics besides the loss (and accuracy).
   * @defaultValue [] */
  metrics?: MetricSpec[];
}

/** model.trainOnBatch(): one update, with fit's meaning of each option. */
export interface TrainOnBatchOptions {
  optimizer: Optimizer;
  loss: LossSpec;
  /** As fit's.
   * @defaultValue none (no clipping) */
  clipGradNorm?: number;
  /** As fit's.
   * @defaultValue none (no clipping) */
  clipGradValue?: number;
  /** With the optimizer's step count, seeds this update's dropout masks.
   * @defaultValue 0 */
  seed?: number;
  /** As fit's.
   * @defaultValue [] */
  metrics?: MetricSpec[];
}

export interface FitOptions {
  epochs: number;
  optimizer: Optimizer;
  loss: LossSpec;
  /** Sequences per update.
   * @defaultValue 32
   */
  batchSize?: number;
  /** Reshuffle the training sequences every epoch (seeded).
   * @defaultValue true
   */
  shuffle?: boolean;
  /** Seed of the shuffles and dropout masks: a fit is reproducible.
   * @defaultValue 0
   */
  seed?: number;
  /** Held-out data evaluated after every epoch (in memory, or an async iterable of batches).
   * @defaultValue none (no validation) */
  validation?: Dataset | BatchIterable;
  /** Or: the last fraction of the data (before shuffling) held out, as Keras.
   * @defaultValue none */
  validationSplit?: number;
  /** Truncated BPTT: back-propagate through chunks of `steps` time steps, carrying the state
   * forward (detached) between chunks; one update per chunk. `stateful` also carries it from
   * batch to batch (sample i of a batch continues sample i of the previous one; needs
   * shuffle: false; states reset at every epoch and by model.resetStates()).
   * @defaultValue none (full back-propagation through time; stateful: false) */
  bptt?: { steps: number; stateful?: boolean };
  /** Scale all gradients so their global L2 norm is at most this (torch clip_grad_norm_).
   * @defaultValue none (no clipping) */
  clipGradNorm?: number;
  /** Clamp every gradient to [-v, v] (torch clip_grad_value_), after clipGradNorm.
   * @defaultValue none (no clipping) */
  clipGradValue?: number;
  /** Learning rate from a schedule (stepLR, cosineAnnealingLR, warmup, ...) with the optimizer's
   * initialLr as the base, set before every epoch or every update (lrScheduleUnit).
   * @defaultValue none (the optimizer's lr throughout) */
  lrSchedule?: Schedule;
  /** When lrSchedule sets the learning rate.
   * @defaultValue 'epoch' */
  lrScheduleUnit?: 'epoch' | 'update';
  onBatchEnd?: (info: BatchInfo) => void | Promise<void>;
  /** An alias of onBatchEnd. */
  onProgress?: (info: BatchInfo) => void | Promise<void>;
  /** Return 'stop' to end training after this epoch. */
  onEpochEnd?: (info: EpochInfo) => void | 'stop' | Promise<void | 'stop'>;
  /** Stop when the monitored value has not improved by minDelta for `patience` epochs.
   * @defaultValue none; inside: monitor 'loss', minDelta 0, restoreBest false */
  earlyStopping?: { monitor?: 'loss' | 'valLoss'; patience: number; minDelta?: number; restoreBest?: boolean };
  /** Write a checkpoint (weights, optimizer state, epoch; one file, atomic) every `every` epochs,
   * and when the fit stops on an error or abort (FitStoppedError).
   * @defaultValue none; inside: every 1 */
  checkpoint?: { path: string; every?: number };
  /** Resume from a checkpoint: loads its weights and optimizer state, continues at its epoch + 1.
   * Shuffles and dropout masks depend only on (seed, epoch, batch), so the resumed fit ends with
   * the weights an uninterrupted one would have. */
  resumeFrom?: string;
  /** First epoch to run (Keras initial_epoch).
   * @defaultValue 0, or the checkpoint's epoch + 1 with resumeFrom */
  initialEpoch?: number;
  /** Abort between updates (AbortSignal.timeout(ms) for a time budget): fit rejects with a
   * FitStoppedError, the weights and optimizer state those of the last complete update.
   * @defaultValue none */
  signal?: AbortSignal;
  /** What to do when a batch's loss or gradients are NaN or infinite (checked before the update,
   * which is then never applied): 'stop' (default) rejects with a FitStoppedError whose cause is a
   * RangeError saying where, the weights those of the last complete update; 'skip' skips the batch
   * and counts it (EpochInfo.skipped, History.skipped).
   * @defaultValue 'stop' */
  nonFinite?: 'stop' | 'skip';
  /** Metrics reported besides the loss (and accuracy, always there for classification losses):
   * 'mae', 'perplexity' (crossEntropy), 'topK' or { name: 'topK', k } (class ids, k default 5),
   * in EpochInfo.metrics / valMetrics and on the progress line.
   * @defaultValue [] */
  metrics?: MetricSpec[];
  /** What fit prints to stdout, as Keras' `verbose`: 0 nothing; 1 a live progress bar per epoch
   * on a terminal (batches done, loss and metrics so far, updates/s, ETA) and one line per epoch
   * when stdout is not a terminal; 2 one line per epoch. 0 by default: a library inside a server
   * should not write to its stdout unasked (Keras defaults to 1).
   * @defaultValue 0 */
  verbose?: Verbosity;
  /** The recurrent layers' precision during this fit (training steps and validation): 'bf16'
   * is mixed precision (bf16 products; weights, gradients and optimizer state float32). Like a
   * PyTorch autocast region: each layer's own setPrecision() is left as it is.
   * @defaultValue each layer's precision */
  precision?: 'fp32' | 'bf16';
}

export interface History {
  /** The epochs completed. */
  epochs: EpochInfo[];
  /** Why training ended: the last epoch ran, early stopping, onEpochEnd returned 'stop'; or (in a
   * FitStoppedError's history) the signal aborted, or an error was thrown (a callback, the data,
   * a non-finite loss with nonFinite: 'stop', the native code). */
  stopped: 'completed' | 'earlyStopping' | 'callback' | 'aborted' | 'error';
  /** Optimizer updates applied over the fit: the weights are those after the last of them. */
  updates: number;
  /** When stopped by an abort or an error: the epoch it stopped in, how many of its batches were
   * trained, and (truncated BPTT) how many chunks of the batch after them. A checkpoint written at
   * the stop resumes at the next chunk. */
  stoppedAt?: { epoch: number; batch: number; chunk: number };
  /** With nonFinite: 'skip': batches skipped over the whole fit for non-finite loss or gradients. */
  skipped?: number;
}

/**
 * Why fit rejects once training has started: an abort, a callback that threw, an error in the data
 * or a non-finite loss. Training ended after the last complete update, whose weights and optimizer
 * state the model keeps (an update never applies in part); the checkpoint, when configured, was
 * written first. `cause` is the original error (the signal's reason for an abort), `history`
 * says how far the fit got.
 */
export class FitStoppedError extends Error {
  override readonly name = 'FitStoppedError';
  override readonly cause: unknown;
  readonly history: History;
  /** The error writing the last checkpoint, when that failed too. */
  readonly checkpointError: unknown;

  constructor(cause: unknown, history: History, checkpointError: unknown = null) {
    const at = history.stoppedAt;
    const where = at ? ` in epoch ${at.epoch} after ${at.batch} batch${at.batch === 1 ? '' : 'es'}` : '';
    const why = cause instanceof Error ? cause.message : String(cause);
    super(`fit ${history.stopped === 'aborted' ? 'aborted' : 'stopped'}${where} (${history.updates} updates, ` +
      `${history.epochs.length} epochs complete; the weights and optimizer state of the last update are kept` +
      `${checkpointError ? `; the checkpoint could not be written: ${checkpointError instanceof Error ? checkpointError.message : String(checkpointError)}` : ''}): ${why}`);
    this.cause = cause;
    this.history = history;
    this.checkpointError = checkpointError;
  }
}

const FIT_KEYS = ['epochs', 'optimizer', 'loss', 'batchSize', 'shuffle', 'seed', 'validation', 'validationSplit', 'bptt',
  'clipGradNorm', 'clipGradValue', 'lrSchedule', 'lrScheduleUnit', 'onBatchEnd', 'onProgress', 'onEpochEnd', 'earlyStopping', 'checkpoint',
  'resumeFrom', 'initialEpoch', 'signal', 'nonFinite', 'verbose', 'metrics', 'precision'];

/** Every option checked and defaulted. */
export interface ResolvedFit {
  epochs: number; batchSize: number; shuffle: boolean; seed: number; loss: Loss; optimizer: Optimizer;
  bptt: { steps: number; stateful: boolean } | null;
  clipGradNorm: number; clipGradValue: number; initialEpoch: number | null;
  validationSplit: number | null;
  lrSchedule: Schedule | null; lrPerUpdate: boolean;
  early: { monitor: 'loss' | 'valLoss'; patience: number; minDelta: number; restoreBest: boolean } | null;
  checkpoint: { path: string; every: number } | null;
  resumeFrom: string | null;
  nonFinite: 'stop' | 'skip';
  verbose: Verbosity;
  /** The forward calls' precision; undefined: each layer's own. */
  precision?: Precision;
  /** Fresh accumulators of the metrics asked for. */
  metrics: () => MetricSet;
  /** The caller's options, own properties only (fit reads its callbacks, signal and validation from here). */
  options: FitOptions;
}

function optionalObject(name: string, v: unknown, keys: readonly string[], expected: string): Record<string, unknown> | null {
  if (v === undefined) return null;
  return ownOptions<Record<string, unknown>>(name, v, keys, expected);
}

function positiveOrOff(name: string, v: unknown): number {
  if (v === undefined) return 0;
  if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v)) throw invalidArg(name, 'a positive number', v);
  return v;
}

export function resolveFitOptions(opts: FitOptions): ResolvedFit {
  const o = ownOptions<FitOptions>('fit options', opts, FIT_KEYS);
  if (!(o.optimizer instanceof Optimizer)) throw invalidType('optimizer', 'an optimizer (new SGD(...), new Adam(...), ...)', o.optimizer);
  for (const cb of ['onBatchEnd', 'onProgress', 'onEpochEnd'] as const) {
    if (o[cb] !== undefined && typeof o[cb] !== 'function') throw invalidType(cb, 'function', o[cb]);
  }
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) throw invalidType('signal', 'AbortSignal', o.signal);

  const b = optionalObject('bptt', o.bptt, ['steps', 'stateful'], '{ steps, stateful? }');
  const bptt = b ? { steps: checkInteger('bptt.steps', b.steps, 1), stateful: checkBoolean('bptt.stateful', b.stateful ?? false) } : null;
  const shuffle = checkBoolean('shuffle', o.shuffle ?? true);
  if (bptt?.stateful && shuffle) throw invalidArg('shuffle', 'false with bptt.stateful (each batch continues the previous one)', true);

  let validationSplit: number | null = null;
  if (o.validationSplit !== undefined) {
    const f = o.validationSplit;
    if (typeof f !== 'number' || !(f > 0 && f < 1)) throw invalidArg('validationSplit', 'a number in (0, 1)', f);
    if (o.validation !== undefined) throw invalidArg('validationSplit', 'undefined when validation is given', f);
    validationSplit = f;
  }

  if (o.lrSchedule !== undefined && (typeof o.lrSchedule !== 'object' || o.lrSchedule === null || typeof o.lrSchedule.lr !== 'function')) {
    throw invalidType('lrSchedule', 'a schedule (stepLR(...), cosineAnnealingLR(...), ...)', o.lrSchedule);
  }
  const unit = checkOneOf('lrScheduleUnit', o.lrScheduleUnit ?? 'epoch', ['epoch', 'update'] as const);

  const e = optionalObject('earlyStopping', o.earlyStopping, ['monitor', 'patience', 'minDelta', 'restoreBest'], '{ patience, monitor?, minDelta?, restoreBest? }');
  const early = e ? {
    monitor: checkOneOf('earlyStopping.monitor', e.monitor ?? 'loss', ['loss', 'valLoss'] as const),
    patience: checkInteger('earlyStopping.patience', e.patience, 0),
    minDelta: checkNonNegative('earlyStopping.minDelta', e.minDelta ?? 0),
    restoreBest: checkBoolean('earlyStopping.restoreBest', e.restoreBest ?? false),
  } : null;
  if (early?.monitor === 'valLoss' && o.validation === undefined && validationSplit === null) {
    throw invalidArg('earlyStopping.monitor', "'loss' (no validation data)", 'valLoss');
  }

  const c = optionalObject('checkpoint', o.checkpoint, ['path', 'every'], '{ path: string, every?: number }');
  if (c && typeof c.path !== 'string') throw invalidType('checkpoint.path', 'string', c.path);
  const checkpoint = c ? { path: c.path as string, every: checkInteger('checkpoint.every', c.every ?? 1, 1) } : null;
  if (o.resumeFrom !== undefined && typeof o.resumeFrom !== 'string') throw invalidType('resumeFrom', 'a checkpoint path', o.resumeFrom);

  const loss = resolveLoss(o.loss);
  return {
    epochs: checkInteger('epochs', o.epochs, 1),
    batchSize: checkInteger('batchSize', o.batchSize ?? 32, 1),
    shuffle,
    seed: checkInteger('seed', o.seed ?? 0, 0),
    loss,
    optimizer: o.optimizer,
    bptt,
    clipGradNorm: positiveOrOff('clipGradNorm', o.clipGradNorm),
    clipGradValue: positiveOrOff('clipGradValue', o.clipGradValue),
    initialEpoch: o.initialEpoch === undefined ? null : checkInteger('initialEpoch', o.initialEpoch, 0),
    validationSplit,
    lrSchedule: o.lrSchedule ?? null,
    lrPerUpdate: unit === 'update',
    early,
    checkpoint,
    resumeFrom: o.resumeFrom ?? null,
    nonFinite: checkOneOf('nonFinite', o.nonFinite ?? 'stop', ['stop', 'skip'] as const),
    verbose: checkVerbose(o.verbose ?? 0),
    ...(o.precision === undefined ? {} : { precision: checkOneOf('precision', o.precision, ['fp32', 'bf16'] as const) }),
    metrics: resolveMetrics(o.metrics, loss),
    options: o,
  };
}
