// The classic hand-wired LSTM memory cell (test/fixtures/seed): one unit that adds x1 to its cell
// when x2 = 1, forgets when x2 = -1, and lets the cell out when x3 = 1. Run: node examples/memory-cell.js
//
// Gate order i, f, g, o (PyTorch). No recurrent weights, so each gate depends on this step's x only:
//   i = σ(100·x2 − 10)   f = σ(100·x2 + 10)   g = x1 (identity)   o = σ(100·x3 − 10)
//   c_t = f·c_{t−1} + i·g        y_t = h_t = o·c_t (identity)
'use strict';
const { LSTM, tensor } = require('fused-rnn');

const W = [[0, 100, 0], [0, 100, 0], [1, 0, 0], [0, 0, 100]]; // rows: i, f, g, o
const b = [-10, 10, 0, -10];
const lstm = new LSTM({ inputSize: 3, hiddenSize: 1, activations: { cell: 'identity', hidden: 'identity' } });
lstm.loadStateDict({
  weight_ih_l0: tensor(W.flat(), [4, 3]),
  weight_hh_l0: tensor([0, 0, 0, 0], [4, 1]),
  bias_ih_l0: tensor(b, [4]),
  bias_hh_l0: tensor([0, 0, 0, 0], [4]),
});

const sigmoid = (z) => 1 / (1 + Math.exp(-z));
const gate = (k, x) => W[k][0] * x[0] + W[k][1] * x[1] + W[k][2] * x[2] + b[k];
const steps = [[3, 1, 0], [4, 1, 0], [2, 0, 0], [1, 0, 1], [3, -1, 0], [6, 1, 0], [1, 0, 1]];

console.log(' t  x            input  forget   cell-in   output   cell c_t    y_t');
let state, cPrev = 0;
steps.forEach((x, t) => {
  // The layer streams one step at a time; the gates are recomputed here from the weights to show them.
  const s = lstm.step(tensor(x, [1, 3]), state);
  state = s.state;
  const [i, f, g, o] = [sigmoid(gate(0, x)), sigmoid(gate(1, x)), gate(2, x), sigmoid(gate(3, x))];
  const c = state.c.data[0];
  if (Math.abs(f * cPrev + i * g - c) > 1e-4 * (1 + Math.abs(c))) throw new Error(`step ${t + 1}: c_t is not f·c + i·g`);
  cPrev = c;
  const f4 = (v) => v.toFixed(4).padStart(8);
  console.log(`${String(t + 1).padStart(2)}  [${x.map((v) => String(v).padStart(2)).join(',')}]  ${f4(i)} ${f4(f)} ${f4(g)} ${f4(o)} ${f4(c)}   ${f4(s.output.data[0])}`);
});
console.log('y rounded: expected 0 0 0 7 0 0 6 (the cell emits what it summed, when x3 = 1)');
