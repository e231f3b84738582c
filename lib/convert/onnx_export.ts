// Sequential -> an ONNX file: one LSTM / GRU / RNN node per stacked layer (ONNX layout, every
// attribute the layer uses), MatMul + Add (+ activation) per Dense, Gather per Embedding, Dropout
// left out (identity at inference). Input 'x' [T, B, F] time-major (ONNX's own layout 0;
// onnxruntime refuses layout 1), or int64 token ids [T, B] when the model starts with an
// Embedding; output 'y' [T, B, O] or [B, O]. Options add run-time inputs: 'sequence_lens' [B]
// (int32, every recurrent node's valid steps) and per recurrent layer k (its index in the
// Sequential) 'h0.k' / 'c0.k' [L*D, B, H] with the final states as outputs 'hN.k' / 'cN.k'.
// What ONNX cannot express is refused with the layer named.
import { writeFileAtomicAsync } from '../io/atomic';
import { checkBoolean, ownOptions } from '../internal/check';
import { Recurrent } from '../layers/recurrent/recurrent';
import { ACTIVATION_NAMES, ONNX_ACTIVATIONS, takesAlpha, takesBeta } from '../layers/recurrent/activations';
import { Dense } from '../layers/dense';
import { Dropout } from '../layers/dropout';
import { Embedding } from '../layers/embedding';
import type { Model } from '../model/model';
import type { Tensor } from '../tensor';
import { encodeModel, makeAttribute, writeTensor, type NodeProto, type TensorProto, type ValueInfoProto } from './onnx_proto';

export interface ExportOnnxOptions {
  /** ONNX opset, 9 to 21. Default 17 (the newest torch 1.13 writes). */
  opset?: number;
  /** Add the int32 graph input 'sequence_lens' [B] (each sequence's valid steps) to every
   * recurrent node. Past a sequence's end Y is 0 before the layers after it. Default false. */
  sequenceLens?: boolean;
  /** Add initial states as graph inputs and final states as outputs: per recurrent layer k,
   * 'h0.k' (and 'c0.k' for LSTM) [numLayers * D, B, H] in, 'hN.k' ('cN.k') out. Default false. */
  states?: boolean;
}

const IR_FOR_OPSET = (opset: number) => (opset <= 8 ? 3 : opset === 9 ? 4 : opset === 10 ? 5 : opset === 11 ? 6 : opset <= 14 ? 7 : opset <= 18 ? 8 : opset <= 20 ? 9 : 10);
const ONNX_NAME: Record<string, string> = Object.fromEntries(Object.entries(ONNX_ACTIVATIONS).map(([k, v]) => [v, k]));
const DENSE_OPS: Record<string, string> = { relu: 'Relu', tanh: 'Tanh', sigmoid: 'Sigmoid', softmax: 'Softmax' };

/** Writes `model` as an ONNX file at `file` (atomically). */
export async function exportOnnx(model: Model, file: string, options: ExportOnnxOptions = {}): Promise<void> {
  await writeFileAtomicAsync(file, onnxBytes(model, options));
}

