// What a model directory written by `fused-rnn train` holds besides the model itself
// (model.save(): model.safetensors + config.json): task.json, which says how text or CSV columns
// become the model's input and output, so `sample`, `predict` and `train --resume` need only the
// directory. Everything read back is checked: a hand-edited or foreign file is refused with its name.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomicAsync } from '../io/atomic';

export const TASK_FILE = 'task.json';
export const CHECKPOINT_FILE = 'checkpoint.safetensors';
export const LOSS_PICTURE = 'loss.svg';
/** Every update's loss since the first run (update,epoch,batch,loss); --resume appends to it. */
export const LOSS_HISTORY = 'loss.csv';

export interface Architecture {
  cell: 'lstm' | 'gru' | 'rnn';
  hidden: number;
  layers: number;
  /** Language models: the Embedding's width. */
  embedding?: number;
}

/** A character or word language model: token ids in, the next token's logits out. */
export interface TextTask {
  kind: 'text';
  unit: 'char' | 'word';
  /** Token i of the vocabulary; word models reserve '<unk>' for words cut from the vocabulary. */
  vocabulary: string[];
  architecture: Architecture;
}

/** A sequence model over CSV rows: a window of rows in, the next row's target columns out. */
export interface CsvTask {
  kind: 'csv';
  inputs: string[];
  targets: string[];
  window: number;
  /** Per input column: the mean and standard deviation the inputs were scaled with. */
  mean: number[];
  std: number[];
  /** The same for the targets (the model predicts scaled targets; predict scales them back). */
  targetMean: number[];
  targetStd: number[];
  architecture: Architecture;
}

export type Task = TextTask | CsvTask;

export async function writeTask(dir: string, task: Task): Promise<void> {
  await writeFileAtomicAsync(join(dir, TASK_FILE), Buffer.from(JSON.stringify(task, null, 1) + '\n'));
}

const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === 'string');
const isNumbers = (v: unknown, n: number): v is number[] =>
  Array.isArray(v) && v.length === n && v.every((x) => typeof x === 'number' && Number.isFinite(x));

function checkArchitecture(a: unknown): a is Architecture {
  const o = a as Architecture;
  return typeof o === 'object' && o !== null && ['lstm', 'gru', 'rnn'].includes(o.cell) &&
    Number.isInteger(o.hidden) && o.hidden > 0 && Number.isInteger(o.layers) && o.layers > 0 &&
    (o.embedding === undefined || (Number.isInteger(o.embedding) && o.embedding > 0));
}

/** task.json of a model directory, checked; a missing file means the directory is no `train` output. */
export async function readTask(dir: string): Promise<Task> {
  const file = join(dir, TASK_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`${dir} is not a model directory written by \`fused-rnn train\` (no ${TASK_FILE})`);
    throw e;
  }
  let t: Task;
  try {
    t = JSON.parse(text);
  } catch (e) {
    throw new Error(`${file}: not valid JSON (${(e as Error).message})`);
  }
  const ok = typeof t === 'object' && t !== null && checkArchitecture(t.architecture) && (t.kind === 'text'
    ? (t.unit === 'char' || t.unit === 'word') && isStrings(t.vocabulary) && t.vocabulary.length > 0
    : t.kind === 'csv' && isStrings(t.inputs) && isStrings(t.targets) && t.inputs.length > 0 && t.targets.length > 0 &&
      Number.isInteger(t.window) && t.window > 0 && isNumbers(t.mean, t.inputs.length) && isNumbers(t.std, t.inputs.length) &&
      isNumbers(t.targetMean, t.targets.length) && isNumbers(t.targetStd, t.targets.length));
  if (!ok) throw new Error(`${file}: not a task file written by \`fused-rnn train\``);
  return t;
}
