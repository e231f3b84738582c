// Losses over a model's output: the value (mean over valid elements) and dL/d(output).
// Sequences are masked by their lengths: steps past a sequence's end add nothing.
import { checkKnownKeys, checkOneOf, invalidArg, invalidType } from '../internal/check';
import type { Flow } from './layer';

export type LossName = 'mse' | 'mae' | 'huber' | 'crossEntropy' | 'binaryCrossEntropy';
/** A loss by name, or { name: 'huber', delta } (delta default 1, as PyTorch's HuberLoss). */
export type LossSpec = LossName | { name: LossName; delta?: number };

export interface LossResult {
  /** Mean over valid elements (rows for crossEntropy). */
  loss: number;
  /** dLoss/d(output), same shape as the output. */
  grad: Float32Array;
  /** Correct / counted (classification losses only). */
  correct: number;
  counted: number;
}

export interface Loss {
  readonly name: LossName;
  /** 'classes': one integer id per output row (crossEntropy); 'values': one target per output element. */
  readonly targets: 'classes' | 'values';
  readonly hasAccuracy: boolean;
  compute(output: Flow, target: Float32Array): LossResult;
}

const NAMES = ['mse', 'mae', 'huber', 'crossEntropy', 'binaryCrossEntropy'] as const;

export function resolveLoss(spec: unknown): Loss {
  if (typeof spec === 'string') return makeLoss(checkOneOf('loss', spec, NAMES), 1);
  if (typeof spec !== 'object' || spec === null) throw invalidType('loss', `one of ${NAMES.join(', ')} or { name, delta }`, spec);
  checkKnownKeys('loss', spec, ['name', 'delta']);
  const s = spec as { name: unknown; delta?: unknown };
  const name = checkOneOf('loss.name', s.name, NAMES);
  const delta = s.delta ?? 1;
  if (typeof delta !== 'number' || !(delta > 0) || !Number.isFinite(delta)) throw invalidArg('loss.delta', 'a positive number', delta);
  return makeLoss(name, delta);
}

/** Which output rows count: all, or (sequences) those before each sequence's end. */
function rowMask(output: Flow): { rows: number; valid: (r: number) => boolean; validRows: number } {
  const F = output.shape[output.shape.length - 1];
  const rows = output.data.length / F;
  const lengths = output.lengths;
  if (!lengths || output.shape.length !== 3) return { rows, valid: () => true, validRows: rows };
  const B = output.shape[1];
  let validRows = 0;
  for (let b = 0; b < B; b++) validRows += lengths[b];
  return { rows, valid: (r) => Math.floor(r / B) < lengths[r % B], validRows };
}

function makeLoss(name: LossName, delta: number): Loss {
  const elementwise = (f: (d: number, y: number, t: number) => [number, number], accuracy = false): Loss => ({
    name,
    targets: 'values',
    hasAccuracy: accuracy,
    compute(output, target) {
      const F = output.shape[output.shape.length - 1];
      const { rows, valid, validRows } = rowMask(output);
      const n = validRows * F;
      const grad = new Float32Array(output.data.length);
      let sum = 0, correct = 0;
      for (let r = 0; r < rows; r++) {
        if (!valid(r)) continue;
        for (let j = r * F; j < r * F + F; j++) {
          const y = output.data[j], t = target[j];
          const [l, g] = f(y - t, y, t);
          sum += l;
          grad[j] = g / n;
          if (accuracy && (y > 0) === (t > 0.5)) correct++;
        }
      }
      return { loss: sum / n, grad, correct, counted: accuracy ? n : 0 };
    },
  });
  switch (name) {
    case 'mse': return elementwise((d) => [d * d, 2 * d]);
    case 'mae': return elementwise((d) => [Math.abs(d), d > 0 ? 1 : d < 0 ? -1 : 0]);
    case 'huber': return elementwise((d) => Math.abs(d) <= delta
      ? [0.5 * d * d, d]
      : [delta * (Math.abs(d) - 0.5 * delta), d > 0 ? delta : -delta]);
    // With logits z and targets t in [0, 1]: max(z,0) - z t + log(1 + e^-|z|) (PyTorch BCEWithLogits).
    case 'binaryCrossEntropy': return elementwise((_d, z, t) => [
      Math.max(z, 0) - z * t + Math.log1p(Math.exp(-Math.abs(z))), 1 / (1 + Math.exp(-z)) - t], true);
    case 'crossEntropy': return {
      name, targets: 'classes', hasAccuracy: true,
      compute(output, target) {
        const C = output.shape[output.shape.length - 1];
        const { rows, valid, validRows } = rowMask(output);
        const grad = new Float32Array(output.data.length);
        let sum = 0, correct = 0;
        for (let r = 0; r < rows; r++) {
          if (!valid(r)) continue;
          const z = output.data.subarray(r * C, r * C + C);
          const cls = target[r];
          if (!Number.isInteger(cls) || cls < 0 || cls >= C) throw invalidArg('target class', `integer in 0..${C - 1}`, cls);
          let max = -Infinity, arg = 0;
          for (let c = 0; c < C; c++) if (z[c] > max) { max = z[c]; arg = c; }
          let se = 0;
          for (let c = 0; c < C; c++) se += Math.exp(z[c] - max);
          sum += Math.log(se) + max - z[cls];
          for (let c = 0; c < C; c++) grad[r * C + c] = (Math.exp(z[c] - max) / se - (c === cls ? 1 : 0)) / validRows;
          if (arg === cls) correct++;
        }
        return { loss: sum / validRows, grad, correct, counted: validRows };
      },
    };
  }
}
