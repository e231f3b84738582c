// `fused-rnn inspect`: what a model file holds — its layers (model.summary()), every weight's name
// and shape, the parameter count, and the task of a `train` directory.
import { stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { loadSafetensorsAsync, Sequential } from '../index';
import { readTask } from './task';

export async function inspect(location: string, say: (line: string) => void): Promise<void> {
  const isDir = (await stat(location)).isDirectory();
  const dir = isDir ? location : dirname(location);
  const model = await Sequential.load(location);
  say(model.summary());
  say(`parameters: ${model.paramCount.toLocaleString('en-US')}`);
  const tensors = await loadSafetensorsAsync(isDir ? join(location, 'model.safetensors') : location);
  for (const [name, t] of Object.entries(tensors.tensors)) say(`  ${name.padEnd(24)} [${t.shape.join(', ')}]`);
  const task = await readTask(dir).catch(() => null);
  if (task?.kind === 'text') say(`task: ${task.unit} language model, vocabulary of ${task.vocabulary.length}`);
  if (task?.kind === 'csv') say(`task: next-row ${task.targets.join(', ')} from windows of ${task.window} rows of ${task.inputs.join(', ')}`);
}
