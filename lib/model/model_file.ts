// Saving and loading models: weights as .safetensors with PyTorch nn.Sequential names (so
// `torch.nn.Sequential(...).load_state_dict(safetensors.torch.load_file(path))` reads them),
// the architecture as JSON. Every file is written atomically (temp file + rename); a truncated
// or corrupt file is refused with an error naming it.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { Described, checkOneOf, invalidArg, ownOptions } from '../internal/check';
import { ensureDir, writeFileAtomicAsync } from '../io/atomic';
import { dequantizeRows, quantizeRows } from '../io/quantize';
import { loadSafetensorsAsync, saveSafetensorsAsync, type WritableTensor } from '../io/safetensors';
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

export interface SaveOptions {
  /** 'int8': the recurrent layers' weight matrices (weight_ih, weight_hh, weight_hr) as I8, one
   * float32 scale per row in `<name>.scale` (lib/io/quantize.ts): a quarter of their size.
   * Biases, Dense and Embedding stay F32. load() gives the dequantized float32 weights with the
   * recurrent layers set to precision 'int8'. Not a PyTorch state dict any more.
   * @defaultValue no quantization (F32) */
  quantize?: 'int8';
}

/** The names quantize: 'int8' writes as I8: every recurrent weight matrix. */
const QUANTIZED_NAME = /^\d+\.weight_(ih|hh|hr)_l\d+(_reverse)?$/;
const QUANTIZED_KEY = 'fused-rnn.quantized';

/** Writes `dir/config.json` and `dir/model.safetensors` (the config also rides in its metadata). */
export async function saveModel(model: Model, dir: string, options: SaveOptions = {}): Promise<void> {
  await ensureDir(dir);
  const config = await saveWeightsFile(model, path.join(dir, WEIGHTS_FILE), options);
  await writeFileAtomicAsync(path.join(dir, CONFIG_FILE), new TextEncoder().encode(`${config}\n`));
}

/** The .safetensors file of saveModel alone (weights, the config in its metadata); returns the config's JSON. */
export async function saveWeightsFile(model: Model, file: string, options: SaveOptions = {}): Promise<string> {
  const { quantize } = ownOptions<SaveOptions>('save options', options, ['quantize']);
  if (quantize !== undefined) checkOneOf('quantize', quantize, ['int8'] as const);
  const config = JSON.stringify(modelConfig(model), null, 2);
  const metadata: Record<string, string> = { format: 'pt', 'fused-rnn.config': config };
  const tensors: Record<string, WritableTensor> = model.stateDict();
  if (quantize) {
    metadata[QUANTIZED_KEY] = quantize;
    for (const [name, t] of Object.entries(tensors)) {
      if (!QUANTIZED_NAME.test(name) || t.shape.length !== 2) continue;
      const { q, scale } = quantizeRows(t.data as Float32Array, t.shape[0]);
      tensors[name] = { shape: t.shape, data: q };
      tensors[`${name}.scale`] = { shape: [t.shape[0]], data: scale };
    }
  }
  await saveSafetensorsAsync(file, tensors, metadata);
  return config;
}

/** Reads a model saved by saveModel (a directory, or the .safetensors file alone): its layers
 * and their weights (dequantized when the file is quantized), for Sequential.load to put together. */
export async function loadModel(location: string): Promise<{ layers: SequentialLayer[]; weights: Record<string, Tensor>; quantized: 'int8' | null }> {
  const stat = await fs.stat(location);
  const file = stat.isDirectory() ? path.join(location, WEIGHTS_FILE) : location;
  const st = await loadSafetensorsAsync(file);
  const configText = st.metadata['fused-rnn.config'];
  if (configText === undefined) throw invalidArg(file, "a model saved by fused-rnn (metadata 'fused-rnn.config')", 'no config');
  const config = parseJson(configText, file);
  const q = st.metadata[QUANTIZED_KEY];
  if (q !== undefined && q !== 'int8') throw invalidArg(`${file} metadata '${QUANTIZED_KEY}'`, "'int8'", q);
  const weights = q ? dequantized(st.tensors, file) : st.tensors;
  checkDeclaredSizes(config, weights, file);
  return { layers: layersFromConfig(config, `${file} config`), weights, quantized: q ?? null };
}

