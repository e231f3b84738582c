// Shared by test/convert/*.test.ts: fixture files, layout transposes, the 1e-5 relative check with a
// worst-error record, and onnxruntime-node (a devDependency; its absence is a failure, not a skip,
// unless FUSED_RNN_SKIP_ORT=1 says to skip and the suite prints that it did).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { expect } from 'vitest';

export const FIXTURES = path.join(__dirname, '..', 'fixtures', 'onnx_files');

export interface FixtureTensor { shape: number[]; data: number[] }
export interface OnnxFileFixture {
  name: string;
  producer: string;
  opset: number;
  batch_first: boolean;
  x: FixtureTensor;
  y: FixtureTensor | null;
  output?: string;
  /** The same single-operator graph with layout 0 (onnxruntime refuses layout 1). */
  ort_twin?: string | null;
  expect: 'load' | 'refuse';
  refuse_node: string;
  note: string;
}

export function fixtures(): OnnxFileFixture[] {
  return fs.readdirSync(FIXTURES).filter((f) => f.endsWith('.json')).sort()
    .map((f) => JSON.parse(fs.readFileSync(path.join(FIXTURES, f), 'utf8')) as OnnxFileFixture);
}

/** Row-major transpose of data with shape `dims` by `perm`. */
export function transpose(data: ArrayLike<number>, dims: number[], perm: number[]): { data: Float32Array; shape: number[] } {
  const shape = perm.map((p) => dims[p]);
  const r = dims.length, n = data.length;
  const src = new Array<number>(r).fill(1);
  for (let i = r - 2; i >= 0; i--) src[i] = src[i + 1] * dims[i + 1];
  const out = new Float32Array(n);
  const idx = new Array<number>(r).fill(0);
  for (let o = 0; o < n; o++) {
    let s = 0;
    for (let k = 0; k < r; k++) s += idx[k] * src[perm[k]];
    out[o] = data[s];
    for (let k = r - 1; k >= 0; k--) {
      if (++idx[k] < shape[k]) break;
      idx[k] = 0;
    }
  }
  return { data: out, shape };
}

/** Largest relative error seen per suite, for the summary line. */
export class Worst {
  private worst = { err: 0, where: '' };
  constructor(private readonly title: string) {}
  /** Checks max|got - ref| <= tol * max(1, max|ref|); returns that relative error. */
  check(where: string, got: ArrayLike<number>, gotShape: number[], ref: ArrayLike<number>, refShape: number[], tol = 1e-5): number {
    expect(gotShape, `${where}: shape`).toEqual(refShape);
    let scale = 1, maxErr = 0, at = -1;
    for (let i = 0; i < ref.length; i++) scale = Math.max(scale, Math.abs(ref[i]));
    for (let i = 0; i < ref.length; i++) {
      const e = Math.abs(got[i] - ref[i]);
      if (!(e <= maxErr)) { maxErr = e; at = i; }
    }
    const rel = maxErr / scale;
    if (rel > this.worst.err) this.worst = { err: rel, where };
    expect(rel, `${where}: max |got - ref| = ${maxErr} at ${at} (got ${got[at]}, ref ${ref[at]}), scale ${scale}`).toBeLessThanOrEqual(tol);
    return rel;
  }
  summary(): string {
    return `[${this.title}] worst relative error ${this.worst.err.toExponential(2)} (${this.worst.where || 'none'})`;
  }
}

type Ort = typeof import('onnxruntime-node');
let ortCache: { ort: Ort | null; error: string } | null = null;

/** onnxruntime-node, or null with the reason. */
export function loadOrt(): { ort: Ort | null; error: string } {
  if (!ortCache) {
    try {
      const req = createRequire(__filename);
      ortCache = { ort: req('onnxruntime-node') as Ort, error: '' };
    } catch (e) {
      ortCache = { ort: null, error: (e as Error).message.split('\n')[0] };
    }
  }
  return ortCache;
}

export const SKIP_ORT = process.env.FUSED_RNN_SKIP_ORT === '1';

/** Runs an ONNX file (path or bytes) on its inputs (float32, int32 or int64 by array type); returns every output. */
export async function runOrt(model: string | Uint8Array, inputs: Record<string, { data: Float32Array | Int32Array | BigInt64Array; shape: number[] }>): Promise<Record<string, { data: Float32Array; shape: number[] }>> {
  const { ort, error } = loadOrt();
  if (!ort) throw new Error(`onnxruntime-node is not available (${error}); it is a devDependency: run npm ci (FUSED_RNN_SKIP_ORT=1 skips these checks)`);
  const session = await ort.InferenceSession.create(model as never, { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'disabled' });
  const feeds: Record<string, InstanceType<Ort['Tensor']>> = {};
  for (const [k, v] of Object.entries(inputs)) {
    const type = v.data instanceof BigInt64Array ? 'int64' : v.data instanceof Int32Array ? 'int32' : 'float32';
    feeds[k] = new ort.Tensor(type, v.data as Float32Array, v.shape);
  }
  const out = await session.run(feeds);
  const res: Record<string, { data: Float32Array; shape: number[] }> = {};
  for (const [k, v] of Object.entries(out)) res[k] = { data: v.data as Float32Array, shape: [...v.dims] };
  await session.release();
  return res;
}
