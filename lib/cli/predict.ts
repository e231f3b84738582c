// `fused-rnn predict`: a CSV file in (the columns the model was trained on), a CSV out: for every
// row from the window's last on, the model's prediction of the next row's target columns.
import { writeFile } from 'node:fs/promises';
import { Sequential } from '../index';
import { csvLine, numericColumns, readTable } from './csv';
import { CliError } from './errors';
import { readTask } from './task';
import { csvWindows } from './train';

export async function predict(dir: string, file: string, out: string | undefined, write: (s: string) => void): Promise<void> {
  const task = await readTask(dir);
  if (task.kind !== 'csv') throw new CliError(`${dir} holds a language model: use \`fused-rnn sample\``);
  const table = await readTable(file);
  const rows = numericColumns(table, task.inputs, file);
  if (rows.length < task.window) throw new CliError(`${file} has ${rows.length} rows: the model reads windows of ${task.window}`);
  const model = await Sequential.load(dir);
  const y = await model.predict(csvWindows(rows, task.mean, task.std, task.window));
  const T = task.targets.length;
  const lines = [csvLine(['row', ...task.targets.map((t) => `next_${t}`)])];
  for (let n = 0; n < y.shape[0]; n++) {
    const values = Array.from({ length: T }, (_v, c) => +(y.data[n * T + c] * task.targetStd[c] + task.targetMean[c]).toPrecision(7));
    lines.push(csvLine([n + task.window, ...values]));  // the data row (1-based) the window ends on
  }
  const text = lines.join('\n') + '\n';
  if (out) await writeFile(out, text);
  else write(text);
}
