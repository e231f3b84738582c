// loadKerasWeights: the weights of a Python Keras model saved as HDF5 -> a Sequential of the same
// architecture, through setKerasWeights (model/keras_weights.ts: get_weights() order and layouts).
// loadKerasModel: a whole model saved as Keras 2's .h5 -> a Sequential, through the TF.js importer.
//
// Two layouts:
//   Keras 3 `save_weights('x.weights.h5')`: a group per object on the path Keras walks from the
//     model ('layers/lstm', 'layers/lstm_1', 'layers/dense': the snake_case class name, numbered
//     per class), its variables as datasets '0', '1', ... of a 'vars' group; a recurrent layer keeps
//     them in its cell ('layers/lstm/cell/vars'), a Bidirectional in its two copies
//     ('layers/bidirectional/forward_layer/cell/vars', then 'backward_layer'). Nothing records the
//     layers' order, so, as Keras does, the paths come from the model the weights go into.
//   Keras 2 (and Keras 3's legacy) `.h5`, `save_weights('x.h5')` or `model.save('x.h5')` (then
//     under the group 'model_weights'): the attribute 'layer_names' (or 'layer_names0',
//     'layer_names1', ... when Keras had to split it) lists the layers in model order; each layer's
//     group names its datasets, in get_weights() order, in the attribute 'weight_names'. Layers
//     without weights are skipped and the rest matched by order, as Keras loads by_name=False.
import * as fs from 'node:fs/promises';
import { Recurrent } from '../layers/recurrent/recurrent';
import { CELL_CLASS_NAMES } from '../layers/recurrent/config';
import { Dense } from '../layers/dense';
import { Embedding } from '../layers/embedding';
import { Sequential } from '../model/sequential';
import type { Tensor } from '../tensor';
import { importTfjs } from './tfjs_import';
import type { TfjsWeightSpec } from './tfjs_format';

/** A Keras layer holding weights, as our model stands for it (a stacked recurrent layer is several). */
interface KerasLayer {
  /** Keras' class: LSTM, GRU, SimpleRNN, Bidirectional, Dense or Embedding. */
  cls: string;
  /** What it is in our model, for messages: "layers[0] (LSTM)", "layers[0] (GRU, stacked layer 1)". */
  ours: string;
  /** Its arrays in get_weights() order, with Keras' names ("kernel", "backward bias", ...). */
  expected: { name: string; tensor: Tensor }[];
}

const KERAS_CLASS = { lstm: 'LSTM', gru: 'GRU', rnn: 'SimpleRNN' } as const;
/** Keras 3's path names: naming.to_snake_case of the class. */
const SNAKE: Record<string, string> = {
  LSTM: 'lstm', GRU: 'gru', SimpleRNN: 'simple_rnn', Bidirectional: 'bidirectional', Dense: 'dense', Embedding: 'embedding',
};
const HDF5_SIGNATURE = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);

/**
 * Loads the weights of a Keras model saved as HDF5 into `model`, a Sequential of the same
 * architecture: Keras 3 `model.save_weights('x.weights.h5')`, or Keras 2's `.h5` from
 * `save_weights('x.h5')` or `model.save('x.h5')`. Layers are matched as Keras matches them (Keras 3:
 * by their class and rank among layers of that class; `.h5`: the layers with weights in order), each
 * array shape-checked, then set through `model.setKerasWeights`: all or nothing.
 * Needs the optional package jsfive (installed with fused-rnn unless optional packages are omitted).
 * @param src the file's path, or its bytes.
 * @returns the model.
 * @example await loadKerasWeights(new Sequential([new LSTM({ inputSize: 3, hiddenSize: 4 }), new Dense({ units: 2 })]), 'model.weights.h5')
 * @throws TypeError if `src` is not HDF5 or not a Keras weights file; RangeError naming the layer
 *   and dataset when the file does not fit the model (a layer or dataset missing or left over, a
 *   shape or count that differs) or cannot be read (truncated); the model is then unchanged.
 */
