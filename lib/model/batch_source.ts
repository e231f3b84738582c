// Where training and inference batches come from: samples in memory (cut into batches), or an
// async iterable of batches (data that does not fit in memory: read from files or a database as
// it trains), read one batch ahead so that loading overlaps the update running meanwhile.
import { invalidArg } from '../internal/check';
import { Samples, type Batch, type DataSpec, type Dataset } from './data';

/** Batches read as training goes: each element one batch `{ x, y, lengths? }`. Iterated once per
 * epoch: `[Symbol.asyncIterator]()` must start over each time (an async generator object runs once). */
export type BatchIterable = AsyncIterable<Dataset>;

export function isBatchIterable(v: unknown): v is BatchIterable {
  return typeof v === 'object' && v !== null && typeof (v as BatchIterable)[Symbol.asyncIterator] === 'function';
}

/** The batches of samples in memory, `indices` each. */
export async function* memoryBatches(samples: Samples, batches: readonly number[][], skip = 0): AsyncGenerator<Batch> {
  for (let b = skip; b < batches.length; b++) yield samples.batch(batches[b]);
}

/** Consecutive batches of at most batchSize samples, in order. */
export function inOrder(n: number, batchSize: number): number[][] {
  const out: number[][] = [];
  for (let s = 0; s < n; s += batchSize) out.push(Array.from({ length: Math.min(batchSize, n - s) }, (_v, j) => s + j));
  return out;
}

/**
 * One pass over an iterable of batches, each checked and laid out as the in-memory ones are (errors
 * name it `data[k]`). The next batch is requested before this one is handed on: its loading (I/O,
 * timers, another thread) and its layout run while the caller's update does. The first `skip` batches are read
 * and dropped (a fit resumed inside an epoch). The iterator is closed when the caller stops early.
 */
export async function* streamBatches(data: BatchIterable, spec: DataSpec, name: string, skip = 0, needTargets = true): AsyncGenerator<Batch> {
  const it = data[Symbol.asyncIterator]();
  let requested = 0;
  // Checked and laid out as soon as it arrives, while the update before it runs on the workers.
  const request = () => {
    const k = requested++;
    const p = Promise.resolve(it.next()).then((r): IteratorResult<Batch | null> => {
      if (r.done) return { done: true, value: undefined };
      if (k < skip) return { done: false, value: null };
      const samples = Samples.from(r.value, spec, `${name}[${k}]`, needTargets);
      return { done: false, value: samples.batch(inOrder(samples.length, samples.length)[0]) };
    });
    p.catch(() => {});  // awaited below; a rejection while the update runs is not unhandled
    return p;
  };
  let next = request();
  try {
    for (;;) {
      const r = await next;
      if (r.done) return;
      next = request();
      if (r.value !== null) yield r.value;
    }
  } finally {
    // Closes the source's files or cursors when the caller stops early; an error of its own then
    // would hide the one that stopped training.
    await Promise.resolve(it.return?.()).catch(() => {});
  }
}

/** A stream that gave no batch in an epoch: said plainly (a spent generator is the usual cause). */
export function emptyStreamError(name: string, epoch: number): RangeError {
  return invalidArg(name, epoch === 0 ? 'an async iterable giving at least one batch'
    : 'an async iterable whose [Symbol.asyncIterator]() starts over every epoch (an async generator object runs once: ' +
      'pass { [Symbol.asyncIterator]: () => readBatches() } or epochs: 1)', `no batch in epoch ${epoch}`);
}
