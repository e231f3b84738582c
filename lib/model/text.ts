// Token streams for language models: one long stream of ids laid out as rows read in parallel,
// the layout stateful truncated BPTT needs (PyTorch's word_language_model `batchify`).
import { checkInteger, invalidArg, invalidType, ownOptions } from '../internal/check';
import type { BatchedDataset } from './data';

export interface TokenStreamOptions {
  /** Rows read in parallel: the stream is cut into this many contiguous parts. */
  batchSize: number;
}

/**
 * Lays a stream of token ids out for stateful truncated BPTT: cut into `batchSize` contiguous
 * rows of L = floor((n - 1) / batchSize) tokens (the remainder is dropped), row b holding tokens
 * [b·L, (b+1)·L) as x and each one's next token as y. The result is one batch; fit with
 * `bptt: { steps, stateful: true }, shuffle: false` trains it `steps` tokens at a time, each row
 * carrying its state from chunk to chunk, so row b reads its part of the stream in order.
 * @example await lm.fit(tokenStream(ids, { batchSize: 32 }), { loss: 'crossEntropy', bptt: { steps: 35, stateful: true }, shuffle: false, ... })
 */
export function tokenStream(ids: ArrayLike<number>, options: TokenStreamOptions): BatchedDataset {
  const o = ownOptions<TokenStreamOptions>('tokenStream options', options, ['batchSize']);
  const B = checkInteger('batchSize', o.batchSize, 1);
  if (ids === null || typeof ids !== 'object' || typeof ids.length !== 'number') throw invalidType('ids', 'an array or typed array of token ids', ids);
  const L = Math.floor((ids.length - 1) / B);
  if (L < 1) throw invalidArg('ids', `at least ${B + 1} tokens (batchSize + 1)`, ids.length);
  const x = new Float32Array(B * L), y = new Float32Array(B * L);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < L; t++) {
      const i = b * L + t;
      for (const k of [i, i + 1]) {
        const v = ids[k];
        if (!(Number.isInteger(v) && v >= 0)) throw (typeof v === 'number' ? invalidArg : invalidType)(`ids[${k}]`, 'a token id (an integer >= 0)', v);
      }
      x[i] = ids[i];
      y[i] = ids[i + 1];
    }
  }
  return { batches: [{ x: { shape: [B, L], data: x }, y: { shape: [B, L], data: y } }] };
}
