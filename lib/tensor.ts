// Tensors: a shape and a row-major Float32Array, nothing more.
import { allocF32, checkNumbers, invalidArg, invalidType } from './internal/check';

export interface Tensor {
  shape: number[];
  data: Float32Array;
}

/** A shape: an array of integers >= 0; returns its element count. */
function checkShape(shape: unknown): number {
  if (!Array.isArray(shape)) throw invalidType('shape', 'array of non-negative integers', shape);
  checkNumbers('shape', shape);
  for (let i = 0; i < shape.length; i++) {
    if (!Number.isSafeInteger(shape[i]) || shape[i] < 0) throw invalidArg(`shape[${i}]`, 'non-negative integer', shape[i]);
  }
  return shape.reduce((a: number, b: number) => a * b, 1);
}

/**
 * Makes a tensor. Plain arrays are copied into a new Float32Array; a Float32Array is used as is.
 * @example tensor([1, 2, 3, 4, 5, 6], [2, 3]) // shape [2, 3]
 * @throws RangeError when the shape does not match the data length; TypeError for an element
 *   of a plain array that is not a number (`data[1]`: strings, holes, ...).
 */
export function tensor(data: ArrayLike<number> | Float32Array, shape: number[]): Tensor {
  const size = checkShape(shape);
  if (data === null || typeof data !== 'object' || typeof (data as ArrayLike<number>).length !== 'number') {
    throw invalidType('data', 'array or Float32Array', data);
  }
  if (data.length !== size) throw invalidArg('data', `length ${size} (shape [${shape.join(', ')}])`, data);
  if (data instanceof Float32Array) return { shape: [...shape], data };
  checkNumbers('data', data);
  return { shape: [...shape], data: Float32Array.from(data) };
}

/** A tensor of zeros. @throws TypeError / RangeError for a shape that is not integers >= 0 (or too large). */
export function zeros(shape: number[]): Tensor {
  return { shape: [...shape], data: allocF32('zeros(shape)', checkShape(shape)) };
}

export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function shapeString(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** A Tensor whose data is a Float32Array of the given shape exactly. */
export function checkTensor(name: string, t: unknown, shape: readonly number[]): Tensor {
  if (typeof t !== 'object' || t === null || !('shape' in t) || !('data' in t)) throw invalidType(name, 'Tensor { shape, data }', t);
  const tt = t as Tensor;
  if (!(tt.data instanceof Float32Array)) throw invalidType(`${name}.data`, 'Float32Array', tt.data);
  if (!Array.isArray(tt.shape) || tt.shape.length !== shape.length || tt.shape.some((d, i) => d !== shape[i])) {
    throw invalidArg(name, `shape ${shapeString(shape)}`, tt.shape);
  }
  const size = shape.reduce((a, b) => a * b, 1);
  if (tt.data.length !== size) throw invalidArg(`${name}.data`, `length ${size} (shape ${shapeString(shape)})`, tt.data);
  return tt;
}

/** A Tensor of the given rank with a Float32Array whose length matches its shape. */
export function checkTensorRank(name: string, t: unknown, rank: number): Tensor {
  if (typeof t !== 'object' || t === null || !('shape' in t) || !('data' in t)) throw invalidType(name, 'Tensor { shape, data }', t);
  const tt = t as Tensor;
  if (!(tt.data instanceof Float32Array)) throw invalidType(`${name}.data`, 'Float32Array', tt.data);
  if (!Array.isArray(tt.shape) || tt.shape.length !== rank) throw invalidArg(name, `a rank-${rank} shape`, tt.shape);
  for (const d of tt.shape) if (!Number.isInteger(d) || d < 1) throw invalidArg(`${name}.shape`, 'positive integers', tt.shape);
  const size = tt.shape.reduce((a, b) => a * b, 1);
  if (tt.data.length !== size) throw invalidArg(`${name}.data`, `length ${size} (shape ${shapeString(tt.shape)})`, tt.data);
  return tt;
}

/** Numbers nested in arrays, one level per axis: number[], number[][], ... */
export type NestedArray = number[] | NestedArray[];

/**
 * A tensor from nested arrays (row-major); the shape is read from the nesting.
 * @example fromArray([[1, 2, 3], [4, 5, 6]]) // shape [2, 3]
 * @throws RangeError for rows of different lengths or an empty array, naming the place (`data[1]`);
 *   TypeError for an element that is not a number.
 */
export function fromArray(nested: NestedArray): Tensor {
  if (!Array.isArray(nested)) throw invalidType('data', 'nested arrays of numbers', nested);
  const shape: number[] = [];
  for (let level: unknown = nested; Array.isArray(level); level = level[0]) {
    if (level.length === 0) throw invalidArg(`data${'[0]'.repeat(shape.length)}`, 'a non-empty array', '[]');
    shape.push(level.length);
  }
  const data = allocF32('fromArray(data)', numel(shape));
  let at = 0;
  const walk = (v: unknown, depth: number, where: string): void => {
    if (depth === shape.length) {
      if (typeof v !== 'number') throw invalidType(where, 'number', v);
      data[at++] = v;
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[depth]) {
      throw (Array.isArray(v) || typeof v === 'number' ? invalidArg : invalidType)(where, `an array of ${shape[depth]} (shape [${shape.join(', ')}])`, v);
    }
    for (let i = 0; i < v.length; i++) walk(v[i], depth + 1, `${where}[${i}]`);
  };
  walk(nested, 0, 'data');
  return { shape, data };
}

/**
 * A tensor's values as nested arrays, one level per axis (a rank-0 tensor gives its number).
 * @example toArray(tensor([1, 2, 3, 4, 5, 6], [2, 3])) // [[1, 2, 3], [4, 5, 6]]
 */
export function toArray(t: Tensor): NestedArray | number {
  const tt = checkTensor('t', t, Array.isArray(t?.shape) ? t.shape : []);
  const build = (depth: number, offset: number): NestedArray | number => {
    if (depth === tt.shape.length) return tt.data[offset];
    const stride = numel(tt.shape.slice(depth + 1));
    return Array.from({ length: tt.shape[depth] }, (_v, i) => build(depth + 1, offset + i * stride)) as NestedArray;
  };
  return build(0, 0);
}
