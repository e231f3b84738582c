// Training: model.fit() and evaluate(). Batches, truncated BPTT, clipping, the optimizer update,
// validation, callbacks, early stopping, checkpoints and abort. The recurrent layers run on
// worker threads (forwardAsync/backwardAsync) and the loop yields to the event loop after every
// update, so a server stays responsive while it trains.
import { checkBoolean, checkInteger, checkKnownKeys, invalidArg, invalidType } from '../internal/check';
import { mulberry32 } from '../internal/random';
import { clipCoefficient, gradNorm } from '../optim/clip';
import { Optimizer } from '../optim/optimizers';
import type { Schedule } from '../optim/schedules';
import { readCheckpoint, writeCheckpoint } from './checkpoint';
import { Samples, type Batch, type BatchedDataset, type Dataset } from './data';
import type { Flow, ParamRef } from './layer';
import { resolveLoss, type Loss, type LossSpec } from './losses';
import type { Sequential } from './sequential';

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
  loss: number;
  accuracy?: number;
  valLoss?: number;
  valAccuracy?: number;
  lr: number;
}

export interface FitOptions {
  epochs: number;
  optimizer: Optimizer;
  loss: LossSpec;
  /** Sequences per update. Default 32. */
  batchSize?: number;
  /** Reshuffle the training sequences every epoch (seeded). Default true. */
  shuffle?: boolean;
  /** Seed of the shuffles and dropout masks: a fit is reproducible. Default 0. */
  seed?: number;
  /** Held-out data evaluated after every epoch. */
  validation?: Dataset;
  /** Or: the last fraction of the data (before shuffling) held out, as Keras. */
  validationSplit?: number;
  /** Truncated BPTT: back-propagate through chunks of `steps` time steps, carrying the state
   * forward (detached) between chunks; one update per chunk. `stateful` also carries it from
   * batch to batch (sample i of a batch continues sample i of the previous one; needs
   * shuffle: false; states reset at every epoch and by model.resetStates()). */
  bptt?: { steps: number; stateful?: boolean };
  /** Scale all gradients so their global L2 norm is at most this (torch clip_grad_norm_). */
  clipGradNorm?: number;
  /** Clamp every gradient to [-v, v] (torch clip_grad_value_), after clipGradNorm. */
  clipGradValue?: number;
  /** Learning rate from a schedule (stepLR, cosineAnnealingLR, warmup, ...) with the optimizer's
   * initialLr as the base, set before every epoch or every update (lrScheduleUnit, default 'epoch'). */
  lrSchedule?: Schedule;
  lrScheduleUnit?: 'epoch' | 'update';
  onBatchEnd?: (info: BatchInfo) => void | Promise<void>;
  /** Same as onBatchEnd (the DESIGN.md name). */
  onProgress?: (info: BatchInfo) => void | Promise<void>;
  /** Return 'stop' to end training after this epoch. */
  onEpochEnd?: (info: EpochInfo) => void | 'stop' | Promise<void | 'stop'>;
  /** Stop when the monitored value has not improved by minDelta for `patience` epochs. */
  earlyStopping?: { monitor?: 'loss' | 'valLoss'; patience: number; minDelta?: number; restoreBest?: boolean };
  /** Write a checkpoint (weights, optimizer state, epoch; one file, atomic) every `every` epochs. */
  checkpoint?: { path: string; every?: number };
  /** Resume from a checkpoint: loads its weights and optimizer state, continues at its epoch + 1.
   * Shuffles and dropout masks depend only on (seed, epoch, batch), so the resumed fit ends with
   * the weights an uninterrupted one would have. */
  resumeFrom?: string;
  /** First epoch to run (Keras initial_epoch). Default 0, or the checkpoint's epoch + 1. */
  initialEpoch?: number;
  /** Abort between updates; weights and optimizer state are then restored to the start of the fit. */
  signal?: AbortSignal;
}

export interface History {
  epochs: EpochInfo[];
  /** Why training ended. */
  stopped: 'completed' | 'earlyStopping' | 'callback';
  updates: number;
}

