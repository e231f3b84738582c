// Small seeded sequence tasks the model tests train on.
import { tensor, type Tensor } from '../../lib/index';
import { mulberry32 } from '../helpers/gradcheck';

/** The adding problem (Hochreiter & Schmidhuber): x[t] = (value, marker); y = sum of the two marked values. */
export function addingProblem(n: number, T: number, seed: number): { x: Tensor; y: Tensor } {
  const rng = mulberry32(seed);
  const x = new Float32Array(n * T * 2), y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const a = Math.floor(rng() * (T / 2));
    const b = Math.floor(T / 2 + rng() * (T / 2));
    for (let t = 0; t < T; t++) {
      x[(i * T + t) * 2] = rng();
      x[(i * T + t) * 2 + 1] = t === a || t === b ? 1 : 0;
    }
    y[i] = x[(i * T + a) * 2] + x[(i * T + b) * 2];
  }
  return { x: tensor(x, [n, T, 2]), y: tensor(y, [n, 1]) };
}

/**
 * The seed's memory task: x[t] = (x1, x2, x3). When x2 = 1 add x1 to the memory, when x2 = -1
 * reset it to 0; the target at each step is the memory when x3 = 1, else 0. x1 is an integer in
 * 1..6 times `scale`, as in the seed example (../shared/fixtures/seed/README.md).
 */
export function memoryTask(n: number, T: number, seed: number, scale = 1): { x: number[][][]; y: number[][][] } {
  const rng = mulberry32(seed);
  const xs: number[][][] = [], ys: number[][][] = [];
  for (let i = 0; i < n; i++) {
    let mem = 0;
    const x: number[][] = [], y: number[][] = [];
    for (let t = 0; t < T; t++) {
      const x1 = (1 + Math.floor(rng() * 6)) * scale;  // the seed's values: integers 1..6
      const r = rng();
      const x2 = r < 0.25 ? 1 : r < 0.35 ? -1 : 0;
      const x3 = rng() < 0.3 ? 1 : 0;
      if (x2 === 1) mem += x1;
      else if (x2 === -1) mem = 0;
      x.push([x1, x2, x3]);
      y.push([x3 === 1 ? mem : 0]);
    }
    xs.push(x);
    ys.push(y);
  }
  return { x: xs, y: ys };
}

/** A tiny character language-model task: windows of T = 32 characters of a repeated text (stride
 * 4), targets shifted by one; `chars` is the sorted alphabet (token id = index). */
export function charTask(): { chars: string[]; id: (c: string) => number; xs: number[][]; ys: number[][] } {
  const text = 'the quick brown fox jumps over the lazy dog. a stitch in time saves nine. all that glitters is not gold. '.repeat(4);
  const chars = [...new Set(text)].sort();
  const id = (c: string) => chars.indexOf(c);
  const T = 32, xs: number[][] = [], ys: number[][] = [];
  for (let s = 0; s + T + 1 < text.length; s += 4) {
    xs.push([...text.slice(s, s + T)].map(id));
    ys.push([...text.slice(s + 1, s + T + 1)].map(id));
  }
  return { chars, id, xs, ys };
}
