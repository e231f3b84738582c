// Training checkpoints: one .safetensors file with the model's weights (`model.<name>`), the
// optimizer's state buffers (`optimizer.<param>.<state>`), and in its metadata the architecture,
// the optimizer's settings and step count, and the last completed epoch. One file, written
// atomically, so a process killed at any moment leaves either the previous checkpoint or the new one.
import { invalidArg } from '../internal/check';
import { loadSafetensorsAsync, saveSafetensorsAsync } from '../io/safetensors';
import type { Optimizer, OptimizerStateDict } from '../optim/optimizers';
import type { Tensor } from '../tensor';
import { modelConfig, parseJson } from './io';
import type { Sequential } from './sequential';

const MODEL = 'model.', OPTIMIZER = 'optimizer.';

export interface Checkpoint {
  /** The last completed epoch (0-based): training resumes at epoch + 1. */
  epoch: number;
  weights: Record<string, Tensor>;
  optimizer: OptimizerStateDict;
}

export async function writeCheckpoint(file: string, model: Sequential, optimizer: Optimizer, epoch: number): Promise<void> {
  const tensors: Record<string, Tensor> = {};
  for (const [k, v] of Object.entries(model.stateDict())) tensors[MODEL + k] = v;
  const opt = optimizer.stateDict();
  for (const [k, v] of Object.entries(opt.state)) tensors[OPTIMIZER + k] = { shape: [v.length], data: v };
  const metadata = {
    'fused-rnn.config': JSON.stringify(modelConfig(model)),
    'fused-rnn.optimizer': JSON.stringify({ kind: opt.kind, config: opt.config, step: opt.step, lr: opt.lr }),
    'fused-rnn.epoch': String(epoch),
  };
  await saveSafetensorsAsync(file, tensors, metadata);
}

export async function readCheckpoint(file: string): Promise<Checkpoint> {
  const st = await loadSafetensorsAsync(file);
  const optText = st.metadata['fused-rnn.optimizer'], epochText = st.metadata['fused-rnn.epoch'];
  if (optText === undefined || epochText === undefined) {
    throw invalidArg(file, 'a fused-rnn checkpoint (metadata fused-rnn.optimizer and fused-rnn.epoch)', 'a file without them');
  }
  const epoch = Number(epochText);
  if (!Number.isInteger(epoch) || epoch < 0) throw invalidArg(`${file} epoch`, 'an integer >= 0', epochText);
  const opt = parseJson(optText, `${file} optimizer`) as Omit<OptimizerStateDict, 'state'>;
  const weights: Record<string, Tensor> = {}, state: Record<string, Float32Array> = {};
  for (const [k, v] of Object.entries(st.tensors)) {
    if (k.startsWith(MODEL)) weights[k.slice(MODEL.length)] = v;
    else if (k.startsWith(OPTIMIZER)) state[k.slice(OPTIMIZER.length)] = v.data;
    else throw invalidArg(`${file} tensor '${k}'`, "a name starting with 'model.' or 'optimizer.'", k);
  }
  return { epoch, weights, optimizer: { ...opt, state } };
}
