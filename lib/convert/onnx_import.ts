// loadOnnx: an ONNX file (torch.onnx.export of nn.LSTM / GRU / RNN with Linear and activation heads,
// or single LSTM / GRU / RNN operators) -> a Sequential with the same output.
//
// The graph is interpreted from the chosen output backwards over a small abstract domain:
//   const   a tensor known at load time (initializers, Constant nodes, and everything folded from them);
//   shape   a 1-D integer vector some of whose entries are the input's run-time sizes (Shape(x) glue);
//   bconst  a constant broadcast over the run-time batch (the zeros or learned initial states that
//           torch builds with ConstantOfShape / Expand);
//   act     the data flowing through the model, with a label per axis (T time, B batch, F features,
//           D direction, H hidden, S state slot) and what it is (a recurrent node's Y, its final
//           states, a sequence, a Dense output, ...).
// Recurrent nodes and Gemm / MatMul+Add heads become the layers of a plan, in dataflow order;
// a node whose dataflow the plan cannot follow is refused with its name and the reason.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { GRU } from '../layers/recurrent/gru';
import { LSTM } from '../layers/recurrent/lstm';
import { RNN } from '../layers/recurrent/rnn';
import { onnxToOptions, type OnnxAttributes } from '../layers/recurrent/onnx';
import type { CellKind } from '../layers/recurrent/config';
import { ONNX_ACTIVATIONS } from '../layers/recurrent/activations';
import { Dense, type DenseActivation } from '../layers/dense';
import { Embedding } from '../layers/embedding';
import { Sequential } from '../model/sequential';
import type { SequentialLayer } from '../model/model';
import type { Tensor } from '../tensor';
import {
  INT64_MAX_ISH, castConst, concatConst, elementwise, expandConst, gatherConst, intList, makeConst, normAxis,
  reshapeDims, sliceConst, transposeConst, whereConst,
} from './onnx_graph';
import {
  attributeValue, decodeModel, externalReaderFor, readTensor, sizeOf, type Const, type ExternalReader, type GraphProto,
  type NodeProto,
} from './onnx_proto';

export interface LoadOnnxOptions {
  /** The graph output the model computes (default: the first). */
  output?: string;
  /** Directory of external tensor data when the model is given as bytes. */
  baseDir?: string;
}

/** Raised for graphs loadOnnx cannot map; `node` names the first node it could not follow. */
export class OnnxImportError extends Error {
  constructor(message: string, readonly node: string | null) {
    super(message);
    this.name = 'OnnxImportError';
  }
}

type Sym = string;
interface Slot { layer: number; dir: number }
interface Act {
  axes: string[];
  sizes: (number | null)[];
  /** plan.length when this value was made. */
  stage: number;
  what: 'input' | 'y' | 'seq' | 'slots' | 'feat' | 'dense' | 'activated';
  /** y / seq / slots: the plan index of the recurrent layer. */
  layer?: number;
  /** slots: the entries of axis S; feat: the parts of F (each H wide). */
  slots?: Slot[];
  /** seq: the time axis was reduced to the last step. */
  last?: boolean;
  /** slots from Y_c (cell states). */
  cell?: boolean;
  /** y / seq: the directions it holds when not all (Gather along D). */
  dirs?: number[];
  /** seq / feat: the two directions merged element-wise (Keras merge modes). */
  merge?: 'sum' | 'mul' | 'ave';
}
type Val =
  | { k: 'const'; c: Const }
  | { k: 'shape'; items: (number | Sym)[]; scalar: boolean }
  | { k: 'bconst'; c: Const; axis: number; sym: Sym }
  | { k: 'act'; a: Act }
  | { k: 'extern'; name: string }
  | { k: 'none' };

interface RnnPlan {
  type: 'rnn';
  node: string;
  cell: CellKind;
  attrs: OnnxAttributes;
  weights: { W: Tensor; R: Tensor; B?: Tensor; P?: Tensor };
  D: number;
  H: number;
  /** Learned initial states, [D, H] each, when non-zero. */
  h0: Float32Array | null;
  c0: Float32Array | null;
  returnSequences: boolean;
  mergeMode?: 'sum' | 'mul' | 'ave';
}
interface DensePlan {
  type: 'dense';
  node: string;
  inSize: number;
  units: number;
  weight: Float32Array;
  bias: Float32Array | null;
  activation: DenseActivation;
}
interface EmbeddingPlan {
  type: 'embedding';
  node: string;
  table: Float32Array;
  V: number;
  E: number;
}
type Plan = RnnPlan | DensePlan | EmbeddingPlan;

const CELLS: Record<string, CellKind> = { LSTM: 'lstm', GRU: 'gru', RNN: 'rnn' };
const GATES: Record<CellKind, number> = { lstm: 4, gru: 3, rnn: 1 };
const ACTIVATIONS: Record<string, DenseActivation> = { Relu: 'relu', Tanh: 'tanh', Sigmoid: 'sigmoid', Softmax: 'softmax' };
const PASS_THROUGH = new Set(['Identity', 'Dropout']);
/** Glue a graph input (initial states, sequence_lens) may pass through on its way to a recurrent node. */
const EXTERN_GLUE = new Set(['Identity', 'Cast', 'Slice', 'Gather', 'Squeeze', 'Unsqueeze', 'Reshape', 'Transpose', 'Expand']);

/**
 * Loads an ONNX model (a path, or the file's bytes) as a Sequential computing its output.
 * The Sequential takes [N, T, F] sequences and returns [N, T, O] (or [N, O] for many-to-one heads)
 * whatever the graph's own layout (time-major, batch_first, ONNX Y [T, D, B, H]).
 * @throws OnnxImportError naming the first node it cannot map and why.
 */
export async function loadOnnx(src: string | Uint8Array, options: LoadOnnxOptions = {}): Promise<Sequential> {
  if (typeof options !== 'object' || options === null) throw new TypeError('loadOnnx options: expected an object');
  let bytes: Uint8Array, what: string, dir: string | null;
  if (typeof src === 'string') {
    bytes = await fs.readFile(src);
    what = src;
    dir = path.dirname(path.resolve(src));
  } else if (src instanceof Uint8Array) {
    bytes = src;
    what = 'ONNX bytes';
    dir = options.baseDir ?? null;
  } else {
    throw new TypeError(`loadOnnx: expected a path or a Uint8Array but received ${src === null ? 'null' : typeof src}`);
  }
  return importModel(bytes, what, externalReaderFor(dir, what), options);
}

function importModel(bytes: Uint8Array, what: string, external: ExternalReader, options: LoadOnnxOptions): Sequential {
  const model = decodeModel(bytes, what);
  const opset = (model.opset_import ?? []).find((o) => !o.domain || o.domain === 'ai.onnx')?.version ?? 0;
  if (opset < 7) throw new OnnxImportError(`${what}: ONNX opset ${opset || 'missing'}; opsets 7 and later are supported`, null);
  return new GraphReader(model.graph!, opset, external, what).run(options.output);
}

class GraphReader {
  private readonly producer = new Map<string, number>();
  private readonly initializers = new Map<string, Const>();
  private readonly inputs = new Set<string>();
  private readonly nodeVals = new Map<number, Val[]>();
  private readonly active = new Set<number>();
  private dataInput: string | null = null;
  private readonly bind = new Map<string, string>();
  readonly plan: Plan[] = [];

