// A model from fused-rnn to PyTorch and back, through safetensors files with PyTorch's names.
//   node examples/pytorch/roundtrip.js           # 1. writes examples/output/pytorch/{model,io}.safetensors
//   python3 examples/pytorch/roundtrip.py        # 2. PyTorch checks the output, trains, writes from_torch.safetensors
//   node examples/pytorch/roundtrip.js --back    # 3. fused-rnn loads PyTorch's weights and checks PyTorch's output
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { Dense, LSTM, Sequential, loadSafetensors, saveSafetensors, tensor } = require('fused-rnn');

const folder = path.join(__dirname, '..', 'output', 'pytorch');
const T = 12, B = 3, I = 4;
const model = new Sequential([new LSTM({ inputSize: I, hiddenSize: 16, seed: 1 }), new Dense({ units: 2, seed: 2 })]);
const x = tensor(Float32Array.from({ length: T * B * I }, (_v, k) => Math.sin(k * 0.37)), [B, T, I]); // samples first, as predict() takes them

const maxDiff = (a, b) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

async function main() {
  if (!process.argv.includes('--back')) {
    fs.mkdirSync(folder, { recursive: true });
    await model.save(folder); // model.safetensors: 0.weight_ih_l0, ..., 1.weight, 1.bias (torch.nn names)
    const y = model.predictSync(x);
    const target = tensor(Float32Array.from(y.data, (_v, k) => Math.cos(k * 0.11)), y.shape);
    saveSafetensors(path.join(folder, 'io.safetensors'), { x, y, target });
    console.log(`wrote ${path.relative(process.cwd(), folder)}/model.safetensors and io.safetensors; now: python3 examples/pytorch/roundtrip.py`);
    return;
  }
  const { tensors } = loadSafetensors(path.join(folder, 'from_torch.safetensors'));
  const { y_torch: yTorch, ...weights } = tensors;
  model.loadStateDict(weights); // PyTorch's names and layouts, as written by state_dict()
  const y = model.predictSync(x);
  console.log(`fused-rnn on PyTorch's trained weights: max |difference| from PyTorch's output ${maxDiff(y.data, yTorch.data).toExponential(2)}`);
}
main();