/** The ONNX ModelProto bytes of `model`. */
export function onnxBytes(model: Model, options: ExportOnnxOptions = {}): Uint8Array {
  const { opset = 17, sequenceLens = false, states = false } = ownOptions<ExportOnnxOptions>('exportOnnx options', options, ['opset', 'sequenceLens', 'states']);
  checkBoolean('sequenceLens', sequenceLens);
  checkBoolean('states', states);
  if (!Number.isInteger(opset) || opset < 9 || opset > 21) throw new RangeError(`Expected an integer in 9..21 for opset but received ${String(opset)}`);
  const nodes: NodeProto[] = [];
  const inits: TensorProto[] = [];
  const dict = model.stateDict();
  let n = 0;
  const name = (base: string) => `${base}_${n++}`;
  const constInt = (values: number[]) => {
    const t = writeTensor(name('const'), { dims: [values.length], dtype: 'int', data: Float64Array.from(values) });
    inits.push(t);
    return t.name!;
  };
  const constScalar = (v: number) => {
    const t = writeTensor(name('const'), { dims: [], dtype: 'int', data: Float64Array.of(v) });
    inits.push(t);
    return t.name!;
  };
  const init = (base: string, t: Tensor) => {
    const p = writeTensor(base, { dims: [...t.shape], dtype: 'float', data: t.data });
    inits.push(p);
    return base;
  };
  const node = (op: string, inputs: string[], attrs: NodeProto['attribute'] = [], outputs = 1): string[] => {
    const outs = Array.from({ length: outputs }, () => name(op.toLowerCase()));
    nodes.push({ op_type: op, name: `${op}_${nodes.length}`, input: inputs, output: outs, attribute: attrs });
    return outs;
  };

  const first = model.layers[0];
  const ids = first instanceof Embedding;
  const inputFeatures = first instanceof Recurrent ? first.inputSize : first instanceof Dense ? first.inputSize : 0;
  if (!(first instanceof Recurrent || first instanceof Dense || ids)) throw new TypeError(`exportOnnx: layers[0] is a ${first.constructor.name}; ONNX export takes models of Embedding, LSTM / GRU / RNN, Dense and Dropout layers`);
  const graphInputs: ValueInfoProto[] = [];
  const graphOutputs: ValueInfoProto[] = [];
  if (sequenceLens) graphInputs.push(info('sequence_lens', ['B'], 6));
  let x = 'x';
  let hasTime = true;
  let batchShape: string | null = null;  // a 1-D [B] from Shape(x), for learned initial states
  model.layers.forEach((layer, i) => {
    const where = `exportOnnx: layers[${i}] (${layer.constructor.name})`;
    if (layer instanceof Dropout) return;  // identity at inference
    if (layer instanceof Embedding) {
      // Gather(table [V, E], ids [T, B]) -> [T, B, E]; ids out of range fail in the runtime, as in ours.
      [x] = node('Gather', [init(`${i}.weight`, dict[`${i}.weight`]), x], [makeAttribute('axis', 0)]);
      return;
    }
    if (layer instanceof Dense) {
      const W = dict[`${i}.weight`], b = dict[`${i}.bias`];
      const [units, inSize] = W.shape;
      const Wt = new Float32Array(inSize * units);
      for (let o = 0; o < units; o++) for (let k = 0; k < inSize; k++) Wt[k * units + o] = W.data[o * inSize + k];
      [x] = node('MatMul', [x, init(`${i}.weight_t`, { shape: [inSize, units], data: Wt })]);
      if (b) [x] = node('Add', [x, init(`${i}.bias`, b)]);
      if (layer.activation !== 'linear') {
        const attrs = layer.activation === 'softmax' ? [makeAttribute('axis', opset >= 13 ? -1 : hasTime ? 2 : 1)] : [];
        [x] = node(DENSE_OPS[layer.activation], [x], attrs);
      }
      return;
    }
    if (!(layer instanceof Recurrent)) throw new TypeError(`${where}: not exportable to ONNX yet (LSTM / GRU / RNN, Dense, Dropout are)`);
    if (!hasTime) throw new TypeError(`${where}: follows a many-to-one layer`);
    const c = layer.config, seq = layer.inSequential;
    if (c.projSize > 0) throw new TypeError(`${where}: ONNX's LSTM has no projection (projSize ${c.projSize})`);
    if (c.cellClip > 0) throw new TypeError(`${where}: ONNX's LSTM has no cell clip (cellClip ${c.cellClip}; its clip attribute clips the gates: gateClip)`);
    if (c.forgetBias !== 0) throw new TypeError(`${where}: ONNX has no run-time forget bias (forgetBias ${c.forgetBias}); fold it into the forget gate's bias first`);
    const D = layer.numDirections, H = c.hiddenSize;
    const op = c.cell === 'lstm' ? 'LSTM' : c.cell === 'gru' ? 'GRU' : 'RNN';
    const weights = layer.stateDict('onnx');
    const acts = layer.config.activations;
    const names: string[] = [], alphas: number[] = [], betas: number[] = [];
    const slots = c.cell === 'lstm' ? 3 : c.cell === 'gru' ? 2 : 1;
    for (let d = 0; d < D; d++) {
      for (let s = 0; s < slots; s++) {
        const a = acts[d][s];
        const ours = ACTIVATION_NAMES[a.kind];
        if (ours === 'identity') {
          names.push('Affine');
          alphas.push(1);
          betas.push(0);
          continue;
        }
        names.push(ONNX_NAME[ours]);
        if (takesAlpha(ours)) alphas.push(a.alpha);
        if (takesBeta(ours)) betas.push(a.beta);
      }
    }
    const attrs = [makeAttribute('hidden_size', H), makeAttribute('direction', c.direction), makeAttribute('activations', names)];
    if (alphas.length) attrs.push(makeAttribute('activation_alpha', alphas, false));
    if (betas.length) attrs.push(makeAttribute('activation_beta', betas, false));
    if (c.gateClip > 0) attrs.push(makeAttribute('clip', c.gateClip, false));
    if (c.cell === 'lstm' && c.inputForget) attrs.push(makeAttribute('input_forget', 1));
    if (c.cell === 'gru') attrs.push(makeAttribute('linear_before_reset', c.resetAfter ? 1 : 0));
    const h0 = dict[`${i}.h0`], c0 = dict[`${i}.c0`];
    if (states && h0) throw new TypeError(`${where}: has a learned initial state; with states: true the initial state is a graph input instead (export without states, or without learnInitialState)`);
    const LD = c.numLayers * D;
    if (states) {
      graphInputs.push(info(`h0.${i}`, [LD, 'B', H]));
      graphOutputs.push(info(`hN.${i}`, [LD, 'B', H]));
      if (c.cell === 'lstm') {
        graphInputs.push(info(`c0.${i}`, [LD, 'B', H]));
        graphOutputs.push(info(`cN.${i}`, [LD, 'B', H]));
      }
    }
    // Layer l's slice [D, B, H] of a states input [L*D, B, H].
    const stateInput = (base: string, l: number): string =>
      (c.numLayers === 1 ? `${base}.${i}`
        : opset < 10  // Slice took attributes before opset 10
          ? node('Slice', [`${base}.${i}`], [makeAttribute('starts', [l * D]), makeAttribute('ends', [(l + 1) * D]), makeAttribute('axes', [0])])[0]
          : node('Slice', [`${base}.${i}`, constInt([l * D]), constInt([(l + 1) * D]), constInt([0])])[0]);
    if (h0 && batchShape === null) {
      const [shape] = node('Shape', ['x']);
      [batchShape] = node('Gather', [shape, constInt([1])], [makeAttribute('axis', 0)]);
    }
    const initial = (t: Tensor | undefined, l: number, base: string): string => {
      if (states) return stateInput(base, l);
      if (!t) return '';
      const v = init(`${i}.${base}_l${l}`, { shape: [D, 1, H], data: t.data.slice(l * D * H, (l + 1) * D * H) });
      const [shape] = node('Concat', [constInt([D]), batchShape!, constInt([H])], [makeAttribute('axis', 0)]);
      return node('Expand', [v, shape])[0];
    };
    let yh = '', yTop = '';
    const finals: string[][] = [[], []];  // Y_h, Y_c per stacked layer
    for (let l = 0; l < c.numLayers; l++) {
      const s = l === 0 ? '' : `_l${l}`;
      const ins = [x, init(`${i}.W${s}`, weights[`W${s}`]), init(`${i}.R${s}`, weights[`R${s}`])];
      ins.push(weights[`B${s}`] ? init(`${i}.B${s}`, weights[`B${s}`]) : '');
      ins.push(sequenceLens ? 'sequence_lens' : '', initial(h0, l, 'h0'));
      if (c.cell === 'lstm') ins.push(initial(c0, l, 'c0'), weights[`P${s}`] ? init(`${i}.P${s}`, weights[`P${s}`]) : '');
      while (ins[ins.length - 1] === '') ins.pop();
      const [y, h, cN] = node(op, ins, attrs, c.cell === 'lstm' ? 3 : 2);
      finals[0].push(h);
      if (cN) finals[1].push(cN);
      yh = h;
      yTop = y;
      // Y [T, D, B, H] -> [T, B, D*H]
      const [t] = node('Transpose', [y], [makeAttribute('perm', [0, 2, 1, 3])]);
      [x] = node('Reshape', [t, constInt([0, 0, -1])]);
    }
    if (states) {
      const names = c.cell === 'lstm' ? ['hN', 'cN'] : ['hN'];
      names.forEach((nm, k) => nodes.push({
        op_type: finals[k].length === 1 ? 'Identity' : 'Concat', name: `${nm}.${i}`, input: finals[k], output: [`${nm}.${i}`],
        attribute: finals[k].length === 1 ? [] : [makeAttribute('axis', 0)],
      }));
    }
    if (D === 2 && seq.mergeMode !== 'concat') {
      // The two directions of Y [T, 2, B, H] (or Y_h [2, B, H]) merged element-wise: Gather is the same in every opset.
      const axis = seq.returnSequences ? 1 : 0, src = seq.returnSequences ? yTop : yh;
      const [f] = node('Gather', [src, constScalar(0)], [makeAttribute('axis', axis)]);
      const [b] = node('Gather', [src, constScalar(1)], [makeAttribute('axis', axis)]);
      [x] = node(seq.mergeMode === 'mul' ? 'Mul' : 'Add', [f, b]);
      if (seq.mergeMode === 'ave') {
        const half = writeTensor(name('half'), { dims: [], dtype: 'float', data: Float32Array.of(0.5) });
        inits.push(half);
        [x] = node('Mul', [x, half.name!]);
      }
      hasTime = seq.returnSequences;
    } else if (!seq.returnSequences) {
      // Y_h of the top layer [D, B, H] -> [B, D*H]: each sequence's last valid step, directions side by side
      const [t] = node('Transpose', [yh], [makeAttribute('perm', [1, 0, 2])]);
      [x] = node('Reshape', [t, constInt([0, -1])]);
      hasTime = false;
    }
  });
  nodes.push({ op_type: 'Identity', name: 'output', input: [x], output: ['y'] });
  return encodeModel({
    ir_version: IR_FOR_OPSET(opset),
    producer_name: 'fused-rnn',
    opset_import: [{ domain: '', version: opset }],
    graph: {
      name: 'fused_rnn_sequential',
      node: nodes,
      initializer: inits,
      input: [ids ? info('x', ['T', 'B'], 7) : info('x', ['T', 'B', inputFeatures]), ...graphInputs],
      output: [info('y', hasTime ? ['T', 'B', model.outputFeatures] : ['B', model.outputFeatures]), ...graphOutputs],
    },
  });
}

const dim = (v: number | string) => (typeof v === 'number' ? { dim_value: v } : { dim_param: v });
/** A graph input / output: its name, dims (sizes or run-time names) and element type (1 float, 6 int32, 7 int64). */
function info(name: string, dims: (number | string)[], elemType = 1): ValueInfoProto {
  return { name, type: { tensor_type: { elem_type: elemType, shape: { dim: dims.map(dim) } } } };
}
