// Metrics fit and evaluate report besides the loss (Keras' `metrics`): mae for regression;
// perplexity (exp of the mean cross-entropy) and top-k accuracy for classification. Each is a mean
// over the valid rows or elements of every batch (steps past a sequence's end count for nothing).
import { checkInteger, invalidArg, invalidType, ownOptions } from '../internal/check';
import type { Flow } from '../layers/layer';
import { rowMask, type Loss, type LossResult } from './losses';

/** 'mae' (mean absolute error), 'perplexity' (crossEntropy), 'topK' or { name: 'topK', k } (class ids; k default 5). */
export type MetricSpec = 'mae' | 'perplexity' | 'topK' | { name: 'topK'; k?: number };

/** A metric's running sum over batches. */
interface Metric {
  /** The key it is reported under: mae, perplexity, top5, ... */
  readonly key: string;
  add(output: Flow, target: Float32Array, res: LossResult): void;
  value(): number;
}

const NAMES = ['mae', 'perplexity', 'topK'];

/** Checks `metrics` against the loss; returns a factory of fresh accumulators (one per epoch or evaluation). */
export function resolveMetrics(specs: unknown, loss: Loss): () => MetricSet {
  if (specs === undefined) return () => new MetricSet([]);
  if (!Array.isArray(specs)) throw invalidType('metrics', `an array of ${NAMES.join(', ')} or { name: 'topK', k }`, specs);
  const makers = specs.map((spec: unknown, i) => {
    const where = `metrics[${i}]`;
    const o = typeof spec === 'string' ? { name: spec } : ownOptions<{ name: unknown; k?: unknown }>(where, spec, ['name', 'k'], "{ name: 'topK', k }");
    if (o.name === 'mae') {
      if (loss.targets !== 'values') throw invalidArg(where, `a metric for class ids with loss '${loss.name}' (perplexity, topK)`, 'mae');
      return () => maeMetric();
    }
    if (o.name === 'perplexity') {
      if (loss.name !== 'crossEntropy') throw invalidArg(where, `a metric for loss '${loss.name}' (perplexity needs crossEntropy)`, 'perplexity');
      return () => perplexityMetric();
    }
    if (o.name === 'topK') {
      if (loss.targets !== 'classes') throw invalidArg(where, `a metric for loss '${loss.name}' (topK needs class ids: crossEntropy)`, 'topK');
      const k = checkInteger(`${where}.k`, o.k ?? 5, 1);
      return () => topKMetric(k);
    }
    throw (typeof o.name === 'string' ? invalidArg : invalidType)(`${where}.name`, `one of ${NAMES.join(', ')}`, o.name);
  });
  const keys = new Set<string>();
  for (const make of makers) {
    const key = make().key;
    if (keys.has(key)) throw invalidArg('metrics', 'each metric once', key);
    keys.add(key);
  }
  return () => new MetricSet(makers.map((make) => make()));
}

export class MetricSet {
  constructor(private readonly metrics: Metric[]) {}

  get empty(): boolean { return this.metrics.length === 0; }

  /** One batch: the model's output (its lengths mask the rows), the targets and the loss's result. */
  add(output: Flow, target: Float32Array, res: LossResult): void {
    for (const m of this.metrics) m.add(output, target, res);
  }

  /** The means so far, by key (metrics with nothing counted yet are left out). */
  values(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const m of this.metrics) {
      const v = m.value();
      if (!Number.isNaN(v)) out[m.key] = v;
    }
    return out;
  }
}

function maeMetric(): Metric {
  let sum = 0, n = 0;
  return {
    key: 'mae',
    add(output, target) {
      const F = output.shape[output.shape.length - 1];
      const { rows, valid } = rowMask(output);
      for (let r = 0; r < rows; r++) {
        if (!valid(r)) continue;
        for (let j = r * F; j < r * F + F; j++) sum += Math.abs(output.data[j] - target[j]);
        n += F;
      }
    },
    value: () => (n > 0 ? sum / n : NaN),
  };
}

/** exp(mean cross-entropy per row): the loss already is that mean, weighted by each batch's rows. */
function perplexityMetric(): Metric {
  let sum = 0, n = 0;
  return {
    key: 'perplexity',
    add(_output, _target, res) {
      sum += res.loss * res.counted;
      n += res.counted;
    },
    value: () => (n > 0 ? Math.exp(sum / n) : NaN),
  };
}

/** The target is among the k highest outputs (Keras' sparse top-k accuracy: ties count for the target). */
function topKMetric(k: number): Metric {
  let hits = 0, n = 0;
  return {
    key: `top${k}`,
    add(output, target) {
      const C = output.shape[output.shape.length - 1];
      const { rows, valid } = rowMask(output);
      for (let r = 0; r < rows; r++) {
        if (!valid(r)) continue;
        const t = output.data[r * C + target[r]];
        let above = 0;
        for (let j = r * C; j < r * C + C && above < k; j++) if (output.data[j] > t) above++;
        if (above < k) hits++;
        n++;
      }
    },
    value: () => (n > 0 ? hits / n : NaN),
  };
}
