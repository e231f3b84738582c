// The batched streaming step beside onnxruntime-node, one thread each, in the same run: one
// `layer.step(x [B, I], state)` of an LSTM (I = 64, H = 128 by default) against an ORT session
// running the layer as onnxBytes(model, { states: true }) exports it, for one time step (x [1, B, I],
// h0.0, c0.0 in; y, hN.0, cN.0 out; weights as initializers). Rounds alternate ours / ORT so both see the same
// machine load; the table gives medians over the rounds, GFLOP/s (2*B*(I+H)*4H per step) against
// the 1-core FMA peak bench_rnn measures (build-bench/bench_rnn, `npm run bench:native`), and
// ORT time / ours (> 1: ours faster). Issue target: >= 1.5 at B = 64 and B = 256.
//
//   node bench/step.js [--budget=SECONDS] [--batches=1,64,256] [--I=64] [--H=128] [--cell=lstm|gru]
'use strict';

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { LSTM, GRU, Sequential, info, onnxBytes, setNumThreads } = require('../dist/index.js');

const ROOT = path.join(__dirname, '..');
const BENCH_RNN = path.join(ROOT, 'build-bench', 'bench_rnn');
const now = () => performance.now() / 1e3;

function options(argv) {
  const o = { budget: 1, batches: [1, 64, 256], I: 64, H: 128, cell: 'lstm' };
  for (const a of argv) {
    const [k, v] = a.replace(/^--/, '').split('=');
    if (k === 'budget') o.budget = Number(v);
    else if (k === 'batches') o.batches = v.split(',').map(Number);
    else if (k === 'I' || k === 'H') o[k] = Number(v);
    else if (k === 'cell' && (v === 'lstm' || v === 'gru')) o.cell = v;
    else throw new Error(`unknown option ${a} (see the comment at the top of bench/step.js)`);
  }
  return o;
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : 0.5 * (s[s.length / 2 - 1] + s[s.length / 2]);
}

function random(n, seed) {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t ^= t + Math.imul(t ^ (t >>> 7), 61 | t);
    return (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  });
}

/** Seconds per call of fn over `calls` calls: wall time, and the process's CPU time (what a
 * busy machine inflates least: time spent waiting for a core is not in it). */
async function perCall(fn, calls) {
  const c0 = process.cpuUsage(), t0 = now();
  for (let i = 0; i < calls; i++) await fn();
  const c = process.cpuUsage(c0);
  return { wall: (now() - t0) / calls, cpu: (c.user + c.system) / 1e6 / calls };
}