  constructor(private readonly g: GraphProto, private readonly opset: number, private readonly external: ExternalReader, private readonly what: string) {
    (g.node ?? []).forEach((n, i) => {
      for (const o of n.output ?? []) if (o) this.producer.set(o, i);
    });
    for (const t of g.initializer ?? []) {
      this.initializers.set(t.name ?? '', readTensor(t, external, `${what}: initializer '${t.name}'`));
    }
    for (const v of g.input ?? []) if (!this.initializers.has(v.name)) this.inputs.add(v.name);
  }

  run(outputName?: string): Sequential {
    const outputs = (this.g.output ?? []).map((o) => o.name);
    const out = outputName ?? outputs[0];
    if (!out || !outputs.includes(out)) {
      throw new OnnxImportError(`${this.what}: ${outputName ? `no graph output '${outputName}'` : 'the graph has no output'} (outputs: ${outputs.join(', ') || 'none'})`, null);
    }
    const v = this.value(out);
    if (v.k !== 'act') throw new OnnxImportError(`${this.what}: graph output '${out}' does not depend on the input`, null);
    let a = v.a;
    if (a.what === 'y') a = this.yAsSeq(a, this.nodeOf(out));
    else if (a.what === 'slots') a = this.slotsAsFeat(a, this.nodeOf(out));
    this.checkFlow(a, this.nodeOf(out), `graph output '${out}'`);
    if (this.plan.length === 0) throw new OnnxImportError(`${this.what}: no layer between the input and '${out}'`, null);
    return this.build();
  }

  // ---- evaluation ------------------------------------------------------------------------------
  private nodeOf(name: string): NodeProto | null {
    const i = this.producer.get(name);
    return i === undefined ? null : this.g.node![i];
  }

  private value(name: string): Val {
    if (name === '') return { k: 'none' };
    const c = this.initializers.get(name);
    if (c) return { k: 'const', c };
    const i = this.producer.get(name);
    if (i === undefined) {
      if (!this.inputs.has(name)) throw new OnnxImportError(`${this.what}: value '${name}' has no producer`, null);
      this.dataInput ??= name;
      if (name !== this.dataInput) return { k: 'extern', name };
      return { k: 'act', a: this.inputAct(name) };
    }
    let vals = this.nodeVals.get(i);
    if (!vals) {
      if (this.active.has(i)) throw new OnnxImportError(`${this.what}: the graph has a cycle through node '${this.label(this.g.node![i])}'`, this.label(this.g.node![i]));
      this.active.add(i);
      const node = this.g.node![i];
      try {
        vals = this.evalNode(node);
      } catch (e) {
        if (e instanceof OnnxImportError) throw e;
        throw this.fail(node, (e as Error).message);
      }
      this.active.delete(i);
      this.nodeVals.set(i, vals);
    }
    return vals[this.g.node![i].output!.indexOf(name)] ?? { k: 'none' };
  }

  private inputAct(name: string): Act {
    const info = (this.g.input ?? []).find((v) => v.name === name);
    const dims = info?.type?.tensor_type?.shape?.dim ?? [];
    if (dims.length !== 3 && dims.length !== 2) {
      throw new OnnxImportError(`${this.what}: graph input '${name}' has rank ${dims.length}; a sequence input [T, B, F] or [B, T, F] (or token ids [T, B] / [B, T] into a Gather) is needed`, null);
    }
    const size = (d: { dim_value?: number }) => (d.dim_value ? Number(d.dim_value) : null);
    return { axes: ['x0', 'x1', 'x2'].slice(0, dims.length), sizes: dims.map(size), stage: 0, what: 'input' };
  }

  private label(node: NodeProto): string {
    return node.name || `${node.op_type} -> ${node.output?.[0] ?? '?'}`;
  }

  private fail(node: NodeProto | null, why: string): OnnxImportError {
    if (!node) return new OnnxImportError(`${this.what}: ${why}`, null);
    return new OnnxImportError(`${this.what}: node '${this.label(node)}' (${node.op_type}): ${why}`, this.label(node));
  }