/** The tensors of a quantized file with each `<name>` + `<name>.scale` pair made float32 again. */
function dequantized(tensors: Record<string, Tensor>, file: string): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const [name, t] of Object.entries(tensors)) {
    if (name.endsWith('.scale')) {
      if (!(name.slice(0, -6) in tensors)) throw invalidArg(`${file} tensor '${name}'`, `the scales of a tensor '${name.slice(0, -6)}'`, 'no such tensor');
      continue;
    }
    const scale = Object.prototype.hasOwnProperty.call(tensors, `${name}.scale`) ? tensors[`${name}.scale`] : undefined;
    if (!scale) {
      out[name] = t;
      continue;
    }
    const rows = t.shape[0];
    if (t.shape.length !== 2 || scale.shape.length !== 1 || scale.shape[0] !== rows) {
      throw invalidArg(`${file} tensor '${name}.scale'`, `shape [${t.shape.length === 2 ? rows : 'rows'}] (one scale per row of a matrix)`, scale.shape);
    }
    for (const s of scale.data) if (!(s >= 0 && Number.isFinite(s))) throw invalidArg(`${file} tensor '${name}.scale'`, 'finite scales >= 0', s);
    out[name] = { shape: t.shape, data: dequantizeRows(t.data, scale.data, rows) };
  }
  return out;
}

/**
 * Before any layer is built (and its weights allocated): each layer's parameter count, computed
 * from the sizes its config declares, must equal the values the file holds for it (tensors
 * `${i}.*`). A 1 KB file declaring Embedding(2**27, 4) is refused here, not after allocating 2 GB.
 * Layers whose options are not valid sizes are left to their constructors, which refuse them first.
 */
export function checkDeclaredSizes(config: unknown, tensors: Record<string, Tensor>, file: string): void {
  const layers = (config as Partial<ModelConfig> | null)?.layers;
  if (!Array.isArray(layers)) return;
  const held = new Map<number, number>();
  for (const [name, t] of Object.entries(tensors)) {
    const i = /^(\d+)\./.exec(name)?.[1];
    if (i !== undefined) held.set(Number(i), (held.get(Number(i)) ?? 0) + t.data.length);
  }
  layers.forEach((l: unknown, i) => {
    const declared = declaredParams(l);
    if (declared === null) return;
    const has = held.get(i) ?? 0;
    if (declared !== has) {
      const kind = String((l as LayerConfig).kind);
      throw invalidArg(`${file} config.layers[${i}] (${kind})`, `sizes matching the file's ${has} weights for layer ${i}`,
        new Described(`sizes declaring ${declared} weights`));
    }
  });
}

/** The parameter count a layer config declares (as the layer would allocate it), or null when its sizes are not valid. */
function declaredParams(l: unknown): number | null {
  if (typeof l !== 'object' || l === null) return null;
  const { kind, options } = l as { kind?: unknown; options?: unknown };
  if (typeof options !== 'object' || options === null) return null;
  const o = options as Record<string, unknown>;
  const size = (v: unknown, fallback?: number): number => {
    const x = v === undefined ? fallback : v;
    return typeof x === 'number' && Number.isSafeInteger(x) && x >= 0 ? x : NaN;
  };
  let n: number;
  switch (kind) {
    case 'Dropout': n = 0; break;
    case 'Embedding': n = size(o.numEmbeddings) * size(o.embeddingDim); break;
    case 'Dense': n = size(o.units) * (size(o.inputSize) + (o.bias === false ? 0 : 1)); break;
    case 'LSTM': case 'GRU': case 'RNN': {
      const G = kind === 'LSTM' ? 4 : kind === 'GRU' ? 3 : 1;
      const H = size(o.hiddenSize), I = size(o.inputSize), L = size(o.numLayers, 1), P = size(o.projSize, 0);
      const D = o.direction === 'bidirectional' || o.bidirectional === true ? 2 : 1;
      const Hout = P > 0 ? P : H, bias = o.bias === false ? 0 : 2;
      const perDirection = (inputs: number) => G * H * (inputs + Hout + bias) + (o.peephole === true ? 3 * H : 0) + (P > 0 ? Hout * H : 0);
      n = D * (perDirection(I) + (L - 1) * perDirection(D * Hout));
      if (o.learnInitialState === true) n += L * D * (Hout + (kind === 'LSTM' ? H : 0));
      break;
    }
    default: return null;
  }
  return Number.isSafeInteger(n) ? n : null;
}

export function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw invalidArg(what, 'valid JSON', (e as Error).message);
  }
}
