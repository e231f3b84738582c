// `npm run bench`: the standard workloads (../shared/bench/shapes.json, copied below) through
// the public API: median time per call and GFLOP/s (FLOPs as shapes.json counts them:
// 2*T*B*(I+H)*G*H per forward, 3x that per training step), plus step() latency.
// Peers (oneDNN, PyTorch, onnxruntime) and the native bench come with the speed issue.
'use strict';
const { LSTM, GRU, info, tensor } = require('..');

const SHAPES = [
  { name: 'stream', T: 1, B: 1, I: 64, H: 128, modes: ['infer'] },
  { name: 'small', T: 32, B: 16, I: 32, H: 64, modes: ['infer', 'train'] },
  { name: 'medium', T: 50, B: 64, I: 128, H: 256, modes: ['infer', 'train'] },
  { name: 'large', T: 50, B: 128, I: 512, H: 512, modes: ['infer', 'train'] },
  { name: 'long', T: 500, B: 8, I: 64, H: 256, modes: ['infer', 'train'] },
];
const only = process.argv.slice(2);

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}

/** Runs fn until ~budgetMs have passed (at least 3 times) and returns the median ms per call. */
function time(fn, budgetMs = 1500) {
  fn();
  const samples = [];
  const start = performance.now();
  while (samples.length < 3 || (performance.now() - start < budgetMs && samples.length < 200)) {
    const t0 = performance.now();
    fn();
    samples.push(performance.now() - t0);
  }
  return median(samples);
}

console.log(`fused-rnn ${info().version}, isa ${info().isa}, threads ${info().threads}`);
console.log('cell  workload  mode   ms/call   GFLOP/s');
for (const [cellName, Cell, G] of [['lstm', LSTM, 4], ['gru', GRU, 3]]) {
  for (const s of SHAPES) {
    if (only.length && !only.includes(s.name)) continue;
    const layer = new Cell({ inputSize: s.I, hiddenSize: s.H, seed: 1 });
    const x = tensor(Float32Array.from({ length: s.T * s.B * s.I }, (_, i) => Math.sin(i)), [s.T, s.B, s.I]);
    const flops = 2 * s.T * s.B * (s.I + s.H) * G * s.H;
    for (const mode of s.modes) {
      const ms = mode === 'infer'
        ? time(() => layer.forward(x))
        : time(() => {
          const { output } = layer.forward(x, { training: true });
          layer.backward({ gradOutput: output });
        });
      const f = mode === 'infer' ? flops : 3 * flops;
      console.log(`${cellName.padEnd(5)} ${s.name.padEnd(9)} ${mode.padEnd(6)} ${ms.toFixed(3).padStart(9)} ${(f / ms / 1e6).toFixed(2).padStart(9)}`);
    }
  }
}
if (!only.length || only.includes('stream')) {
  const lstm = new LSTM({ inputSize: 64, hiddenSize: 128, seed: 1 });
  const x = tensor(new Float32Array(64).fill(0.1), [1, 64]);
  let state;
  const us = time(() => { state = lstm.step(x, state && state.state); }, 1000) * 1000;
  console.log(`lstm step() latency (B=1, I=64, H=128): ${us.toFixed(1)} µs median`);
}