const FIT_KEYS = ['epochs', 'optimizer', 'loss', 'batchSize', 'shuffle', 'seed', 'validation', 'validationSplit', 'bptt',
  'clipGradNorm', 'clipGradValue', 'lrSchedule', 'lrScheduleUnit', 'onBatchEnd', 'onProgress', 'onEpochEnd', 'earlyStopping', 'checkpoint',
  'resumeFrom', 'initialEpoch', 'signal'];

/** A 32-bit mix of several integers: per-epoch shuffles and per-batch dropout seeds. */
export function mixSeed(...parts: number[]): number {
  let h = 0x811c9dc5;
  for (const p of parts) {
    h = Math.imul(h ^ (p >>> 0), 0x01000193) >>> 0;
    h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) >>> 0;
  }
  return h >>> 0;
}

export function shuffledOrder(n: number, seed: number): number[] {
  const order = Array.from({ length: n }, (_v, i) => i);
  const rand = mulberry32(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

interface Resolved {
  epochs: number; batchSize: number; shuffle: boolean; seed: number; loss: Loss;
  bptt: { steps: number; stateful: boolean } | null;
  clipGradNorm: number; clipGradValue: number; initialEpoch: number;
}

function resolveFitOptions(opts: FitOptions): Resolved {
  if (typeof opts !== 'object' || opts === null) throw invalidType('fit options', 'object', opts);
  checkKnownKeys('fit options', opts, FIT_KEYS);
  const o = opts;
  if (!(o.optimizer instanceof Optimizer)) {
    throw invalidType('optimizer', 'an optimizer (new SGD(...), new Adam(...), ...)', o.optimizer);
  }
  let bptt: Resolved['bptt'] = null;
  if (o.bptt !== undefined) {
    if (typeof o.bptt !== 'object' || o.bptt === null) throw invalidType('bptt', '{ steps, stateful? }', o.bptt);
    checkKnownKeys('bptt', o.bptt, ['steps', 'stateful']);
    bptt = { steps: checkInteger('bptt.steps', o.bptt.steps, 1), stateful: checkBoolean('bptt.stateful', o.bptt.stateful ?? false) };
  }
  const shuffle = checkBoolean('shuffle', o.shuffle ?? true);
  if (bptt?.stateful && shuffle) throw invalidArg('shuffle', 'false with bptt.stateful (each batch continues the previous one)', true);
  const positive = (name: string, v: number | undefined) => {
    if (v === undefined) return 0;
    if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v)) throw invalidArg(name, 'a positive number', v);
    return v;
  };
  return {
    epochs: checkInteger('epochs', o.epochs, 1),
    batchSize: checkInteger('batchSize', o.batchSize ?? 32, 1),
    shuffle,
    seed: checkInteger('seed', o.seed ?? 0, 0),
    loss: resolveLoss(o.loss),
    bptt,
    clipGradNorm: positive('clipGradNorm', o.clipGradNorm),
    clipGradValue: positive('clipGradValue', o.clipGradValue),
    initialEpoch: checkInteger('initialEpoch', o.initialEpoch ?? 0, 0),
  };
}

