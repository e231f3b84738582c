// `npm start`: what the `fused-rnn` command does, on a book. Trains a character LSTM on Moby-Dick
// chapters 1-32 (examples/data, public domain) for at most 110 seconds on every core with the
// progress bar, then samples from it; the model and its loss picture land in examples/output/.
// The same two commands by hand:
//   fused-rnn train examples/data/moby-dick.txt --out examples/output/moby-dick --max-time 110 --epochs 40
//   fused-rnn sample examples/output/moby-dick --prime "Call me" -n 400 -t 0.7
'use strict';
const path = require('node:path');
const { program } = require('fused-rnn/cli');

const quick = !!process.env.EXAMPLE_QUICK; // the test's few seconds
const out = path.join(__dirname, 'output', 'moby-dick');
const book = path.join(__dirname, 'data', 'moby-dick.txt');

async function run(args) {
  await program().parseAsync(args, { from: 'user' });
  if (process.exitCode) process.exit(process.exitCode);
}

(async () => {
  await run(['train', book, '--out', out, '--max-time', quick ? '3' : '110', '--epochs', '40', ...(quick ? ['--hidden', '32'] : [])]);
  console.log('\nA sample (temperature 0.7):\n');
  await run(['sample', out, '--prime', 'Call me', '-n', quick ? '80' : '400', '-t', '0.7']);
})();
