// fused-rnn beside the Node libraries people would otherwise use, in one run: `npm run bench:peers`.
//
//   node bench/peers/run.js [--full] [--quick] [--budget=s] [--cap=s] [--threads=n]
//                           [--peers=tfjs-cpu,tfjs-wasm,tfjs-node,brain,ort] [--svg=file] [--json=file]
//   node bench/peers/run.js --replot=results.json [--svg=file]   # table and chart of a saved run
//
// Workloads are bench/shapes.json's (fp32, one layer, one direction), LSTM and GRU (GRU with the reset
// gate before the product, the only kind TensorFlow.js has), inference and one training step. Each row
// alternates fused-rnn and one peer call by call until both have at least 3 timed calls and `--budget`
// seconds (default 1) are spent; the figures are medians, the ratio is peer / fused-rnn from that row.
// A peer whose first (untimed) call takes longer than `--cap` seconds (default 4) is not timed on that
// row ("> cap"). Default workloads: stream, small, medium; `--full` adds large and long (tens of minutes:
// TensorFlow.js' CPU backend takes seconds per call there); `--quick`: small only, budget 0.3 s.
//
// What one call is, per library (the usual way each one is used):
//   fused-rnn   infer: layer.forward(x)            train: forward(training) + MSE gradient + backward + SGD step
//   tfjs-*      infer: model.predict(x).data()     train: model.trainOnBatch(x, y) (tf.layers.lstm/gru, MSE, SGD)
//   brain.js    infer: net.run(seq) per sequence   train: net.trainPattern(seq) per sequence (LSTMTimeStep /
//               GRUTimeStep: no batches, an update per sequence; its output layer maps H back to I)
//               small workload only: it runs plain-JS matrices per sequence, minutes per call beyond that.
//   onnxruntime infer only: the layer as onnxBytes() exports it (same weights), output checked.
// Threads: fused-rnn and onnxruntime get --threads (default 1); TensorFlow.js' CPU and WASM backends
// and brain.js run on one thread; tfjs-node's own pool is set to --threads by TF_NUM_*_THREADS.
'use strict';
const { spawnSync } = require('node:child_process');
const { existsSync, readFileSync, writeFileSync } = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const here = __dirname;
const root = path.join(here, '..', '..');

function parseArgs(argv) {
  const o = { full: false, quick: false, budget: 1, cap: 4, threads: 1, peers: null, svg: path.join(here, 'peers.svg'), json: null, replot: null };
  for (const a of argv) {
    const [k, v] = a.split('=');
    if (k === '--full') o.full = true;
    else if (k === '--quick') o.quick = true;
    else if (k === '--budget') o.budget = Number(v);
    else if (k === '--cap') o.cap = Number(v);
    else if (k === '--threads') o.threads = Number(v);
    else if (k === '--peers') o.peers = v.split(',');
    else if (k === '--svg') o.svg = v || null;
    else if (k === '--json') o.json = v;
    else if (k === '--replot') o.replot = v;
    else {
      console.error(`bench/peers/run.js: unknown argument '${a}' (see the comment at the top of the file)`);
      process.exit(2);
    }
  }
  if (o.quick) o.budget = Math.min(o.budget, 0.3);
  for (const k of ['budget', 'cap', 'threads']) {
    if (!(o[k] > 0)) {
      console.error(`bench/peers/run.js: --${k} must be a positive number`);
      process.exit(2);
    }
  }
  return o;
}

/** bench/peers has its own node_modules (the peers are never fused-rnn dependencies): install once. */
function ensurePeersInstalled() {
  if (existsSync(path.join(here, 'node_modules', '@tensorflow', 'tfjs'))) return;
  console.log('# installing the peers into bench/peers/node_modules (once) ...');
  const r = spawnSync('npm', ['install', '--no-audit', '--no-fund'], { cwd: here, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error('bench/peers/run.js: npm install in bench/peers failed');
    process.exit(1);
  }
}

const now = () => performance.now() / 1e3;
function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[n >> 1] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
}