  private attrs(node: NodeProto): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const a of node.attribute ?? []) out[a.name] = attributeValue(a, this.external, `node '${this.label(node)}'`);
    return out;
  }

  private lab(l: string): string {
    return this.bind.get(l) ?? l;
  }

  private evalNode(node: NodeProto): Val[] {
    if (node.domain && node.domain !== 'ai.onnx') throw new Error(`operator domain '${node.domain}' is not supported`);
    const op = node.op_type;
    const at = this.attrs(node);
    if (CELLS[op]) return this.recurrent(node, CELLS[op], at);
    if (op === 'Constant') {
      if (at.value !== undefined) return [{ k: 'const', c: at.value as Const }];
      if (at.value_float !== undefined) return [{ k: 'const', c: makeConst('float', [], [at.value_float as number]) }];
      if (at.value_int !== undefined) return [{ k: 'const', c: makeConst('int', [], [at.value_int as number]) }];
      if (at.value_floats !== undefined) return [{ k: 'const', c: makeConst('float', [(at.value_floats as number[]).length], at.value_floats as number[]) }];
      if (at.value_ints !== undefined) return [{ k: 'const', c: makeConst('int', [(at.value_ints as number[]).length], at.value_ints as number[]) }];
      throw new Error('Constant without a numeric value');
    }
    const ins = (node.input ?? []).map((n) => n);
    const inVals = (k: number) => this.value(ins[k] ?? '');
    const x = inVals(0);
    if (x.k === 'extern' && EXTERN_GLUE.has(op)) return [x];  // still that graph input, for a recurrent node to judge
    if (x.k === 'extern') throw new Error(`reads the graph input '${x.name}'; only one data input (the sequence) is supported`);
    if (PASS_THROUGH.has(op)) return [x];
    if (op === 'Cast') return [x.k === 'const' ? { k: 'const', c: castConst(x.c, at.to as number) } : x];
    if (x.k === 'act') return [this.actOp(node, op, at, x.a)];
    // Everything below: constants, shape vectors, broadcast constants.
    const rest = ins.slice(1).map((_n, k) => inVals(k + 1));
    for (const r of rest) {
      if (r.k === 'act') return [this.actOp(node, op, at, null, rest)];
      if (r.k === 'extern') throw new Error(`reads the graph input '${r.name}'; only one data input (the sequence) is supported`);
    }
    return [this.constOp(op, at, x, rest)];
  }

  // ---- constants, shapes, broadcast constants ---------------------------------------------------
  private constOf(v: Val, what: string): Const {
    if (v.k !== 'const') throw new Error(`${what} must be a constant (it is ${v.k === 'none' ? 'missing' : `a ${v.k} value`})`);
    return v.c;
  }

  /** Integer items of a const or shape value. */
  private items(v: Val): (number | Sym)[] | null {
    if (v.k === 'shape') return v.items;
    if (v.k === 'const' && v.c.dtype !== 'float') return Array.from(v.c.data);
    return null;
  }

  /** Attribute-or-input integer list (opset changes moved axes / starts / ends into inputs). */
  private intsArg(at: Record<string, unknown>, name: string, v: Val | undefined): number[] | undefined {
    if (at[name] !== undefined) return at[name] as number[];
    if (!v || v.k === 'none') return undefined;
    return intList(this.constOf(v, name));
  }

  private constOp(op: string, at: Record<string, unknown>, x: Val, rest: Val[]): Val {
    if (op === 'ConstantOfShape') return this.constantOfShape(at, x);
    if (op === 'Expand' && x.k === 'const' && rest[0]?.k === 'shape') return this.expandToShape(x.c, rest[0].items);
    if (x.k === 'shape' || (x.k === 'const' && rest.some((r) => r.k === 'shape'))) return this.shapeOp(op, at, x, rest);
    if (x.k === 'bconst') return this.bconstOp(op, at, x, rest);
    const c = this.constOf(x, 'input');
    const arg = (k: number) => rest[k];
    switch (op) {
      case 'Shape': return { k: 'const', c: makeConst('int', [c.dims.length], c.dims) };
      case 'Size': return { k: 'const', c: makeConst('int', [], [c.data.length]) };
      case 'Transpose': return { k: 'const', c: transposeConst(c, (at.perm as number[]) ?? []) };
      case 'Unsqueeze': {
        const axes = this.intsArg(at, 'axes', arg(0)) ?? [];
        const r = c.dims.length + axes.length, set = new Set(axes.map((a) => normAxis(a, r)));
        const dims: number[] = [];
        for (let i = 0, j = 0; i < r; i++) dims.push(set.has(i) ? 1 : c.dims[j++]);
        return { k: 'const', c: { ...c, dims } };
      }
      case 'Squeeze': {
        const axes = this.intsArg(at, 'axes', arg(0));
        const set = new Set((axes ?? c.dims.map((d, i) => (d === 1 ? i : -1)).filter((i) => i >= 0)).map((a) => normAxis(a, c.dims.length)));
        return { k: 'const', c: { ...c, dims: c.dims.filter((_d, i) => !set.has(i)) } };
      }
      case 'Concat': return { k: 'const', c: concatConst([c, ...rest.map((r) => this.constOf(r, 'Concat input'))], at.axis as number) };
      case 'Slice': {
        const starts = this.intsArg(at, 'starts', arg(0))!, ends = this.intsArg(at, 'ends', arg(1))!;
        const axes = this.intsArg(at, 'axes', arg(2)) ?? starts.map((_s, i) => i);
        const steps = this.intsArg(at, 'steps', arg(3)) ?? starts.map(() => 1);
        return { k: 'const', c: sliceConst(c, starts, ends, axes, steps) };
      }
      case 'Gather': return { k: 'const', c: gatherConst(c, this.constOf(arg(0), 'indices'), (at.axis as number) ?? 0) };
      case 'Reshape': {
        const spec = at.shape !== undefined ? (at.shape as number[]) : intList(this.constOf(arg(0), 'shape'));
        return { k: 'const', c: { ...c, dims: reshapeDims(c.dims, spec, at.allowzero === 1) } };
      }
      case 'Flatten': {
        const axis = normAxis((at.axis as number) ?? 1, c.dims.length + 1);
        return { k: 'const', c: { ...c, dims: [sizeOf(c.dims.slice(0, axis)), sizeOf(c.dims.slice(axis))] } };
      }
      case 'Expand': return { k: 'const', c: expandConst(c, intList(this.constOf(arg(0), 'shape'))) };
      case 'Add': return { k: 'const', c: elementwise(c, this.constOf(arg(0), 'B'), (a, b) => a + b) };
      case 'Sub': return { k: 'const', c: elementwise(c, this.constOf(arg(0), 'B'), (a, b) => a - b) };
      case 'Mul': return { k: 'const', c: elementwise(c, this.constOf(arg(0), 'B'), (a, b) => a * b) };
      case 'Div': {
        const b = this.constOf(arg(0), 'B');
        const int = c.dtype !== 'float' && b.dtype !== 'float';
        return { k: 'const', c: elementwise(c, b, (p, q) => (int ? Math.trunc(p / q) : p / q)) };
      }
      case 'Neg': return { k: 'const', c: { ...c, data: c.data.map((v) => -v) } };
      case 'Equal': return { k: 'const', c: elementwise(c, this.constOf(arg(0), 'B'), (a, b) => (a === b ? 1 : 0), 'bool') };
      case 'Where': return { k: 'const', c: whereConst(c, this.constOf(arg(0), 'X'), this.constOf(arg(1), 'Y')) };
      default: throw new Error(`operator ${op} is not supported (on constants)`);
    }
  }

  private constantOfShape(at: Record<string, unknown>, x: Val): Val {
    const fill = at.value as Const | undefined;
    const value = fill ? fill.data[0] : 0;
    const dtype = fill ? fill.dtype : 'float';
    const items = this.items(x);
    if (!items) throw new Error('ConstantOfShape of a non-integer input');
    const syms = items.map((v, i) => (typeof v === 'string' ? i : -1)).filter((i) => i >= 0);
    if (syms.length === 0) return { k: 'const', c: makeConst(dtype, items as number[], new Array(sizeOf(items as number[])).fill(value)) };
    if (syms.length > 1) throw new Error('a constant whose shape has more than one run-time size');
    const dims = items.map((v) => (typeof v === 'string' ? 1 : v));
    return { k: 'bconst', c: makeConst(dtype, dims, new Array(sizeOf(dims)).fill(value)), axis: syms[0], sym: items[syms[0]] as Sym };
  }

  private expandToShape(c: Const, target: (number | Sym)[]): Val {
    const syms = target.map((v, i) => (typeof v === 'string' ? i : -1)).filter((i) => i >= 0);
    if (syms.length !== 1) throw new Error('Expand to a shape with more than one run-time size');
    const r = Math.max(target.length, c.dims.length);
    const cd = [...new Array<number>(r - c.dims.length).fill(1), ...c.dims];
    const tg = [...new Array<number | Sym>(r - target.length).fill(1), ...target];
    const axis = r - target.length + syms[0];
    if (cd[axis] !== 1) throw new Error('Expand over the batch of a constant whose batch axis is not 1');
    const dims = tg.map((v, i) => (typeof v === 'string' ? 1 : Math.max(v, cd[i])));
    return { k: 'bconst', c: expandConst({ ...c, dims: cd }, dims), axis, sym: tg[axis] as Sym };
  }

  private shapeOp(op: string, at: Record<string, unknown>, x: Val, rest: Val[]): Val {
    const items = this.items(x);
    if (!items) throw new Error(`${op} of a float constant with a run-time shape`);
    const scalar = x.k === 'shape' ? x.scalar : x.k === 'const' && x.c.dims.length === 0;
    const shape = (it: (number | Sym)[], sc = false): Val =>
      (it.every((v) => typeof v === 'number') ? { k: 'const', c: makeConst('int', sc ? [] : [it.length], it as number[]) } : { k: 'shape', items: it, scalar: sc });
    switch (op) {
      case 'Shape': return { k: 'const', c: makeConst('int', scalar ? [0] : [1], scalar ? [] : [items.length]) };
      case 'Unsqueeze': case 'Reshape': case 'Flatten':
        if (!scalar && op === 'Unsqueeze') throw new Error('Unsqueeze of a shape vector');
        return shape(items, false);
      case 'Squeeze': return shape(items, items.length === 1);
      case 'Gather': {
        const idx = this.constOf(rest[0], 'indices');
        const list = intList(idx).map((i) => items[i < 0 ? i + items.length : i]);
        return shape(list, idx.dims.length === 0);
      }
      case 'Slice': {
        const starts = this.intsArg(at, 'starts', rest[0])!, ends = this.intsArg(at, 'ends', rest[1])!;
        const n = items.length, norm = (v: number) => Math.min(Math.max(v < 0 ? v + n : v, 0), n);
        return shape(items.slice(norm(starts[0]), norm(ends[0])));
      }
      case 'Concat': {
        const all = [items];
        for (const r of rest) {
          const it = this.items(r);
          if (!it) throw new Error('Concat of a shape vector and a float tensor');
          all.push(it);
        }
        return shape(all.flat());
      }
      case 'Mul': case 'Add': case 'Sub': case 'Div': case 'Equal': {
        const other = rest[0];
        const b = this.items(other);
        if (!b) throw new Error(`${op} of a shape vector and a float tensor`);
        const n = Math.max(items.length, b.length);
        const get = (arr: (number | Sym)[], i: number) => arr[arr.length === 1 ? 0 : i];
        const out: (number | Sym)[] = [];
        for (let i = 0; i < n; i++) {
          const p = get(items, i), q = get(b, i);
          if (typeof p === 'number' && typeof q === 'number') {
            out.push(op === 'Mul' ? p * q : op === 'Add' ? p + q : op === 'Sub' ? p - q : op === 'Div' ? Math.trunc(p / q) : p === q ? 1 : 0);
          } else if (op === 'Equal') {
            const num = typeof p === 'number' ? p : q as number, sym = typeof p === 'number' ? q : p;
            if (typeof num === 'string') out.push(p === q ? 1 : 0);  // two run-time sizes: equal only if the same
            else if (num <= 0) out.push(0);                          // run-time sizes are positive
            else throw new Error(`compares the run-time size ${sym} with ${num}`);
          } else if ((op === 'Mul' || op === 'Div') && (p === 1 || q === 1)) {
            out.push(typeof p === 'string' ? p : q);
          } else {
            throw new Error(`arithmetic on the run-time size ${typeof p === 'string' ? p : q}`);
          }
        }
        if (op === 'Equal') return { k: 'const', c: makeConst('bool', scalar ? [] : [n], out as number[]) };
        return shape(out, scalar && b.length === 1);
      }
      case 'Where': {
        const cond = this.constOf(x, 'condition');
        const a = this.items(rest[0]), b = this.items(rest[1]);
        if (!a || !b) throw new Error('Where over a shape vector and a float tensor');
        const n = Math.max(cond.data.length, a.length, b.length);
        const out: (number | Sym)[] = [];
        for (let i = 0; i < n; i++) out.push(cond.data[cond.data.length === 1 ? 0 : i] ? a[a.length === 1 ? 0 : i] : b[b.length === 1 ? 0 : i]);
        return shape(out);
      }
      case 'ConstantOfShape': return this.constantOfShape(at, x);
      default: throw new Error(`operator ${op} on a shape vector is not supported`);
    }
  }

  private bconstOp(op: string, at: Record<string, unknown>, x: Val & { k: 'bconst' }, rest: Val[]): Val {
    const c = x.c;
    switch (op) {
      case 'Slice': {
        const starts = this.intsArg(at, 'starts', rest[0])!, ends = this.intsArg(at, 'ends', rest[1])!;
        const axes = this.intsArg(at, 'axes', rest[2]) ?? starts.map((_s, i) => i);
        const steps = this.intsArg(at, 'steps', rest[3]) ?? starts.map(() => 1);
        const j = axes.findIndex((a) => normAxis(a, c.dims.length) === x.axis);
        if (j >= 0 && !(starts[j] === 0 && ends[j] >= INT64_MAX_ISH && steps[j] === 1)) throw new Error('slices the batch axis of an initial state');
        const keep = axes.map((_a, i) => i).filter((i) => i !== j);
        return { ...x, c: sliceConst(c, keep.map((i) => starts[i]), keep.map((i) => ends[i]), keep.map((i) => axes[i]), keep.map((i) => steps[i])) };
      }
      case 'Gather': {
        const axis = normAxis((at.axis as number) ?? 0, c.dims.length);
        if (axis === x.axis) throw new Error('gathers along the batch axis of an initial state');
        const idx = this.constOf(rest[0], 'indices');
        const out = gatherConst(c, idx, axis);
        const shift = out.dims.length - c.dims.length;
        return { ...x, c: out, axis: x.axis > axis ? x.axis + shift : x.axis };
      }
      case 'Expand': {
        const target = this.items(rest[0]);
        if (!target) throw new Error('Expand to a float shape');
        return this.expandToShape(c, target.map((v, i) => (typeof v === 'string' || i !== x.axis + target.length - c.dims.length ? v : x.sym)));
      }
      case 'Unsqueeze': case 'Squeeze': case 'Reshape': case 'Transpose':
      default: throw new Error(`operator ${op} on a batch-broadcast constant (an initial state) is not supported`);
    }
  }

  // ---- recurrent nodes --------------------------------------------------------------------------
  private recurrent(node: NodeProto, cell: CellKind, at: Record<string, unknown>): Val[] {
    const ins = node.input ?? [];
    const xv = this.value(ins[0]);
    if (xv.k !== 'act') throw new Error('input X does not depend on the graph input');
    const layout = (at.layout as number | undefined) ?? 0;
    const a = xv.a;
    this.checkFlow(a, node, 'input X');
    if (a.axes.length !== 3) throw new Error(`input X has rank ${a.axes.length}, 3 expected`);
    const [tAx, bAx] = layout === 1 ? [1, 0] : [0, 1];
    for (const [ax, want] of [[tAx, 'T'], [bAx, 'B'], [2, 'F']] as const) {
      const raw = a.axes[ax], cur = this.lab(raw);
      if (cur === want) continue;
      if (!/^x[0-2]$/.test(cur)) throw new Error(`input X axis ${ax} is ${cur}, not ${want} (X must be [T, B, F] for layout 0, [B, T, F] for layout 1)`);
      this.bind.set(raw, want);
    }
    const weight = (k: number, name: string) => {
      const v = this.value(ins[k] ?? '');
      if (v.k === 'none') return undefined;
      if (v.k !== 'const' || v.c.dtype !== 'float') throw new Error(`${name} must be a float constant (an initializer or folded from them); it is ${v.k === 'extern' ? `the graph input '${v.name}'` : `a ${v.k} value`}`);
      return { shape: [...v.c.dims], data: v.c.data as Float32Array };
    };
    const W = weight(1, 'W'), R = weight(2, 'R');
    if (!W || !R) throw new Error('W and R are required');
    const B = weight(3, 'B'), P = cell === 'lstm' ? weight(7, 'P') : undefined;
    // sequence_lens fed by the caller is predict()'s `lengths`; a constant one is not a Sequential.
    const seqLens = this.value(ins[4] ?? '');
    if (seqLens.k !== 'none' && seqLens.k !== 'extern') throw new Error(`sequence_lens (input '${ins[4]}') is a ${seqLens.k} value; only a graph input (predict()'s lengths) maps to a Sequential`);
    const D = W.shape[0], H = (at.hidden_size as number | undefined) ?? R.shape[2];
    const I = W.shape[2];
    const fsz = a.sizes[2];
    if (fsz !== null && fsz !== I) throw new Error(`input X has ${fsz} features but W expects ${I}`);
    const attrs: OnnxAttributes = {};
    for (const [k, v] of Object.entries(at)) {
      if (k === 'layout') continue;
      (attrs as Record<string, unknown>)[k] = v;
    }
    if (at.direction === undefined && D === 2) throw new Error('W has 2 directions but direction is not bidirectional');
    if (attrs.activations) {  // ONNX names compare case-insensitively (onnxruntime lower-cases them)
      const byLower = new Map(Object.keys(ONNX_ACTIVATIONS).map((k) => [k.toLowerCase(), k]));
      attrs.activations = attrs.activations.map((s) => byLower.get(String(s).toLowerCase()) ?? s);
    }
    const init = (k: number, name: string) => this.initialState(node, this.value(ins[k] ?? ''), name, D, H);
    const h0 = init(5, 'initial_h');
    const c0 = cell === 'lstm' ? init(6, 'initial_c') : null;
    const layer = this.plan.length;
    const weights: RnnPlan['weights'] = { W, R };
    if (B) weights.B = B;
    if (P) weights.P = P;
    try {
      onnxToOptions(cell, attrs, weights);  // validates attributes and shapes now, naming this node
    } catch (e) {
      throw new Error((e as Error).message);
    }
    if (GATES[cell] * H !== W.shape[1]) throw new Error(`W has ${W.shape[1]} rows for hidden_size ${H}`);
    this.plan.push({ type: 'rnn', node: this.label(node), cell, attrs, weights, D, H, h0, c0, returnSequences: true });
    const stage = this.plan.length;
    const yAxes = layout === 1 ? ['B', 'T', 'D', 'H'] : ['T', 'D', 'B', 'H'];
    const ySizes = yAxes.map((l) => (l === 'D' ? D : l === 'H' ? H : null));
    const slots = Array.from({ length: D }, (_v, d) => ({ layer, dir: d }));
    const sAxes = layout === 1 ? ['B', 'S', 'H'] : ['S', 'B', 'H'];
    const sSizes = sAxes.map((l) => (l === 'S' ? D : l === 'H' ? H : null));
    return [
      { k: 'act', a: { axes: yAxes, sizes: ySizes, stage, what: 'y', layer } },
      { k: 'act', a: { axes: sAxes, sizes: sSizes, stage, what: 'slots', layer, slots } },
      { k: 'act', a: { axes: sAxes, sizes: sSizes, stage, what: 'slots', layer, slots, cell: true } },
    ];
  }

  /** An initial state: missing / zeros -> null; the same vector for every sequence -> [D*H]. */
  private initialState(node: NodeProto, v: Val, name: string, D: number, H: number): Float32Array | null {
    if (v.k === 'none') return null;
    // A state the caller feeds is the Sequential's own state (zeros in predict(), carried by step()).
    if (v.k === 'extern') return null;
    if (v.k === 'act') throw new Error(`${name} is computed from the data (e.g. another layer's final state); only constant initial states are supported`);
    if (v.k === 'shape') throw new Error(`${name} is not a float tensor`);
    let c: Const, batchAxis: number;
    if (v.k === 'bconst') {
      if (this.lab(v.sym) !== 'B') throw new Error(`${name} is broadcast over the input's ${this.lab(v.sym)} axis, not the batch`);
      c = v.c;
      batchAxis = v.axis;
    } else {
      c = v.c;
      batchAxis = 1;
    }
    if (c.dims.length !== 3 || c.dims[0] !== D || c.dims[2] !== H || batchAxis !== 1) throw new Error(`${name} has shape [${c.dims.join(', ')}], [${D}, B, ${H}] expected`);
    const Bn = c.dims[1];
    const out = new Float32Array(D * H);
    for (let d = 0; d < D; d++) {
      for (let b = 0; b < Bn; b++) {
        for (let j = 0; j < H; j++) {
          const val = c.data[(d * Bn + b) * H + j];
          if (b === 0) out[d * H + j] = val;
          else if (!Object.is(val, out[d * H + j]) && val !== out[d * H + j]) throw new Error(`${name} differs between sequences of the batch; only one initial state shared by all sequences maps to a Sequential`);
        }
      }
    }
    void node;
    return out.every((x) => x === 0) ? null : out;
  }

  // ---- the data path -----------------------------------------------------------------------------
  private actOp(node: NodeProto, op: string, at: Record<string, unknown>, a: Act | null, rest: Val[] = []): Val {
    const ins = node.input ?? [];
    if (a === null) {
      // The data enters through a later input: Add(bias, x), Concat(..., x), MatMul(W, x).
      if (op === 'Add' || op === 'Mul') {
        const first = this.value(ins[0]), second = this.value(ins[1]);
        if (second.k === 'act') return this.actOp(node, op, at, second.a, [first]);
      }
      if (op === 'Concat') return this.concatActs(node, at, ins.map((n) => this.value(n)));
      if (op === 'Gather' && this.value(ins[1]).k === 'act') return this.embedding(node, at, this.value(ins[0]), (this.value(ins[1]) as { a: Act }).a);
      throw new Error(`the data arrives in input ${ins.findIndex((n) => this.value(n).k === 'act')}, which ${op} cannot map`);
    }
    const arg = (k: number) => rest[k] ?? this.value(ins[k + 1] ?? '');
    const rank = a.axes.length;
    switch (op) {
      case 'Transpose': {
        const perm = (at.perm as number[] | undefined) ?? a.axes.map((_x, i) => rank - 1 - i);
        return { k: 'act', a: { ...a, axes: perm.map((p) => a.axes[p]), sizes: perm.map((p) => a.sizes[p]) } };
      }
      case 'Squeeze': {
        const axes = this.intsArg(at, 'axes', arg(0));
        if (!axes) throw new Error('Squeeze without axes on the data (the sizes are not known until run time)');
        const drop = new Set(axes.map((x) => normAxis(x, rank)));
        const next = { ...a, axes: [] as string[], sizes: [] as (number | null)[] };
        a.axes.forEach((l, i) => {
          if (!drop.has(i)) {
            next.axes.push(l);
            next.sizes.push(a.sizes[i]);
          } else if (l === 'Tl') {
            next.last = true;
          } else if (a.sizes[i] !== 1) {
            throw new Error(`squeezes axis ${i} (${this.lab(l)}) which is not of size 1`);
          }
        });
        return { k: 'act', a: this.normalise(next) };
      }
      case 'Unsqueeze': {
        const axes = this.intsArg(at, 'axes', arg(0)) ?? [];
        const r = rank + axes.length, set = new Set(axes.map((x) => normAxis(x, r)));
        const next = { ...a, axes: [] as string[], sizes: [] as (number | null)[] };
        for (let i = 0, j = 0; i < r; i++) {
          next.axes.push(set.has(i) ? '1' : a.axes[j]);
          next.sizes.push(set.has(i) ? 1 : a.sizes[j++]);
        }
        return { k: 'act', a: next };
      }
      case 'Reshape': return { k: 'act', a: this.reshapeAct(a, at, arg(0)) };
      case 'Flatten': {
        const axis = normAxis((at.axis as number) ?? 1, rank + 1);
        if (rank === 2 && axis === 1) return { k: 'act', a };
        throw new Error('Flatten of the data is supported only as the identity on [B, F]');
      }
      case 'Gather': return { k: 'act', a: this.gatherAct(a, this.constOf(arg(0), 'indices'), (at.axis as number) ?? 0) };
      case 'Slice': {
        const starts = this.intsArg(at, 'starts', arg(0))!, ends = this.intsArg(at, 'ends', arg(1))!;
        const axes = this.intsArg(at, 'axes', arg(2)) ?? starts.map((_s, i) => i);
        const steps = this.intsArg(at, 'steps', arg(3)) ?? starts.map(() => 1);
        let cur = a;
        axes.forEach((ax, j) => { cur = this.sliceAct(cur, normAxis(ax, rank), starts[j], ends[j], steps[j]); });
        return { k: 'act', a: cur };
      }
      case 'Concat': return this.concatActs(node, at, ins.map((n) => this.value(n)));
      case 'Shape': return { k: 'shape', items: a.axes.map((l, i) => a.sizes[i] ?? l), scalar: false };
      case 'Gemm': return { k: 'act', a: this.gemm(node, a, at, arg(0), arg(1)) };
      case 'MatMul': return { k: 'act', a: this.matmul(node, a, arg(0)) };
      case 'Add': {
        const other = arg(0);
        return { k: 'act', a: other.k === 'act' ? this.mergeDirections(a, other.a, 'sum') : this.addBias(node, a, other) };
      }
      case 'Mul': {
        const other = arg(0);
        if (other.k === 'act') return { k: 'act', a: this.mergeDirections(a, other.a, 'mul') };
        const c = this.constOf(other, 'the factor');
        if (a.merge === 'sum' && c.data.length === 1 && c.data[0] === 0.5) return { k: 'act', a: { ...a, merge: 'ave' } };
        throw new Error('Mul of the data is supported only as a merge of two directions (or 0.5 × their sum: ave)');
      }
      default: {
        const act = ACTIVATIONS[op];
        if (act) return { k: 'act', a: this.activation(node, a, act, at) };
        throw new Error(`operator ${op} on the data is not supported (supported: LSTM, GRU, RNN, Gemm, MatMul, Add (bias), ${Object.keys(ACTIVATIONS).join(', ')}, and the glue Transpose, Squeeze, Unsqueeze, Reshape, Gather, Slice, Concat, Shape, Identity, Dropout)`);
      }
    }
  }

  /** Gather(table [V, E], token ids) on the graph input: an Embedding, the first layer. */
  private embedding(node: NodeProto, at: Record<string, unknown>, tableVal: Val, ids: Act): Val {
    if (ids.what !== 'input' || ids.axes.length !== 2 || this.plan.length !== 0) throw new Error('Gather of a table by data is supported only on the token-id input (an Embedding as the first layer)');
    const table = this.constOf(tableVal, 'the table');
    if (table.dtype !== 'float' || table.dims.length !== 2 || normAxis((at.axis as number) ?? 0, 2) !== 0) throw new Error(`Gather over a [${table.dims.join(', ')}] ${table.dtype} table along axis ${String(at.axis ?? 0)}; an Embedding is a float [V, E] table gathered along axis 0`);
    const [V, E] = table.dims;
    this.plan.push({ type: 'embedding', node: this.label(node), table: table.data as Float32Array, V, E });
    return { k: 'act', a: { axes: [...ids.axes, 'F'], sizes: [...ids.sizes, E], stage: this.plan.length, what: 'input' } };
  }

  /** Drops size-1 direction axes of a Y that has become [T, B, H] or [B, T, H]. */
  private normalise(a: Act): Act {
    if (a.what === 'y' && !a.axes.includes('D')) return { ...a, what: 'seq', axes: a.axes.map((x) => (x === 'H' ? 'F' : x)) };
    if (a.what === 'slots' && !a.axes.includes('S')) return { ...a, what: 'feat', axes: a.axes.map((x) => (x === 'H' ? 'F' : x)) };
    return a;
  }

  private reshapeAct(a: Act, at: Record<string, unknown>, shapeVal: Val): Act {
    const spec: (number | Sym)[] | null = at.shape !== undefined ? (at.shape as number[]) : this.items(shapeVal);
    if (!spec) throw new Error('Reshape to a float shape');
    const axes: string[] = [], sizes: (number | null)[] = [];
    let i = 0;
    const rank = a.axes.length;
    for (let j = 0; j < spec.length; j++) {
      const s = spec[j];
      if (s === 0 || (typeof s === 'string' && i < rank && s === a.axes[i]) || (typeof s === 'number' && s > 0 && a.sizes[i] === s)) {
        axes.push(a.axes[i]);
        sizes.push(a.sizes[i]);
        i++;
        continue;
      }
      // merge a group of axes into one: [D, H] -> F, or drop size-1 axes
      const want = s === -1 ? null : s;
      let n = 1, k = i;
      const group: number[] = [];
      while (k < rank) {
        if (a.sizes[k] === null) break;
        n *= a.sizes[k]!;
        group.push(k++);
        if (want !== null && n === want) break;
      }
      if (s === -1 && j !== spec.length - 1) throw new Error('Reshape with -1 before the last axis on the data');
      if (typeof want === 'string' || group.length === 0 || (want !== null && n !== want)) throw new Error(`Reshape of [${a.axes.map((x) => this.lab(x)).join(', ')}] to [${spec.join(', ')}]`);
      const labels = group.map((g) => a.axes[g]).filter((_l, q) => a.sizes[group[q]] !== 1);
      if (labels.length === 1) {
        axes.push(labels[0] === 'H' && a.what !== 'y' ? 'F' : labels[0]);
      } else if (labels.length === 2 && labels[0] === 'D' && labels[1] === 'H' && a.what === 'y') {
        axes.push('DH');
      } else if (labels.length === 2 && labels[0] === 'S' && labels[1] === 'H' && a.what === 'slots') {
        axes.push('SH');
      } else {
        throw new Error(`Reshape merges the axes [${group.map((g) => this.lab(a.axes[g])).join(', ')}], which no layer produces`);
      }
      sizes.push(n);
      i = k;
    }
    if (i !== rank) throw new Error(`Reshape of [${a.axes.map((x) => this.lab(x)).join(', ')}] to [${spec.join(', ')}]`);
    if (axes.includes('SH')) return { ...a, what: 'feat', axes: axes.map((x) => (x === 'SH' ? 'F' : x)), sizes };
    if (axes.includes('DH')) return { ...a, what: 'seq', axes: axes.map((x) => (x === 'DH' ? 'F' : x)), sizes };
    return this.normalise({ ...a, axes: axes.map((x) => (x === 'D' && a.what === 'y' ? x : x)), sizes });
  }

  private gatherAct(a: Act, idx: Const, axis0: number): Act {
    const axis = normAxis(axis0, a.axes.length), l = this.lab(a.axes[axis]);
    if (idx.dims.length !== 0) throw new Error('Gather of the data with a non-scalar index');
    const i = idx.data[0];
    const rest = { axes: a.axes.filter((_x, k) => k !== axis), sizes: a.sizes.filter((_x, k) => k !== axis) };
    if (l === 'T') {
      if (i !== -1) throw new Error(`Gather of time step ${i}: only the last step (index -1) maps to a layer (returnSequences: false)`);
      return this.lastStep({ ...a, ...rest }, a);
    }
    if (l === 'D' && a.what === 'y') {
      const D = a.sizes[axis]!, d = i < 0 ? i + D : i;
      return this.normalise({ ...a, ...rest, dirs: [d] });
    }
    if (l === 'S' && a.slots) {
      const s = a.slots[i < 0 ? i + a.slots.length : i];
      if (!s) throw new Error(`Gather of state slot ${i} out of range`);
      return this.normalise({ ...a, ...rest, slots: [s] });
    }
    throw new Error(`Gather along the ${l} axis of the data`);
  }

  /** The sequence reduced to its last step: a unidirectional forward layer's final state. */
  private lastStep(next: Act, a: Act): Act {
    const p = a.layer === undefined ? undefined : this.plan[a.layer] as RnnPlan;
    if ((a.what !== 'seq' && a.what !== 'y') || !p) throw new Error('takes the last time step of something other than a recurrent layer\'s output');
    if (p.D !== 1 || (p.attrs.direction ?? 'forward') !== 'forward') {
      throw new Error(`takes output[-1] of a ${p.D === 2 ? 'bidirectional' : 'reverse'} layer: its reverse direction at the last step has read one input only, which no Sequential computes (use the final states h_n instead)`);
    }
    return this.normalise({ ...next, last: true });
  }

  /** Add / Mul of a bidirectional layer's two directions (sequences or final states). */
  private mergeDirections(a: Act, b: Act, mode: 'sum' | 'mul'): Act {
    const dirOf = (x: Act) => (x.what === 'seq' && x.dirs?.length === 1 && !x.merge ? { layer: x.layer!, dir: x.dirs[0] }
      : x.what === 'feat' && x.slots?.length === 1 && !x.cell ? x.slots[0] : null);
    const p = dirOf(a), q = dirOf(b);
    if (!p || !q || p.layer !== q.layer || p.dir + q.dir !== 1 || a.last || b.last || a.what !== b.what) {
      throw new Error(`${mode === 'sum' ? 'Add' : 'Mul'} of two data values is supported only as the merge of a bidirectional layer's two directions`);
    }
    if (a.what === 'seq') return { ...a, dirs: [0, 1], merge: mode };
    return { ...a, slots: [{ layer: p.layer, dir: 0 }, { layer: p.layer, dir: 1 }], merge: mode };
  }

  private sliceAct(a: Act, axis: number, start: number, end: number, step: number): Act {
    const l = this.lab(a.axes[axis]);
    if (step !== 1) throw new Error(`Slice of the data with step ${step}`);
    if (start === 0 && end >= INT64_MAX_ISH) return a;
    if (l === 'T' && start === -1 && end >= INT64_MAX_ISH) {
      const axes = [...a.axes];
      axes[axis] = 'Tl';
      const sizes = [...a.sizes];
      sizes[axis] = 1;
      const r = this.lastStep({ ...a, axes, sizes }, a);
      return { ...r, last: false };
    }
    if (l === 'S' && a.slots) {
      const n = a.slots.length, norm = (v: number) => Math.min(Math.max(v < 0 ? v + n : v, 0), n);
      const slots = a.slots.slice(norm(start), norm(end));
      const sizes = [...a.sizes];
      sizes[axis] = slots.length;
      return { ...a, slots, sizes };
    }
    throw new Error(`Slice [${start}, ${end}) along the ${l} axis of the data`);
  }

  private concatActs(node: NodeProto, at: Record<string, unknown>, vals: Val[]): Val {
    const acts = vals.map((v) => {
      if (v.k !== 'act') throw new Error('Concat of the data with a constant');
      return v.a;
    });
    const a0 = acts[0], axis = normAxis(at.axis as number, a0.axes.length), l = this.lab(a0.axes[axis]);
    if (acts.every((a) => a.what === 'slots') && l === 'S') {
      if (acts.some((a) => a.cell !== a0.cell)) throw new Error('Concat of hidden and cell states');
      const slots = acts.flatMap((a) => a.slots!);
      const sizes = [...a0.sizes];
      sizes[axis] = slots.length;
      return { k: 'act', a: { ...a0, slots, sizes, stage: Math.max(...acts.map((a) => a.stage)), layer: Math.max(...acts.map((a) => a.layer!)) } };
    }
    if (acts.every((a) => a.what === 'feat') && l === 'F' && axis === a0.axes.length - 1) {
      if (acts.some((a) => a.cell !== a0.cell)) throw new Error('Concat of hidden and cell states');
      const slots = acts.flatMap((a) => a.slots!);
      const sizes = [...a0.sizes];
      sizes[axis] = acts.reduce((s, a) => s + (a.sizes[axis] ?? 0), 0);
      return { k: 'act', a: { ...a0, slots, sizes, stage: Math.max(...acts.map((a) => a.stage)) } };
    }
    void node;
    throw new Error(`Concat along the ${l} axis of ${acts.map((a) => a.what).join(' and ')} values`);
  }

  private yAsSeq(a: Act, node: NodeProto | null): Act {
    // A raw Y [T, D, B, H] as the model's output: the sequence with directions side by side.
    const l = a.axes.map((x) => this.lab(x));
    const ti = l.indexOf('T'), di = l.indexOf('D'), bi = l.indexOf('B'), hi = l.indexOf('H');
    if (a.last || ti < 0 || di < 0 || bi < 0 || hi !== 3) {
      throw this.fail(node, `the output [${l.join(', ')}] of a recurrent node is not a sequence this model can return`);
    }
    return { ...a, what: 'seq', axes: l.filter((x) => x !== 'D').map((x) => (x === 'H' ? 'F' : x)), sizes: a.sizes.filter((_s, i) => i !== di) };
  }

  private slotsAsFeat(a: Act, node: NodeProto | null): Act {
    const l = a.axes.map((x) => this.lab(x));
    if (l.indexOf('H') !== l.length - 1) throw this.fail(node, `final states [${l.join(', ')}] as the output`);
    return { ...a, what: 'feat', axes: l.filter((x) => x !== 'S').map((x) => (x === 'H' ? 'F' : x)), sizes: a.sizes.filter((_s, i) => l[i] !== 'S') };
  }

  /**
   * Checks that `a` is the Sequential's flow after the plan so far (features last), and turns the
   * last recurrent layer into a many-to-one one when `a` is its last step / final states.
   */
  private checkFlow(a: Act, node: NodeProto | null, role: string): void {
    if (a.stage !== this.plan.length) throw this.fail(node, `${role} branches off the layer chain (a Sequential is one chain of layers)`);
    const l = a.axes.map((x) => this.lab(x));
    if (a.what === 'y' || a.what === 'slots') throw this.fail(node, `${role} is a recurrent node's raw ${a.what === 'y' ? 'Y' : 'Y_h / Y_c'} [${l.join(', ')}]; reshape it to features first`);
    if (a.cell) throw this.fail(node, `${role} is a cell state; only hidden states are a Sequential's output`);
    const last = l[l.length - 1];
    if (!(last === 'F' || last === 'x2')) throw this.fail(node, `${role} does not have the features last ([${l.join(', ')}])`);
    const timeless = a.what === 'feat' || a.last === true;
    const p = this.plan[this.plan.length - 1];
    if (a.what === 'seq' && a.dirs && !a.merge) throw this.fail(node, `${role} is one direction of a bidirectional layer`);
    if (a.merge) {
      if (p?.type !== 'rnn' || a.layer !== undefined && a.layer !== this.plan.length - 1) throw this.fail(node, `${role} merges directions of a layer below the top`);
      p.mergeMode = a.merge;
    }
    if (!timeless) {
      if (l.includes('Tl')) throw this.fail(node, `${role} keeps a time axis of one step`);
      return;
    }
    if (!p || p.type !== 'rnn') throw this.fail(node, `${role}: no recurrent layer whose last step this is`);
    if (a.what === 'feat') {
      const top = this.plan.length - 1;
      const ok = a.slots!.length === p.D && a.slots!.every((s, d) => s.layer === top && s.dir === d);
      if (!ok) {
        throw this.fail(node, `${role} is the final state of ${a.slots!.map((s) => `layer ${s.layer} direction ${s.dir}`).join(', ')}; only the top layer's final states (all directions, in order) map to returnSequences: false`);
      }
    }
    p.returnSequences = false;
  }

  // ---- heads -------------------------------------------------------------------------------------
  private denseInput(node: NodeProto, a: Act): number {
    this.checkFlow(a, node, 'the input');
    const inSize = a.sizes[a.sizes.length - 1];
    if (inSize === null) throw new Error('the input\'s feature size is unknown');
    return inSize;
  }

  private pushDense(node: NodeProto, a: Act, weight: Float32Array, units: number, inSize: number, bias: Float32Array | null): Act {
    this.plan.push({ type: 'dense', node: this.label(node), inSize, units, weight, bias, activation: 'linear' });
    const sizes = [...a.sizes];
    sizes[sizes.length - 1] = units;
    const axes = a.axes.map((x) => this.lab(x)).filter((x) => x !== 'Tl').map((x, i, arr) => (i === arr.length - 1 ? 'F' : x));
    return { axes, sizes: sizes.filter((_s, i) => this.lab(a.axes[i]) !== 'Tl'), stage: this.plan.length, what: 'dense' };
  }

  private gemm(node: NodeProto, a: Act, at: Record<string, unknown>, bv: Val, cv: Val): Act {
    if (at.transA) throw new Error('Gemm with transA on the data');
    if (a.axes.length !== 2 && !(a.last && a.axes.length === 2)) throw new Error(`Gemm of a rank-${a.axes.length} input`);
    const inSize = this.denseInput(node, a);
    const Bc = this.constOf(bv, 'B (the weight)');
    let w = at.transB ? Bc : transposeConst(Bc, [1, 0]);
    const [units, k] = w.dims;
    if (k !== inSize) throw new Error(`weight [${Bc.dims.join(', ')}] does not take ${inSize} features`);
    const alpha = (at.alpha as number | undefined) ?? 1, beta = (at.beta as number | undefined) ?? 1;
    if (alpha !== 1) w = { ...w, data: Float32Array.from(w.data, (v) => v * alpha) };
    let bias: Float32Array | null = null;
    if (cv.k !== 'none') {
      const c = this.constOf(cv, 'C (the bias)');
      if (c.data.length !== units && c.data.length !== 1) throw new Error(`bias of shape [${c.dims.join(', ')}] for ${units} units`);
      bias = Float32Array.from({ length: units }, (_v, j) => c.data[c.data.length === 1 ? 0 : j] * beta);
    }
    return this.pushDense(node, a, w.data as Float32Array, units, inSize, bias);
  }

  private matmul(node: NodeProto, a: Act, bv: Val): Act {
    const inSize = this.denseInput(node, a);
    const Bc = this.constOf(bv, 'the weight');
    if (Bc.dims.length !== 2 || Bc.dims[0] !== inSize) throw new Error(`weight [${Bc.dims.join(', ')}] does not take ${inSize} features`);
    const w = transposeConst(Bc, [1, 0]);
    return this.pushDense(node, a, w.data as Float32Array, Bc.dims[1], inSize, null);
  }

  private addBias(node: NodeProto, a: Act, bv: Val): Act {
    const p = this.plan[this.plan.length - 1];
    if (a.what !== 'dense' || a.stage !== this.plan.length || p?.type !== 'dense' || p.bias) throw new Error('Add on the data is supported only as the bias of a MatMul');
    const c = this.constOf(bv, 'the bias');
    if (c.data.length !== p.units || c.dims.some((d, i) => i !== c.dims.length - 1 && d !== 1)) throw new Error(`bias of shape [${c.dims.join(', ')}] for ${p.units} units`);
    p.bias = Float32Array.from(c.data);
    p.node += ` + ${this.label(node)}`;
    return a;
  }

  private activation(node: NodeProto, a: Act, act: DenseActivation, at: Record<string, unknown>): Act {
    const p = this.plan[this.plan.length - 1];
    if (a.what !== 'dense' || a.stage !== this.plan.length || p?.type !== 'dense' || p.activation !== 'linear') {
      throw new Error(`${node.op_type} is supported only right after a Gemm / MatMul (it becomes the Dense layer's activation)`);
    }
    if (act === 'softmax') {
      const rank = a.axes.length;
      const axis = normAxis((at.axis as number | undefined) ?? (this.opset >= 13 ? -1 : 1), rank);
      if (axis !== rank - 1) throw new Error(`Softmax over axis ${axis} of [${a.axes.join(', ')}]; only the feature axis maps to a Dense activation`);
    }
    p.activation = act;
    return { ...a, what: 'activated' };
  }

  // ---- the model -------------------------------------------------------------------------------
  private build(): Sequential {
    const layers: SequentialLayer[] = [];
    const after: (() => void)[] = [];
    let i = 0;
    while (i < this.plan.length) {
      const p = this.plan[i];
      if (p.type === 'embedding') {
        const e = new Embedding({ numEmbeddings: p.V, embeddingDim: p.E, seed: 0 });
        e.parameters()[0].value.set(p.table);
        layers.push(e);
        i++;
        continue;
      }
      if (p.type === 'dense') {
        const d = new Dense({ units: p.units, inputSize: p.inSize, activation: p.activation, bias: p.bias !== null, seed: 0 });
        const [w, b] = d.parameters();
        w.value.set(p.weight);
        if (p.bias) b.value.set(p.bias);
        layers.push(d);
        i++;
        continue;
      }
      // Consecutive recurrent nodes of one configuration become one multi-layer LSTM / GRU / RNN.
      let j = i + 1;
      const key = (q: RnnPlan) => JSON.stringify([q.cell, q.attrs, q.D, q.H, !!q.weights.B, !!q.weights.P, q.h0 !== null, q.c0 !== null]);
      while (j < this.plan.length && this.plan[j].type === 'rnn' && key(this.plan[j] as RnnPlan) === key(p) && (this.plan[j - 1] as RnnPlan).returnSequences && !(this.plan[j - 1] as RnnPlan).mergeMode) j++;
      const group = this.plan.slice(i, j) as RnnPlan[];
      const top = group[group.length - 1];
      const { options, dict } = onnxToOptions(p.cell, p.attrs, p.weights);
      group.slice(1).forEach((q, l) => {
        for (const [k, t] of Object.entries(q.weights)) dict[`${k}_l${l + 1}`] = t;
      });
      const learn = p.h0 !== null || p.c0 !== null;
      const opts = { ...options, numLayers: group.length, returnSequences: top.returnSequences, mergeMode: top.mergeMode ?? 'concat', learnInitialState: learn };
      const Ctor = p.cell === 'lstm' ? LSTM : p.cell === 'gru' ? GRU : RNN;
      const layer = new Ctor(opts as never);
      layer.loadStateDict(dict, 'onnx');
      const index = layers.length;
      layers.push(layer);
      if (learn) {
        after.push(() => {
          const params = model.blocks[index].parameters();
          const h = params.find((q) => q.name === 'h0')!, c = params.find((q) => q.name === 'c0');
          group.forEach((q, l) => {
            h.value.set(q.h0 ?? new Float32Array(q.D * q.H), l * q.D * q.H);
            if (c) c.value.set(q.c0 ?? new Float32Array(q.D * q.H), l * q.D * q.H);
          });
        });
      }
      i = j;
    }
    const model = new Sequential(layers);
    for (const f of after) f();
    for (const s of model.stores()) s.touch();
    return model;
  }
}
