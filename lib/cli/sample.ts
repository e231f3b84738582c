// `fused-rnn sample`: streams text from a language model one token at a time with model.step(),
// each token printed as soon as it is drawn (temperature, top-k; seeded).
import { Sequential } from '../index';
import { mulberry32 } from '../internal/random';
import { CliError } from './errors';
import { readTask } from './task';
import { encode, joinToken, tokenize } from './text';

export interface SampleOptions {
  length: number;
  temperature: number;
  topK: number;
  prime: string;
  seed: number;
}

/** A token id drawn from logits / temperature, among the top k (k = 0: all). */
export function drawToken(logits: ArrayLike<number>, temperature: number, topK: number, random: () => number): number {
  const ids = Array.from({ length: logits.length }, (_v, i) => i);
  if (topK > 0 && topK < ids.length) ids.sort((a, b) => logits[b] - logits[a]).length = topK;
  const max = Math.max(...ids.map((i) => logits[i]));
  const w = ids.map((i) => Math.exp((logits[i] - max) / temperature));
  let r = random() * w.reduce((s, v) => s + v, 0);
  for (let k = 0; k < ids.length; k++) {
    r -= w[k];
    if (r <= 0) return ids[k];
  }
  return ids[ids.length - 1];
}

export async function sample(dir: string, o: SampleOptions, write: (s: string) => void): Promise<void> {
  const task = await readTask(dir);
  if (task.kind !== 'text') throw new CliError(`${dir} holds a CSV sequence model: use \`fused-rnn predict\``);
  if (!(o.temperature > 0)) throw new CliError(`--temperature must be a positive number, not ${o.temperature}`);
  const model = await Sequential.load(dir);
  const primeTokens = tokenize(o.prime, task.unit);
  const prime = encode(primeTokens.length > 0 ? primeTokens : [task.vocabulary[0]], task.vocabulary, task.unit);
  const random = mulberry32(o.seed);
  let s = model.step([prime[0]]);
  for (const id of prime.slice(1)) s = model.step([id], s.state);
  write(o.prime);
  for (let n = 0; n < o.length; n++) {
    const id = drawToken(s.output.data, o.temperature, o.topK, random);
    write(joinToken(task.vocabulary[id], task.unit, n === 0 && o.prime === ''));
    s = model.step([id], s.state);
  }
  write('\n');
}
