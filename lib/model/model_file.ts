// Saving and loading models: weights as .safetensors with PyTorch nn.Sequential names (so
// `torch.nn.Sequential(...).load_state_dict(safetensors.torch.load_file(path))` reads them),
// the architecture as JSON. Every file is written atomically (temp file + rename); a truncated
// or corrupt file is refused with an error naming it.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { invalidArg } from '../internal/check';
import { writeFileAtomicAsync } from '../io/atomic';
import { loadSafetensorsAsync, saveSafetensorsAsync } from '../io/safetensors';
import { GRU } from '../layers/recurrent/gru';
import { LSTM } from '../layers/recurrent/lstm';
import { RNN } from '../layers/recurrent/rnn';
import { Dense, type DenseOptions } from '../layers/dense';
import { Dropout, type DropoutOptions } from '../layers/dropout';
import { Embedding, type EmbeddingOptions } from '../layers/embedding';
import type { Tensor } from '../tensor';
import type { Model, SequentialLayer } from './model';

export const CONFIG_FILE = 'config.json';
export const WEIGHTS_FILE = 'model.safetensors';
const FORMAT = 'fused-rnn.sequential';

export interface LayerConfig {
  kind: 'LSTM' | 'GRU' | 'RNN' | 'Dense' | 'Embedding' | 'Dropout';
  options: Record<string, unknown>;
}
export interface ModelConfig {
  format: typeof FORMAT;
  version: 1;
  layers: LayerConfig[];
}

export function modelConfig(model: Model): ModelConfig {
  return {
    format: FORMAT,
    version: 1,
    layers: model.blocks.map((b): LayerConfig => ({ kind: b.kind as LayerConfig['kind'], options: b.getConfig() as Record<string, unknown> })),
  };
}

/** Builds the layers a config describes (weights freshly initialised). */
export function layersFromConfig(config: unknown, what = 'config'): SequentialLayer[] {
  const c = config as ModelConfig;
  if (typeof c !== 'object' || c === null || c.format !== FORMAT || c.version !== 1 || !Array.isArray(c.layers)) {
    throw invalidArg(what, `a ${FORMAT} version 1 config`, config);
  }
  return c.layers.map((l, i): SequentialLayer => {
    const o = l?.options as never;
    switch (l?.kind) {
      case 'LSTM': return new LSTM(o);
      case 'GRU': return new GRU(o);
      case 'RNN': return new RNN(o);
      case 'Dense': return new Dense(o as DenseOptions);
      case 'Embedding': return new Embedding(o as EmbeddingOptions);
      case 'Dropout': return new Dropout(o as DropoutOptions);
      default: throw invalidArg(`${what}.layers[${i}].kind`, 'LSTM, GRU, RNN, Dense, Embedding or Dropout', l?.kind);
    }
  });
}

/** Writes `dir/config.json` and `dir/model.safetensors` (the config also rides in its metadata). */
export async function saveModel(model: Model, dir: string): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  const config = JSON.stringify(modelConfig(model), null, 2);
  await saveSafetensorsAsync(path.join(dir, WEIGHTS_FILE), model.stateDict(), { format: 'pt', 'fused-rnn.config': config });
  await writeFileAtomicAsync(path.join(dir, CONFIG_FILE), new TextEncoder().encode(`${config}\n`));
}

/** Reads a model saved by saveModel (a directory, or the .safetensors file alone): its layers
 * and their weights, for Sequential.load to put together. */
export async function loadModel(location: string): Promise<{ layers: SequentialLayer[]; weights: Record<string, Tensor> }> {
  const stat = await fs.stat(location);
  const file = stat.isDirectory() ? path.join(location, WEIGHTS_FILE) : location;
  const st = await loadSafetensorsAsync(file);
  const configText = st.metadata['fused-rnn.config'];
  if (configText === undefined) throw invalidArg(file, "a model saved by fused-rnn (metadata 'fused-rnn.config')", 'no config');
  return { layers: layersFromConfig(parseJson(configText, file), `${file} config`), weights: st.tensors };
}

export function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw invalidArg(what, 'valid JSON', (e as Error).message);
  }
}