function randomArray(n, seed) {
  let s = seed >>> 0;
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = s / 4294967296 - 0.5;
  }
  return a;
}

function cpuModel() {
  const r = spawnSync('lscpu', [], { encoding: 'utf8' });
  const m = /Model name:\s*(.+)/.exec(r.stdout ?? '');
  return (m ? m[1] : os.cpus()[0]?.model ?? 'unknown').trim();
}

function versionOf(dir, name) {
  try {
    return JSON.parse(readFileSync(path.join(dir, 'node_modules', name, 'package.json'), 'utf8')).version;
  } catch {
    return null;
  }
}

// ---- fused-rnn -----------------------------------------------------------------------------------
function fusedCase(fr, w, cell, train, seed) {
  const opts = { inputSize: w.I, hiddenSize: w.H, seed };
  const layer = cell === 'lstm' ? new fr.LSTM(opts) : new fr.GRU({ ...opts, resetAfter: false });
  const x = fr.tensor(randomArray(w.T * w.B * w.I, seed), [w.T, w.B, w.I]);
  if (!train) return { layer, x, call: () => layer.forward(x) };
  const target = randomArray(w.T * w.B * w.H, seed + 1);
  const opt = new fr.SGD({ lr: 1e-3 });
  const params = layer.parameters();
  const n = target.length;
  const dy = new Float32Array(n);
  return {
    layer, x,
    call: () => {
      const { output } = layer.forward(x, { training: true });
      for (let i = 0; i < n; i++) dy[i] = (2 / n) * (output.data[i] - target[i]);
      layer.backward({ gradOutput: fr.tensor(dy, output.shape) });
      opt.step(params);
      layer.zeroGrad();
    },
  };
}

// ---- peers: each returns { call, check? } for one (workload, cell, mode) -----------------------------
async function tfjsCase(tf, w, cell, train, seed) {
  const make = cell === 'lstm' ? tf.layers.lstm : tf.layers.gru;
  // Glorot instead of Keras' orthogonal recurrent init: the same cost per call, without an SVD in
  // plain JS that takes tens of seconds at H = 256 before the first call.
  const model = tf.sequential({ layers: [make({ units: w.H, returnSequences: true, inputShape: [w.T, w.I], recurrentInitializer: 'glorotUniform' })] });
  const x = tf.tensor3d(randomArray(w.B * w.T * w.I, seed), [w.B, w.T, w.I]); // batch-major, as Keras
  if (!train) {
    return { call: async () => { const y = model.predict(x); await y.data(); y.dispose(); }, dispose: () => { x.dispose(); model.dispose(); } };
  }
  model.compile({ optimizer: tf.train.sgd(1e-3), loss: 'meanSquaredError' });
  const y = tf.tensor3d(randomArray(w.B * w.T * w.H, seed + 1), [w.B, w.T, w.H]);
  return { call: () => model.trainOnBatch(x, y), dispose: () => { x.dispose(); y.dispose(); model.dispose(); } };
}

function brainCase(brain, w, cell, train, seed) {
  const Net = cell === 'lstm' ? brain.recurrent.LSTMTimeStep : brain.recurrent.GRUTimeStep;
  const net = new Net({ inputSize: w.I, hiddenLayers: [w.H], outputSize: w.I, learningRate: 1e-3 });
  const flat = randomArray(w.B * w.T * w.I, seed);
  const seqs = Array.from({ length: w.B }, (_, b) =>
    Array.from({ length: w.T }, (_, t) => Array.from(flat.subarray((b * w.T + t) * w.I, (b * w.T + t + 1) * w.I))));
  const data = net.formatData(seqs);
  net.verifyIsInitialized(data);
  if (train) return { call: () => { for (const s of data) net.trainPattern(s); } };
  net.trainPattern(data[0]); // run() refuses a net whose equations training has not bound yet
  return {
    call: () => {
      for (const s of seqs) if (!net.run(s)) throw new Error('brain.js run() returned nothing');
    },
  };
}