export async function loadKerasWeights(model: Sequential, src: string | Uint8Array): Promise<Sequential> {
  if (!(model instanceof Sequential)) throw new TypeError(`loadKerasWeights: expected a Sequential but received ${typeof model}`);
  const layers = kerasLayers(model);  // before reading: a model Keras cannot express fails first
  const file = await openKeras('loadKerasWeights', src);
  const root = file.has('model_weights') ? 'model_weights' : '';
  const legacy = file.attr(root, 'layer_names') !== undefined || file.attr(root, 'layer_names0') !== undefined;
  if (!legacy && !file.has('layers')) {
    throw new TypeError(`loadKerasWeights: ${file.what} is HDF5 but not Keras weights (no 'layer_names' attribute of Keras 2's .h5, no 'layers' group of Keras 3's .weights.h5)`);
  }
  const arrays = legacy ? readLegacy(file, root, layers) : readKeras3(file, layers);
  model.setKerasWeights(arrays);
  return model;
}

/**
 * Loads a Keras model saved whole as `.h5` (`model.save('x.h5')` of Keras 2, or of Keras 3 in its
 * legacy format) as a Sequential computing the same output: the architecture from the file's
 * `model_config` (Keras' JSON, which TF.js' model.json carries too, so `loadTfjs`' importer reads
 * it: the same layers are supported and refused), the weights from `model_weights` by name.
 * Needs the optional package jsfive, as loadKerasWeights.
 * @example const model = await loadKerasModel('model.h5')
 * @throws TypeError if `src` is not HDF5, not Keras' or holds weights only (then build the model and
 *   use loadKerasWeights); TfjsImportError naming a layer it cannot map; RangeError for a file
 *   that cannot be read (truncated).
 */
export async function loadKerasModel(src: string | Uint8Array): Promise<Sequential> {
  const file = await openKeras('loadKerasModel', src);
  const config = file.attr('', 'model_config');
  if (config === undefined || !file.has('model_weights')) {
    throw new TypeError(`loadKerasModel: ${file.what} is not a whole Keras model (no 'model_config' attribute and 'model_weights' group of model.save('x.h5')); for weights only, build the model and use loadKerasWeights`);
  }
  let topology: unknown;
  try {
    topology = JSON.parse(String(config).replace(/\0+$/, ''));
  } catch (e) {
    throw new RangeError(`loadKerasModel: ${file.what}: model_config is not JSON (${(e as Error).message})`);
  }
  const specs: TfjsWeightSpec[] = [];
  const arrays: Float32Array[] = [];
  for (const layer of file.strings('model_weights', 'layer_names')) {
    for (const w of file.strings(`model_weights/${layer}`, 'weight_names')) {
      const t = file.array(`model_weights/${layer}/${w}`);
      // The TF.js importer matches 'layer/.../kernel'; TF 2 variable names end in ':0' (as the TF.js converter, it drops that).
      specs.push({ name: w.replace(/:\d+$/, ''), shape: t.shape, dtype: 'float32' });
      arrays.push(t.data);
    }
  }
  const weightData = new Uint8Array(arrays.reduce((n, a) => n + 4 * a.length, 0));
  const view = new DataView(weightData.buffer);
  let at = 0;
  for (const a of arrays) for (const v of a) view.setFloat32((at += 4) - 4, v, true);  // TF.js weight data is little-endian
  const kerasVersion = String(file.attr('model_weights', 'keras_version') ?? file.attr('', 'keras_version') ?? '').replace(/\0+$/, '');
  return importTfjs({ modelTopology: { model_config: topology, keras_version: kerasVersion }, weightSpecs: specs, weightData }, file.what);
}

/** Reads `src` and opens it as HDF5, refusing what is not HDF5 or is cut short. */
async function openKeras(who: string, src: string | Uint8Array): Promise<H5> {
  if (typeof src !== 'string' && !(src instanceof Uint8Array)) {
    throw new TypeError(`${who}: expected a file path or the file's bytes but received ${src === null ? 'null' : typeof src}`);
  }
  const what = typeof src === 'string' ? `'${src}'` : 'the bytes given';
  const bytes = typeof src === 'string' ? await fs.readFile(src) : src;
  const at = superblockAt(bytes);
  if (at < 0) throw new TypeError(`${who}: ${what} is not an HDF5 file (no HDF5 signature)`);
  const length = declaredLength(bytes, at);
  if (length === null || bytes.length < length) {
    throw new RangeError(`${who}: ${what} is truncated: ${bytes.length} bytes${length === null ? ', not even a whole superblock' : ` of the ${length} its superblock declares`}`);
  }
  return new H5(await openHdf5(who, bytes, what), who, what);
}

