// Vanishing and exploding gradients, drawn: how much the last output of a sequence still depends on
// the input k steps before it (‖∂y_T/∂x_{T−k}‖), for a plain tanh RNN, an LSTM and a GRU with the same
// size and PyTorch's initialisation; then the 1000-step linear RNN h_t = w·h_{t−1} + x_t, where that
// dependence is exactly w^k: w = 0.99 vanishes, w = 1.01 explodes. Run: node examples/gradients.js
// Writes examples/output/gradients.svg (needs the optional vega packages; the numbers print anyway).
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { GRU, LSTM, RNN, tensor } = require('fused-rnn');

const quick = !!process.env.EXAMPLE_QUICK;
const T = quick ? 100 : 400, I = 16, H = 64, B = 8;

/** ‖∂y_T/∂x_t‖ for t = 1..T, averaged over B random sequences: one backward with a gradient at step T only. */
function gradientByDistance(layer, seed) {
  let s = seed;
  const x = new Float32Array(T * B * I).map(() => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32 - 0.5));
  layer.forward(tensor(x, [T, B, I]), { training: true });
  const dy = new Float32Array(T * B * H);
  dy.fill(1 / Math.sqrt(H), (T - 1) * B * H); // d(sum of y_T)/√H
  const { input } = layer.backward({ gradOutput: tensor(dy, [T, B, H]) });
  return Array.from({ length: T }, (_v, t) => {
    let sq = 0;
    for (let k = t * B * I; k < (t + 1) * B * I; k++) sq += input.data[k] ** 2;
    return [T - 1 - t, Math.sqrt(sq / B)];
  }).reverse();
}

const series = [
  { name: 'RNN (tanh)', points: gradientByDistance(new RNN({ inputSize: I, hiddenSize: H, seed: 1 }), 1) },
  { name: 'LSTM', points: gradientByDistance(new LSTM({ inputSize: I, hiddenSize: H, seed: 1 }), 1) },
  // TensorFlow's forget_bias = 1: the forget gate starts near σ(1) = 0.73 instead of 0.5.
  { name: 'LSTM, forget bias 1', points: gradientByDistance(new LSTM({ inputSize: I, hiddenSize: H, seed: 1, forgetBias: 1 }), 1) },
  { name: 'GRU', points: gradientByDistance(new GRU({ inputSize: I, hiddenSize: H, seed: 1 }), 1) },
];
console.log(`‖∂y_T/∂x_(T−k)‖, hidden ${H}, PyTorch init (mean of ${B} random sequences):`);
console.log('   k ' + series.map((s) => s.name.padStart(22)).join(''));
for (const k of [0, 1, 5, 10, 20, 50, T - 1]) console.log(String(k).padStart(4) + ' ' + series.map((s) => s.points[k][1].toExponential(2).padStart(22)).join(''));

// The linear RNN: y_T = w^(T−1), ∂y_T/∂x_t = w^(T−t), ∂y_T/∂w = (T−1)·w^(T−2), over 1000 steps.
const N = 1000;
console.log(`\nlinear RNN h_t = w·h_(t−1) + x_t, x = [1, 0, 0, …], ${N} steps:`);
for (const w of [0.99, 1, 1.01]) {
  const rnn = new RNN({ inputSize: 1, hiddenSize: 1, nonlinearity: 'identity', bias: false });
  rnn.loadStateDict({ weight_ih_l0: tensor([1], [1, 1]), weight_hh_l0: tensor([w], [1, 1]) });
  const x = new Float32Array(N);
  x[0] = 1;
  const { output } = rnn.forward(tensor(x, [N, 1, 1]), { training: true });
  const dy = new Float32Array(N);
  dy[N - 1] = 1;
  const { input } = rnn.backward({ gradOutput: tensor(dy, [N, 1, 1]) });
  const dw = rnn.stateDict('torch', { grad: true }).weight_hh_l0.data[0];
  console.log(`  w = ${w.toFixed(2)}: y_T = ${output.data[N - 1].toExponential(4)} (exact ${(w ** (N - 1)).toExponential(4)}), ` +
    `dy_T/dw = ${dw.toExponential(4)} (exact ${((N - 1) * w ** (N - 2)).toExponential(4)})`);
  series.push({ name: `linear, w = ${w}`, points: Array.from(input.data, (g, t) => [N - 1 - t, g]).reverse() });
}

async function draw() {
  let chart;
  try {
    chart = require('fused-rnn/chart');
    const out = path.join(__dirname, 'output');
    fs.mkdirSync(out, { recursive: true });
    const file = path.join(out, 'gradients.svg');
    await chart.writeLineChart(file, {
      title: 'How far back the gradient reaches', x: { title: 'distance k (steps before the output)' },
      y: { title: '‖∂y_T / ∂x_(T−k)‖', log: true }, series,
    });
    console.log(`\npicture: ${path.relative(process.cwd(), file)}`);
  } catch (e) {
    console.log(`\nno picture: ${e.message}`);
  }
}
draw();