async function ortCase(fr, ort, fused, w, threads) {
  const bytes = fr.onnxBytes(new fr.Sequential([fused.layer])); // the layer as the package exports it
  const session = await ort.InferenceSession.create(bytes, {
    intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all',
  });
  const feeds = { x: new ort.Tensor('float32', fused.x.data, [w.T, w.B, w.I]) };
  const ours = fused.layer.forward(fused.x).output.data;
  const r = await session.run(feeds);
  let d = 0, m = 0;
  for (let i = 0; i < ours.length; i++) {
    d = Math.max(d, Math.abs(r.y.data[i] - ours[i]));
    m = Math.max(m, Math.abs(ours[i]));
  }
  return { call: () => session.run(feeds), diff: d / (1 + m) };
}

// ---- one row: fused-rnn and one peer, alternating -----------------------------------------------------
async function timeOnce(fn) {
  const t0 = now();
  await fn();
  return now() - t0;
}

async function alternate(ours, theirs, budget, cap) {
  await timeOnce(ours); // warm-up, never a sample
  const first = await timeOnce(theirs);
  if (first > cap) return { skipped: `first call ${first.toFixed(1)} s > cap ${cap} s` };
  const a = [], b = [];
  const start = now();
  while (now() - start < budget || a.length < 3) {
    a.push(await timeOnce(ours));
    b.push(await timeOnce(theirs));
  }
  return { ours: median(a), theirs: median(b), n: a.length };
}