/** The Keras layers our model stands for, with the arrays each must hold. */
function kerasLayers(model: Sequential): KerasLayer[] {
  const all = model.getKerasWeights();
  let j = 0;
  const take = (names: string[]) => names.map((name) => ({ name, tensor: all[j++] }));
  const out: KerasLayer[] = [];
  model.layers.forEach((layer, i) => {
    if (layer instanceof Recurrent) {
      const cls = KERAS_CLASS[layer.config.cell];
      const own = ['kernel', 'recurrent_kernel', 'bias'].slice(0, layer.config.bias ? 3 : 2);
      const names = layer.bidirectional ? [...own.map((n) => `forward ${n}`), ...own.map((n) => `backward ${n}`)] : own;
      for (let l = 0; l < layer.numLayers; l++) {
        const ours = `layers[${i}] (${CELL_CLASS_NAMES[layer.config.cell]}${layer.bidirectional ? ', bidirectional' : ''}${layer.numLayers > 1 ? `, stacked layer ${l}` : ''})`;
        out.push({ cls: layer.bidirectional ? 'Bidirectional' : cls, ours, expected: take(names) });
      }
    } else if (layer instanceof Dense) {
      out.push({ cls: 'Dense', ours: `layers[${i}] (Dense)`, expected: take(layer.useBias ? ['kernel', 'bias'] : ['kernel']) });
    } else if (layer instanceof Embedding) {
      out.push({ cls: 'Embedding', ours: `layers[${i}] (Embedding)`, expected: take(['embeddings']) });
    }
  });
  return out;
}

/** Keras 3: each layer's 'vars' groups at the paths Keras derives from the model. */
function readKeras3(file: H5, layers: KerasLayer[]): Tensor[] {
  const perClass = new Map<string, number>();
  const used = new Set<string>();
  const arrays: Tensor[] = [];
  for (const layer of layers) {
    const k = perClass.get(layer.cls) ?? 0;
    perClass.set(layer.cls, k + 1);
    const name = `layers/${SNAKE[layer.cls]}${k === 0 ? '' : `_${k}`}`;
    used.add(name);
    const groups = layer.cls === 'Bidirectional' ? [`${name}/forward_layer/cell/vars`, `${name}/backward_layer/cell/vars`]
      : layer.cls === 'Dense' || layer.cls === 'Embedding' ? [`${name}/vars`] : [`${name}/cell/vars`];
    const per = layer.expected.length / groups.length;
    groups.forEach((g, side) => {
      if (!file.has(g)) {
        throw new RangeError(`loadKerasWeights: ${file.what} has no group '${g}' for ${layer.ours} (layers in the file: ${file.keys('layers').join(', ') || 'none'})`);
      }
      const held = file.keys(g).filter((d) => /^\d+$/.test(d));
      if (held.length !== per) {
        throw new RangeError(`loadKerasWeights: ${file.what}: '${g}' holds ${held.length} arrays; ${layer.ours} has ${per} (${layer.expected.slice(side * per, side * per + per).map((e) => e.name).join(', ')})`);
      }
      for (let v = 0; v < per; v++) arrays.push(file.dataset(`${g}/${v}`, layer.ours, layer.expected[side * per + v]));
    });
  }
  // Weights the model has no layer for mean another architecture: refused rather than dropped.
  const extra = file.keys('layers').filter((n) => !used.has(`layers/${n}`) && file.holdsArrays(`layers/${n}`));
  if (extra.length > 0) throw new RangeError(`loadKerasWeights: ${file.what} has weights for layers the model does not have: ${extra.map((n) => `'layers/${n}'`).join(', ')}`);
  return arrays;
}

/** Keras 2 .h5: the layers with weights, in 'layer_names' order, matched to ours by position. */
function readLegacy(file: H5, root: string, layers: KerasLayer[]): Tensor[] {
  const at = (name: string) => (root === '' ? name : `${root}/${name}`);
  const names = file.strings(root, 'layer_names').filter((name) => {
    if (!file.has(at(name))) throw new RangeError(`loadKerasWeights: ${file.what} lists layer '${name}' in layer_names but has no group for it`);
    return file.strings(at(name), 'weight_names').length > 0;
  });
  if (names.length !== layers.length) {
    throw new RangeError(`loadKerasWeights: ${file.what} has ${names.length} layers with weights (${names.join(', ')}); the model has ${layers.length} (${layers.map((l) => l.ours).join(', ')})`);
  }
  const arrays: Tensor[] = [];
  names.forEach((name, k) => {
    const layer = layers[k];
    const weightNames = file.strings(at(name), 'weight_names');
    if (weightNames.length !== layer.expected.length) {
      throw new RangeError(`loadKerasWeights: ${file.what}: layer '${name}' holds ${weightNames.length} arrays (${weightNames.join(', ')}); ${layer.ours} has ${layer.expected.length} (${layer.expected.map((e) => e.name).join(', ')})`);
    }
    weightNames.forEach((w, v) => arrays.push(file.dataset(`${at(name)}/${w}`, layer.ours, layer.expected[v])));
  });
  return arrays;
}

