// A small fit printing its progress to stdout (verbose from argv[2]): run by progress.test.ts on
// a pseudo-terminal and through a pipe.
import { Adam, Dense, LSTM, Sequential } from '../../../lib/index';

async function main(): Promise<void> {
  const verbose = Number(process.argv[2]) as 0 | 1 | 2;
  const model = new Sequential([new LSTM({ inputSize: 2, hiddenSize: 8, returnSequences: false, seed: 3 }), new Dense({ units: 3 })]);
  const x = Array.from({ length: 48 }, (_v, i) => Array.from({ length: 6 }, (_w, t) => [Math.sin(i + t), (i * t) % 3]));
  const y = x.map((_s, i) => i % 3);
  await model.fit({ x, y }, { epochs: 3, batchSize: 4, optimizer: new Adam({ lr: 1e-2 }), loss: 'crossEntropy', verbose,
    validationSplit: 0.25, seed: 1 });
  process.stdout.write('done\n');
}
main().catch((e) => { console.error(e); process.exit(1); });