/** The 1-core FMA peak from bench_rnn's header (GFLOP/s), or null when it is not built. */
function measuredPeak() {
  if (!fs.existsSync(BENCH_RNN)) return null;
  const out = execFileSync(BENCH_RNN, ['stream', 'lstm', 'infer', 't1', '--no-dnnl', '--no-check', '--budget=0.01'], { encoding: 'utf8' });
  const m = out.match(/%peak = GFLOP\/s \/ \(([\d.]+)/);
  return m ? Number(m[1]) : null;
}

async function main() {
  const o = options(process.argv.slice(2));
  setNumThreads(1);
  let ort;
  try {
    ort = require('onnxruntime-node');
  } catch {
    console.log('onnxruntime-node not installed (`npm i --no-save onnxruntime-node`): no peer, no ratios');
  }
  const ortVersion = ort ? require('onnxruntime-node/package.json').version : '-';
  const peak = measuredPeak();
  const { I, H, cell } = o;
  const G = cell === 'lstm' ? 4 : 3;
  console.log(`CPU: ${os.cpus()[0].model}; addon isa ${info().isa}; 1 thread each; onnxruntime-node ${ortVersion}`);
  console.log(`1-core FMA peak (bench_rnn): ${peak ? `${peak.toFixed(0)} GFLOP/s` : 'n/a (npm run bench:native builds it)'}`);
  console.log(`${cell.toUpperCase()} I=${I} H=${H}, one step: layer.step(x [B, I], state) vs ORT session.run (X [1, B, I], initial states)`);
  console.log('ours = layer.step(x, state, { out }) (arrays kept across calls); new arrays = layer.step(x, state)');
  console.log('CPU ORT/ours = the same ratio in process CPU time per call (less sensitive to other load)');
  console.log("bf16, int8 = the same step with { precision: 'bf16' } / 'int8' (reduced-precision products, float32 gate math and states) against ORT's fp32");
  console.log('   B |   ours µs  GFLOP/s  %peak |    ORT µs  GFLOP/s | ORT/ours | new arrays ORT/that | CPU ORT/ours |  bf16 µs ORT/bf16 |  int8 µs ORT/int8 | max |diff|');
  for (const B of o.batches) {
    const Layer = cell === 'lstm' ? LSTM : GRU;
    const layer = new Layer({ inputSize: I, hiddenSize: H, seed: 1 });
    const x = random(B * I, 1), h = random(B * H, 2), c = random(B * H, 3);
    const xt = { shape: [B, I], data: x };
    const state = cell === 'lstm' ? { h: { shape: [1, B, H], data: h }, c: { shape: [1, B, H], data: c } } : { h: { shape: [1, B, H], data: h } };
    // Results written into arrays kept across calls ({ out }, as a server reuses its batch's
    // arrays), and, apart, into new arrays per call (their page faults cost what the step does).
    const out = { output: new Float32Array(B * H), h: new Float32Array(B * H) };
    if (cell === 'lstm') out.c = new Float32Array(B * H);
    const ours = () => layer.step(xt, state, { out });
    const fresh = () => layer.step(xt, state);
    const bf16 = () => layer.step(xt, state, { out, precision: 'bf16' });
    const int8 = () => layer.step(xt, state, { out, precision: 'int8' });
    const ref = fresh();
    let session = null, feeds = null, diff = NaN;
    if (ort) {
      const model = onnxBytes(new Sequential([layer]), { states: true }); // inputs x, h0.0 (, c0.0)
      session = await ort.InferenceSession.create(model, { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' });
      feeds = { x: new ort.Tensor('float32', x, [1, B, I]), 'h0.0': new ort.Tensor('float32', h, [1, B, H]) };
      if (cell === 'lstm') feeds['c0.0'] = new ort.Tensor('float32', c, [1, B, H]);
      const r = await session.run(feeds);
      diff = 0;
      for (let i = 0; i < ref.output.data.length; i++) diff = Math.max(diff, Math.abs(r['hN.0'].data[i] - ref.output.data[i]));
    }
    // Calls per round: ~20 ms of work; rounds alternate until the budget is spent.
    const calls = Math.max(5, Math.round(0.02 / (await perCall(ours, 20)).wall));
    const oursT = [], freshT = [], ortT = [], bf16T = [], int8T = [];
    const start = now();
    // Not pinned (bench/pin.js): with every thread on one CPU, ORT's worker thread and V8's GC
    // helpers queue behind the main thread (ORT's B = 64 step went from ~200 to 578 µs).
    while (now() - start < o.budget || oursT.length < 5) {
      oursT.push(await perCall(ours, calls));
      freshT.push(await perCall(fresh, calls));
      bf16T.push(await perCall(bf16, calls));
      int8T.push(await perCall(int8, calls));
      if (session) ortT.push(await perCall(() => session.run(feeds), calls));
    }
    const flops = 2 * B * (I + H) * G * H;
    const med = (ts, k) => median(ts.map((t) => t[k]));
    const tOurs = med(oursT, 'wall'), tFresh = med(freshT, 'wall'), tOrt = session ? med(ortT, 'wall') : NaN, tBf16 = med(bf16T, 'wall'), tInt8 = med(int8T, 'wall');
    const cpuRatio = session ? med(ortT, 'cpu') / med(oursT, 'cpu') : NaN;
    const gf = (t) => flops / t / 1e9;
    const pct = peak ? ((100 * gf(tOurs)) / peak).toFixed(0) : '-';
    console.log(`${String(B).padStart(4)} | ${(tOurs * 1e6).toFixed(1).padStart(9)} ${gf(tOurs).toFixed(1).padStart(8)} ${pct.padStart(6)} | ` +
      `${session ? (tOrt * 1e6).toFixed(1).padStart(9) : '-'.padStart(9)} ${session ? gf(tOrt).toFixed(1).padStart(8) : '-'.padStart(8)} | ` +
      `${session ? (tOrt / tOurs).toFixed(2).padStart(8) : '-'.padStart(8)} | ${(tFresh * 1e6).toFixed(1).padStart(10)} ${session ? (tOrt / tFresh).toFixed(2).padStart(8) : '-'.padStart(8)} | ${cpuRatio.toFixed(2).padStart(12)} | ${(tBf16 * 1e6).toFixed(1).padStart(8)} ${session ? (tOrt / tBf16).toFixed(2).padStart(8) : '-'.padStart(8)} | ${(tInt8 * 1e6).toFixed(1).padStart(8)} ${session ? (tOrt / tInt8).toFixed(2).padStart(8) : '-'.padStart(8)} | ${diff.toExponential(1)}`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
