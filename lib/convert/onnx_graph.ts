// Constant tensors and the small constant folder loadOnnx runs over an ONNX graph's glue nodes
// (the shape arithmetic and weight slicing exporters emit around recurrent nodes). Pure functions
// on Const (lib/convert/onnx_proto.ts); each throws a plain Error that the caller wraps with the node.
import { sizeOf, type Const } from './onnx_proto';

export const INT64_MAX_ISH = 2 ** 62;

export function strides(dims: readonly number[]): number[] {
  const s = new Array<number>(dims.length).fill(1);
  for (let i = dims.length - 2; i >= 0; i--) s[i] = s[i + 1] * dims[i + 1];
  return s;
}

export function makeConst(dtype: Const['dtype'], dims: number[], values: ArrayLike<number>): Const {
  return { dims, dtype, data: dtype === 'float' ? Float32Array.from(values) : Float64Array.from(values) };
}

export function normAxis(axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= Math.max(rank, 1)) throw new Error(`axis ${axis} out of range for rank ${rank}`);
  return a;
}

/** Integer list of a 1-D (or scalar) int const. */
export function intList(c: Const): number[] {
  if (c.dtype === 'float') throw new Error('expected an integer tensor');
  return Array.from(c.data);
}

export function transposeConst(c: Const, perm: number[]): Const {
  const r = c.dims.length;
  const p = perm.length ? perm : c.dims.map((_d, i) => r - 1 - i);
  const dims = p.map((i) => c.dims[i]);
  const src = strides(c.dims), n = c.data.length;
  const out = c.dtype === 'float' ? new Float32Array(n) : new Float64Array(n);
  const idx = new Array<number>(r).fill(0);
  for (let o = 0; o < n; o++) {
    let s = 0;
    for (let k = 0; k < r; k++) s += idx[k] * src[p[k]];
    out[o] = c.data[s];
    for (let k = r - 1; k >= 0; k--) {
      if (++idx[k] < dims[k]) break;
      idx[k] = 0;
    }
  }
  return { dims, dtype: c.dtype, data: out };
}

/** Slice along several axes (ONNX Slice semantics, clamped, any step sign). */
export function sliceConst(c: Const, starts: number[], ends: number[], axes: number[], steps: number[]): Const {
  const r = c.dims.length;
  const lo = c.dims.map(() => 0), step = c.dims.map(() => 1), count = [...c.dims];
  axes.forEach((a0, j) => {
    const a = normAxis(a0, r), d = c.dims[a], st = steps[j] ?? 1;
    if (st === 0) throw new Error('Slice step 0');
    let s = starts[j], e = ends[j];
    if (s < 0) s += d;
    if (e < 0) e += d;
    if (st > 0) {
      s = Math.min(Math.max(s, 0), d);
      e = Math.min(Math.max(e, 0), d);
      count[a] = Math.max(0, Math.ceil((e - s) / st));
    } else {
      s = Math.min(Math.max(s, -1), d - 1);
      e = Math.min(Math.max(e, -1), d - 1);
      count[a] = Math.max(0, Math.ceil((s - e) / -st));
    }
    lo[a] = s;
    step[a] = st;
  });
  return gatherIndex(c, count, (k, i) => lo[k] + i * step[k]);
}

/** out[idx] = c[map(idx)] over an output of shape `dims`. */
function gatherIndex(c: Const, dims: number[], map: (axis: number, i: number) => number): Const {
  const r = dims.length, n = sizeOf(dims), src = strides(c.dims);
  const out = c.dtype === 'float' ? new Float32Array(n) : new Float64Array(n);
  const idx = new Array<number>(r).fill(0);
  for (let o = 0; o < n; o++) {
    let s = 0;
    for (let k = 0; k < r; k++) s += map(k, idx[k]) * src[k];
    out[o] = c.data[s];
    for (let k = r - 1; k >= 0; k--) {
      if (++idx[k] < dims[k]) break;
      idx[k] = 0;
    }
  }
  return { dims, dtype: c.dtype, data: out };
}

export function concatConst(parts: Const[], axis0: number): Const {
  const r = parts[0].dims.length, axis = normAxis(axis0, r);
  const dims = [...parts[0].dims];
  dims[axis] = parts.reduce((s, p) => s + p.dims[axis], 0);
  for (const p of parts) {
    if (p.dims.length !== r || p.dims.some((d, i) => i !== axis && d !== dims[i])) throw new Error('Concat of mismatched shapes');
  }
  const dtype = parts.some((p) => p.dtype === 'float') ? 'float' : parts[0].dtype;
  const outer = sizeOf(dims.slice(0, axis)), inner = sizeOf(dims.slice(axis + 1));
  const out = dtype === 'float' ? new Float32Array(sizeOf(dims)) : new Float64Array(sizeOf(dims));
  let o = 0;
  for (let i = 0; i < outer; i++) {
    for (const p of parts) {
      const len = p.dims[axis] * inner;
      out.set(p.data.subarray(i * len, (i + 1) * len), o);
      o += len;
    }
  }
  return { dims, dtype, data: out };
}