/** model.fit(): see FitOptions. Resolves with the per-epoch history. */
export async function fit(model: Sequential, data: Dataset | BatchedDataset, opts: FitOptions): Promise<History> {
  const r = resolveFitOptions(opts);
  const optimizer = opts.optimizer;
  const spec = model.dataSpec(r.loss.targets === 'classes' ? 1 : model.outputFeatures);
  // Pre-batched data keeps its batches (their order is shuffled); otherwise batchSize cuts them.
  const batched = typeof data === 'object' && data !== null && 'batches' in data ? Samples.fromBatches(data, spec) : null;
  let train = batched ? batched.samples : Samples.from(data as Dataset, spec, 'data');
  let validation: Samples | null = opts.validation ? Samples.from(opts.validation, spec, 'validation') : null;
  if (opts.validationSplit !== undefined) {
    const f = opts.validationSplit;
    if (typeof f !== 'number' || !(f > 0 && f < 1)) throw invalidArg('validationSplit', 'a number in (0, 1)', f);
    if (validation) throw invalidArg('validationSplit', 'undefined when validation is given', f);
    if (batched) throw invalidArg('validationSplit', 'undefined for pre-batched data (pass validation)', f);
    const nVal = Math.floor(train.length * f);
    if (nVal < 1 || nVal >= train.length) throw invalidArg('validationSplit', `a fraction leaving both parts non-empty (${train.length} sequences)`, f);
    const all = Array.from({ length: train.length }, (_v, i) => i);
    validation = train.subset(all.slice(train.length - nVal));
    train = train.subset(all.slice(0, train.length - nVal));
  }
  if (r.bptt && model.blocks.some((b) => 'layer' in b && (b as { layer: { numDirections: number } }).layer.numDirections > 1)) {
    throw invalidArg('bptt', 'undefined for bidirectional layers (the reverse direction needs the whole sequence)', opts.bptt);
  }
  const params = model.parameters();
  // Snapshot: a failed or aborted fit leaves the weights and optimizer state as they were.
  const weightsBefore = params.map((p) => p.value.slice());
  const optimizerBefore = optimizer.stateDict();  // copies
  const lrBefore = optimizer.lr;
  const perUpdate = opts.lrScheduleUnit === 'update';
  if (opts.lrScheduleUnit !== undefined && opts.lrScheduleUnit !== 'epoch' && !perUpdate) {
    throw invalidArg('lrScheduleUnit', "'epoch' or 'update'", opts.lrScheduleUnit);
  }
  const early = opts.earlyStopping;
  let best = { value: Infinity, epoch: -1, weights: null as Float32Array[] | null };
  let waited = 0;
  const history: History = { epochs: [], stopped: 'completed', updates: 0 };

  let every = 0;
  if (opts.checkpoint !== undefined) {
    if (typeof opts.checkpoint !== 'object' || opts.checkpoint === null || typeof opts.checkpoint.path !== 'string') {
      throw invalidType('checkpoint', '{ path: string, every?: number }', opts.checkpoint);
    }
    checkKnownKeys('checkpoint', opts.checkpoint, ['path', 'every']);
    every = checkInteger('checkpoint.every', opts.checkpoint.every ?? 1, 1);
  }
  const checkpoint = opts.checkpoint ? { path: opts.checkpoint.path, every } : null;

  return model.exclusive(async () => {
    try {
      let firstEpoch = r.initialEpoch;
      if (opts.resumeFrom !== undefined) {
        if (typeof opts.resumeFrom !== 'string') throw invalidType('resumeFrom', 'a checkpoint path', opts.resumeFrom);
        const cp = await readCheckpoint(opts.resumeFrom);
        model.assignStateDict(cp.weights);
        optimizer.loadStateDict(cp.optimizer);
        if (opts.initialEpoch === undefined) firstEpoch = cp.epoch + 1;
      }
      for (let epoch = firstEpoch; epoch < r.epochs; epoch++) {
        if (opts.lrSchedule && !perUpdate) optimizer.lr = opts.lrSchedule.lr(epoch, optimizer.initialLr);
        model.resetStates();
        const batches = epochBatches(train.length, batched?.groups ?? null, r.batchSize, r.shuffle ? mixSeed(r.seed, epoch) : null);
        let lossSum = 0, lossCount = 0, correct = 0, counted = 0;
        for (let batch = 0; batch < batches.length; batch++) {
          const b = train.batch(batches[batch]);
          const chunks = chunkBatch(b, r.bptt?.steps ?? 0, model.outputHasTime, r.loss.targets === 'classes' ? 1 : model.outputFeatures);
          for (let c = 0; c < chunks.length; c++) {
            opts.signal?.throwIfAborted();
            const chunk = chunks[c];
            model.zeroGrad();
            if (r.bptt && c === 0 && !r.bptt.stateful) model.resetStates();
            const ctx = { training: chunk.y !== null, seed: mixSeed(r.seed, epoch, batch, c), carryState: r.bptt !== null };
            const out = await model.forwardAsync(chunk.x, ctx);
            if (chunk.y === null) continue;  // many-to-one: only the last chunk has a target
            const res = await r.loss.computeAsync({ ...out, lengths: chunk.mask ?? out.lengths }, chunk.y);
            await model.backwardAsync(res.grad);
            const norm = gradNorm(params);
            const scale = r.clipGradNorm > 0 ? clipCoefficient(norm, r.clipGradNorm) : 1;
            if (opts.lrSchedule && perUpdate) optimizer.lr = opts.lrSchedule.lr(optimizer.stepCount, optimizer.initialLr);
            await optimizer.stepAsync(params, r.clipGradValue > 0 ? { gradScale: scale, clipValue: r.clipGradValue } : { gradScale: scale });
            history.updates++;
            lossSum += res.loss;
            lossCount++;
            correct += res.correct;
            counted += res.counted;
            const info: BatchInfo = { epoch, batch, update: history.updates, loss: res.loss, gradNorm: norm, lr: optimizer.lr };
            if (opts.onBatchEnd) await opts.onBatchEnd(info);
            if (opts.onProgress) await opts.onProgress(info);
            await yieldToEventLoop();
          }
        }
        const info: EpochInfo = { epoch, loss: lossSum / Math.max(1, lossCount), lr: optimizer.lr };
        if (r.loss.hasAccuracy && counted > 0) info.accuracy = correct / counted;
        if (validation) {
          const v = await evaluateSamples(model, validation, r.loss, r.batchSize);
          info.valLoss = v.loss;
          if (v.accuracy !== undefined) info.valAccuracy = v.accuracy;
        }
        history.epochs.push(info);
        if (checkpoint && (epoch + 1) % checkpoint.every === 0) await writeCheckpoint(checkpoint.path, model, optimizer, epoch);
        let stop = false;
        if (early) {
          const monitored = early.monitor === 'valLoss' ? info.valLoss : info.loss;
          if (monitored === undefined) throw invalidArg('earlyStopping.monitor', "'loss' (no validation data)", early.monitor);
          if (monitored < best.value - (early.minDelta ?? 0)) {
            best = { value: monitored, epoch, weights: early.restoreBest ? params.map((p) => p.value.slice()) : null };
            waited = 0;
          } else if (++waited > early.patience) {
            stop = true;
            history.stopped = 'earlyStopping';
          }
        }
        if (opts.onEpochEnd && (await opts.onEpochEnd(info)) === 'stop') {
          stop = true;
          history.stopped = 'callback';
        }
        if (stop) break;
      }
      if (best.weights) params.forEach((p, i) => p.value.set(best.weights![i]));
      return history;
    } catch (e) {
      params.forEach((p, i) => p.value.set(weightsBefore[i]));
      optimizer.loadStateDict(optimizerBefore);
      optimizer.lr = lrBefore;
      throw e;
    }
  });
}

