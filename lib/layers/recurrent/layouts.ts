// State dicts in PyTorch, ONNX and Keras layouts.
//
// The internal layout is PyTorch's (LSTM gates i,f,g,o; GRU r,z,n; peepholes i,f,o), so
// 'torch' is a plain copy. The others permute gate blocks:
//   ONNX   LSTM i,o,f,c   GRU z,r,h   peepholes i,o,f   W [D, G*H, I], R [D, G*H, Hout], B [D, 2*G*H]
//   Keras  LSTM i,f,c,o   GRU z,r,h   kernel [I, G*H], recurrent_kernel [Hout, G*H] (transposed)
import { checkNumbers, Described, invalidArg, invalidType } from '../../internal/check';
import type { Tensor } from '../../tensor';
import type { CellKind } from './config';
import { ParamKind, type ParamEntry } from '../../native';
import type { ResolvedConfig } from './config';

/** What the layouts read of a recurrent layer (Recurrent implements it). */
export interface LayerParams {
  readonly config: Readonly<ResolvedConfig>;
  readonly paramEntries: readonly ParamEntry[];
  readonly weights: Float32Array;
  readonly numDirections: number;
  readonly gateCount: number;
  readonly outputSize: number;
  parameters(): { name: string; shape: number[] }[];
}

const TORCH_PREFIX: Record<ParamKind, string> = {
  0: 'weight_ih', 1: 'weight_hh', 2: 'bias_ih', 3: 'bias_hh', 4: 'weight_peephole', 5: 'weight_hr',
};

/** PyTorch state_dict name; peepholes (no PyTorch name) are weight_peephole_l{k}, order i,f,o. */
export function torchName(e: ParamEntry): string {
  return `${TORCH_PREFIX[e.kind]}_l${e.layer}${e.direction === 1 ? '_reverse' : ''}`;
}

export type Layout = 'torch' | 'onnx' | 'keras';
const LAYOUTS: readonly Layout[] = ['torch', 'onnx', 'keras'];

/** Block j of the foreign layout is internal block PERM[j]. */
const ONNX_GATES: Record<CellKind, number[]> = { lstm: [0, 3, 1, 2], gru: [1, 0, 2], rnn: [0] };
const KERAS_GATES: Record<CellKind, number[]> = { lstm: [0, 1, 2, 3], gru: [1, 0, 2], rnn: [0] };
const ONNX_PEEPHOLES = [0, 2, 1];

function checkLayout(layout: unknown): Layout {
  if (!LAYOUTS.includes(layout as Layout)) {
    throw (typeof layout === 'string' ? invalidArg : invalidType)('layout', "'torch', 'onnx' or 'keras'", layout);
  }
  return layout as Layout;
}

/** out block j = src block perm[j] (inverse: out block perm[j] = src block j). */
function permuteBlocks(src: Float32Array, blockSize: number, perm: number[], inverse = false): Float32Array {
  const out = new Float32Array(src.length);
  perm.forEach((p, j) => {
    const [to, from] = inverse ? [p, j] : [j, p];
    out.set(src.subarray(from * blockSize, (from + 1) * blockSize), to * blockSize);
  });
  return out;
}

