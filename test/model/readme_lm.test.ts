// README's language-model recipe runs as written: the snippet is read from README.md and run on a
// small repeated text (its loss must fall), so the README cannot drift from the API.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect, test } from 'vitest';
import * as api from '../../lib/index';

function readmeSnippet(): string {
  const readme = fs.readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');
  const start = readme.indexOf('// A character-level language model');
  const end = readme.indexOf('});', readme.indexOf('await lm.fit(', start)) + 3;
  expect(start).toBeGreaterThan(0);
  return readme.slice(start, end);
}

test("README's language-model recipe (tokenStream, stateful truncated BPTT) runs as written and learns", async () => {
  const text = 'the quick brown fox jumps over the lazy dog. '.repeat(60);
  const chars = [...new Set(text)];
  const ids = Array.from(text, (c) => chars.indexOf(c));
  const vocab = chars.length;
  const snippet = readmeSnippet().replace('await lm.fit(', 'return lm.fit(');
  const names = Object.keys(api);
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  const run = new Function(...names, 'ids', 'vocab', `return (async () => { ${snippet} })();`) as (...args: unknown[]) => Promise<api.History>;
  const h = await run(...names.map((n) => (api as Record<string, unknown>)[n]), ids, vocab);
  expect(h.epochs.length).toBe(10);
  expect(h.updates).toBe(10 * Math.ceil(Math.floor((ids.length - 1) / 32) / 35));
  const first = h.epochs[0], last = h.epochs[9];
  expect(last.loss).toBeLessThan(0.5 * first.loss);
  // exp of the mean loss per token (the epoch's loss weighs each chunk equally, 35, 35 and 14 steps)
  expect(last.metrics!.perplexity).toBeLessThan(0.5 * first.metrics!.perplexity);
}, 120_000);

test('tokenStream lays the stream out as rows read in parallel, each target the next token', () => {
  const ids = Array.from({ length: 23 }, (_v, i) => i);
  const d = api.tokenStream(Int32Array.from(ids), { batchSize: 3 });
  const b = d.batches[0];
  expect((b.x as api.Tensor).shape).toEqual([3, 7]);
  expect(api.toArray(b.x as api.Tensor)).toEqual([[0, 1, 2, 3, 4, 5, 6], [7, 8, 9, 10, 11, 12, 13], [14, 15, 16, 17, 18, 19, 20]]);
  expect(api.toArray(b.y as api.Tensor)).toEqual([[1, 2, 3, 4, 5, 6, 7], [8, 9, 10, 11, 12, 13, 14], [15, 16, 17, 18, 19, 20, 21]]);
  expect(() => api.tokenStream([1, 2, 3], { batchSize: 3 })).toThrow(/at least 4 tokens/);
  expect(() => api.tokenStream([1, 2, -3, 4], { batchSize: 1 })).toThrow(/ids\[2\]/);
});
