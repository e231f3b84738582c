// `npm run bench:fit`: model.fit() throughput and the event-loop delay a server sees while it trains.
//
//   node bench/fit.js [--epochs=N] [--threads=N]
//
// Then the same fit reading its batches from an async iterable that takes 10 ms per batch, against
// the same batches in memory (the prefetch overlaps the wait with the update).
//
// Then a language model with a big softmax (Embedding(4000, 64) -> LSTM(64 -> 256) -> Dense(4000),
// 256 sequences of 50 tokens, batch 32): its Dense products and cross-entropy are the largest
// non-recurrent work a fit does; the event-loop delay is reported for it too.
//
// Model: LSTM(I=64 -> H=128, last step) -> Dense(10), cross-entropy, Adam, clipGradNorm 1;
// 2048 sequences of T=50, batch 64 (32 updates per epoch). Reports updates/s and sequences/s,
// the same updates done directly on the layer (forward + backward + optimizer, no model, no
// event-loop yield) and PyTorch's usual training loop for the same model (bench/torch_fit.py,
// when python3-torch is installed), both measured in the same run, and the event-loop delay
// (perf_hooks.monitorEventLoopDelay, 1 ms resolution) while fit() runs: p50 / p99 / max.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { monitorEventLoopDelay } = require('node:perf_hooks');
const { Adam, Dense, Embedding, LSTM, Sequential, setNumThreads, tensor, info } = require('..');

const args = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=')));
const epochs = Number(args.epochs ?? 2);
const threads = Number(args.threads ?? 1);
setNumThreads(threads);
const N = 2048, T = 50, I = 64, H = 128, C = 10, B = 64;

function data(seed) {
  let s = seed;
  const rand = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296);
  const x = new Float32Array(N * T * I).map(() => rand() * 2 - 1);
  const y = new Float32Array(N).map(() => Math.floor(rand() * C));
  return { x: tensor(x, [N, T, I]), y: tensor(y, [N]) };
}

function model() {
  return new Sequential([new LSTM({ inputSize: I, hiddenSize: H, returnSequences: false, seed: 1 }), new Dense({ units: C, seed: 2 })]);
}

async function timeFit(d, m = model(), loss = 'crossEntropy', epochCount = epochs, extra = { shuffle: true }) {
  const h = monitorEventLoopDelay({ resolution: 1 });
  // A timer that must keep firing: the server's other work.
  let ticks = 0;
  const timer = setInterval(() => { ticks++; }, 5);
  h.enable();
  const t0 = process.hrtime.bigint();
  const hist = await m.fit(d, { epochs: epochCount, batchSize: B, optimizer: new Adam({ lr: 1e-3 }), loss, clipGradNorm: 1, ...extra });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  h.disable();
  clearInterval(timer);
  return { seconds, updates: hist.updates, loss: hist.epochs.at(-1).loss, ticks,
    p50: h.percentile(50) / 1e6, p99: h.percentile(99) / 1e6, max: h.max / 1e6 };
}

// The same work straight on the layer: time-major batches prepared up front, forward + backward
// on the LSTM, the Dense head and loss skipped (they are part of what the model layer adds).
function timeLayer(d) {
  const lstm = new LSTM({ inputSize: I, hiddenSize: H, seed: 1 });
  const opt = new Adam({ lr: 1e-3 });
  const params = lstm.parameters();
  const batches = [];
  for (let s = 0; s < N; s += B) {
    const xb = new Float32Array(T * B * I);
    for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) xb.set(d.x.data.subarray(((s + b) * T + t) * I, ((s + b) * T + t + 1) * I), (t * B + b) * I);
    batches.push(tensor(xb, [T, B, I]));
  }
  const gradHN = tensor(new Float32Array(B * H).fill(1e-3), [1, B, H]);
  const t0 = process.hrtime.bigint();
  for (let e = 0; e < epochs; e++) {
    for (const xb of batches) {
      lstm.zeroGrad();
      lstm.forward(xb, { training: true });
      lstm.backward({ gradHN });
      opt.step(params);
    }
  }
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

// PyTorch on the same machine, same model and loop; null when python3-torch is absent.
function timeTorch() {
  const python = fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
  const r = spawnSync(python, [path.join(__dirname, 'torch_fit.py'), `--epochs=${epochs}`, `--threads=${threads}`], { encoding: 'utf8' });
  if (r.status !== 0) return null;
  try {
    return JSON.parse(r.stdout.trim().split('\n').at(-1));
  } catch {
    return null;
  }
}