function transpose(src: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(src.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = src[r * cols + c];
  return out;
}

/** Views a layer's entries by (kind, layer, direction). */
class Entries {
  constructor(private readonly layer: LayerParams, private readonly buf: Float32Array) {}
  find(kind: ParamKind, l: number, d: number): ParamEntry | undefined {
    return this.layer.paramEntries.find((e) => e.kind === kind && e.layer === l && e.direction === d);
  }
  get(kind: ParamKind, l: number, d: number): Float32Array {
    const e = this.find(kind, l, d)!;
    return this.buf.subarray(e.offset, e.offset + e.rows * e.cols);
  }
}

function foreignUnsupported(layer: LayerParams, layout: Layout): void {
  const c = layer.config;
  if (c.projSize > 0) throw invalidArg('layout', `'torch' (${layout} has no LSTM projection; projSize is ${c.projSize})`, layout);
  if (layout === 'keras' && c.peephole) throw invalidArg('layout', "'torch' or 'onnx' (Keras has no peepholes)", layout);
}

const onnxSuffix = (l: number) => (l === 0 ? '' : `_l${l}`);
const kerasSuffix = (l: number, d: number) => `_l${l}${d === 1 ? '_reverse' : ''}`;

export function exportStateDict(layer: LayerParams, buf: Float32Array, layoutArg: Layout): Record<string, Tensor> {
  const layout = checkLayout(layoutArg);
  const out: Record<string, Tensor> = {};
  if (layout === 'torch') {
    for (const p of layer.parameters()) {
      const e = layer.paramEntries.find((x) => torchName(x) === p.name)!;
      out[p.name] = { shape: p.shape, data: buf.slice(e.offset, e.offset + e.rows * e.cols) };
    }
    return out;
  }
  foreignUnsupported(layer, layout);
  const c = layer.config, H = c.hiddenSize, D = layer.numDirections, G = layer.gateCount, GH = G * H;
  const Hout = layer.outputSize;
  const at = new Entries(layer, buf);
  for (let l = 0; l < c.numLayers; l++) {
    const I = l === 0 ? c.inputSize : D * Hout;
    if (layout === 'onnx') {
      const perm = ONNX_GATES[c.cell];
      const W = new Float32Array(D * GH * I), R = new Float32Array(D * GH * Hout);
      const B = new Float32Array(D * 2 * GH), P = new Float32Array(D * 3 * H);
      for (let d = 0; d < D; d++) {
        W.set(permuteBlocks(at.get(ParamKind.W, l, d), H * I, perm), d * GH * I);
        R.set(permuteBlocks(at.get(ParamKind.R, l, d), H * Hout, perm), d * GH * Hout);
        if (c.bias) {
          B.set(permuteBlocks(at.get(ParamKind.BiasW, l, d), H, perm), d * 2 * GH);
          B.set(permuteBlocks(at.get(ParamKind.BiasR, l, d), H, perm), d * 2 * GH + GH);
        }
        if (c.peephole) P.set(permuteBlocks(at.get(ParamKind.Peephole, l, d), H, ONNX_PEEPHOLES), d * 3 * H);
      }
      const s = onnxSuffix(l);
      out[`W${s}`] = { shape: [D, GH, I], data: W };
      out[`R${s}`] = { shape: [D, GH, Hout], data: R };
      if (c.bias) out[`B${s}`] = { shape: [D, 2 * GH], data: B };
      if (c.peephole) out[`P${s}`] = { shape: [D, 3 * H], data: P };
    } else {
      const perm = KERAS_GATES[c.cell];
      for (let d = 0; d < D; d++) {
        const s = kerasSuffix(l, d);
        out[`kernel${s}`] = { shape: [I, GH], data: transpose(permuteBlocks(at.get(ParamKind.W, l, d), H * I, perm), GH, I) };
        out[`recurrent_kernel${s}`] = {
          shape: [Hout, GH], data: transpose(permuteBlocks(at.get(ParamKind.R, l, d), H * Hout, perm), GH, Hout),
        };
        if (!c.bias) continue;
        const bW = permuteBlocks(at.get(ParamKind.BiasW, l, d), H, perm);
        const bR = permuteBlocks(at.get(ParamKind.BiasR, l, d), H, perm);
        if (c.cell === 'gru' && c.resetAfter) {
          const both = new Float32Array(2 * GH);
          both.set(bW, 0);
          both.set(bR, GH);
          out[`bias${s}`] = { shape: [2, GH], data: both };
        } else {
          // Keras keeps one bias; the two PyTorch biases only ever appear summed here.
          out[`bias${s}`] = { shape: [GH], data: bW.map((v, i) => v + bR[i]) };
        }
      }
    }
  }
  return out;
}

/** Validates a whole dict, then returns the complete new parameter buffer. */
export function importStateDict(layer: LayerParams, dict: Record<string, Tensor>, layoutArg: Layout): Float32Array {
  const layout = checkLayout(layoutArg);
  if (typeof dict !== 'object' || dict === null) throw invalidType('stateDict', 'object of tensors', dict);
  const expected = exportStateDict(layer, layer.weights, layout);  // names and shapes
  // Own keys on both sides: 'constructor', '__proto__' or 'toString' are unknown keys like any other.
  for (const key of Object.keys(dict)) {
    if (!Object.prototype.hasOwnProperty.call(expected, key)) throw invalidArg('stateDict', `only the keys ${Object.keys(expected).join(', ')}`, new Described(`unknown key '${key}'`));
  }
  const given: Record<string, Float32Array> = {};
  for (const [key, ref] of Object.entries(expected)) {
    const t = Object.prototype.hasOwnProperty.call(dict, key) ? dict[key] : undefined;
    if (t === undefined) throw invalidArg('stateDict', `key '${key}'`, new Described('a dict without it'));
    given[key] = tensorData(`stateDict.${key}`, t, ref.shape);
  }
  const next = new Float32Array(layer.weights.length);
  const at = new Entries(layer, next);
  if (layout === 'torch') {
    for (const e of layer.paramEntries) next.set(given[torchName(e)], e.offset);
    return next;
  }
  const c = layer.config, H = c.hiddenSize, D = layer.numDirections, GH = layer.gateCount * H, Hout = layer.outputSize;
  for (let l = 0; l < c.numLayers; l++) {
    const I = l === 0 ? c.inputSize : D * Hout;
    for (let d = 0; d < D; d++) {
      if (layout === 'onnx') {
        const perm = ONNX_GATES[c.cell], s = onnxSuffix(l);
        at.get(ParamKind.W, l, d).set(permuteBlocks(given[`W${s}`].subarray(d * GH * I, (d + 1) * GH * I), H * I, perm, true));
        at.get(ParamKind.R, l, d).set(permuteBlocks(given[`R${s}`].subarray(d * GH * Hout, (d + 1) * GH * Hout), H * Hout, perm, true));
        if (c.bias) {
          const B = given[`B${s}`].subarray(d * 2 * GH, (d + 1) * 2 * GH);
          at.get(ParamKind.BiasW, l, d).set(permuteBlocks(B.subarray(0, GH), H, perm, true));
          at.get(ParamKind.BiasR, l, d).set(permuteBlocks(B.subarray(GH), H, perm, true));
        }
        if (c.peephole) {
          at.get(ParamKind.Peephole, l, d).set(permuteBlocks(given[`P${s}`].subarray(d * 3 * H, (d + 1) * 3 * H), H, ONNX_PEEPHOLES, true));
        }
      } else {
        const perm = KERAS_GATES[c.cell], s = kerasSuffix(l, d);
        at.get(ParamKind.W, l, d).set(permuteBlocks(transpose(given[`kernel${s}`], I, GH), H * I, perm, true));
        at.get(ParamKind.R, l, d).set(permuteBlocks(transpose(given[`recurrent_kernel${s}`], Hout, GH), H * Hout, perm, true));
        if (!c.bias) continue;
        const bias = given[`bias${s}`];
        at.get(ParamKind.BiasW, l, d).set(permuteBlocks(bias.subarray(0, GH), H, perm, true));
        // A single Keras bias goes to bias_ih; bias_hh stays 0.
        if (bias.length === 2 * GH) at.get(ParamKind.BiasR, l, d).set(permuteBlocks(bias.subarray(GH), H, perm, true));
      }
    }
  }
  return next;
}

function tensorData(name: string, t: unknown, shape: number[]): Float32Array {
  if (typeof t !== 'object' || t === null || !('shape' in t) || !('data' in t)) throw invalidType(name, 'Tensor { shape, data }', t);
  const { shape: got, data } = t as { shape: unknown; data: unknown };
  if (!Array.isArray(got) || got.length !== shape.length || got.some((v, i) => v !== shape[i])) {
    throw invalidArg(name, `shape [${shape.join(', ')}]`, got);
  }
  const size = shape.reduce((a, b) => a * b, 1);
  if (!(data instanceof Float32Array) && !Array.isArray(data)) throw invalidType(`${name}.data`, 'Float32Array or number[]', data);
  if (data.length !== size) throw invalidArg(`${name}.data`, `length ${size}`, data);
  if (data instanceof Float32Array) return data;
  checkNumbers(`${name}.data`, data);
  return Float32Array.from(data as number[]);
}
