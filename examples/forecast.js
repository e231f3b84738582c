// Forecasting a seasonal series one step ahead, against the naive baselines a forecast must beat:
// "same as the last value" and "same as one season ago". Run: node examples/forecast.js
// The series: a daily cycle of 24 steps, a weekly swell, a slow trend and noise (seeded).
'use strict';
const { Adam, Dense, LSTM, Sequential } = require('fused-rnn');

const quick = !!process.env.EXAMPLE_QUICK;
const season = 24, window = 48, N = quick ? 800 : 3000;
let s = 7;
const noise = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32 - 0.5);
const series = Array.from({ length: N }, (_v, t) =>
  10 + 0.002 * t + 3 * Math.sin((2 * Math.PI * t) / season) + Math.sin((2 * Math.PI * t) / (7 * season)) + 0.6 * noise());

// Scale with the training part's mean and spread; windows of 48 steps -> the next value.
const split = Math.floor(N * 0.8);
const mean = series.slice(0, split).reduce((a, v) => a + v, 0) / split;
const sd = Math.sqrt(series.slice(0, split).reduce((a, v) => a + (v - mean) ** 2, 0) / split);
const z = series.map((v) => (v - mean) / sd);
const windows = (from, to) => {
  const x = [], y = [];
  for (let t = from; t + window < to; t++) {
    x.push(z.slice(t, t + window).map((v) => [v]));
    y.push([z[t + window]]);
  }
  return { x, y };
};
const train = windows(0, split), test = windows(split - window, N);

async function main() {
  const model = new Sequential([new LSTM({ inputSize: 1, hiddenSize: 32, returnSequences: false, seed: 1 }), new Dense({ units: 1, seed: 2 })]);
  await model.fit(train, { epochs: quick ? 3 : 25, batchSize: 32, optimizer: new Adam({ lr: 5e-3 }), loss: 'mse', seed: 1, verbose: quick ? 0 : 1 });
  const pred = (await model.predict(test.x)).data;
  let lstm = 0, last = 0, seasonal = 0;
  test.y.forEach(([y], n) => {
    const w = test.x[n];
    lstm += Math.abs(pred[n] - y);
    last += Math.abs(w[window - 1][0] - y);
    seasonal += Math.abs(w[window - season][0] - y);
  });
  const mae = (v) => ((v / test.y.length) * sd).toFixed(3);
  console.log(`one-step-ahead mean absolute error on the last ${test.y.length} steps (held out):`);
  console.log(`  LSTM(32)                       ${mae(lstm)}`);
  console.log(`  naive: the last value          ${mae(last)}`);
  console.log(`  seasonal naive: 24 steps ago   ${mae(seasonal)}`);
  console.log(`  (the noise alone: ${(0.6 / 4).toFixed(3)}, the mean absolute value of uniform noise of width 0.6)`);
}
main();
