// `npm start`: what the `fused-rnn` command does, on a book. Trains a character LSTM on Moby-Dick
// chapters 1-32 (examples/data, public domain) for at most 80 seconds on every core with the
// progress bar, then samples from it; the model and its loss picture land in examples/output/.
// The same two commands by hand:
//   fused-rnn train examples/data/moby-dick.txt --out examples/output/moby-dick --max-time 80 --epochs 40
//   fused-rnn sample examples/output/moby-dick --prime "Call me" -n 400 -t 0.7
'use strict';
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const quick = !!process.env.EXAMPLE_QUICK; // the test's few seconds
const out = path.join(__dirname, 'output', 'moby-dick');
const book = path.join(__dirname, 'data', 'moby-dick.txt');
const bin = require.resolve('fused-rnn/package.json').replace(/package\.json$/, 'dist/cli/main.js'); // the `fused-rnn` command

function run(args) {
  const r = spawnSync(process.execPath, [bin, ...args], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

run(['train', book, '--out', out, '--max-time', quick ? '3' : '80', '--epochs', '40', ...(quick ? ['--hidden', '32'] : [])]);
console.log('\nA sample (temperature 0.7):\n');
run(['sample', out, '--prime', 'Call me', '-n', quick ? '80' : '400', '-t', '0.7']);