(async () => {
  const d = data(7);
  console.log(`fused-rnn ${info().version} isa=${info().isa} threads=${info().threads}: fit LSTM(${I}->${H}) -> Dense(${C}), N=${N} T=${T} B=${B}, ${epochs} epochs`);
  await timeFit(d);  // warm-up (thread-local scratch, page faults)
  const fitRun = await timeFit(d);
  const layerSeconds = timeLayer(d);
  const torch = timeTorch();
  const f = (v, n = 2) => v.toFixed(n);
  console.log(`fit():          ${f(fitRun.seconds)} s  ${f(fitRun.updates / fitRun.seconds, 1)} updates/s  ${f(N * epochs / fitRun.seconds, 0)} sequences/s  last loss ${f(fitRun.loss, 4)}`);
  console.log(`layer directly: ${f(layerSeconds)} s  (same updates, no model layer, no yields)`);
  console.log(`ratio layer/fit: ${f(layerSeconds / fitRun.seconds)}  (1.00 = the model API adds nothing)`);
  if (torch) {
    console.log(`PyTorch ${torch.torch}:  ${f(torch.seconds)} s  ${f(torch.updates / torch.seconds, 1)} updates/s  (bench/torch_fit.py, same model and loop)`);
    console.log(`ratio PyTorch/fit: ${f(torch.seconds / fitRun.seconds)}  (> 1: fit() is faster)`);
  } else {
    console.log('PyTorch: not installed (Debian: apt-get install python3-torch); no peer row');
  }
  console.log(`event-loop delay during fit: p50 ${f(fitRun.p50, 1)} ms  p99 ${f(fitRun.p99, 1)} ms  max ${f(fitRun.max, 1)} ms  (a 5 ms timer fired ${fitRun.ticks} times)`);

  // Data read as it trains: the same batches from an async iterable whose every batch takes 10 ms
  // to arrive (a file or database read), against the same batches in memory, same run. fit asks
  // for the next batch before the current update starts, so the wait overlaps the update.
  const batches = [];
  for (let s0 = 0; s0 < N; s0 += B) {
    batches.push({ x: tensor(d.x.data.slice(s0 * T * I, (s0 + B) * T * I), [B, T, I]), y: tensor(d.y.data.slice(s0, s0 + B), [B]) });
  }
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  const slowStream = { async *[Symbol.asyncIterator]() { for (const b of batches) { await sleep(10); yield b; } } };
  // Alternated, best of 3 each: the machine's noise hits both alike.
  let inMemory = null, streamed = null;
  for (let round = 0; round < 3; round++) {
    const m = await timeFit({ batches }, model(), 'crossEntropy', epochs, { shuffle: false });
    const st = await timeFit(slowStream, model(), 'crossEntropy', epochs, { shuffle: false });
    if (!inMemory || m.seconds < inMemory.seconds) inMemory = m;
    if (!streamed || st.seconds < streamed.seconds) streamed = st;
  }
  const waits = streamed.updates * 0.01;
  console.log(`async iterable, 10 ms per batch: ${f(streamed.seconds)} s vs ${f(inMemory.seconds)} s in memory (same batches, same run): ` +
    `${f(streamed.seconds / inMemory.seconds, 3)}x; without prefetching the waits alone would add ${f(waits)} s (${f((inMemory.seconds + waits) / inMemory.seconds, 3)}x)`);

  const V = 4000, LT = 50, LN = 256;
  let s = 11;
  const rand = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296);
  const ids = new Float32Array(LN * LT).map(() => Math.floor(rand() * V));
  const next = new Float32Array(LN * LT).map(() => Math.floor(rand() * V));
  const lm = new Sequential([new Embedding({ numEmbeddings: V, embeddingDim: 64, seed: 1 }),
    new LSTM({ inputSize: 64, hiddenSize: 256, seed: 2 }), new Dense({ units: V, seed: 3 })]);
  const lmRun = await timeFit({ x: tensor(ids, [LN, LT]), y: tensor(next, [LN, LT]) }, lm, 'crossEntropy', 1);
  console.log(`LM (V=${V}, LSTM 256, T=${LT}, batch ${B}, ${LN} sequences): ${f(lmRun.updates / lmRun.seconds, 1)} updates/s; event-loop delay p50 ${f(lmRun.p50, 1)} ms  p99 ${f(lmRun.p99, 1)} ms  max ${f(lmRun.max, 1)} ms`);
})();
