// Child process of test/reliability/lifecycle.test.ts (run with test/helpers/ts-register.cjs).
//   terminate ROUNDS  start 4 workers per round that loop forwardAsync, backwardAsync,
//                     optimizer stepAsync, matmulAsync (Dense) and model.predict, and terminate
//                     them mid-call; the process must exit 0 ("ok" on stdout).
//   many N            N workers load the addon at once and each computes one forward; every
//                     result must equal the main thread's bit for bit.
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { Adam, Dense, LSTM, Sequential, tensor } from '../../../lib/index';

function forwardOnce(): number[] {
  const lstm = new LSTM({ inputSize: 8, hiddenSize: 16, numLayers: 2, seed: 3 });
  const x = tensor(Float32Array.from({ length: 5 * 3 * 8 }, (_v, i) => Math.sin(i)), [5, 3, 8]);
  return Array.from(lstm.forward(x).output.data);
}

async function busyLoop(k: number): Promise<never> {
  const lstm = new LSTM({ inputSize: 32, hiddenSize: 96, seed: 1 + k });
  const x = tensor(new Float32Array(40 * 16 * 32).fill(0.1), [40, 16, 32]);
  const opt = new Adam();
  const model = new Sequential([new LSTM({ inputSize: 32, hiddenSize: 64, seed: 2 }), new Dense({ units: 300, seed: 3 })]);
  const xs = Array.from({ length: 48 }, () => Array.from({ length: 24 }, () => new Array(32).fill(0.2)));
  parentPort!.postMessage('running');
  for (;;) {
    const f = await lstm.forwardAsync(x, { training: true });
    await Promise.all([
      lstm.backwardAsync({ gradOutput: f.output }),
      opt.stepAsync(model.parameters()),
      model.predict(xs),
    ]);
  }
}

async function main(): Promise<void> {
  const [mode, countArg] = process.argv.slice(2);
  const count = Number(countArg);
  if (mode === 'terminate') {
    for (let round = 0; round < count; round++) {
      await Promise.all(Array.from({ length: 4 }, (_v, k) => new Promise<void>((resolve, reject) => {
        const w = new Worker(__filename, { workerData: { mode: 'busy', k } });
        w.on('error', reject);
        // Terminate at a different moment each time: right away, or a few ms into the calls.
        w.on('message', () => setTimeout(() => { w.terminate().then(() => resolve(), reject); }, (round * 7 + k * 3) % 9));
      })));
    }
  } else if (mode === 'many') {
    const expected = JSON.stringify(forwardOnce());
    const results = await Promise.all(Array.from({ length: count }, () => new Promise<string>((resolve, reject) => {
      const w = new Worker(__filename, { workerData: { mode: 'forward' } });
      w.on('message', (m: string) => resolve(m));
      w.on('error', reject);
    })));
    const bad = results.filter((r) => r !== expected).length;
    if (bad > 0) throw new Error(`${bad} of ${count} workers computed another result`);
  } else {
    throw new Error(`unknown mode ${mode}`);
  }
  console.log('ok');
}

if (isMainThread) {
  main().catch((e) => { console.error(e); process.exit(1); });
} else if (workerData.mode === 'busy') {
  void busyLoop(workerData.k as number);
} else {
  parentPort!.postMessage(JSON.stringify(forwardOnce()));
}