/** Where the superblock starts: HDF5 puts its signature at 0, 512, 1024, 2048, ... (after a user block); -1 if nowhere. */
function superblockAt(bytes: Uint8Array): number {
  for (let at = 0; at + 8 <= bytes.length; at = at === 0 ? 512 : at * 2) {
    if (Buffer.from(bytes.buffer, bytes.byteOffset + at, 8).equals(HDF5_SIGNATURE)) return at;
  }
  return -1;
}

/**
 * The file's length as its superblock declares it (the end-of-file address), or null if the
 * superblock is cut short. libhdf5 refuses a file shorter than that; jsfive does not look, and a
 * cut that spares what it reads would load: so it is checked here.
 */
function declaredLength(bytes: Uint8Array, at: number): number | null {
  if (at + 16 > bytes.length) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset + at, bytes.length - at);
  const version = view.getUint8(8);
  // Versions 0 and 1: sizes of offsets at byte 13; base, free-space, end-of-file addresses after
  // 24 bytes (28 in version 1). Versions 2 and 3: sizes at byte 9; base, extension, end-of-file after 12.
  const size = view.getUint8(version < 2 ? 13 : 9);
  const eofAt = (version === 0 ? 24 : version === 1 ? 28 : 12) + 2 * size;
  if ((size !== 4 && size !== 8) || eofAt + size > view.byteLength) return null;
  const base = size === 8 ? Number(view.getBigUint64(eofAt - 2 * size, true)) : view.getUint32(eofAt - 2 * size, true);
  const eof = size === 8 ? Number(view.getBigUint64(eofAt, true)) : view.getUint32(eofAt, true);
  return at - base + eof;  // the end-of-file address is relative to the base address
}

// jsfive (pure JavaScript, read-only HDF5, about 3 MB with pako, no install script) is an
// optionalDependency imported on first use: it installs with fused-rnn and works in the CommonJS
// build (a dynamic import()), yet nothing loads it unless a Keras file is read, and an install
// with --omit=optional gets an error saying what to install. h5wasm (libhdf5 in wasm) reads more of
// HDF5 but is 15 MB; Keras' files use only what jsfive reads (h5py's default, earliest format).
// jsfive ships no type declarations: the members used are typed here, and the specifier is cast
// so TypeScript does not look for its types.
interface Jsfive {
  File: new (buffer: ArrayBuffer, filename: string) => JsfiveGroup;
  Dataset: abstract new (...args: never[]) => JsfiveDataset;
}
interface JsfiveGroup { keys: string[]; attrs: Record<string, unknown>; get(path: string): JsfiveGroup | JsfiveDataset }
interface JsfiveDataset { shape: number[]; dtype: unknown; value: ArrayLike<number> }

async function openHdf5(who: string, bytes: Uint8Array, what: string): Promise<{ lib: Jsfive; root: JsfiveGroup }> {
  let lib: Jsfive;
  try {
    lib = (await import('jsfive' as string)) as Jsfive;
  } catch (e) {
    throw new Error(`${who} needs the optional package jsfive to read HDF5 (npm install jsfive): ${String((e as Error)?.message ?? e).split('\n')[0]}`);
  }
  const copy = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  return { lib, root: unreadable(who, what, 'its superblock', () => new lib.File(copy, 'keras.h5')) };
}

/** jsfive throws strings and DataView RangeErrors on a damaged file: one clear RangeError instead. */
function unreadable<T>(who: string, what: string, part: string, read: () => T): T {
  try {
    return read();
  } catch (e) {
    throw new RangeError(`${who}: cannot read ${part} in ${what} (truncated or damaged HDF5?): ${String((e as Error)?.message ?? e).split('\n')[0]}`);
  }
}