export function gatherConst(c: Const, indices: Const, axis0: number): Const {
  const axis = normAxis(axis0, c.dims.length), d = c.dims[axis];
  const idx = intList(indices).map((i) => {
    const j = i < 0 ? i + d : i;
    if (j < 0 || j >= d) throw new Error(`Gather index ${i} out of range`);
    return j;
  });
  const dims = [...c.dims.slice(0, axis), ...indices.dims, ...c.dims.slice(axis + 1)];
  const outer = sizeOf(c.dims.slice(0, axis)), inner = sizeOf(c.dims.slice(axis + 1));
  const out = c.dtype === 'float' ? new Float32Array(sizeOf(dims)) : new Float64Array(sizeOf(dims));
  let o = 0;
  for (let i = 0; i < outer; i++) {
    for (const j of idx) {
      out.set(c.data.subarray((i * d + j) * inner, (i * d + j + 1) * inner), o);
      o += inner;
    }
  }
  return { dims, dtype: c.dtype, data: out };
}

/** Reshape target (0 = copy, -1 = infer) for a known input shape. */
export function reshapeDims(from: readonly number[], spec: number[], allowZero = false): number[] {
  const n = sizeOf(from);
  const dims = spec.map((s, i) => (s === 0 && !allowZero ? from[i] : s));
  const known = dims.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
  const inferred = dims.indexOf(-1);
  if (inferred >= 0) dims[inferred] = known === 0 ? 0 : n / known;
  if (sizeOf(dims) !== n || dims.some((d) => !Number.isInteger(d) || d < 0)) throw new Error(`cannot reshape [${from.join(', ')}] to [${spec.join(', ')}]`);
  return dims;
}

/** Numpy-style broadcasting of two shapes. */
export function broadcastDims(a: readonly number[], b: readonly number[]): number[] {
  const r = Math.max(a.length, b.length), out: number[] = [];
  for (let i = 0; i < r; i++) {
    const x = a[a.length - r + i] ?? 1, y = b[b.length - r + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) throw new Error(`shapes [${a.join(', ')}] and [${b.join(', ')}] do not broadcast`);
    out.push(x === 1 ? y : x);
  }
  return out;
}

/** c broadcast to `dims`. */
export function expandConst(c: Const, dims: number[]): Const {
  const r = dims.length, off = r - c.dims.length;
  const cd = [...new Array<number>(off).fill(1), ...c.dims];
  const padded = { ...c, dims: cd };
  return gatherIndex(padded, dims, (k, i) => (cd[k] === 1 ? 0 : i));
}

/** Element-wise op with broadcasting; the result dtype is `dtype` (default: a's). */
export function elementwise(a: Const, b: Const, f: (x: number, y: number) => number, dtype?: Const['dtype']): Const {
  const dims = broadcastDims(a.dims, b.dims);
  const ea = expandConst(a, dims), eb = expandConst(b, dims);
  const t = dtype ?? (a.dtype === 'float' || b.dtype === 'float' ? 'float' : a.dtype);
  const out = t === 'float' ? new Float32Array(sizeOf(dims)) : new Float64Array(sizeOf(dims));
  for (let i = 0; i < out.length; i++) out[i] = f(ea.data[i], eb.data[i]);
  return { dims, dtype: t, data: out };
}

export function whereConst(cond: Const, x: Const, y: Const): Const {
  const dims = broadcastDims(broadcastDims(cond.dims, x.dims), y.dims);
  const c = expandConst(cond, dims), ex = expandConst(x, dims), ey = expandConst(y, dims);
  const out = x.dtype === 'float' ? new Float32Array(sizeOf(dims)) : new Float64Array(sizeOf(dims));
  for (let i = 0; i < out.length; i++) out[i] = c.data[i] ? ex.data[i] : ey.data[i];
  return { dims, dtype: x.dtype, data: out };
}

export function castConst(c: Const, to: number): Const {
  if (to === 1 || to === 11 || to === 10) return { dims: c.dims, dtype: 'float', data: Float32Array.from(c.data) };
  if (to === 9) return { dims: c.dims, dtype: 'bool', data: Float64Array.from(c.data, (v) => (v ? 1 : 0)) };
  return { dims: c.dims, dtype: 'int', data: Float64Array.from(c.data, (v) => Math.trunc(v)) };
}
