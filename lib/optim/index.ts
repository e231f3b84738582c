// Optimizers (torch.optim semantics, one native call per step), gradient clipping, learning-rate schedules.
export {
  Optimizer, SGD, Adam, AdamW, RMSprop, Adagrad,
  type ParamRef, type ParamLike, type StepOptions, type OptimizerKind, type OptimizerStateDict,
  type SGDOptions, type AdamOptions, type AdamWOptions, type RMSpropOptions, type AdagradOptions,
} from './optimizers';
export { gradNorm, clipCoefficient, clipGradNorm, CLIP_NORM_EPS } from './clip';
export { stepLR, exponentialLR, cosineAnnealingLR, constantLR, warmup, type Schedule } from './schedules';
