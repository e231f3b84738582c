// `npm start`: the two classic teaching examples, run through the public API.
//   1. A hand-wired LSTM memory cell: adds x1 when x2 = 1, resets when x2 = -1, emits when x3 = 1.
//   2. The linear RNN h_t = w*h_{t-1} + x_t over 1000 steps: vanishing and exploding gradients.
//   3. The memory task of 1 learned from random data with Sequential + fit (a few seconds).
'use strict';
const { Adam, LSTM, RNN, Sequential, stepLR, tensor } = require('..');

function memoryCell() {
  const lstm = new LSTM({ inputSize: 3, hiddenSize: 1, activations: { cell: 'identity', hidden: 'identity' } });
  // PyTorch gate order i, f, g, o: i = σ(100·x2 − 10), f = σ(100·x2 + 10), g = x1, o = σ(100·x3 − 10).
  lstm.loadStateDict({
    weight_ih_l0: tensor([0, 100, 0, 0, 100, 0, 1, 0, 0, 0, 0, 100], [4, 3]),
    weight_hh_l0: tensor([0, 0, 0, 0], [4, 1]),
    bias_ih_l0: tensor([-10, 10, 0, -10], [4]),
    bias_hh_l0: tensor([0, 0, 0, 0], [4]),
  });
  const steps = [[3, 1, 0], [4, 1, 0], [2, 0, 0], [1, 0, 1], [3, -1, 0], [6, 1, 0], [1, 0, 1]];
  const { output } = lstm.forward(tensor(steps.flat(), [steps.length, 1, 3]));
  console.log('1. LSTM memory cell (add x1 when x2 = 1, reset when x2 = -1, emit when x3 = 1)');
  steps.forEach((x, t) => console.log(`   t=${t + 1} x=[${x.join(', ')}]  y=${output.data[t].toFixed(4)}`));
  console.log(`   y rounded: [${Array.from(output.data, (v) => Math.round(v)).join(', ')}]  (expected [0, 0, 0, 7, 0, 0, 6])\n`);
}

function linearRnn() {
  const T = 1000;
  console.log(`2. Linear RNN h_t = w*h_{t-1} + x_t, x = [1, 0, 0, ...], ${T} steps: y_T = w^${T - 1}, dy_T/dw = ${T - 1}*w^${T - 2}`);
  for (const w of [0.99, 1, 1.01]) {
    const rnn = new RNN({ inputSize: 1, hiddenSize: 1, nonlinearity: 'identity', bias: false });
    rnn.loadStateDict({ weight_ih_l0: tensor([1], [1, 1]), weight_hh_l0: tensor([w], [1, 1]) });
    const x = new Float32Array(T);
    x[0] = 1;
    const { output } = rnn.forward(tensor(x, [T, 1, 1]), { training: true });
    const gradOutput = new Float32Array(T);
    gradOutput[T - 1] = 1;
    rnn.backward({ gradOutput: tensor(gradOutput, [T, 1, 1]) });
    const dw = rnn.stateDict('torch', { grad: true }).weight_hh_l0.data[0];
    console.log(`   w=${w.toFixed(2)}  y_T=${output.data[T - 1].toExponential(6)}  dy_T/dw=${dw.toExponential(6)}` +
      `  (exact ${(w ** (T - 1)).toExponential(6)}, ${((T - 1) * w ** (T - 2)).toExponential(6)})`);
  }
}

// 3. The same memory task learned from random data by model.fit(), then the seed sequence again.
async function learnMemoryTask() {
  let seed = 1;
  const rand = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 4294967296);
  const sequences = (n) => Array.from({ length: n }, () => {
    let mem = 0;
    const x = [], y = [];
    for (let t = 0; t < 20; t++) {
      const x1 = 1 + Math.floor(rand() * 6), r = rand(), x2 = r < 0.25 ? 1 : r < 0.35 ? -1 : 0, x3 = rand() < 0.3 ? 1 : 0;
      mem = x2 === 1 ? mem + x1 : x2 === -1 ? 0 : mem;
      x.push([x1, x2, x3]);
      y.push(x3 ? mem : 0);
    }
    return { x, y };
  });
  const data = sequences(2000);
  const model = new Sequential([new LSTM({ inputSize: 3, hiddenSize: 1, seed: 1, activations: { cell: 'identity', hidden: 'identity' } })]);
  console.log('\n3. The memory task learned by model.fit() from 2000 random sequences (one LSTM unit, the seed\'s activations)');
  await model.fit({ x: data.map((d) => d.x), y: data.map((d) => d.y) }, {
    epochs: 40, batchSize: 32, optimizer: new Adam({ lr: 0.05 }), loss: 'mse', clipGradNorm: 10,
    lrSchedule: stepLR({ stepSize: 15, gamma: 0.3 }),
    onEpochEnd: ({ epoch, loss }) => { if (epoch % 10 === 9) console.log(`   epoch ${epoch + 1}: loss ${loss.toFixed(4)}`); },
  });
  const steps = [[3, 1, 0], [4, 1, 0], [2, 0, 0], [1, 0, 1], [3, -1, 0], [6, 1, 0], [1, 0, 1]];
  const y = model.predictSync([steps]).data;
  console.log(`   seed sequence: y = [${Array.from(y, (v) => v.toFixed(2)).join(', ')}]  (expected [0, 0, 0, 7, 0, 0, 6])`);
}

memoryCell();
linearRnn();
learnMemoryTask();
