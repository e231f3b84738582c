// What training, checkpoints and model files read of a Sequential. They take this interface,
// not the class, because sequential.ts imports them (its fit(), save() and load() methods):
// the class implements it, and no module of lib/model imports sequential.ts but index.ts.
import type { Dense } from '../layers/dense';
import type { Dropout } from '../layers/dropout';
import type { Embedding } from '../layers/embedding';
import type { Flow, LayerContext, ModelLayer, ParamRef } from '../layers/layer';
import type { Recurrent } from '../layers/recurrent/recurrent';
import type { WeightStore, WriterToken } from '../internal/weight_store';
import type { Tensor } from '../tensor';
import type { DataSpec } from './data';

/** A layer a Sequential takes. */
export type SequentialLayer = Recurrent | Dense | Embedding | Dropout;

export interface Model {
  /** The layers as given. */
  readonly layers: readonly SequentialLayer[];
  /** The same layers behind the model interface (recurrent layers wrapped). */
  readonly blocks: readonly ModelLayer[];
  readonly outputFeatures: number;
  readonly outputHasTime: boolean;
  parameters(): ParamRef[];
  stores(): WeightStore[];
  zeroGrad(writer?: WriterToken): void;
  resetStates(): void;
  /** A copy of one complete version of the weights (a reader). */
  stateDict(): Record<string, Tensor>;
  /** loadStateDict for `writer` (fit resuming inside its own call). */
  assignStateDict(dict: Record<string, Tensor>, writer: WriterToken | null): unknown;
  /** Every layer's weights at one version, for an async inference call. */
  readVersion(): ReadonlyMap<WeightStore, Float32Array>;
  /** Runs fn as the model's one writer (it holds every layer's weights until fn settles). */
  asWriter<R>(fn: (writer: WriterToken) => Promise<R>): Promise<R>;
  dataSpec(targetWidth: number): DataSpec;
  forwardAsync(x: Flow, ctx: LayerContext & { carryState?: boolean }): Promise<Flow>;
  backwardAsync(dy: Float32Array, writer?: WriterToken): Promise<void>;
}
