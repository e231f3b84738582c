// Training checkpoints: one .safetensors file with the model's weights (`model.<name>`), the
// optimizer's state buffers (`optimizer.<param>.<state>`), and in its metadata the architecture,
// the optimizer's settings and step count, the last completed epoch (and, for a fit stopped inside
// an epoch, the batches of the next one trained and, with truncated BPTT, the chunks of the batch
// after them), and early stopping's counters
// (with restoreBest, its best weights as `earlyStopping.<i>`, i the parameter's index). One file,
// written atomically, so a process killed at any moment leaves either the previous checkpoint or
// the new one.
import { invalidArg } from '../internal/check';
import { loadSafetensorsAsync, saveSafetensorsAsync } from '../io/safetensors';
import type { Optimizer, OptimizerStateDict } from '../optim/optimizers';
import type { Tensor } from '../tensor';
import { modelConfig, parseJson } from './model_file';
import type { Model } from './model';

const MODEL = 'model.', OPTIMIZER = 'optimizer.', EARLY = 'earlyStopping.';

/** Where early stopping stands after an epoch: a resumed fit goes on counting from here. */
export interface EarlyStoppingState {
  monitor: 'loss' | 'valLoss';
  best: number;
  waited: number;
  /** The parameters at the best epoch, in model.parameters() order (restoreBest), else null. */
  bestWeights: Float32Array[] | null;
}

/** Where a checkpoint was taken: after `epoch` (0-based; -1: none yet), `batch` batches of the next
 * and `chunk` truncated-BPTT chunks of the batch after those (0 when none). */
export interface CheckpointPosition { epoch: number; batch: number; chunk?: number }

export interface Checkpoint {
  /** The last completed epoch (0-based, -1 when written inside the first): training resumes at epoch + 1. */
  epoch: number;
  /** Batches of epoch + 1 already trained (a fit stopped inside an epoch); resumed at the next. 0 otherwise. */
  batch: number;
  /** Truncated-BPTT chunks of the batch after those already trained; resumed at the next chunk. 0 otherwise. */
  chunk: number;
  weights: Record<string, Tensor>;
  optimizer: OptimizerStateDict;
  /** Present when the fit that wrote it used early stopping. */
  early: EarlyStoppingState | null;
}

export async function writeCheckpoint(file: string, model: Model, optimizer: Optimizer, at: CheckpointPosition,
  early: EarlyStoppingState | null): Promise<void> {
  const tensors: Record<string, Tensor> = {};
  for (const [k, v] of Object.entries(model.stateDict())) tensors[MODEL + k] = v;
  const opt = optimizer.stateDict();
  for (const [k, v] of Object.entries(opt.state)) tensors[OPTIMIZER + k] = { shape: [v.length], data: v };
  const metadata: Record<string, string> = {
    'fused-rnn.config': JSON.stringify(modelConfig(model)),
    'fused-rnn.optimizer': JSON.stringify({ kind: opt.kind, config: opt.config, step: opt.step, lr: opt.lr }),
    'fused-rnn.epoch': String(at.epoch),
  };
  if (at.batch > 0) metadata['fused-rnn.batch'] = String(at.batch);
  if ((at.chunk ?? 0) > 0) metadata['fused-rnn.chunk'] = String(at.chunk);
  if (early) {
    // best is Infinity before the first epoch counts: JSON has no Infinity, null stands for it.
    metadata['fused-rnn.earlyStopping'] = JSON.stringify({ monitor: early.monitor, best: Number.isFinite(early.best) ? early.best : null, waited: early.waited });
    early.bestWeights?.forEach((w, i) => { tensors[EARLY + i] = { shape: [w.length], data: w }; });
  }
  await saveSafetensorsAsync(file, tensors, metadata);
}

export async function readCheckpoint(file: string): Promise<Checkpoint> {
  const st = await loadSafetensorsAsync(file);
  const optText = st.metadata['fused-rnn.optimizer'], epochText = st.metadata['fused-rnn.epoch'];
  if (optText === undefined || epochText === undefined) {
    throw invalidArg(file, 'a fused-rnn checkpoint (metadata fused-rnn.optimizer and fused-rnn.epoch)', 'a file without them');
  }
  const batchText = st.metadata['fused-rnn.batch'];
  const batch = batchText === undefined ? 0 : digits(batchText);
  if (batchText !== undefined && !(batch >= 1)) throw invalidArg(`${file} batch`, 'an integer >= 1', batchText);
  const chunkText = st.metadata['fused-rnn.chunk'];
  const chunk = chunkText === undefined ? 0 : digits(chunkText);
  if (chunkText !== undefined && !(chunk >= 1)) throw invalidArg(`${file} chunk`, 'an integer >= 1', chunkText);
  // -1: written inside the first epoch (then batches or chunks of it were trained).
  const epoch = epochText === '-1' && (batch > 0 || chunk > 0) ? -1 : digits(epochText);
  if (!Number.isInteger(epoch)) throw invalidArg(`${file} epoch`, 'an integer >= 0', epochText);
  const opt = parseJson(optText, `${file} optimizer`) as Omit<OptimizerStateDict, 'state'>;
  const weights: Record<string, Tensor> = {}, state: Record<string, Float32Array> = {}, best: Float32Array[] = [];
  for (const [k, v] of Object.entries(st.tensors)) {
    if (k.startsWith(MODEL)) weights[k.slice(MODEL.length)] = v;
    else if (k.startsWith(OPTIMIZER)) state[k.slice(OPTIMIZER.length)] = v.data;
    else if (k.startsWith(EARLY) && /^\d+$/.test(k.slice(EARLY.length))) best[Number(k.slice(EARLY.length))] = v.data;
    else throw invalidArg(`${file} tensor '${k}'`, "a name starting with 'model.', 'optimizer.' or 'earlyStopping.'", k);
  }
  return { epoch, batch, chunk, weights, optimizer: { ...opt, state }, early: readEarlyStopping(file, st.metadata['fused-rnn.earlyStopping'], best) };
}

/** Digits only (Number() would also take '', ' 0x1 ' or '1e3'); NaN otherwise. */
function digits(text: string): number {
  return /^(0|[1-9][0-9]{0,14})$/.test(text) ? Number(text) : NaN;
}

function readEarlyStopping(file: string, text: string | undefined, best: Float32Array[]): EarlyStoppingState | null {
  if (text === undefined) {
    if (best.length > 0) throw invalidArg(`${file} earlyStopping`, 'metadata fused-rnn.earlyStopping beside its weights', 'none');
    return null;
  }
  const e = parseJson(text, `${file} earlyStopping`) as { monitor?: unknown; best?: unknown; waited?: unknown };
  if ((e.monitor !== 'loss' && e.monitor !== 'valLoss') || !(e.best === null || typeof e.best === 'number') ||
      !Number.isInteger(e.waited) || (e.waited as number) < 0) {
    throw invalidArg(`${file} earlyStopping`, '{ monitor: "loss" | "valLoss", best: number | null, waited: integer >= 0 }', text);
  }
  for (let i = 0; i < best.length; i++) {
    if (!best[i]) throw invalidArg(`${file} tensor '${EARLY}${i}'`, 'present (the best weights are numbered 0..n-1)', 'missing');
  }
  return { monitor: e.monitor, best: e.best ?? Infinity, waited: e.waited as number, bestWeights: best.length > 0 ? best : null };
}
