// Classifying sequences of different lengths with a bidirectional layer: does a sequence of
// symbols contain an 'a' somewhere before a 'b'? (Lengths 5-40; padding and masking are fit's job:
// give it plain arrays.) Run: node examples/classify.js
'use strict';
const { Adam, Dense, GRU, Sequential } = require('fused-rnn');

const quick = !!process.env.EXAMPLE_QUICK;
const symbols = 4; // a, b, c, d as one-hot features
let s = 3;
const rand = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);

function example() {
  const len = 5 + Math.floor(rand() * 36);
  const ids = Array.from({ length: len }, () => Math.floor(rand() * symbols));
  if (rand() < 0.5) for (let i = 0; i < len; i++) ids[i] = 2 + Math.floor(rand() * 2); // only c and d: half the negatives
  const a = ids.indexOf(0);
  const label = a >= 0 && ids.indexOf(1, a + 1) >= 0 ? 1 : 0;
  return { x: ids.map((id) => Array.from({ length: symbols }, (_v, k) => (k === id ? 1 : 0))), y: label };
}
const make = (n) => {
  const data = Array.from({ length: n }, example);
  return { x: data.map((d) => d.x), y: data.map((d) => d.y) };
};
const train = make(quick ? 600 : 4000), test = make(1000);

async function main() {
  const model = new Sequential([
    new GRU({ inputSize: symbols, hiddenSize: 24, bidirectional: true, returnSequences: false, seed: 1 }),
    new Dense({ units: 2, seed: 2 }),
  ]);
  console.log(model.summary());
  await model.fit(train, { epochs: quick ? 2 : 15, batchSize: 32, optimizer: new Adam({ lr: 1e-2 }), loss: 'crossEntropy', seed: 1, verbose: quick ? 0 : 1 });
  const { loss, accuracy } = await model.evaluate(test, { loss: 'crossEntropy' });
  const positives = test.y.filter((y) => y === 1).length / test.y.length;
  console.log(`held-out accuracy ${(accuracy * 100).toFixed(1)}% (loss ${loss.toFixed(3)}); always guessing the commoner class: ${(Math.max(positives, 1 - positives) * 100).toFixed(1)}%`);
}
main();
