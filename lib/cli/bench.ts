// `fused-rnn bench`: the standard workloads (bench/shapes.json; test/cli checks the copy below)
// through the package's public API: median milliseconds per call and GFLOP/s, inference
// (layer.forward) and a training step (forward + backward with every weight gradient).
import { GRU, LSTM, setNumThreads, tensor, type Recurrent } from '../index';

export const WORKLOADS = [
  { name: 'stream', T: 1, B: 1, I: 64, H: 128, modes: ['infer'] },
  { name: 'small', T: 32, B: 16, I: 32, H: 64, modes: ['infer', 'train'] },
  { name: 'medium', T: 50, B: 64, I: 128, H: 256, modes: ['infer', 'train'] },
  { name: 'large', T: 50, B: 128, I: 512, H: 512, modes: ['infer', 'train'] },
  { name: 'long', T: 500, B: 8, I: 64, H: 256, modes: ['infer', 'train'] },
] as const;

export interface BenchRow { workload: string; cell: string; mode: string; threads: number; ms: number; gflops: number; calls: number }

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** One warm-up call, then calls until `budget` seconds and at least 3: the median. */
function time(fn: () => void, budget: number): { ms: number; calls: number } {
  fn();
  const samples: number[] = [];
  const start = performance.now();
  while (performance.now() - start < budget * 1000 || samples.length < 3) {
    const t0 = performance.now();
    fn();
    samples.push(performance.now() - t0);
  }
  return { ms: median(samples), calls: samples.length };
}

export function runBench(o: { workloads: string[]; cells: string[]; modes: string[]; threads: number; budget: number },
  onRow: (r: BenchRow) => void): void {
  setNumThreads(o.threads);
  for (const w of WORKLOADS.filter((x) => o.workloads.includes(x.name))) {
    for (const cell of o.cells) {
      const G = cell === 'lstm' ? 4 : 3;
      const layer: Recurrent = cell === 'lstm' ? new LSTM({ inputSize: w.I, hiddenSize: w.H, seed: 1 }) : new GRU({ inputSize: w.I, hiddenSize: w.H, seed: 1 });
      const x = tensor(new Float32Array(w.T * w.B * w.I).fill(0.1), [w.T, w.B, w.I]);
      const dy = tensor(new Float32Array(w.T * w.B * w.H).fill(0.01), [w.T, w.B, w.H]);
      for (const mode of (w.modes as readonly string[]).filter((m) => o.modes.includes(m))) {
        const train = mode === 'train';
        const t = time(train ? () => { layer.forward(x, { training: true }); layer.backward({ gradOutput: dy }); } : () => { layer.forward(x); }, o.budget);
        const flops = 2 * w.T * w.B * (w.I + w.H) * G * w.H * (train ? 3 : 1);
        onRow({ workload: w.name, cell, mode, threads: o.threads, ms: t.ms, gflops: flops / (t.ms * 1e6), calls: t.calls });
      }
    }
  }
}
