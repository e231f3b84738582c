// One configuration of the serving benchmark: a node:http server on 127.0.0.1 (a random port),
// started by bench/serve/run.js, which drives it with autocannon and then reads /stats.
//   POST /predict           body: T·I float32 (little-endian), one sequence -> {"score": y}
//   POST /step?id=<client>  body: I float32, one event of the client's stream -> [O outputs];
//                           the client's state is kept in a Map (per-client streams)
//   GET  /reset             starts the event-loop delay histogram (after the warm-up)
//   GET  /stats             {"loop": {p50, p99, p999, max} ms, "server": model server counters,
//                           "pending": requests not answered yet}
// Modes: direct = one model call per request (predict: `await model.predict([x])`, one at a time
// as the model allows; step: `model.step([x], state)`), batched = model.serve() (batched-bf16,
// batched-int8: with that precision), ort-direct = one onnxruntime-node session.run() per
// request, ort-batched = the same ModelServer around an
// ORT session (ort_backend.js). With --inproc=clients,seconds,warmup it calls the same handler
// from that many closed loops in this process instead (no HTTP) and prints the rate.
'use strict';
const http = require('node:http');
const { monitorEventLoopDelay } = require('node:perf_hooks');
const { LSTM, Dense, Sequential, ModelServer, ServerOverloadedError, onnxBytes, setNumThreads } = require('../../dist/index.js');

const arg = (name, def) => {
  const a = process.argv.find((s) => s.startsWith(`--${name}=`));
  return a ? a.slice(name.length + 3) : def;
};
const endpoint = arg('endpoint', 'predict');
const mode = arg('mode', 'batched');
const threads = Number(arg('threads', '1'));
const maxBatchSize = Number(arg('max-batch', '64'));
const maxDelayMs = Number(arg('delay', '2'));
const maxConcurrentBatches = Number(arg('concurrent', '1'));

// The models of the issue: /predict 2×LSTM(256) -> Dense(1) over T = 100 steps of I = 32;
// /step LSTM(64 -> 128) -> Dense(8), one event at a time.
const P = { T: 100, I: 32, H: 256, O: 1 };
const S = { I: 64, H: 128, O: 8 };

setNumThreads(threads);
const predictModel = new Sequential([new LSTM({ inputSize: P.I, hiddenSize: P.H, numLayers: 2, returnSequences: false, seed: 1 }), new Dense({ units: P.O, seed: 2 })]);
const stepModel = new Sequential([new LSTM({ inputSize: S.I, hiddenSize: S.H, seed: 3 }), new Dense({ units: S.O, seed: 4 })]);
const model = endpoint === 'predict' ? predictModel : stepModel;

async function ortSession() {
  const ort = require('onnxruntime-node');
  // The same models as the package exports them: predict with the int32 input 'sequence_lens',
  // step with the state inputs 'h0.0', 'c0.0' and outputs 'hN.0', 'cN.0'.
  const bytes = endpoint === 'predict' ? onnxBytes(predictModel, { sequenceLens: true }) : onnxBytes(stepModel, { states: true });
  const session = await ort.InferenceSession.create(bytes, {
    intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all',
  });
  return { ort, session };
}

/** handle(body: Float32Array, clientId) -> Promise<string> (the response body). */
const states = new Map();   // /step: client id -> its stream state

async function makeHandler() {
  if (mode === 'http-only') {
    const answer = endpoint === 'predict' ? '{"score":0.1234567}' : JSON.stringify(Array.from({ length: S.O }, (_v, i) => 0.1234567 + i));
    return async () => answer;
  }
  if (mode === 'direct') {
    if (endpoint === 'predict') {
      let chain = Promise.resolve();
      return (x) => {
        // model.predict() is one async call at a time per model: requests take turns.
        const run = chain.then(() => model.predict({ shape: [1, P.T, P.I], data: x }));
        chain = run.catch(() => {});
        return run.then((y) => `{"score":${y.data[0]}}`);
      };
    }
    return async (x, id) => {
      const r = model.step({ shape: [1, S.I], data: x }, states.get(id));
      states.set(id, r.state);
      return JSON.stringify(Array.from(r.output.data));
    };
  }
  let server;
  // batched-bf16 / batched-int8: the same server with model.serve({ precision }).
  if (mode.startsWith('batched')) server = model.serve({ maxBatchSize, maxDelayMs, maxConcurrentBatches, ...(mode === 'batched' ? {} : { precision: mode.slice(8) }) });
  else {
    const { ort, session } = await ortSession();
    if (mode === 'ort-direct') {
      if (endpoint === 'predict') {
        const lens = new Int32Array([P.T]);
        return async (x) => {
          const r = await session.run({ x: new ort.Tensor('float32', x, [P.T, 1, P.I]), sequence_lens: new ort.Tensor('int32', lens, [1]) });
          return `{"score":${r.y.data[0]}}`;
        };
      }
      return async (x, id) => {
        const s = states.get(id) ?? { h: new Float32Array(S.H), c: new Float32Array(S.H) };
        const r = await session.run({ x: new ort.Tensor('float32', x, [1, 1, S.I]), 'h0.0': new ort.Tensor('float32', s.h, [1, 1, S.H]), 'c0.0': new ort.Tensor('float32', s.c, [1, 1, S.H]) });
        states.set(id, { h: r['hN.0'].data, c: r['cN.0'].data });
        return JSON.stringify(Array.from(r.y.data));
      };
    }
    const { OrtPredictBackend, OrtStepBackend } = require('./ort_backend');
    const backend = endpoint === 'predict' ? new OrtPredictBackend(ort, session, P.I, P.O) : new OrtStepBackend(ort, session, S.I, S.H, S.O);
    server = new ModelServer(backend, { maxBatchSize, maxDelayMs });
  }
  globalThis.modelServer = server;
  if (endpoint === 'predict') return async (x) => `{"score":${(await server.predict(x)).data[0]}}`;
  return async (x, id) => {
    const r = await server.step(x, states.get(id));
    states.set(id, r.state);
    return JSON.stringify(Array.from(r.output.data));
  };
}

