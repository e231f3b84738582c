// `fused-rnn train`: a character or word language model from a text file, or a sequence model from
// a CSV file, written to a model directory (model.save() + task.json + a checkpoint per epoch +
// loss.csv and its picture), with fit's progress display (verbose: 1). Ctrl-C (or --max-time) stops
// between updates: fit keeps the weights of the last complete update and writes the checkpoint
// first, so the model is saved as it stood and --resume continues from the next batch.
import { readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { writeLineChart } from '../chart';
import { Adam, FitStoppedError, setNumThreads, type BatchedDataset, type Dataset, type Sequential } from '../index';
import { ensureDir, writeFileAtomicAsync } from '../io/atomic';
import { loadSafetensorsAsync } from '../io/safetensors';
import { numericColumns, readTable } from './csv';
import { CliError } from './errors';
import { buildModel } from './models';
import { CHECKPOINT_FILE, LOSS_HISTORY, LOSS_PICTURE, readTask, writeTask, type Architecture, type CsvTask, type Task } from './task';
import { buildVocabulary, encode, tokenize } from './text';

export interface TrainOptions {
  csv?: boolean;
  unit: 'char' | 'word';
  target?: string;
  inputs?: string;
  window: number;
  cell: string;
  hidden: number;
  layers: number;
  embedding?: number;
  bptt: number;
  batch: number;
  epochs: number;
  lr: number;
  precision: 'fp32' | 'bf16';
  out: string;
  resume?: boolean;
  seed: number;
  vocabSize: number;
  maxTime?: number;
  threads: number;
  quiet?: boolean;
  picture: boolean;
}

const CELLS = ['lstm', 'gru', 'rnn'] as const;

function architecture(o: TrainOptions): Architecture {
  if (!(CELLS as readonly string[]).includes(o.cell)) throw new CliError(`--cell must be one of ${CELLS.join(', ')}, not '${o.cell}'`);
  return { cell: o.cell as Architecture['cell'], hidden: o.hidden, layers: o.layers, ...(o.embedding ? { embedding: o.embedding } : {}) };
}

/**
 * The B contiguous streams of a token sequence (row b: tokens [b·L, (b+1)·L), the next token as
 * target) cut into batches of `bptt` steps: batch k is chunk k of every stream. fit carries the
 * state from batch to batch (stateful BPTT) and counts batches, so a checkpoint written inside an
 * epoch says exactly which chunk comes next (one batch of whole streams, as tokenStream lays them
 * out, would be one batch per epoch, and --resume would skip the rest of that epoch).
 */
export function textBatches(ids: readonly number[], batch: number, bptt: number): BatchedDataset {
  const L = Math.floor((ids.length - 1) / batch);
  const batches: BatchedDataset['batches'] = [];
  for (let t0 = 0; t0 < L; t0 += bptt) {
    const T = Math.min(bptt, L - t0);
    const x = new Float32Array(batch * T), y = new Float32Array(batch * T);
    for (let b = 0; b < batch; b++) {
      for (let t = 0; t < T; t++) {
        x[b * T + t] = ids[b * L + t0 + t];
        y[b * T + t] = ids[b * L + t0 + t + 1];
      }
    }
    batches.push({ x: { shape: [batch, T], data: x }, y: { shape: [batch, T], data: y } });
  }
  return { batches };
}

/** The task and data for a text file: --batch streams of the token sequence in chunks of --bptt steps. */
function textData(text: string, o: TrainOptions, old: Task | null): { task: Task; data: BatchedDataset; tokensPerEpoch: number } {
  const tokens = tokenize(text, o.unit);
  const vocabulary = old?.kind === 'text' ? old.vocabulary : buildVocabulary(tokens, o.unit, o.vocabSize);
  const ids = encode(tokens, vocabulary, o.unit);
  const L = Math.floor((ids.length - 1) / o.batch);
  if (L < 2) throw new CliError(`the text has ${tokens.length} ${o.unit === 'char' ? 'characters' : 'words'}: too few for ${o.batch} streams (--batch)`);
  const task: Task = old ?? { kind: 'text', unit: o.unit, vocabulary, architecture: architecture(o) };
  return { task, data: textBatches(ids, o.batch, o.bptt), tokensPerEpoch: L * o.batch };
}

function meanStd(rows: number[][], c: number): [number, number] {
  const m = rows.reduce((s, r) => s + r[c], 0) / rows.length;
  const v = rows.reduce((s, r) => s + (r[c] - m) ** 2, 0) / rows.length;
  return [m, Math.sqrt(v) || 1];
}

/** Windows of `window` rows (inputs scaled to mean 0, std 1) -> the next row's targets (scaled too). */
export function csvWindows(rows: number[][], mean: readonly number[], std: readonly number[], window: number): number[][][] {
  const scaled = rows.map((r) => r.map((v, c) => (v - mean[c]) / std[c]));
  return Array.from({ length: rows.length - window + 1 }, (_v, t) => scaled.slice(t, t + window));
}

async function csvData(file: string, o: TrainOptions, old: Task | null): Promise<{ task: Task; data: Dataset & { x: number[][][] }; tokensPerEpoch: number }> {
  const table = await readTable(file);
  const targets = old?.kind === 'csv' ? old.targets : (o.target ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  if (targets.length === 0) throw new CliError('--csv needs --target <columns>: the column(s) to predict one row ahead');
  const inputs = old?.kind === 'csv' ? old.inputs : o.inputs ? o.inputs.split(',').map((s) => s.trim()).filter(Boolean) : table.columns;
  const window = old?.kind === 'csv' ? old.window : o.window;
  const X = numericColumns(table, inputs, file), Y = numericColumns(table, targets, file);
  if (X.length <= window) throw new CliError(`${file} has ${X.length} rows: needs more than --window (${window})`);
  const scale = (rows: number[][], n: number) => Array.from({ length: n }, (_c, i) => meanStd(rows, i));
  const task: CsvTask = old?.kind === 'csv' ? old : (() => {
    const ms = scale(X, inputs.length), ts = scale(Y, targets.length);
    return { kind: 'csv', inputs, targets, window, mean: ms.map((p) => p[0]), std: ms.map((p) => p[1]),
      targetMean: ts.map((p) => p[0]), targetStd: ts.map((p) => p[1]), architecture: architecture(o) };
  })();
  const x = csvWindows(X.slice(0, -1), task.mean, task.std, window);
  const y = x.map((_w, t) => Y[t + window].map((v, c) => (v - task.targetMean[c]) / task.targetStd[c]));
  return { task, data: { x, y }, tokensPerEpoch: x.length * window };
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}

/** One update of the loss history (loss.csv): the update's number counts from the first run. */
interface LossRow { update: number; epoch: number; batch: number; loss: number }

/** The loss history of earlier runs up to the checkpoint's update (a --resume continues it). */
async function readLossHistory(file: string, upTo: number): Promise<LossRow[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.split('\n').slice(1).filter(Boolean).map((l) => l.split(',').map(Number))
    .map(([update, epoch, batch, loss]) => ({ update, epoch, batch, loss })).filter((r) => r.update <= upTo);
}

function lossCsv(rows: LossRow[]): Buffer {
  // String() gives the shortest decimals that read back as the same number: each loss exactly.
  return Buffer.from('update,epoch,batch,loss\n' + rows.map((r) => `${r.update},${r.epoch},${r.batch},${r.loss}`).join('\n') + '\n');
}

/** Where a checkpoint stands: updates done, the epoch (0-based) it resumes in and batches of it done. */
async function checkpointPosition(file: string): Promise<{ updates: number; epoch: number; batch: number }> {
  const meta = (await loadSafetensorsAsync(file)).metadata;
  const optimizer = JSON.parse(meta['fused-rnn.optimizer'] ?? '{}') as { step?: number };
  return { updates: optimizer.step ?? 0, epoch: Number(meta['fused-rnn.epoch']) + 1, batch: Number(meta['fused-rnn.batch'] ?? 0) };
}

/** Writes the loss curve of this run; a missing chart library is a note, not a failure. */
async function drawLoss(file: string, losses: [number, number][], title: string): Promise<string> {
  // The per-update loss is noisy: the mean of each run of `k` updates, about 200 points in all.
  const k = Math.max(1, Math.floor(losses.length / 200));
  const mean: [number, number][] = [];
  for (let i = 0; i + k <= losses.length; i += k) {
    mean.push([losses[i + k - 1][0], losses.slice(i, i + k).reduce((s, p) => s + p[1], 0) / k]);
  }
  try {
    await writeLineChart(file, { title, x: { title: 'update' }, y: { title: 'training loss' + (k > 1 ? ` (mean of ${k} updates)` : '') },
      series: [{ name: 'loss', points: mean }] });
    return `loss picture: ${file}`;
  } catch (e) {
    return `no loss picture: ${(e as Error).message}`;
  }
}

export async function train(file: string, o: TrainOptions, say: (line: string) => void): Promise<number> {
  const checkpoint = join(o.out, CHECKPOINT_FILE);
  let old: Task | null = null;
  let from = { updates: 0, epoch: 0, batch: 0 };
  if (o.resume) {
    old = await readTask(o.out);
    if (!(await exists(checkpoint))) throw new CliError(`--resume: ${checkpoint} does not exist (no update was saved)`);
    if ((old.kind === 'csv') !== !!o.csv) throw new CliError(`--resume: ${o.out} holds a ${old.kind} model${o.csv ? '' : ' (pass --csv)'}`);
    from = await checkpointPosition(checkpoint).catch((e: Error) => { throw new CliError(`--resume: ${checkpoint}: ${e.message}`); });
  }
  let text: string;
  try {
    text = o.csv ? '' : await readFile(file, 'utf8');
  } catch (e) {
    throw new CliError(`cannot read ${file}: ${(e as Error).message}`);
  }
  const { task, data, tokensPerEpoch } = o.csv ? await csvData(file, o, old) : textData(text, o, old);
  const text_ = task.kind === 'text';
  const batchesPerEpoch = 'batches' in data ? data.batches.length : Math.ceil(data.x.length / o.batch);
  setNumThreads(o.threads);
  const model: Sequential = buildModel(task, o.seed).setPrecision(o.precision);
  await ensureDir(o.out).catch((e: Error) => { throw new CliError(`--out ${o.out}: cannot make the model directory (${e.message})`); });
  await writeTask(o.out, task);
  say(`${o.resume ? 'resuming' : 'training'} ${text_ ? `a ${task.unit} language model (${task.vocabulary.length} tokens)` : `a sequence model (${task.inputs.length} inputs -> ${task.targets.join(', ')})`} on ${file}: ` +
    `${model.paramCount.toLocaleString('en-US')} parameters, ${tokensPerEpoch.toLocaleString('en-US')} ${text_ ? 'tokens' : 'steps'} per epoch` +
    (o.resume ? `; after update ${from.updates}, at batch ${from.batch + 1}/${batchesPerEpoch} of epoch ${from.epoch + 1}` : ''));

  const stop = new AbortController();
  const onSigint = () => stop.abort(new Error('Ctrl-C'));
  process.once('SIGINT', onSigint);
  const timer = o.maxTime ? setTimeout(() => stop.abort(new Error('--max-time')), o.maxTime * 1000) : null;
  const history = o.resume ? await readLossHistory(join(o.out, LOSS_HISTORY), from.updates) : [];
  const losses: LossRow[] = [];
  const started = performance.now();
  let stopped: string | null = null;
  try {
    await model.fit(data, {
      epochs: o.epochs, batchSize: o.batch, optimizer: new Adam({ lr: o.lr }), clipGradNorm: 1, seed: o.seed,
      loss: text_ ? 'crossEntropy' : 'mse',
      // Text: the batches are consecutive chunks of the streams, read in order, the state carried.
      ...(text_ ? { shuffle: false, bptt: { steps: o.bptt, stateful: true } } : {}),
      checkpoint: { path: checkpoint, every: 1 }, ...(o.resume ? { resumeFrom: checkpoint } : {}),
      signal: stop.signal,
      onBatchEnd: (info) => { losses.push({ update: from.updates + info.update, epoch: info.epoch, batch: info.batch, loss: info.loss }); },
      verbose: o.quiet ? 0 : 1,
    });
  } catch (e) {
    if (!(e instanceof FitStoppedError && stop.signal.aborted)) throw e instanceof FitStoppedError && e.cause instanceof Error ? e.cause : e;
    stopped = (stop.signal.reason as Error).message;
  } finally {
    process.off('SIGINT', onSigint);
    if (timer) clearTimeout(timer);
  }
  const seconds = (performance.now() - started) / 1000;
  await model.save(o.out);
  const all = [...history, ...losses];
  await writeFileAtomicAsync(join(o.out, LOSS_HISTORY), lossCsv(all));
  const last = losses.slice(-20);
  const finalLoss = last.reduce((s, p) => s + p.loss, 0) / Math.max(1, last.length);
  const perUpdate = text_ ? o.batch * o.bptt : o.batch * task.window;
  say(`${stopped ? `stopped by ${stopped}` : 'done'} after ${losses.length} updates in ${seconds.toFixed(1)} s: ` +
    `loss ${finalLoss.toFixed(4)} (mean of the last ${last.length} updates), ${Math.round((losses.length * perUpdate) / seconds).toLocaleString('en-US')} ${text_ ? 'tokens' : 'steps'}/s`);
  say(`model: ${o.out}${stopped ? ` (the weights of the last update; --resume continues from ${checkpoint})` : ''}`);
  if (o.picture && all.length > 0) say(await drawLoss(join(o.out, LOSS_PICTURE), all.map((r) => [r.update, r.loss]), `fused-rnn train ${basename(file)}`));
  return stopped === 'Ctrl-C' ? 130 : 0;
}