/** Loss (and accuracy) of the model over a dataset, without training. */
export async function evaluate(model: Sequential, data: Dataset, opts: { loss: LossSpec; batchSize?: number }): Promise<{ loss: number; accuracy?: number }> {
  if (typeof opts !== 'object' || opts === null) throw invalidType('evaluate options', 'object', opts);
  const loss = resolveLoss(opts.loss);
  const samples = Samples.from(data, model.dataSpec(loss.targets === 'classes' ? 1 : model.outputFeatures), 'data');
  return model.exclusive(() => evaluateSamples(model, samples, loss, checkInteger('batchSize', opts.batchSize ?? 64, 1)));
}

async function evaluateSamples(model: Sequential, samples: Samples, loss: Loss, batchSize: number) {
  let sum = 0, weight = 0, correct = 0, counted = 0;
  for (let s = 0; s < samples.length; s += batchSize) {
    const idx = Array.from({ length: Math.min(batchSize, samples.length - s) }, (_v, j) => s + j);
    const b = samples.batch(idx);
    const out = await model.forwardAsync(b.x, { training: false, seed: 0 });
    const res = await loss.computeAsync(out, b.y!);
    sum += res.loss * idx.length;  // batch means weighted by sequences
    weight += idx.length;
    correct += res.correct;
    counted += res.counted;
    await yieldToEventLoop();
  }
  const out: { loss: number; accuracy?: number } = { loss: sum / weight };
  if (loss.hasAccuracy && counted > 0) out.accuracy = correct / counted;
  return out;
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

/** Splits a batch into chunks of `steps` time steps (truncated BPTT); one chunk when steps is 0. */
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
    const x: Flow = { data: b.x.data.slice(t0 * B * F, t1 * B * F), shape: [n, ...b.x.shape.slice(1)], lengths: null };
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
      if (outputHasTime) y = b.y.slice(t0 * B * targetWidth, t1 * B * targetWidth);
      else if (t1 === T) y = b.y;
    }
    chunks.push({ x, y, mask });
  }
  return chunks;
}
