// `npm run bench`: the standard workloads (bench/shapes.json, copied below) through the
// public JS API, next to the same workloads in C++ (build-bench/bench_rnn), so the cost of the JS
// layer and N-API shows per call. Then step() latency, the training memory per workload, and
// onnxruntime-node as a peer when it is installed.
//
//   node bench/run.js [stream|small|medium|large|long...] [lstm|gru|gru_ra|gru_rb...]
//                     [infer|train|bf16|int8] [t1|t2] [--budget=SECONDS] [--rounds=N] [--csv]
//                     [--no-native] [--no-ort] [--no-step] [--no-memory]
//
// Per (workload, cell, mode, threads): one warm-up call (outputs checked finite; more up to
// min(0.25 s, budget / 2), see warmUp), then --rounds rounds (default 3) that alternate the two
// sides: bench_rnn for that one row (its own warm-up call, then timed calls for budget / rounds
// seconds), and the JS calls for as long, native first in even rounds, JS first in odd ones. This
// host's speed drifts by ±20% over seconds (other tenants), so the two sides are measured seconds
// apart, never a workload apart: the JS-native % is the median of the per-round ratios and its
// range is printed beside it. Each side: at least 3 timed calls per round; medians; GFLOP/s with
// FLOPs as shapes.json counts them (2*T*B*(I+H)*G*H per forward, 3x per training step).
// infer = layer.forward(x, { out }); train = layer.forward(x, { training: true, out }) + layer.backward({ gradOutput }, { out })
// bf16 / int8 = infer after layer.setPrecision('bf16' / 'int8') (no onnxruntime row: it has no bf16 RNN on the
// CPU, and its int8 RNNs need a quantized graph)
// (result arrays kept between calls as bench_rnn keeps its buffers; weight gradients accumulate, as in
// bench_rnn). Threads: setNumThreads(n).
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { LSTM, GRU, Sequential, info, onnxBytes, setNumThreads, tensor } = require('..');
const { pinTo } = require('./pin');

const ROOT = path.join(__dirname, '..');
const WORKLOADS = [
  { name: 'stream', T: 1, B: 1, I: 64, H: 128, train: false },
  { name: 'small', T: 32, B: 16, I: 32, H: 64, train: true },
  { name: 'medium', T: 50, B: 64, I: 128, H: 256, train: true },
  { name: 'large', T: 50, B: 128, I: 512, H: 512, train: true },
  { name: 'long', T: 500, B: 8, I: 64, H: 256, train: true },
];
const CELLS = [
  { name: 'lstm', kind: 'lstm', G: 4, resetAfter: true },
  { name: 'gru_ra', kind: 'gru', G: 3, resetAfter: true }, // PyTorch, ONNX linear_before_reset=1
  { name: 'gru_rb', kind: 'gru', G: 3, resetAfter: false }, // ONNX default
];
const MODES = ['infer', 'train', 'bf16', 'int8'];
const THREADS = [1, 2];

// ---- Options ----------------------------------------------------------------------------------
const USAGE = `usage: node bench/run.js [stream|small|medium|large|long...] [lstm|gru|gru_ra|gru_rb...]
                         [infer|train|bf16|int8] [t1|t2] [--budget=SECONDS] [--rounds=N] [--csv]
                         [--no-native] [--no-ort] [--no-step] [--no-memory]`;

function selected(filter, name) {
  return filter.length === 0 || filter.some((f) => name === f || name.startsWith(`${f}_`)); // gru: gru_ra, gru_rb
}

function parseArgs(argv) {
  const o = { workloads: [], cells: [], modes: [], threads: [], budget: 0.5, rounds: 3, csv: false, native: true, ort: true, step: true, memory: true, memoryChild: null };
  for (const a of argv) {
    if (a === '--csv') o.csv = true;
    else if (a === '--no-native') o.native = false;
    else if (a === '--no-ort') o.ort = false;
    else if (a === '--no-step') o.step = false;
    else if (a === '--no-memory') o.memory = false;
    else if (a.startsWith('--budget=')) o.budget = Number(a.slice(9));
    else if (a.startsWith('--rounds=')) o.rounds = Math.floor(Number(a.slice(9)));
    else if (a.startsWith('--memory-child=')) o.memoryChild = a.slice(15).split(',');
    else if (a === '-h' || a === '--help') { console.log(USAGE); process.exit(0); }
    else if (WORKLOADS.some((w) => w.name === a)) o.workloads.push(a);
    else if (CELLS.some((c) => selected([a], c.name))) o.cells.push(a);
    else if (MODES.includes(a)) o.modes.push(a);
    else if (/^t[1-9][0-9]*$/.test(a)) o.threads.push(Number(a.slice(1)));
    else {
      console.error(`bench/run.js: unknown argument '${a}'\n${USAGE}`);
      process.exit(2);
    }
  }
  if (!(o.budget > 0)) o.budget = 0.5;
  if (!(o.rounds >= 1)) o.rounds = 3;
  if (o.threads.length === 0) o.threads = THREADS;
  return o;
}

