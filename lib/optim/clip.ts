// Gradient clipping by global norm (torch.nn.utils.clip_grad_norm_), without writing the gradients:
// gradNorm() gives the pre-clip norm (report it to callbacks), clipCoefficient() the factor that
// optimizer.step(params, { gradScale }) multiplies every gradient by on the fly. Clipping by value
// is step()'s `clipValue`.
import { checkNonNegative, invalidArg, invalidType } from '../internal/check';
import { native } from '../native';
import type { ParamLike } from './optimizers';

/** torch's clip_grad_norm_ adds this to the norm before dividing. */
export const CLIP_NORM_EPS = 1e-6;

function gradsOf(params: readonly ParamLike[]): Float32Array[] {
  if (!Array.isArray(params)) throw invalidType('params', 'array of { name, value, grad }', params);
  return params.map((p, i) => {
    const g = typeof p === 'object' && p !== null ? (p.grad as unknown) : undefined;
    if (g instanceof Float32Array) return g;
    if (typeof g === 'object' && g !== null && (g as { data?: unknown }).data instanceof Float32Array) return (g as { data: Float32Array }).data;
    throw invalidType(`params[${i}].grad`, 'Float32Array or Tensor', g);
  });
}

/**
 * The L2 norm of all gradients together, as if concatenated: sqrt of a float64 sum of squares in
 * a fixed order (torch takes the norm of float32 per-tensor norms: the two differ in the last bits).
 * @example gradNorm(lstm.parameters()) // 0.8123...
 * @throws TypeError when an entry has no Float32Array (or Tensor) grad.
 */
export function gradNorm(params: readonly ParamLike[]): number {
  return Math.sqrt(native.sumSquares(gradsOf(params)) as number);
}

/**
 * torch's clip coefficient: min(1, maxNorm / (norm + 1e-6)), evaluated in float32 the way
 * clip_grad_norm_ evaluates it on its float32 norm tensor (reciprocal, then times maxNorm).
 * 1 when the norm is within maxNorm; NaN for a NaN norm (step() then refuses the gradScale).
 * @example clipCoefficient(10, 1) // 0.0999999...
 * @throws TypeError / RangeError unless norm and maxNorm are numbers >= 0 (norm may be Infinity or NaN).
 */
export function clipCoefficient(norm: number, maxNorm: number): number {
  if (typeof norm !== 'number') throw invalidType('norm', 'number >= 0', norm);
  if (norm < 0) throw invalidArg('norm', 'number >= 0 (a norm; Infinity and NaN pass through)', norm);
  checkNonNegative('maxNorm', maxNorm);
  const f = Math.fround;
  const coef = f(f(1 / f(f(norm) + f(CLIP_NORM_EPS))) * f(maxNorm));  // max_norm / (total_norm + 1e-6)
  return Number.isNaN(coef) ? NaN : Math.min(coef, 1);  // torch.clamp(clip_coef, max=1.0)
}

/**
 * Both at once: the pre-clip norm, and the gradScale to pass to step().
 * @example const { norm, gradScale } = clipGradNorm(params, 1.0); opt.step(params, { gradScale });
 */
export function clipGradNorm(params: readonly ParamLike[], maxNorm: number): { norm: number; gradScale: number } {
  const norm = gradNorm(params);
  return { norm, gradScale: clipCoefficient(norm, maxNorm) };
}
