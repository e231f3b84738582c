// RSS over many batched streaming steps: `server.step()` of the /step model (LSTM(64 -> 128) ->
// Dense(8)) called by `streams` closed loops, each carrying its own state, until `total` requests
// are answered; prints RSS and the heap every tenth of the way. Flat RSS = no per-request memory
// kept (issue 9: "RSS flat over 1,000,000 batched steps").
//   node --expose-gc bench/serve/rss.js [--total=1000000] [--streams=256] [--max-batch=256]
'use strict';
const { LSTM, Dense, Sequential } = require('../../dist/index.js');

const arg = (name, def) => {
  const a = process.argv.find((s) => s.startsWith(`--${name}=`));
  return Number(a ? a.slice(name.length + 3) : def);
};
const total = arg('total', 1e6), streams = arg('streams', 256), maxBatchSize = arg('max-batch', 256);
const mib = (b) => (b / 2 ** 20).toFixed(1);

async function main() {
  const model = new Sequential([new LSTM({ inputSize: 64, hiddenSize: 128, seed: 3 }), new Dense({ units: 8, seed: 4 })]);
  const server = model.serve({ maxBatchSize, maxDelayMs: 2 });
  const x = new Float32Array(64).fill(0.1);
  let done = 0, next = total / 10;
  const t0 = performance.now();
  console.log(`${total} server.step() requests from ${streams} streams, maxBatchSize ${maxBatchSize}`);
  console.log('requests | RSS MiB | heap used MiB | external MiB | mean batch | req/s');
  const report = () => {
    if (global.gc) global.gc();
    const m = process.memoryUsage(), s = server.stats();
    console.log(`${String(done).padStart(8)} | ${mib(m.rss).padStart(7)} | ${mib(m.heapUsed).padStart(13)} | ${mib(m.external).padStart(12)} | ` +
      `${(s.requests / s.batches).toFixed(1).padStart(10)} | ${Math.round(done / ((performance.now() - t0) / 1e3))}`);
  };
  report();
  await Promise.all(Array.from({ length: streams }, async () => {
    let state;
    while (done < total) {
      state = (await server.step(x, state)).state;
      if (++done >= next) {
        next += total / 10;
        report();
      }
    }
  }));
  await server.close();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
