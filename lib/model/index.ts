// The model API: Sequential and the layers that only make sense inside one.
export { Sequential, type SequentialLayer, type PredictOptions, type ModelState } from './sequential';
export { Dense, type DenseOptions, type DenseActivation } from './dense';
export { Embedding, type EmbeddingOptions } from './embedding';
export { Dropout, type DropoutOptions } from './dropout';
export type { Dataset, BatchedDataset, SequenceArray, TargetArray } from './data';
export type { FitOptions, History, BatchInfo, EpochInfo } from './fit';
export type { LossName, LossSpec } from './losses';