// ---- Timing -----------------------------------------------------------------------------------
const now = () => performance.now() / 1e3; // seconds

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[n >> 1] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
}

/**
 * bench_rnn's time_calls: warm calls only (the caller has made the warm-up call, never a sample), at
 * least MIN_SAMPLES of them whatever the budget, so two medians are always like for like.
 * Returns { s: median seconds, n }. (`first`, the warm-up's seconds, is not used.)
 */
const MIN_SAMPLES = 3;
function timeCalls(fn, first, budget) {
  const samples = [];
  const start = now();
  do {
    const t0 = now();
    fn();
    samples.push(now() - t0);
  } while ((now() - start < budget || samples.length < MIN_SAMPLES) && samples.length < 200000);
  return { s: median(samples), n: samples.length };
}

/**
 * More warm-up after the first call, up to min(0.25 s, budget / 2) in all: a small shape's first
 * few hundred calls through the API are ~20% slower while glibc's heap settles around the
 * arrays each call allocates (bench_rnn reuses its buffers and needs no more than one call).
 */
function warmUp(fn, first, budget) {
  const until = Math.min(0.25, budget / 2);
  for (let el = first; el < until;) {
    const t0 = now();
    fn();
    el += now() - t0;
  }
}

async function warmUpAsync(fn, first, budget) {
  const until = Math.min(0.25, budget / 2);
  for (let el = first; el < until;) {
    const t0 = now();
    await fn();
    el += now() - t0;
  }
}

/** timeCalls after one warm-up call. */
function timeWarm(fn, budget) {
  const t0 = now();
  fn();
  const first = now() - t0;
  warmUp(fn, first, budget);
  return timeCalls(fn, first, budget);
}

async function timeCallsAsync(fn, first, budget) {
  const samples = [];
  const start = now();
  do {
    const t0 = now();
    await fn();
    samples.push(now() - t0);
  } while ((now() - start < budget || samples.length < MIN_SAMPLES) && samples.length < 200000);
  return { s: median(samples), n: samples.length };
}

/**
 * Cores kept busy by OTHER processes (bench_rnn's bg column): all CPUs' busy time from
 * /proc/stat minus this process's CPU time, per wall second; -1 where /proc/stat is missing.
 */
function cpuMeter() {
  const busy = () => {
    try {
      const f = fs.readFileSync('/proc/stat', 'utf8').split('\n', 1)[0].trim().split(/\s+/);
      if (f[0] !== 'cpu') return -1;
      const [user, nice, sys, , , irq, softirq, steal] = f.slice(1, 9).map(Number);
      return (user + nice + sys + irq + softirq + (steal || 0)) / 100; // USER_HZ is 100 on Linux
    } catch {
      return -1;
    }
  };
  const self = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };
  const wall0 = now(), all0 = busy(), self0 = self();
  return () => {
    const all = busy(), wall = now() - wall0;
    if (all < 0 || all0 < 0 || wall <= 0) return -1;
    return Math.max(0, (all - all0 - (self() - self0)) / wall);
  };
}

// ---- Data -------------------------------------------------------------------------------------
function uniform(n, seed) { // splitmix32-ish, uniform(-1, 1)
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    z = (z ^ (z >>> 16)) >>> 0;
    out[i] = (z / 4294967296) * 2 - 1;
  }
  return out;
}

function makeLayer(c, I, H) {
  const opts = { inputSize: I, hiddenSize: H, seed: 1 }; // PyTorch's init range, as bench_rnn
  return c.kind === 'lstm' ? new LSTM(opts) : new GRU({ ...opts, resetAfter: c.resetAfter });
}

const flopsOf = (w, c, train) => 2 * w.T * w.B * (w.I + w.H) * c.G * w.H * (train ? 3 : 1);

function allFinite(...arrays) {
  for (const a of arrays) {
    if (!a) continue;
    for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return false;
  }
  return true;
}

// ---- Formatting -------------------------------------------------------------------------------
function fmtTime(s) {
  if (!(s > 0)) return '-';
  if (s < 1e-3) return `${(s * 1e6).toFixed(1)} us`;
  if (s < 1) return `${(s * 1e3).toFixed(2)} ms`;
  return `${s.toFixed(2)} s`;
}
const pad = (v, n) => String(v).padStart(n);
const padR = (v, n) => String(v).padEnd(n);

