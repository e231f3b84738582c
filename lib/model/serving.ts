// model.serve(): a Sequential behind the micro-batching server of lib/serve. The server sees the
// model through a ServeBackend; batches run through the model's public async calls (predict,
// stepAsync), so they follow the model's rules for concurrent calls.
import { Embedding } from '../layers/embedding';
import { ModelServer, type ServeBackend, type ServeOptions } from '../serve/server';
import { StateLayout, type StateTensorInfo } from '../serve/state';
import type { Tensor } from '../tensor';
import type { Precision } from '../native';
import { invalidType } from '../internal/check';
import { checkPrecision } from '../layers/recurrent/recurrent';
import type { SequentialLayer } from './model';
import type { StepArrays } from './recurrent_block';

interface StepLayerState { h: Tensor; c?: Tensor }

/** What the server needs of a Sequential (an interface: sequential.ts imports this module). */
export interface ServableModel {
  readonly layers: readonly SequentialLayer[];
  readonly inputFeatures: number | null;
  readonly outputFeatures: number;
  readonly outputHasTime: boolean;
  predict(x: Tensor, opts: { lengths: Int32Array; batchSize: number; precision?: Precision }): Promise<Tensor>;
  stepAsyncInto(x: Tensor, state: { layers: unknown[] } | undefined, precision: Precision | undefined,
    into: readonly (StepArrays | null)[] | null): Promise<{ output: Tensor; state: { layers: unknown[] } }>;
  stepArrays(B: number): (StepArrays | null)[];
  streamStateSpec(): { layer: number; h: [number, number]; c: [number, number] | null; initial: Float32Array | null }[] | null;
}

/** The stream state layout of a model: per recurrent layer h [L, Hout] then c [L, H] (LSTM). */
export function stateLayoutOf(model: ServableModel): StateLayout | null {
  const spec = model.streamStateSpec();
  if (spec === null) return null;
  const tensors: StateTensorInfo[] = [];
  for (const s of spec) {
    tensors.push({ layer: s.layer, name: 'h', slots: s.h[0], size: s.h[1] });
    if (s.c) tensors.push({ layer: s.layer, name: 'c', slots: s.c[0], size: s.c[1] });
  }
  let initial: Float32Array | null = null;
  if (spec.some((s) => s.initial !== null)) {
    const parts = spec.map((s) => s.initial ?? new Float32Array(s.h[0] * s.h[1] + (s.c ? s.c[0] * s.c[1] : 0)));
    initial = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      initial.set(p, at);
      at += p.length;
    }
  }
  return new StateLayout(tensors, initial);
}

/** model.serve()'s options: the batcher's, and the model's precision for the batches. */
export interface ModelServeOptions extends ServeOptions {
  /** The recurrent layers' precision in this server's batches ('fp32', 'bf16'); each layer's
   * own setPrecision() is left as it is.
   * @defaultValue each layer's precision */
  precision?: Precision;
}

/** The ServeBackend of a Sequential. */
export function sequentialBackend(model: ServableModel, precision?: Precision): ServeBackend {
  const opts = precision === undefined ? {} : { precision };
  // Each batch's step results are written into kept arrays (views of the first B rows), reused
  // once the server has copied them out (done()): no new multi-KB arrays (page faults) per batch.
  const kept: { rows: number; arrays: (StepArrays | null)[] }[] = [];
  const ids = model.inputFeatures === null;
  const F = model.inputFeatures ?? 1;
  const first = model.layers[0];
  const stateLayout = stateLayoutOf(model);
  const spec = stateLayout ? model.streamStateSpec()! : [];
  return {
    inputFeatures: F,
    ...(ids && first instanceof Embedding ? { vocabSize: first.numEmbeddings } : {}),
    outputFeatures: model.outputFeatures,
    outputHasTime: model.outputHasTime,
    stateLayout,
    async predictBatch(x, B, T, lengths) {
      const y = await model.predict({ shape: ids ? [B, T] : [B, T, F], data: x }, { lengths, batchSize: B, ...opts });
      return y.data;
    },
    async stepBatch(x, B, states) {
      const layers: unknown[] = model.layers.map(() => undefined);
      let k = 0;
      for (const s of spec) {
        const st: StepLayerState = { h: { shape: [s.h[0], B, s.h[1]], data: states[k++] } };
        if (s.c) st.c = { shape: [s.c[0], B, s.c[1]], data: states[k++] };
        layers[s.layer] = st;
      }
      const popped = kept.pop();
      const set = popped && popped.rows >= B ? popped : { rows: B, arrays: model.stepArrays(B) };  // a smaller one is dropped
      const into = set.arrays.map((a) => a && firstRows(a, set.rows, B));
      let r;
      try {
        r = await model.stepAsyncInto({ shape: ids ? [B] : [B, F], data: x }, { layers }, precision, into);
      } catch (e) {
        kept.push(set);
        throw e;
      }
      const out: Float32Array[] = [];
      for (const s of spec) {
        const st = r.state.layers[s.layer] as StepLayerState;
        out.push(st.h.data);
        if (s.c) out.push(st.c!.data);
      }
      return { output: r.output.data, states: out, done: () => { kept.push(set); } };
    },
  };
}

/** A step's arrays made for `rows` streams, as arrays for B <= rows: views of their start (a
 * [L, B, n] result is written contiguously, so it needs the first L·B·n floats only). */
function firstRows(a: StepArrays, rows: number, B: number): StepArrays {
  const view = (v: Float32Array) => v.subarray(0, (v.length / rows) * B);
  const v: StepArrays = { output: view(a.output), hN: view(a.hN) };
  if (a.cN) v.cN = view(a.cN);
  return v;
}

/** model.serve(options). */
export function serveModel(model: ServableModel, options: ModelServeOptions): ModelServer {
  if (typeof options !== 'object' || options === null) throw invalidType('serve options', 'object', options);
  const { precision, ...batcher } = options;
  return new ModelServer(sequentialBackend(model, precision === undefined ? undefined : checkPrecision(precision)), batcher);
}
