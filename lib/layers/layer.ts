// What the layers of a Sequential share: the data flowing between them, the interface each
// layer implements (forward, backward, parameters), and the options that say how a recurrent
// layer sits in a Sequential (read by lib/model only; the layer's own calls ignore them).
import { checkBoolean, checkOneOf } from '../internal/check';
import type { WeightStore, WriterToken } from '../internal/weight_store';
import type { Precision } from '../native';

/**
 * A batch flowing between layers: time-major sequences [T, B, F] (with optional per-sequence
 * lengths; steps past a sequence's end are 0) or, after a many-to-one layer, a plain [B, F].
 * Token ids (Embedding's input) travel as [T, B] or [B] floats.
 */
export interface Flow {
  data: Float32Array;
  shape: number[];
  lengths: Int32Array | null;
}

/** One trainable tensor: a view on a layer's weights and the matching gradient view. */
export interface ParamRef {
  name: string;
  shape: number[];
  value: Float32Array;
  grad: Float32Array;
}

export interface LayerContext {
  training: boolean;
  /** Seed of this forward's random draws (Dropout); derived from the fit seed, epoch and batch. */
  seed: number;
  /** The writer (fit) on whose behalf a training call runs: it holds the weights already. */
  writer?: WriterToken;
  /** An async inference call's weights, one version per store, taken when the call began (a
   * model reads every layer at the same version even if an update lands between its layers). */
  reads?: ReadonlyMap<WeightStore, Float32Array>;
  /** The recurrent layers' precision for this call (fit's, predict's or serve's `precision`
   * option); undefined: each layer's own (setPrecision). */
  precision?: Precision;
}

/** A layer inside a Sequential. Backward gets dL/d(output) and returns dL/d(input) (null: no input gradient). */
export interface ModelLayer {
  /** Class name shown by summary() and saved in the model config. */
  readonly kind: string;
  /** Checks the incoming feature size and returns the outgoing one (null: token ids, no feature axis). */
  connect(inputFeatures: number | null, index: number): number;
  /** Whether the output still has a time axis, given the input's. */
  keepsTime(inputHasTime: boolean): boolean;
  forward(x: Flow, ctx: LayerContext): Flow;
  forwardAsync?(x: Flow, ctx: LayerContext): Promise<Flow>;
  /** `writer`: the writer (fit) that holds the weights. */
  backward(dy: Float32Array, writer?: WriterToken): Float32Array | null;
  backwardAsync?(dy: Float32Array, writer?: WriterToken): Promise<Float32Array | null>;
  /** One time step of streaming inference: x [B, F] (ids [B]) -> [B, out]; `state` is the layer's
   * own (undefined at the start), returned updated. Layers without state return it unchanged. */
  step(x: Flow, state: unknown, reads?: ReadonlyMap<WeightStore, Float32Array>): { y: Flow; state: unknown };
  parameters(): ParamRef[];
  /** The weight stores this layer reads and writes (none for Dropout). */
  stores(): WeightStore[];
  zeroGrad(writer?: WriterToken): void;
  /** JSON-able options that rebuild the layer (weights not included). */
  getConfig(): object;
}

/** Rows of a flow when its last axis is the feature axis. */
export function rowsOf(shape: readonly number[]): number {
  let n = 1;
  for (let i = 0; i < shape.length - 1; i++) n *= shape[i];
  return n;
}

export type MergeMode = 'concat' | 'sum' | 'mul' | 'ave';

/** How a recurrent layer hands its output on inside a Sequential (Keras-style: given to the
 * layer's constructor, used by the model only; forward() itself ignores them). */
export interface SequenceOptions {
  /** Pass the whole sequence on (true, many-to-many) or only each sequence's last valid step
   * (false, many-to-one: the top layer's final state per direction).
   * @defaultValue true
   */
  returnSequences?: boolean;
  /** How a bidirectional layer combines its two directions (Keras merge_mode).
   * forward() itself always concatenates.
   * @defaultValue 'concat'
   */
  mergeMode?: MergeMode;
  /** Learn the initial state (h0, and c0 for LSTM; one vector per layer and direction, shared by
   * every sequence) instead of starting from zeros.
   * @defaultValue false
   */
  learnInitialState?: boolean;
}

export type ResolvedSequenceOptions = Required<SequenceOptions>;

export const SEQUENCE_OPTION_KEYS = ['returnSequences', 'mergeMode', 'learnInitialState'] as const;

export function resolveSequenceOptions(o: SequenceOptions): ResolvedSequenceOptions {
  return {
    returnSequences: checkBoolean('returnSequences', o.returnSequences ?? true),
    mergeMode: checkOneOf('mergeMode', o.mergeMode ?? 'concat', ['concat', 'sum', 'mul', 'ave'] as const),
    learnInitialState: checkBoolean('learnInitialState', o.learnInitialState ?? false),
  };
}
