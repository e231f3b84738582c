// A model behind node:http with fused-rnn's micro-batching server: the pattern to copy.
//
//   node examples/server/server.js                       # one process, port 8080
//   WORKERS=2 node examples/server/server.js             # node:cluster, one worker per core
//   MODEL=models/my-model node examples/server/server.js # a directory written by model.save()
//
//   curl -s localhost:8080/predict -d '{"sequence": [[0.1, 0.2], [0.3, 0.4]]}'
//   curl -s localhost:8080/step -d '{"client": "alice", "x": [0.1, 0.2]}'     # alice's stream goes on
//
// - Every request awaits `server.predict()` / `server.step()`: concurrent requests run as one
//   batched model call (maxBatchSize / maxDelayMs), off the event loop.
// - Streams: a client's state is a StreamState the application keeps. One process: a Map with an
//   idle expiry. Several processes (cluster) or restarts: `state.toBytes()` into a store every
//   worker reads (here the cluster primary over IPC; in production Redis, memcached, a DB row) and
//   `server.loadState(bytes)` on the way back: the bytes carry a format tag and the state's
//   shapes, and a state of another model is refused with a RangeError.
// - Back-pressure: a full queue rejects with ServerOverloadedError -> 503 + Retry-After.
// - SIGTERM: stop listening, `await server.close()` (answers everything queued), exit.
'use strict';
const cluster = require('node:cluster');
const http = require('node:http');
const os = require('node:os');
// In your project: require('fused-rnn').
const { Sequential, LSTM, Dense, ServerOverloadedError, setNumThreads } = require('../../dist/index.js');

const PORT = Number(process.env.PORT ?? 8080);
const WORKERS = Number(process.env.WORKERS ?? 1);
const STATE_TTL_MS = 10 * 60_000;   // forget a client's stream after 10 idle minutes

// ---- where streams live between requests -------------------------------------------------------

/** One process: the StreamState objects themselves, in a Map swept for idle clients. */
class LocalStates {
  constructor(ttlMs) {
    this.map = new Map();
    setInterval(() => {
      const old = Date.now() - ttlMs;
      for (const [id, e] of this.map) if (e.t < old) this.map.delete(id);
    }, Math.min(ttlMs, 60_000)).unref();
  }
  async get(id) { return this.map.get(id)?.state; }
  async set(id, state) { this.map.set(id, { state, t: Date.now() }); }
}

/** Several processes: the state's bytes, kept by the cluster primary (stand-in for Redis & co). */
class SharedStates {
  constructor(server) {
    this.server = server;
    this.waiting = new Map();
    this.next = 0;
    process.on('message', (m) => {
      if (m?.kind !== 'state') return;
      this.waiting.get(m.req)?.(m.bytes);
      this.waiting.delete(m.req);
    });
  }
  get(id) {
    const req = this.next++;
    return new Promise((resolve, reject) => {
      this.waiting.set(req, (bytes) => {
        // A state saved by another model (e.g. before a redeploy) is refused with a RangeError.
        try { resolve(bytes ? this.server.loadState(bytes) : undefined); } catch (e) { reject(e); }
      });
      process.send({ kind: 'get', id, req });
    });
  }
  async set(id, state) { process.send({ kind: 'set', id, bytes: state.toBytes() }); }
}

function primaryStore(ttlMs) {
  const map = new Map();
  setInterval(() => {
    const old = Date.now() - ttlMs;
    for (const [id, e] of map) if (e.t < old) map.delete(id);
  }, Math.min(ttlMs, 60_000)).unref();
  return (worker, m) => {
    if (m.kind === 'set') map.set(m.id, { bytes: m.bytes, t: Date.now() });
    else if (m.kind === 'get') worker.send({ kind: 'state', req: m.req, bytes: map.get(m.id)?.bytes ?? null });
  };
}

// ---- the model and the HTTP front ------------------------------------------------------------

async function loadModel() {
  if (process.env.MODEL) return Sequential.load(process.env.MODEL);
  // A demo model: 2 features per step in, 1 score out (untrained).
  return new Sequential([new LSTM({ inputSize: 2, hiddenSize: 64, seed: 1 }), new Dense({ units: 1, seed: 2 })]);
}

function readJson(req) {
  return new Promise((resolve, reject) => {
    let s = '';
    req.setEncoding('utf8');
    req.on('data', (d) => {
      s += d;
      if (s.length > 1 << 20) reject(Object.assign(new Error('body too large'), { status: 413 }));
    });
    req.on('end', () => {
      try { resolve(JSON.parse(s)); } catch { reject(Object.assign(new Error('invalid JSON'), { status: 400 })); }
    });
  });
}

function reply(res, status, body, headers = {}) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

async function serveHttp() {
  setNumThreads(1);                  // one kernel thread per process: the processes use the cores
  const model = await loadModel();
  const server = model.serve({ maxBatchSize: 64, maxDelayMs: 2, maxQueue: 4096 });
  const states = cluster.isWorker ? new SharedStates(server) : new LocalStates(STATE_TTL_MS);

  const httpServer = http.createServer(async (req, res) => {
    try {
      if (req.method !== 'POST') return reply(res, 405, { error: 'POST /predict or /step' });
      const body = await readJson(req);
      if (req.url === '/predict') {
        const y = await server.predict(body.sequence);            // [O], or [T, O] per step
        return reply(res, 200, { output: Array.from(y.data) });
      }
      if (req.url === '/step') {
        const id = String(body.client);
        const r = await server.step(body.x, await states.get(id));
        await states.set(id, r.state);
        return reply(res, 200, { output: Array.from(r.output.data) });
      }
      return reply(res, 404, { error: 'not found' });
    } catch (e) {
      if (e instanceof ServerOverloadedError) return reply(res, 503, { error: e.message }, { 'retry-after': '1' });
      // TypeError / RangeError: this request's input was wrong (checked before batching).
      const status = e.status ?? (e instanceof TypeError || e instanceof RangeError ? 400 : 500);
      return reply(res, status, { error: e.message });
    }
  });
  httpServer.listen(PORT, () => console.log(`pid ${process.pid}: listening on :${PORT}`));

  process.once('SIGTERM', async () => {
    httpServer.close();                // no new connections
    await server.close();              // answers every queued request, then resolves
    process.exit(0);
  });
}

if (WORKERS > 1 && cluster.isPrimary) {
  // node:cluster: the workers share the port; each has its own model copy and batcher. Streams
  // go through the primary's store as bytes, so any worker can take a client's next event.
  cluster.setupPrimary({ serialization: 'advanced' });   // Uint8Array over IPC without JSON
  const onMessage = primaryStore(STATE_TTL_MS);
  for (let i = 0; i < Math.min(WORKERS, os.availableParallelism()); i++) cluster.fork();
  cluster.on('message', onMessage);
  cluster.on('exit', (w, code) => { if (code !== 0) cluster.fork(); });
} else {
  serveHttp().catch((e) => { console.error(e); process.exit(1); });
}
