#!/usr/bin/env node
// `npm run bench:serve`: a real node:http server (bench/serve/server.js, one child process per
// configuration) driven over 127.0.0.1 by autocannon (programmatic API, in this process).
//
//   npm run bench:serve                        # 5 s per configuration after a 1 s warm-up
//   npm run bench:serve -- --quick             # 2 s per configuration, 0.5 s warm-up
//   npm run bench:serve -- --duration=3 --connections=256 --only=step --modes=direct,batched --max-batch=64 --delay=2 --concurrent=4
//
// Per endpoint (/predict: 2×LSTM(256) -> Dense(1), T = 100, I = 32; /step: LSTM(64 -> 128) ->
// Dense(8), a state per client id) and configuration (one call per request; model.serve(); the
// same on 2 kernel threads; two batches side by side on one kernel thread each; the same in int8 (--modes name batched-int8; batched-bf16 works too);
// onnxruntime-node per request; ORT behind the same ModelServer; and HTTP alone, the server
// answering a constant without any model: the ceiling of every row on this machine):
// requests/s, latency p50 / p99 / p99.9, the server's event-loop delay during the load, the mean
// batch size, failed requests (non-2xx, errors, timeouts), the 1-minute load average of the
// machine after each configuration (other work on it shows there), and ratios against the
// per-request baseline of the same run. "No HTTP": the same request handler called by as many
// closed loops inside the server process (what the model side sustains when HTTP costs nothing).
'use strict';
const { spawn } = require('node:child_process');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const autocannon = require('autocannon');
const { info } = require('../../dist/index.js');

const args = process.argv.slice(2);
const opt = (name, def) => {
  const a = args.find((s) => s.startsWith(`--${name}=`));
  return a ? a.slice(name.length + 3) : def;
};
const quick = args.includes('--quick');
const duration = Number(opt('duration', quick ? '2' : '5'));
const warmup = Number(opt('warmup', quick ? '0.5' : '1'));
const inprocSeconds = Number(opt('inproc', quick ? '1' : '2'));   // 0: skip the rows without HTTP
const connectionsOpt = opt('connections', '');
const only = opt('only', '');
const modes = opt('modes', '');   // e.g. --modes=direct,batched
const maxBatch = opt('max-batch', '');
const delay = opt('delay', '2');
const concurrent = opt('concurrent', '1');   // maxConcurrentBatches of model.serve()

let ortVersion = null;
try {
  require.resolve('onnxruntime-node');
  ortVersion = require('onnxruntime-node/package.json').version;
} catch { /* optional */ }

const CONFIGS = [
  { name: 'one call per request', mode: 'direct', threads: 1 },
  { name: 'model.serve()', mode: 'batched', threads: 1 },
  { name: 'model.serve(), 2 threads', mode: 'batched', threads: 2 },
  // The other way to use 2 cores: two batches side by side, one kernel thread each.
  { name: 'model.serve({ maxConcurrentBatches: 2 })', mode: 'batched', threads: 1, concurrent: '2' },
  { name: "model.serve({ precision: 'int8' })", mode: 'batched-int8', threads: 1 },
  { name: 'ORT, one run per request', mode: 'ort-direct', threads: 1, ort: true },
  { name: 'ORT behind ModelServer', mode: 'ort-batched', threads: 1, ort: true },
  // The floor: the same HTTP server answering a constant, no model (no row above can beat it).
  { name: 'HTTP alone (constant answer, no model)', mode: 'http-only', threads: 1 },
];
const ENDPOINTS = [
  // /predict: 64 connections (a request takes ~100× a step: with 256, one call per request would
  // answer nothing within the 5 s); /step: 256 concurrent streams.
  { name: 'predict', path: '/predict', floats: 100 * 32, maxBatch: 64, connections: 64 },
  { name: 'step', path: '/step', floats: 64, maxBatch: 256, connections: 256 },
];

function startServer(endpoint, c) {
  const child = spawn(process.execPath, [path.join(__dirname, 'server.js'), `--endpoint=${endpoint.name}`, `--mode=${c.mode}`,
    `--threads=${c.threads}`, `--max-batch=${maxBatch || endpoint.maxBatch}`, `--delay=${delay}`, `--concurrent=${c.concurrent ?? concurrent}`], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /READY (\d+) (.*)\n/.exec(out);
      if (m) resolve({ child, port: Number(m[1]), ...JSON.parse(m[2]) });
      else if (/FAILED/.test(out)) reject(new Error(out));
    });
    child.on('exit', (code) => reject(new Error(`server exited with ${code}: ${out}`)));
  });
}

/** The same configuration without HTTP: the handler called by closed loops in the server process. */
function inProcess(endpoint, c, seconds, warm) {
  const clients = Number(connectionsOpt || endpoint.connections);
  const child = spawn(process.execPath, [path.join(__dirname, 'server.js'), `--endpoint=${endpoint.name}`, `--mode=${c.mode}`,
    `--threads=${c.threads}`, `--max-batch=${maxBatch || endpoint.maxBatch}`, `--delay=${delay}`, `--concurrent=${c.concurrent ?? concurrent}`, `--inproc=${clients},${seconds},${warm}`],
  { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.on('exit', () => {
      const m = /INPROC (.*)\n/.exec(out);
      if (m) resolve(JSON.parse(m[1]));
      else reject(new Error(out));
    });
  });
}

