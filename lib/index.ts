// fused-rnn: LSTM, GRU and RNN layers on fused native CPU kernels.
import { checkInteger } from './internal/check';
import { addonBuild, addonPath, native, type PrecisionsInfo } from './native';

export { tensor, zeros, fromArray, toArray, type Tensor, type NestedArray } from './tensor';
export { LSTM } from './layers/recurrent/lstm';
export { GRU } from './layers/recurrent/gru';
export { RNN } from './layers/recurrent/rnn';
export { Recurrent, type ForwardOptions, type ForwardResult, type BackwardGrads, type BackwardOptions, type BackwardResult, type StepState, type RecurrentStepOptions, type StepResult } from './layers/recurrent/recurrent';
export type { RecurrentOptions, LSTMOptions, GRUOptions, RNNOptions, Direction, Nonlinearity } from './layers/recurrent/config';
export type { ActivationName, ActivationSpec, DirectionalActivation } from './layers/recurrent/activations';
export type { Layout } from './layers/recurrent/layouts';
export type { OnnxAttributes, OnnxWeights } from './layers/recurrent/onnx';
export type { Precision, PrecisionsInfo } from './native';
export type { MergeMode, SequenceOptions } from './layers/layer';
export { Dense, type DenseOptions, type DenseActivation } from './layers/dense';
export { Embedding, type EmbeddingOptions } from './layers/embedding';
export { Dropout, type DropoutOptions } from './layers/dropout';
export { Sequential, type SequentialLayer, type PredictOptions, type ModelStepOptions, type ModelState } from './model/sequential';
export type { ModelServeOptions } from './model/serving';
export type { SaveOptions } from './model/model_file';
export {
  ModelServer, ServerOverloadedError, ServerClosedError,
  type ServeOptions, type ServeBackend, type ServeSequence, type ServeStep, type ServeStepResult, type ServerStats,
} from './serve/server';
export { StreamState, StateLayout, type StateTensorInfo } from './serve/state';
export type { Dataset, BatchedDataset, SequenceArray, TargetArray, ClassIds } from './model/data';
export { tokenStream, type TokenStreamOptions } from './model/text';
export type { BatchIterable } from './model/batch_source';
export {
  FitStoppedError, type FitOptions, type History, type BatchInfo, type EpochInfo, type BatchResult, type EvaluateOptions, type TrainOnBatchOptions,
} from './model/fit';
export type { MetricSpec } from './model/metrics';
export { losses, type LossName, type LossSpec, type LossValue } from './model/losses';
export { fitProgress, type FitProgress, type ProgressOptions, type ProgressStream, type ProgressLogs, type Verbosity } from './model/progress';
export {
  Optimizer, SGD, Adam, AdamW, RMSprop, Adagrad, gradNorm, clipCoefficient, clipGradNorm,
  stepLR, exponentialLR, cosineAnnealingLR, constantLR, warmup,
  type ParamRef, type ParamLike, type StepOptions, type OptimizerKind, type OptimizerStateDict, type Schedule,
  type SGDOptions, type AdamOptions, type AdamWOptions, type RMSpropOptions, type AdagradOptions,
} from './optim/index';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { version } = require('../package.json') as { version: string };

/**
 * The package version, the kernel ISA in use, the thread count, `precisions`: which precisions
 * (`setPrecision`) run on this CPU's own instructions (`native`) and which through the portable
 * code that gives the same numbers, slower (`portable`: bf16 without AVX512_BF16, int8 without
 * AVX512-VNNI or AVX-VNNI), the micro-kernels of bf16 and int8 products, and the addon
 * loaded: a prebuild shipped in the package or a build made on this machine (its file in `addon`).
 */
export function info(): {
  version: string; isa: 'avx512' | 'avx2' | 'neon' | 'scalar'; threads: number; precisions: PrecisionsInfo;
  build: 'prebuild' | 'source'; addon: string;
} {
  const n = native.info();
  return { version, isa: n.isa, threads: n.threads, precisions: n.precisions, build: addonBuild, addon: addonPath };
}

/**
 * Threads the kernels use per call (default: FUSED_RNN_NUM_THREADS, else 1). Results are
 * bitwise identical for any count: work is split by output, never by a reduction.
 * @throws RangeError unless n is an integer in 1..256.
 */
export function setNumThreads(n: number): void {
  native.setNumThreads(checkInteger('n', n, 1, 256));
}
export {
  encodeSafetensors, decodeSafetensors, saveSafetensors, saveSafetensorsAsync, loadSafetensors, loadSafetensorsAsync,
  SafetensorsError, type Safetensors,
} from './io/safetensors';
export { loadOnnx, OnnxImportError, type LoadOnnxOptions } from './convert/onnx_import';
export { onnxBytes, type ExportOnnxOptions } from './convert/onnx_export';
export { loadTfjs, TfjsImportError, type LoadTfjsOptions } from './convert/tfjs_import';
export type { TfjsArtifacts, TfjsModelJson, TfjsWeightSpec } from './convert/tfjs_format';
export { convertModel, type ConvertOptions, type ConvertResult, type ModelFileFormat } from './convert/convert';
export { loadKerasWeights, loadKerasModel } from './convert/keras_h5';