/** Our model and ORT on the same input: the largest relative difference (printed by run.js). */
async function checkAgainstOrt() {
  let ort, session;
  try {
    ({ ort, session } = await ortSession());
  } catch {
    return null;
  }
  let seed = 7;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
  if (endpoint === 'predict') {
    const x = Float32Array.from({ length: P.T * P.I }, rand);
    const ours = (await predictModel.predict({ shape: [1, P.T, P.I], data: x })).data[0];
    const theirs = (await session.run({ x: new ort.Tensor('float32', x, [P.T, 1, P.I]), sequence_lens: new ort.Tensor('int32', new Int32Array([P.T]), [1]) })).y.data[0];
    return Math.abs(ours - theirs) / Math.max(1e-6, Math.abs(ours));
  }
  let s, h = new Float32Array(S.H), c = new Float32Array(S.H), worst = 0;
  for (let t = 0; t < 5; t++) {
    const x = Float32Array.from({ length: S.I }, rand);
    s = stepModel.step({ shape: [1, S.I], data: x }, s?.state);
    const r = await session.run({ x: new ort.Tensor('float32', x, [1, 1, S.I]), 'h0.0': new ort.Tensor('float32', h, [1, 1, S.H]), 'c0.0': new ort.Tensor('float32', c, [1, 1, S.H]) });
    h = r['hN.0'].data;
    c = r['cN.0'].data;
    const scale = Math.max(...s.output.data.map(Math.abs));
    for (let o = 0; o < S.O; o++) worst = Math.max(worst, Math.abs(s.output.data[o] - r.y.data[o]) / scale);
  }
  return worst;
}

/** The same handler without HTTP: `clients` closed loops calling it for `seconds` (after a warm-up). */
async function inProcess(handle, clients, seconds, warmup) {
  let seed = 1;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
  const x = Float32Array.from({ length: endpoint === 'predict' ? P.T * P.I : S.I }, rand);
  const run = async (ms) => {
    const end = performance.now() + ms;
    let n = 0;
    await Promise.all(Array.from({ length: clients }, async (_v, i) => {
      while (performance.now() < end) {
        await handle(x, `c${i}`);
        n++;
      }
    }));
    return n;
  };
  await run(warmup * 1000);
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  const t0 = performance.now();
  const n = await run(seconds * 1000);
  const rps = n / ((performance.now() - t0) / 1000);
  loop.disable();
  return { rps, loopP99: loop.percentile(99) / 1e6, batch: globalThis.modelServer?.stats().meanBatchSize ?? null };
}

async function main() {
  const handle = await makeHandler();
  const inproc = arg('inproc', '');
  if (inproc) {
    const [clients, seconds, warmup] = inproc.split(',').map(Number);
    process.stdout.write(`INPROC ${JSON.stringify(await inProcess(handle, clients, seconds, warmup))}\n`);
    process.exit(0);
  }
  const ortDiff = mode.startsWith('ort') ? await checkAgainstOrt() : null;
  const want = endpoint === 'predict' ? P.T * P.I : S.I;
  let loop = null;
  const http500 = { count: 0, last: '' };
  let pending = 0;   // requests received and not answered yet (run.js waits for 0 after the warm-up)
  const srv = http.createServer((req, res) => {
    if (req.method === 'GET') {
      if (req.url === '/reset') {
        loop?.disable();
        loop = monitorEventLoopDelay({ resolution: 1 });
        loop.enable();
        res.end('ok');
      } else if (req.url === '/stats') {
        const ms = (ns) => ns / 1e6;
        const l = loop ? { p50: ms(loop.percentile(50)), p99: ms(loop.percentile(99)), p999: ms(loop.percentile(99.9)), max: ms(loop.max) } : null;
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ loop: l, server: globalThis.modelServer?.stats() ?? null, errors: http500, pending, streams: states.size }));
      } else {
        res.statusCode = 404;
        res.end();
      }
      return;
    }
    const chunks = [];
    let n = 0;
    req.on('data', (c) => { chunks.push(c); n += c.length; });
    req.on('end', () => {
      if (n !== want * 4) {
        res.statusCode = 400;
        res.end(`expected ${want} float32 values`);
        return;
      }
      const x = new Float32Array(want);
      const u8 = new Uint8Array(x.buffer);
      let at = 0;
      for (const c of chunks) { u8.set(c, at); at += c.length; }
      const q = req.url.indexOf('?id=');
      const id = q < 0 ? '' : req.url.slice(q + 4);
      pending++;
      handle(x, id).then((body) => {
        pending--;
        res.setHeader('content-type', 'application/json');
        res.end(body);
      }, (e) => {
        pending--;
        res.statusCode = e instanceof ServerOverloadedError ? 503 : 500;
        http500.count++;
        http500.last = String(e?.message ?? e);
        res.end(http500.last);
      });
    });
  });
  srv.keepAliveTimeout = 60_000;
  srv.listen(0, '127.0.0.1', () => {
    process.stdout.write(`READY ${srv.address().port} ${JSON.stringify({ ortDiff })}\n`);
  });
}

main().catch((e) => {
  process.stdout.write(`FAILED ${String(e?.stack ?? e).split('\n').join(' | ')}\n`);
  process.exit(1);
});
