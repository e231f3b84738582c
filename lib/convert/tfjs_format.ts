// The TF.js layers-model file format: model.json (modelTopology + weightsManifest) and its .bin
// weight shards, as tfjs' `model.save('file://…')` and the Python converter write them. Weights
// in a manifest group are laid end to end across the group's shards, little-endian.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { Tensor } from '../tensor';

/** One weight of a manifest group (tfjs WeightsManifestEntry). */
export interface TfjsWeightSpec {
  name: string;
  shape: number[];
  dtype: string;
  /** Quantized weights (tfjs' --quantize_uint8 / uint16: value = q * scale + min; --quantize_float16:
   * IEEE 754 half precision, no scale). */
  quantization?: { dtype: string; scale?: number; min?: number };
}

/** What tfjs' IO handlers pass around (`tf.io.withSaveHandler` receives this). */
export interface TfjsArtifacts {
  modelTopology: unknown;
  weightSpecs: TfjsWeightSpec[];
  weightData: ArrayBuffer | Uint8Array;
}

/** The parsed model.json file. */
export interface TfjsModelJson {
  modelTopology: unknown;
  weightsManifest: { paths: string[]; weights: TfjsWeightSpec[] }[];
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
}

/** The name of the weights file saveTfjs writes beside model.json (as tfjs-node's file handler). */
export const WEIGHTS_FILE = 'weights.bin';

/** Raised for files loadTfjs cannot read or map; `layer` names the first layer it could not map. */
export class TfjsImportError extends Error {
  constructor(message: string, readonly layer: string | null) {
    super(message);
    this.name = 'TfjsImportError';
  }
}

/** model.json (a path to it or to its directory; 'file://' as tfjs writes it is accepted) -> artifacts. */
export async function readModelJson(location: string): Promise<{ artifacts: TfjsArtifacts; what: string }> {
  let file = location.startsWith('file://') ? location.slice('file://'.length) : location;
  if ((await fs.stat(file)).isDirectory()) file = path.join(file, 'model.json');
  let json: unknown;
  try {
    json = JSON.parse(await fs.readFile(file, 'utf8'));
  } catch (e) {
    throw new TfjsImportError(`${file}: not a JSON model.json (${(e as Error).message})`, null);
  }
  return { artifacts: await readManifest(json, path.dirname(path.resolve(file)), file), what: file };
}

/** A parsed model.json object -> artifacts, reading its shards from `dir`. */
export async function readManifest(json: unknown, dir: string, what: string): Promise<TfjsArtifacts> {
  const m = json as Partial<TfjsModelJson> | null;
  if (typeof m !== 'object' || m === null || typeof m.modelTopology !== 'object' || m.modelTopology === null) {
    throw new TfjsImportError(`${what}: no modelTopology (a layers-model model.json has one; graph models are not supported)`, null);
  }
  if (!Array.isArray(m.weightsManifest)) throw new TfjsImportError(`${what}: no weightsManifest list`, null);
  const weightSpecs: TfjsWeightSpec[] = [];
  const parts: Uint8Array[] = [];
  for (const group of m.weightsManifest) {
    if (!Array.isArray(group?.paths) || !Array.isArray(group?.weights)) throw new TfjsImportError(`${what}: a weightsManifest group without paths and weights`, null);
    const shards: Uint8Array[] = [];
    for (const p of group.paths) {
      // Shards sit beside model.json: a path leaving that directory is refused.
      const file = path.resolve(dir, String(p));
      if (path.isAbsolute(String(p)) || path.relative(dir, file).startsWith('..')) throw new TfjsImportError(`${what}: weight shard path '${p}' leaves the model's directory`, null);
      shards.push(await fs.readFile(file));
    }
    const have = shards.reduce((n, b) => n + b.length, 0);
    const need = group.weights.reduce((n, s) => n + specBytes(s, what), 0);
    if (have !== need) throw new TfjsImportError(`${what}: weight shards [${group.paths.join(', ')}] hold ${have} bytes; the manifest describes ${need}`, null);
    parts.push(...shards);
    weightSpecs.push(...group.weights);
  }
  return { modelTopology: m.modelTopology, weightSpecs, weightData: Buffer.concat(parts) };
}

const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, uint8: 1, uint16: 2, float16: 2 };

/** An IEEE 754 half (binary16) as a number: subnormals, ±Infinity and NaN included. */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1, exp = (h >> 10) & 0x1f, frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1024 + frac) * 2 ** (exp - 25);
}

function specBytes(s: TfjsWeightSpec, what: string): number {
  if (typeof s !== 'object' || s === null || typeof s.name !== 'string' || !Array.isArray(s.shape)
    || s.shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new TfjsImportError(`${what}: a weight spec without a name and a shape of sizes`, null);
  }
  const dtype = s.quantization?.dtype ?? s.dtype;
  const bytes = DTYPE_BYTES[dtype];
  if (bytes === undefined || (s.dtype !== 'float32' && s.dtype !== 'int32')) {
    throw new TfjsImportError(`${what}: weight '${s.name}' has dtype ${s.dtype}${s.quantization ? ` quantized as ${dtype}` : ''}; float32 (plain, or uint8 / uint16 / float16 quantized) is supported`, null);
  }
  return s.shape.reduce((a, b) => a * b, 1) * bytes;
}

/** Every weight by name, as float32 tensors (quantized ones expanded). */
export function decodeWeights(a: TfjsArtifacts, what: string): Map<string, Tensor> {
  const bytes = a.weightData instanceof Uint8Array ? a.weightData : new Uint8Array(a.weightData);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Map<string, Tensor>();
  let at = 0;
  for (const s of a.weightSpecs) {
    const n = s.shape.reduce((x, y) => x * y, 1), size = specBytes(s, what);
    if (at + size > bytes.length) throw new TfjsImportError(`${what}: the weight data ends inside '${s.name}'`, null);
    if (s.dtype !== 'float32') throw new TfjsImportError(`${what}: weight '${s.name}' is ${s.dtype}; only float32 weights are used by these layers`, null);
    const data = new Float32Array(n);
    const q = s.quantization;
    if (!q) for (let i = 0; i < n; i++) data[i] = view.getFloat32(at + 4 * i, true);
    else if (q.dtype === 'float16') for (let i = 0; i < n; i++) data[i] = halfToFloat(view.getUint16(at + 2 * i, true));
    else {
      const scale = q.scale ?? 1, min = q.min ?? 0;
      for (let i = 0; i < n; i++) data[i] = (q.dtype === 'uint8' ? view.getUint8(at + i) : view.getUint16(at + 2 * i, true)) * scale + min;
    }
    out.set(s.name, { shape: [...s.shape], data });
    at += size;
  }
  if (at !== bytes.length) throw new TfjsImportError(`${what}: ${bytes.length - at} bytes of weight data beyond the manifest's weights`, null);
  return out;
}