/** Paths from the file's root ('' is the root), read through jsfive. */
class H5 {
  private readonly lib: Jsfive;
  private readonly root: JsfiveGroup;
  constructor(opened: { lib: Jsfive; root: JsfiveGroup }, readonly who: string, readonly what: string) {
    this.lib = opened.lib;
    this.root = opened.root;
  }

  /** Whether `path` is a group (walked name by name: jsfive throws for a missing one). */
  has(path: string): boolean {
    if (path === '') return true;
    let g: JsfiveGroup | JsfiveDataset = this.root;
    for (const part of path.split('/')) {
      if (g instanceof this.lib.Dataset || !this.read(path, () => (g as JsfiveGroup).keys).includes(part)) return false;
      g = this.read(path, () => (g as JsfiveGroup).get(part));
    }
    return !(g instanceof this.lib.Dataset);
  }

  keys(path: string): string[] {
    return this.has(path) ? this.read(path, () => this.group(path).keys) : [];
  }

  /** The attribute `name` of the group `path`; undefined if either is missing. */
  attr(path: string, name: string): unknown {
    return this.has(path) ? this.read(path, () => this.group(path).attrs[name]) : undefined;
  }

  /** A list of names in an attribute, or in its pieces name0, name1, ... (Keras' split); [] if none. */
  strings(path: string, name: string): string[] {
    const pieces = [this.attr(path, name)];
    if (pieces[0] === undefined) {
      pieces.length = 0;
      for (let k = 0; this.attr(path, `${name}${k}`) !== undefined; k++) pieces.push(this.attr(path, `${name}${k}`));
    }
    return pieces.flatMap((p) => (Array.isArray(p) ? p : [p])).map((s) => {
      if (typeof s !== 'string') throw new RangeError(`${this.who}: ${this.what}: attribute '${name}' of '${path || '/'}' holds ${typeof s}, not names`);
      return s.replace(/\0+$/, '');  // fixed-length strings come back padded with NULs
    });
  }

  /**
   * Whether any dataset lies below the group `path`, apart from Keras 3's 'seed_generator' groups:
   * the random-number state of Dropout and the like, not weights.
   */
  holdsArrays(path: string): boolean {
    return this.keys(path).filter((k) => k !== 'seed_generator').some((k) => {
      const child = this.read(path, () => this.group(path).get(k));
      return child instanceof this.lib.Dataset || this.holdsArrays(`${path}/${k}`);
    });
  }

  /** The float32 array at `path`, checked against the array the model expects there. */
  dataset(path: string, ours: string, expected: { name: string; tensor: Tensor }): Tensor {
    return this.array(path, `${expected.name} of ${ours}`, expected.tensor.shape);
  }

  /**
   * The dataset at `path` as float32. `role`: what it should be, for the messages; `want`: the shape
   * it must have (checked before its values are read).
   */
  array(path: string, role?: string, want?: readonly number[]): Tensor {
    const parent = path.slice(0, path.lastIndexOf('/'));
    const base = path.slice(path.lastIndexOf('/') + 1);
    // A weight name may hold '/' (h5py makes the groups): walk to its last group first.
    const d = this.has(parent) && this.keys(parent).includes(base) ? this.read(path, () => this.group(parent).get(base)) : undefined;
    if (!(d instanceof this.lib.Dataset)) throw new RangeError(`${this.who}: ${this.what} has no dataset '${path}'${role ? ` (${role})` : ''}`);
    const shape = this.read(path, () => d.shape.slice());
    if (want && (shape.length !== want.length || shape.some((n, i) => n !== want[i]))) {
      throw new RangeError(`${this.who}: ${this.what}: '${path}' has shape [${shape.join(', ')}]; ${role} has [${want.join(', ')}]`);
    }
    const dtype = this.read(path, () => d.dtype);
    // float64 is narrowed as Keras' assign() would; anything else (integers, bfloat16) is refused.
    if (typeof dtype !== 'string' || !/^[<>]f[48]$/.test(dtype)) {
      throw new RangeError(`${this.who}: ${this.what}: '${path}' holds ${typeof dtype === 'string' ? dtype : 'non-numeric'} values; float32 or float64 expected`);
    }
    return { shape, data: Float32Array.from(this.read(path, () => d.value)) };
  }

  private group(path: string): JsfiveGroup {
    return path === '' ? this.root : (this.root.get(path) as JsfiveGroup);
  }

  private read<T>(path: string, fn: () => T): T {
    return unreadable(this.who, this.what, `'${path || '/'}'`, fn);
  }
}
