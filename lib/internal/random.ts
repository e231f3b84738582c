// A small seeded PRNG (mulberry32) so initialisation is reproducible from a `seed`.
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomSeed(): number {
  return Math.floor(Math.random() * 0x100000000);
}

/** A 32-bit mix of several integers: per-epoch shuffles, per-batch and per-call dropout seeds. */
export function mixSeed(...parts: number[]): number {
  let h = 0x811c9dc5;
  for (const p of parts) {
    h = Math.imul(h ^ (p >>> 0), 0x01000193) >>> 0;
    h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) >>> 0;
  }
  return h >>> 0;
}

/**
 * An inverted-dropout mask: each entry 0 with probability `rate`, else 1/(1-rate). The stream
 * is a function of (seed, stream) alone, so a training run can be replayed exactly.
 */
export function dropoutMask(n: number, rate: number, seed: number, stream: number): Float32Array {
  const rand = mulberry32((seed ^ Math.imul(stream + 1, 0x9e3779b9)) >>> 0);
  const keep = 1 - rate, scale = 1 / keep;
  const mask = new Float32Array(n);
  for (let i = 0; i < n; i++) mask[i] = rand() < keep ? scale : 0;
  return mask;
}

/** a ⊙ mask, in a new array. */
export function applyMask(a: Float32Array, mask: Float32Array): Float32Array {
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] * mask[i];
  return out;
}