async function loadPeers(o) {
  const peers = [];
  const want = (name) => !o.peers || o.peers.includes(name);
  const peerDir = here;
  const tfjsVersion = versionOf(peerDir, '@tensorflow/tfjs');
  if (want('tfjs-node')) {
    const v = versionOf(peerDir, '@tensorflow/tfjs-node');
    if (v) peers.push({ name: 'tfjs-node', label: `@tensorflow/tfjs-node ${v}`, backend: 'tensorflow', modes: ['infer', 'train'] });
    else peers.push({ name: 'tfjs-node', label: '@tensorflow/tfjs-node', missing: 'not installed: its install script downloads libtensorflow from outside the npm registry (an optional dependency here; it failed on this machine)' });
  }
  if (want('tfjs-cpu')) peers.push({ name: 'tfjs-cpu', label: `@tensorflow/tfjs ${tfjsVersion} (cpu backend)`, backend: 'cpu', modes: ['infer', 'train'] });
  if (want('tfjs-wasm')) peers.push({ name: 'tfjs-wasm', label: `@tensorflow/tfjs-backend-wasm ${versionOf(peerDir, '@tensorflow/tfjs-backend-wasm')}`, backend: 'wasm', modes: ['infer', 'train'] });
  if (want('brain')) peers.push({ name: 'brain', label: `brain.js ${versionOf(peerDir, 'brain.js')}`, modes: ['infer', 'train'], workloads: ['small'] });
  if (want('ort')) {
    const v = versionOf(root, 'onnxruntime-node');
    if (v) peers.push({ name: 'ort', label: `onnxruntime-node ${v} (CPU EP)`, modes: ['infer'] });
    else peers.push({ name: 'ort', label: 'onnxruntime-node', missing: 'not installed (a devDependency of fused-rnn: npm install at the repository root)' });
  }
  return peers;
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  if (o.replot) {
    const { head, peers, rows, workloads } = JSON.parse(readFileSync(o.replot, 'utf8'));
    console.log(markdownTable(head, peers, rows, workloads));
    if (o.svg) await drawChart(o.svg, head, peers, rows, workloads);
    return;
  }
  ensurePeersInstalled();
  if (o.threads > 0) {
    process.env.TF_NUM_INTRAOP_THREADS = String(o.threads);
    process.env.TF_NUM_INTEROP_THREADS = '1';
  }
  const fr = require(root);
  fr.setNumThreads(o.threads);
  const shapes = JSON.parse(readFileSync(path.join(here, '..', 'shapes.json'), 'utf8')).shapes;
  const names = o.quick ? ['small'] : o.full ? ['stream', 'small', 'medium', 'large', 'long'] : ['stream', 'small', 'medium'];
  const workloads = shapes.filter((s) => names.includes(s.name));
  const peers = await loadPeers(o);

  const info = fr.info();
  const head = {
    date: new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC',
    cpu: `${cpuModel()}, ${os.cpus().length} logical cores`,
    node: process.version,
    fusedRnn: `fused-rnn ${info.version} (${info.isa}, ${o.threads} thread${o.threads > 1 ? 's' : ''})`,
    budget: o.budget, cap: o.cap,
  };
  console.log(`# ${head.date} · ${head.cpu} · Node ${head.node}`);
  console.log(`# ${head.fusedRnn}; per row: alternating calls, ≥ 3 each, ${o.budget} s; cap ${o.cap} s for a peer's first call`);
  for (const p of peers) console.log(`# peer: ${p.label}${p.missing ? ` — ${p.missing}` : ''}`);

  let tf = null, brain = null, ort = null;
  const rows = [];
  let failed = false;
  for (const p of peers) {
    if (p.missing) continue;
    if (p.backend) {
      if (p.name === 'tfjs-node') tf = require(path.join(here, 'node_modules', '@tensorflow', 'tfjs-node'));
      else {
        tf ??= require(path.join(here, 'node_modules', '@tensorflow', 'tfjs'));
        if (p.backend === 'wasm') require(path.join(here, 'node_modules', '@tensorflow', 'tfjs-backend-wasm'));
      }
      await tf.setBackend(p.backend);
      await tf.ready();
    }
    if (p.name === 'brain') brain = require(path.join(here, 'node_modules', 'brain.js'));
    if (p.name === 'ort') ort = require(require.resolve('onnxruntime-node', { paths: [root] }));
    for (const w of workloads) {
      if (p.workloads && !p.workloads.includes(w.name)) continue;
      for (const cell of ['lstm', 'gru']) {
        for (const mode of w.modes) {
          if (!p.modes.includes(mode)) continue;
          const train = mode === 'train';
          const fused = fusedCase(fr, w, cell, train, 7);
          let peer;
          try {
            if (p.backend) peer = await tfjsCase(tf, w, cell, train, 7);
            else if (p.name === 'brain') peer = brainCase(brain, w, cell, train, 7);
            else peer = await ortCase(fr, ort, fused, w, o.threads);
          } catch (e) {
            rows.push({ peer: p.name, workload: w.name, cell, mode, error: String(e.message).split('\n')[0] });
            continue;
          }
          const r = await alternate(fused.call, peer.call, o.budget, o.cap);
          peer.dispose?.();
          const row = { peer: p.name, workload: w.name, cell, mode, ...r };
          if (peer.diff !== undefined) {
            row.diff = peer.diff;
            if (!(peer.diff < 1e-4)) failed = true;
          }
          rows.push(row);
          const t = (s) => `${(s * 1e3).toPrecision(3)} ms`;
          console.log(`${p.name.padEnd(9)} ${w.name.padEnd(6)} ${cell.padEnd(4)} ${mode.padEnd(5)} ` +
            (r.skipped ? r.skipped : `fused-rnn ${t(r.ours)}  peer ${t(r.theirs)}  ${(r.theirs / r.ours).toFixed(1)}x  (n=${r.n})`) +
            (row.diff !== undefined ? `  diff ${row.diff.toExponential(1)}${row.diff < 1e-4 ? '' : ' FAIL'}` : ''));
        }
      }
    }
  }

  console.log('\n' + markdownTable(head, peers, rows, workloads));
  if (o.json) writeFileSync(o.json, JSON.stringify({ head, peers, rows, workloads }, null, 2));
  if (o.svg) await drawChart(o.svg, head, peers, rows, workloads);
  if (failed) {
    console.error('FAIL: onnxruntime\'s output differs from fused-rnn\'s on the same weights');
    process.exit(1);
  }
}