// ---- The native side: build-bench/bench_rnn --csv ----------------------------------------------
const BENCH_RNN = path.join(ROOT, 'build-bench', process.platform === 'win32' ? 'bench_rnn.exe' : 'bench_rnn');

/** Newest mtime (ms) of the kernel sources, to flag a binary built from older sources. */
function newestSource() {
  let newest = 0;
  const walk = (dir) => {
    let entries;
    try { entries = fs.readdirSync(dir, { withFileTypes: true }); } catch { return; }
    for (const e of entries) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else newest = Math.max(newest, fs.statSync(p).mtimeMs);
    }
  };
  for (const d of ['native/src', 'native/include']) walk(path.join(ROOT, d));
  return newest;
}

/**
 * One bench_rnn run of the rows `filters` selects (workload, cell, mode, `tN` names), `budget`
 * seconds of timed calls each; `peak` (GFLOP/s, 1 core) skips its peak and load measurements.
 * Returns { rows: Map 'workload,cell,mode,threads' -> { s, gflops, n, bg, peak }, comments, seconds }.
 */
function runNative(filters, budget, peak) {
  const args = ['--csv', '--no-dnnl', '--no-check', `--budget=${budget}`, ...(peak ? [`--peak=${peak}`] : []), ...filters];
  const started = now();
  const out = execFileSync(BENCH_RNN, args, { encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'inherit'] });
  const rows = new Map();
  const comments = [];
  let cols = null;
  for (const line of out.split('\n')) {
    if (!line.trim()) continue;
    if (line.startsWith('#')) { comments.push(line.replace(/^#\s*/, '')); continue; }
    const f = line.split(',');
    if (!cols) { cols = f; continue; }
    const r = Object.fromEntries(cols.map((k, i) => [k, f[i]]));
    if (r.impl !== 'fused-rnn') continue;
    rows.set(`${r.workload},${r.cell},${r.mode},${r.threads}`, {
      s: Number(r.us_per_call) / 1e6, gflops: Number(r.gflops), n: Number(r.n), bg: Number(r.bg), peak: Number(r.peak_gflops),
    });
  }
  return { rows, comments, seconds: now() - started };
}

// ---- onnxruntime-node peer (optional) ---------------------------------------------------------
function loadOrt() {
  try {
    const ort = require('onnxruntime-node');
    let version = '?';
    try { version = require('onnxruntime-node/package.json').version; } catch { /* exports may hide it */ }
    return { ort, version };
  } catch (e) {
    return { ort: null, error: e };
  }
}

/** The ORT session for one row, checked against our output on the same weights and input. */
async function ortSession(ort, c, w, layer, x, ours, threads) {
  // The layer as the package exports it (one LSTM/GRU node, weights as initializers, then a Squeeze).
  const model = onnxBytes(new Sequential([layer]));
  const session = await ort.InferenceSession.create(model, {
    intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all',
  });
  const feeds = { x: new ort.Tensor('float32', x.data, [w.T, w.B, w.I]) };
  const run = () => session.run(feeds);
  const t0 = now();
  const r = await run();
  const first = now() - t0;
  let d = 0, m = 0;
  for (let i = 0; i < ours.length; i++) {
    d = Math.max(d, Math.abs(r.y.data[i] - ours[i]));
    m = Math.max(m, Math.abs(ours[i]));
  }
  return { session, run, first, diff: d / (1 + m) };
}

// ---- Training memory --------------------------------------------------------------------------
/** What layer.handle.savedSize(T, B) holds for 1 layer, 1 direction (SavedLayout, native/src/seq/plan.cc). */
function savedParts(c, w) {
  const { T, B, H } = w;
  return {
    z: T * B * c.G * H, // gate pre-activations of every step
    h: (T + 1) * B * H, // h history, h0 included
    c: c.kind === 'lstm' ? (T + 1) * B * H : 0, // c history
    aux: c.kind === 'gru' ? T * B * H : 0, // GRU: h·Rnᵀ + bRn (reset after) or r⊙h (reset before)
  };
}

/**
 * Runs in a fresh `node --expose-gc` (see measureMemory), 1 thread: RSS around the first
 * training call, after it (results dropped, gc), and the peak over 10 more training calls.
 */
function memoryChild([wName, cName]) {
  const w = WORKLOADS.find((x) => x.name === wName), c = CELLS.find((x) => x.name === cName);
  setNumThreads(1);
  const layer = makeLayer(c, w.I, w.H);
  const x = tensor(uniform(w.T * w.B * w.I, 1), [w.T, w.B, w.I]);
  const dy = tensor(uniform(w.T * w.B * w.H, 2), [w.T, w.B, w.H]);
  const rss = () => process.memoryUsage().rss;
  // Peak RSS: VmHWM, reset through clear_refs (Linux >= 4.0; getrusage's maxRSS survives exec,
  // so in a child it can be the parent's). Elsewhere maxRSS, which then may overstate.
  const hwm = () => {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
      if (m) return Number(m[1]) * 1024;
    } catch { /* not Linux */ }
    return process.resourceUsage().maxRSS * 1024;
  };
  const resetPeak = () => { try { fs.writeFileSync('/proc/self/clear_refs', '5'); } catch { /* not Linux */ } };
  const peak = () => hwm();
  global.gc();
  resetPeak();
  const rss0 = rss(), peak0 = peak();
  let fwd = layer.forward(x, { training: true });
  let bwd = layer.backward({ gradOutput: dy });
  const peak1 = peak();
  fwd = bwd = null;
  global.gc();
  const rss2 = rss(); // the layer still holds its record (until its next forward)
  resetPeak();
  for (let i = 0; i < 10; i++) {
    layer.forward(x, { training: true });
    layer.backward({ gradOutput: dy });
  }
  const peak10 = peak();
  process.stdout.write(JSON.stringify({ rss0, peak0, peak1, rss2, peak10, unused: fwd || bwd }));
}

function measureMemory(w, c) {
  const out = execFileSync(process.execPath, ['--expose-gc', __filename, `--memory-child=${w.name},${c.name}`],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  return JSON.parse(out);
}

// ---- Main -------------------------------------------------------------------------------------
async function main() {
  const opt = parseArgs(process.argv.slice(2));
  if (opt.memoryChild) return memoryChild(opt.memoryChild);
  const inf = info();
  const { addonPath } = require('../dist/native');
  const cpu = (os.cpus()[0] || { model: 'unknown CPU' }).model;
  const started = now();
  const say = (s) => { for (const line of String(s).split('\n')) console.log(opt.csv ? `# ${line}`.trimEnd() : line); };
  say(`fused-rnn ${inf.version} (JS API), isa ${inf.isa}, node ${process.version}, ${cpu}, ${os.cpus().length} CPUs`);
  say(`addon ${path.relative(ROOT, addonPath)}`);
  {
    const bg = cpuMeter();
    await new Promise((r) => setTimeout(r, 300));
    const b = bg();
    if (b >= 0) say(`other processes keep ${b.toFixed(1)} of ${os.cpus().length} cores busy right now${b > 0.3 ? ': expect noise, above all in 2-thread rows (bg column)' : ''}`);
  }

  // Native: bench_rnn --csv, started once per row and round (see the top of this file). A first
  // short run prints its header (isa, the FMA peak it measures, which the later runs are given).
  let native = null; // { rows: Map 'workload,cell,mode,threads' -> { s, gflops, n, bg }, peak } once bench_rnn ran
  if (opt.native) {
    if (!fs.existsSync(BENCH_RNN)) {
      say('native: build-bench/bench_rnn not found: `npm run bench:native` builds it (then rerun); JS numbers only');
    } else {
      const src = newestSource();
      for (const [what, file] of [['build-bench/bench_rnn', BENCH_RNN], ['the addon', addonPath]]) {
        if (fs.statSync(file).mtimeMs < src) say(`WARNING: ${what} is older than native/src: rebuild it (npm run bench:native / npm run build:native) or the overhead compares two versions`);
      }
      try {
        const r = runNative(['stream', 'lstm', 'infer', 't1'], 0.01, 0);
        native = { rows: new Map(), peak: [...r.rows.values()][0].peak };
        for (const cm of r.comments) say(`native: ${cm}`);
        const nIsa = /isa (\w+)/.exec(r.comments.join(' '));
        if (nIsa && nIsa[1] !== inf.isa) say(`WARNING: bench_rnn uses isa ${nIsa[1]}, the addon ${inf.isa}: not the same kernels`);
      } catch (e) {
        say(`native: bench_rnn failed (${String(e.message).split('\n')[0]}); JS numbers only`);
      }
    }
  }
  const cpuCount = os.cpus().length, allCpus = `0-${cpuCount - 1}`;
  const pinned = !!native && pinTo(allCpus);
  if (native) say(pinned ? 'rounds of 1-thread rows: both sides pinned to the same CPU, each CPU in turn (taskset)' : 'taskset not found: the two sides may run on different CPUs (expect noise)');
  let nativeSeconds = 0;
  /** bench_rnn's row for (w, c, mode, thr) over `budget` seconds, or null (then no native column from here on). */
  const nativeRound = (w, c, mode, thr, budget) => {
    if (!native) return null;
    try {
      // T = 1: the JS API reuses the packed weights between calls (README, Serving): so does bench_rnn.
      const r = runNative([w.name, c.name, mode, `t${thr}`, ...(w.T === 1 ? ['--prepacked'] : [])], budget, native.peak);
      nativeSeconds += r.seconds;
      return r.rows.get(`${w.name},${c.name},${mode},${thr}`) || null;
    } catch (e) {
      say(`native: bench_rnn failed (${String(e.message).split('\n')[0]}); JS numbers only from here on`);
      native = null;
      return null;
    }
  };

  let ort = null;
  if (opt.ort) {
    const o = loadOrt();
    if (o.ort) {
      ort = o.ort;
      say(`peer: onnxruntime-node ${o.version}, CPU EP, one LSTM/GRU node (opset 14, weights as initializers), intraOpNumThreads = thr`);
    } else {
      say('peer: onnxruntime-node not installed (optional: `npm i --no-save onnxruntime-node --onnxruntime-node-install=skip`)');
    }
  }

  // ---- The table ----
  const wanted = WORKLOADS.filter((w) => selected(opt.workloads, w.name));
  const rows = [];
  if (opt.csv) {
    console.log('workload,cell,mode,threads,T,B,I,H,gflop,js_us,js_gflops,js_n,native_us,native_gflops,native_n,overhead_us,overhead_pct,overhead_pct_min,overhead_pct_max,ort_us,ours_over_ort,ort_diff,bg');
  } else {
    console.log('\nmedian time per call; GFLOP/s = 2*T*B*(I+H)*G*H per forward (x3 train); n = timed calls');
    console.log(`JS-native = extra time per call through the JS API; % = median over ${opt.rounds} rounds alternating JS and bench_rnn`);
    console.log('(rounds = the lowest..highest round); ours/ORT = ORT time / JS time (>1: ours faster);');
    console.log('bg = cores busy with other processes (max of the JS and native runs; above ~0.3 the row is noise)');
    let h = `${padR('shape', 7)} ${padR('cell', 6)} ${padR('mode', 5)} thr | ${pad('JS', 10)} ${pad('GFLOP/s', 8)} ${pad('n', 6)}`;
    if (native) h += ` | ${pad('native', 10)} ${pad('GFLOP/s', 8)} | ${pad('JS-native', 10)} ${pad('%', 6)} ${pad('rounds', 9)}`;
    if (ort) h += ` | ${pad('ORT', 10)} ${pad('ours/ORT', 8)}`;
    console.log(`${h} | ${pad('bg', 4)}`);
  }
  for (const w of wanted) {
    for (const c of CELLS) {
      if (!selected(opt.cells, c.name)) continue;
      const layer = makeLayer(c, w.I, w.H);
      const x = tensor(uniform(w.T * w.B * w.I, 1), [w.T, w.B, w.I]);
      const dy = tensor(uniform(w.T * w.B * w.H, 2), [w.T, w.B, w.H]);
      for (const mode of MODES) {
        const train = mode === 'train';
        if (!selected(opt.modes, mode) || (train && !w.train)) continue;
        const gflop = flopsOf(w, c, train) / 1e9;
        layer.setPrecision(mode === 'bf16' || mode === 'int8' ? mode : 'fp32');
        for (const thr of opt.threads) {
          setNumThreads(thr);
          const row = { w, c, mode, thr, gflop };
          let last = null;
          // Result arrays kept between calls ({ out }), as bench_rnn keeps its buffers: a fresh
          // multi-MB array per call costs a page fault per 4 KiB (README, "API overview").
          const D = 1, L = 1, outF = { output: new Float32Array(w.T * w.B * D * w.H), hN: new Float32Array(L * D * w.B * w.H) };
          if (c.kind === 'lstm') outF.cN = new Float32Array(L * D * w.B * w.H);
          const outB = { input: new Float32Array(w.T * w.B * w.I) };
          const call = train
            ? () => { const f = layer.forward(x, { training: true, out: outF }); last = layer.backward({ gradOutput: dy }, { out: outB }); return f; }
            : () => layer.forward(x, { out: outF });
          const t0 = now();
          const first = call();
          const firstS = now() - t0;
          if (!allFinite(first.output.data, first.hN.data, last && last.input.data, layer.grads)) throw new Error(`${w.name} ${c.name} ${mode}: non-finite output`);
          const ref = first.output.data;
          warmUp(call, firstS, opt.budget);
          const rounds = []; // { js, nat } per round, the two sides seconds apart on the same CPUs
          for (let k = 0; k < (native ? opt.rounds : 1); k++) {
            if (pinned) pinTo(thr === 1 ? String(k % cpuCount) : allCpus); // 1 thread: each CPU in turn
            const budget = opt.budget / (native ? opt.rounds : 1);
            const nat = k % 2 === 0 ? nativeRound(w, c, mode, thr, budget) : null;
            const m = cpuMeter(); // around the JS calls only: bench_rnn's own time is not "other processes"
            const js = timeCalls(call, firstS, budget);
            js.bg = m();
            rounds.push({ js, nat: k % 2 === 0 ? nat : nativeRound(w, c, mode, thr, budget) });
          }
          if (pinned) pinTo(allCpus);
          row.js = { s: median(rounds.map((r) => r.js.s)), n: rounds.reduce((n, r) => n + r.js.n, 0) };
          row.bg = Math.max(...rounds.map((r) => r.js.bg));
          const paired = rounds.filter((r) => r.nat);
          if (paired.length === rounds.length) {
            const nat = { s: median(paired.map((r) => r.nat.s)), n: paired.reduce((n, r) => n + r.nat.n, 0) };
            nat.gflops = gflop / nat.s;
            const pcts = paired.map((r) => (100 * (r.js.s - r.nat.s)) / r.nat.s);
            row.native = { ...nat, pct: median(pcts), pctMin: Math.min(...pcts), pctMax: Math.max(...pcts) };
            native.rows.set(`${w.name},${c.name},${mode},${thr}`, nat);
            for (const r of paired) if (r.nat.bg >= 0) row.bg = Math.max(row.bg, r.nat.bg);
          }
          if (ort && mode === 'infer') {
            try {
              const p = await ortSession(ort, c, w, layer, x, ref, thr);
              const m = cpuMeter();
              await warmUpAsync(p.run, p.first, opt.budget);
              row.ort = await timeCallsAsync(p.run, p.first, opt.budget);
              row.ort.diff = p.diff;
              row.bg = Math.max(row.bg, m());
              await p.session.release();
              if (p.diff > 1e-3) {
                say(`FAIL: ${w.name} ${c.name} t${thr}: onnxruntime's Y differs from ours by ${p.diff.toExponential(2)} (relative; exit status 1)`);
                process.exitCode = 1;
              }
            } catch (e) {
              row.ortError = String(e.message).split('\n')[0];
            }
          }
          rows.push(row);
          printRow(row, opt.csv, !!native, !!ort);
        }
      }
    }
  }

  const noisy = rows.filter((r) => r.bg > 0.3);
  if (noisy.length) {
    say(`\n${noisy.length} row(s) ran with bg > 0.3 (other processes busy): noise, rerun them when the machine is quiet, e.g.`);
    const cmds = new Set(noisy.map((r) => `npm run bench -- ${r.w.name} ${r.c.name} ${r.mode} t${r.thr} --no-step --no-memory`));
    for (const c of [...cmds].slice(0, 6)) say(`  ${c}`);
    if (cmds.size > 6) say(`  ... (${cmds.size - 6} more)`);
  }
  if (opt.step && selected(opt.workloads, 'stream')) stepLatency(opt, native, say);
  if (opt.memory && selected(opt.modes, 'train')) memory(opt, say);
  say(`\n${(now() - started).toFixed(0)} s in all${nativeSeconds ? `, ${nativeSeconds.toFixed(0)} s of them in bench_rnn` : ''}`);
}

function printRow(r, csv, withNative, withOrt) {
  const js = r.js, nat = r.native, ort = r.ort;
  const over = nat ? js.s - nat.s : NaN;
  const pct = nat ? nat.pct : NaN; // the median of the per-round ratios, not of the two medians
  const signed = (v) => `${v >= 0 ? '+' : ''}${v.toFixed(0)}`;
  if (csv) {
    const f = (v, d = 4) => (Number.isFinite(v) ? Number(v.toPrecision(d + 2)) : '');
    console.log([r.w.name, r.c.name, r.mode, r.thr, r.w.T, r.w.B, r.w.I, r.w.H, f(r.gflop), f(js.s * 1e6), f(r.gflop / js.s), js.n,
      nat ? f(nat.s * 1e6) : '', nat ? f(nat.gflops) : '', nat ? nat.n : '', f(over * 1e6), f(pct, 2),
      nat ? f(nat.pctMin, 2) : '', nat ? f(nat.pctMax, 2) : '', ort ? f(ort.s * 1e6) : '', ort ? f(ort.s / js.s) : '', ort ? f(ort.diff, 1) : '', f(r.bg, 1)].join(','));
    return;
  }
  let s = `${padR(r.w.name, 7)} ${padR(r.c.name, 6)} ${padR(r.mode, 5)} ${pad(r.thr, 3)} | ${pad(fmtTime(js.s), 10)} ${pad((r.gflop / js.s).toFixed(2), 8)} ${pad(js.n, 6)}`;
  if (withNative) {
    if (nat) {
      const o = Math.abs(over) < 1e-3 ? `${(over * 1e6).toFixed(1)} us` : `${(over * 1e3).toFixed(2)} ms`;
      s += ` | ${pad(fmtTime(nat.s), 10)} ${pad(nat.gflops.toFixed(2), 8)} | ${pad((over >= 0 ? '+' : '') + o, 10)} ${pad(`${signed(pct)}%`, 6)} ${pad(`${signed(nat.pctMin)}..${signed(nat.pctMax)}`, 9)}`;
    } else {
      s += ` | ${pad('-', 10)} ${pad('', 8)} | ${pad('-', 10)} ${pad('', 6)} ${pad('', 9)}`;
    }
  }
  if (r.ort) s += ` | ${pad(fmtTime(ort.s), 10)} ${pad(`${(ort.s / js.s).toFixed(2)}x`, 8)}`;
  else if (r.ortError) s += ` | error: ${r.ortError.slice(0, 30)}`;
  else if (withOrt) s += ` | ${pad('-', 10)} ${pad('', 8)}`;
  s += ` | ${r.bg >= 0 ? pad(r.bg.toFixed(1), 4) : pad('?', 4)}`;
  console.log(s);
}

// ---- step() latency -------------------------------------------------------------------------
function stepLatency(opt, native, say) {
  const w = WORKLOADS[0]; // stream: B=1, I=64, H=128
  const budget = Math.max(1, 2 * opt.budget);
  setNumThreads(1);
  const lines = [];
  for (const c of CELLS) {
    if (!selected(opt.cells, c.name)) continue;
    const layer = makeLayer(c, w.I, w.H);
    const xd = uniform(w.I, 3);
    const x2 = tensor(xd, [1, w.I]);
    const x3 = tensor(xd, [1, 1, w.I]);
    // step(), state fed back
    let st = layer.step(x2);
    const tStep = timeWarm(() => { st = layer.step(x2, st.state); }, budget);
    // The same layer inside a Sequential: model.step() adds the model's dispatch.
    const model = new Sequential([layer]);
    let ms = model.step(x2);
    const tModel = timeWarm(() => { ms = model.step(x2, ms.state); }, budget);
    // forward(x [1, 1, I]), zero state: the public API's T=1 call
    const tFwd = timeWarm(() => layer.forward(x3), budget);
    // The raw N-API call with preallocated buffers (no argument checks, no allocation): what is
    // left of the JS side is the N-API crossing itself.
    const h = layer.handle, lstm = c.kind === 'lstm';
    const hb = [new Float32Array(w.H), new Float32Array(w.H)], cb = lstm ? [new Float32Array(w.H), new Float32Array(w.H)] : [null, null];
    const out = new Float32Array(w.H);
    let k = 0;
    const tRaw = timeWarm(() => {
      const a = k & 1, b = a ^ 1;
      h.forward(layer.weights, xd, 1, 1, false, null, hb[a], cb[a], out, hb[b], cb[b], null);
      k++;
    }, budget);
    const nat = native && native.rows.get(`stream,${c.name},infer,1`);
    lines.push({ c, tStep, tModel, tFwd, tRaw, nat });
  }
  if (!lines.length) return;
  const us = (t) => (t ? (t.s * 1e6).toFixed(2) : '-');
  say('');
  say(`step() latency: ${w.name} B=${w.B} I=${w.I} H=${w.H}, 1 thread, median of n calls (~${budget} s each); µs per call`);
  say('  step()         = layer.step(x [1, I], state) with the previous call\'s state');
  say('  model.step()   = new Sequential([layer]).step(x, state): the model API around the same step');
  say('  forward(T=1)   = layer.forward(x [1, 1, I]) (zero state)');
  say('  handle.forward = the addon call itself, preallocated buffers, no checks: the N-API crossing');
  say('  native         = bench_rnn stream infer t1 (C++, no JS): the floor');
  say(`${padR('cell', 6)} | ${pad('step()', 8)} ${pad('n', 7)} | ${pad('model.step()', 12)} | ${pad('forward(T=1)', 12)} | ${pad('handle.forward', 14)} | ${pad('native', 7)} | ${pad('step-native', 11)} ${pad('%', 5)} | ${pad('step-handle', 11)}`);
  for (const l of lines) {
    const over = l.nat ? l.tStep.s - l.nat.s : NaN;
    say(`${padR(l.c.name, 6)} | ${pad(us(l.tStep), 8)} ${pad(l.tStep.n, 7)} | ${pad(us(l.tModel), 12)} | ${pad(us(l.tFwd), 12)} | ${pad(us(l.tRaw), 14)} | ${pad(l.nat ? us(l.nat) : '-', 7)} | ${pad(l.nat ? `+${(over * 1e6).toFixed(2)}` : '-', 11)} ${pad(l.nat ? `+${((100 * over) / l.nat.s).toFixed(0)}%` : '', 5)} | ${pad(`+${((l.tStep.s - l.tRaw.s) * 1e6).toFixed(2)}`, 11)}`);
  }
}

// ---- Training memory ----------------------------------------------------------------------------
function memory(opt, say) {
  const items = [];
  for (const w of WORKLOADS) {
    if (!w.train || !selected(opt.workloads, w.name)) continue;
    for (const c of CELLS) if (selected(opt.cells, c.name)) items.push({ w, c });
  }
  if (!items.length) return;
  say('');
  say('training memory, 1 layer, 1 direction, fp32; MiB');
  say('  record = what forward(x, { training: true }) keeps for backward(): layer.handle.savedSize(T, B) * 4 bytes');
  say('           = z (gate pre-activations, T*B*G*H) + h ((T+1)*B*H, h0 included) + c ((T+1)*B*H, LSTM)');
  say('           + aux (GRU, T*B*H: h·Rn^T + bRn with resetAfter, r*h without); the JS side also keeps a copy of x');
  say('  x+y    = input [T,B,I] + output [T,B,H] + hN (+ cN); rec/io = record / (x+y)');
  say('  RSS, fresh `node --expose-gc`, 1 thread, growth over the RSS before the first training call (rough):');
  say('    1st peak = maxRSS after the first forward+backward;  kept = RSS after dropping the results + gc');
  say('    (the layer keeps its record until its next forward; the kernels keep their per-thread scratch);');
  say('    scratch ~ kept - record - x copy;  10 calls = maxRSS over 10 more training calls (V8 frees old records lazily)');
  say(`${padR('shape', 7)} ${padR('cell', 6)} | ${pad('record', 7)} = ${pad('z', 6)} + ${pad('h', 5)} + ${pad('c', 5)} + ${pad('aux', 5)} | ${pad('x+y', 6)} ${pad('rec/io', 6)} | ${pad('1st peak', 8)} ${pad('kept', 7)} ${pad('scratch~', 8)} ${pad('10 calls', 8)}`);
  const m = (bytes) => (bytes / 2 ** 20).toFixed(bytes < 100 * 2 ** 20 ? 2 : 1);
  for (const { w, c } of items) {
    const layer = makeLayer(c, w.I, w.H);
    const saved = layer.handle.savedSize(w.T, w.B) * 4;
    const p = savedParts(c, w);
    const sum = (p.z + p.h + p.c + p.aux) * 4;
    const xBytes = w.T * w.B * w.I * 4;
    const io = xBytes + (w.T * w.B * w.H + w.B * w.H * (c.kind === 'lstm' ? 2 : 1)) * 4;
    let rss = ['-', '-', '-', '-'];
    try {
      const r = measureMemory(w, c);
      rss = [m(r.peak1 - r.rss0), m(r.rss2 - r.rss0), m(r.rss2 - r.rss0 - saved - xBytes), m(r.peak10 - r.rss0)];
    } catch (e) {
      rss = ['error', '', '', ''];
    }
    say(`${padR(w.name, 7)} ${padR(c.name, 6)} | ${pad(m(saved), 7)} = ${pad(m(p.z * 4), 6)} + ${pad(m(p.h * 4), 5)} + ${pad(m(p.c * 4), 5)} + ${pad(m(p.aux * 4), 5)} | ${pad(m(io), 6)} ${pad(`${(saved / io).toFixed(1)}x`, 6)} | ${pad(rss[0], 8)} ${pad(rss[1], 7)} ${pad(rss[2], 8)} ${pad(rss[3], 8)}${sum !== saved ? `  (layout changed: the parts add up to ${m(sum)})` : ''}`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