function get(port, p) {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: p, agent: false }, (res) => {
      let s = '';
      res.on('data', (d) => { s += d; });
      res.on('end', () => resolve(s));
    }).on('error', reject);
  });
}

function load(port, endpoint, seconds) {
  let seed = 1;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
  const body = Buffer.from(Float32Array.from({ length: endpoint.floats }, rand).buffer);
  let nextId = 0;
  return autocannon({
    url: `http://127.0.0.1:${port}`,
    connections: Number(connectionsOpt || endpoint.connections),
    duration: seconds,
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream' },
    body,
    // /step: each connection is one client (its own stream state on the server).
    setupClient: (client) => {
      client.setRequest({ method: 'POST', path: endpoint.name === 'step' ? `/step?id=${nextId++}` : '/predict', body,
        headers: { 'content-type': 'application/octet-stream' } });
    },
  });
}

async function runOne(endpoint, c) {
  const s = await startServer(endpoint, c);
  try {
    await load(s.port, endpoint, warmup);
    // The warm-up's last requests are still being served: wait until they are answered.
    for (let t0 = Date.now(); JSON.parse(await get(s.port, '/stats')).pending > 0 && Date.now() - t0 < 60_000;) {
      await new Promise((r) => setTimeout(r, 50));
    }
    await get(s.port, '/reset');
    const r = await load(s.port, endpoint, duration);
    const stats = JSON.parse(await get(s.port, '/stats'));
    return {
      ok: r['2xx'], rps: r['2xx'] / r.duration, p50: r.latency.p50, p99: r.latency.p99, p999: r.latency.p99_9,
      failed: r.non2xx + r.errors + r.timeouts, loop: stats.loop, batch: stats.server?.meanBatchSize ?? null, ortDiff: s.ortDiff,
      lastError: stats.errors.last, streams: stats.streams,
    };
  } finally {
    s.child.kill();
  }
}

const f1 = (v) => (v >= 100 ? v.toFixed(0) : v.toFixed(1));

async function main() {
  const i = info();
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  console.log(`# bench:serve: ${cpu}, ${os.cpus().length} logical CPUs, node ${process.version}, fused-rnn ${i.version} (${i.isa})` +
    `${ortVersion ? `, onnxruntime-node ${ortVersion}` : ', onnxruntime-node not installed (`npm i --no-save onnxruntime-node`)'}`);
  console.log(`# autocannon ${connectionsOpt || '64 (/predict) and 256 (/step)'} connections over 127.0.0.1, ${duration} s per configuration after ${warmup} s of warm-up; ` +
    `model.serve({ maxBatchSize: ${maxBatch || '64 /predict, 256 /step'}, maxDelayMs: ${delay} }); bodies are float32 bytes`);
  for (const endpoint of ENDPOINTS) {
    if (only && only !== endpoint.name) continue;
    console.log(`\n/${endpoint.name}: ${endpoint.name === 'predict' ? '2×LSTM(256) -> Dense(1), T = 100, I = 32' : 'LSTM(64 -> 128) -> Dense(8), one event, a state per client'}`);
    console.log('| configuration | req/s | × per request | latency p50 / p99 / p99.9 ms | event-loop delay p50 / p99 / max ms | mean batch | failed | no HTTP: calls/s (×) | load avg |');
    console.log('|---|---|---|---|---|---|---|---|---|');
    let base = null, inBase = null;
    const ortDiffs = [];
    const streamsSeen = [];
    for (const c of CONFIGS) {
      if (c.ort && !ortVersion) continue;
      if (modes && !modes.split(',').includes(c.mode)) continue;
      let r;
      try {
        r = await runOne(endpoint, c);
      } catch (e) {
        console.log(`| ${c.name} | error: ${String(e.message).split('\n')[0].slice(0, 100)} |`);
        continue;
      }
      r.load = os.loadavg()[0];
      if (inprocSeconds > 0) {
        try {
          r.inproc = await inProcess(endpoint, c, inprocSeconds, Math.min(1, inprocSeconds / 2));
        } catch (e) {
          r.inproc = null;
        }
      }
      if (base === null) base = r.rps;
      if (inBase === null && r.inproc) inBase = r.inproc.rps;
      const l = r.loop;
      console.log(`| ${c.name} | ${r.rps.toFixed(0)} | ${(r.rps / base).toFixed(2)}× | ${f1(r.p50)} / ${f1(r.p99)} / ${f1(r.p999)} | ` +
        `${l ? `${l.p50.toFixed(2)} / ${l.p99.toFixed(2)} / ${l.max.toFixed(1)}` : '-'} | ${r.batch ? r.batch.toFixed(1) : '1'} | ${r.failed}` +
        `${r.lastError ? ` (${r.lastError.slice(0, 60)})` : ''} | ${r.inproc ? `${r.inproc.rps.toFixed(0)} (${(r.inproc.rps / inBase).toFixed(2)}×)` : '-'} | ${r.load.toFixed(1)} |`);
      if (typeof r.ortDiff === 'number') ortDiffs.push(r.ortDiff);
      streamsSeen.push(r.streams);
    }
    if (endpoint.name === 'step') console.log(`streams kept by the server (client ids seen): ${streamsSeen.join(', ')}`);
    if (ortDiffs.length) console.log(`ORT's output against ours on the same input: max relative difference ${Math.max(...ortDiffs).toExponential(1)}`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