const fmtMs = (s) => (s * 1e3 >= 100 ? (s * 1e3).toFixed(0) : (s * 1e3).toPrecision(3));

/**
 * fused-rnn's figure for a (workload, cell, mode): the median of its medians over the peers it was
 * paired with there (each ratio is from its own pairing; on a loaded machine they differ).
 */
function oursFor(rows, w, cell, mode) {
  const timed = rows.filter((r) => r.workload === w && r.cell === cell && r.mode === mode && r.ours);
  return timed.length ? median(timed.map((r) => r.ours)) : null;
}

/** Rows = (workload, cell, mode); a column per peer: its time and how many times fused-rnn's. */
function markdownTable(head, peers, rows, workloads) {
  const live = peers.filter((p) => !p.missing);
  const lines = [
    `${head.date}; ${head.cpu}; Node ${head.node}; ${head.fusedRnn}. Milliseconds per call (median); in brackets: the peer's time / fused-rnn's in the same pairing (alternating calls); the fused-rnn column is its median over those pairings, or their range where they differ by more than 1.5× (a loaded machine).`,
    '',
    `| workload | cell | mode | fused-rnn | ${live.map((p) => p.name).join(' | ')} |`,
    `|---|---|---|---:|${live.map(() => '---:').join('|')}|`,
  ];
  for (const w of workloads) {
    for (const cell of ['lstm', 'gru']) {
      for (const mode of w.modes) {
        const mine = rows.filter((r) => r.workload === w.name && r.cell === cell && r.mode === mode);
        if (mine.length === 0) continue;
        const ours = mine.filter((r) => r.ours).map((r) => r.ours);
        const lo = Math.min(...ours), hi = Math.max(...ours);
        const oursText = ours.length === 0 ? '' : hi > 1.5 * lo ? `${fmtMs(lo)}–${fmtMs(hi)}` : fmtMs(oursFor(rows, w.name, cell, mode));
        const cells = live.map((p) => {
          const r = mine.find((x) => x.peer === p.name);
          if (!r) return '';
          if (r.error) return 'error';
          if (r.skipped) return `> ${head.cap} s`;
          return `${fmtMs(r.theirs)} (${(r.theirs / r.ours).toFixed(r.theirs / r.ours >= 10 ? 0 : 1)}×)`;
        });
        lines.push(`| ${w.name} (T${w.T} B${w.B} I${w.I} H${w.H}) | ${cell} | ${mode} | ${oursText} | ${cells.join(' | ')} |`);
      }
    }
  }
  lines.push('', 'Peers: ' + peers.map((p) => p.label + (p.missing ? ` (${p.missing})` : '')).join('; ') + '.');
  return lines.join('\n');
}

async function drawChart(file, head, peers, rows, workloads) {
  const { writeBarChart } = require(path.join(root, 'dist', 'chart.js'));
  const bars = [];
  for (const w of workloads) {
    for (const cell of ['lstm', 'gru']) {
      for (const mode of w.modes) {
        const ours = oursFor(rows, w.name, cell, mode);
        if (ours === null) continue;
        const group = `${w.name} ${cell} ${mode}`;
        bars.push({ group, series: 'fused-rnn', value: ours * 1e3 });
        for (const r of rows) {
          if (r.workload === w.name && r.cell === cell && r.mode === mode && r.theirs) bars.push({ group, series: r.peer, value: r.theirs * 1e3 });
        }
      }
    }
  }
  try {
    await writeBarChart(file, { title: `ms per call, log scale (${head.cpu}; ${head.date})`, y: { title: 'ms per call (median)', log: true }, bars });
    console.log(`\nchart: ${path.relative(process.cwd(), file)}`);
  } catch (e) {
    console.error(`no chart: ${e.message}`);
  }
}

main().catch((e) => {
  console.error(`bench/peers/run.js: ${e.stack ?? e}`);
  process.exit(1);
});
