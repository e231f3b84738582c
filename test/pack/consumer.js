// Run inside a project that installed the packed fused-rnn tarball (test/pack/run.sh), by the
// x64 node and by an aarch64 node under qemu: a forward pass and an ONNX file loaded through the
// installed package; prints one JSON line with info() and the numbers.
const { LSTM, tensor, info, loadOnnx } = require('fused-rnn');

async function main() {
  const layer = new LSTM({ inputSize: 3, hiddenSize: 4, seed: 1 });
  const x = tensor(Float32Array.from({ length: 5 * 2 * 3 }, (_, i) => Math.sin(i)), [5, 2, 3]);
  const lstm = Array.from(layer.forward(x).output.data);
  const model = await loadOnnx(process.argv[2]);
  const onnx = Array.from(model.predictSync(tensor(Float32Array.from({ length: 2 * 5 * 3 }, (_, i) => Math.cos(i)), [2, 5, 3])).data);
  console.log(JSON.stringify({ arch: process.arch, info: info(), lstm, onnx }));
}
main().catch((e) => {
  console.error(e);
  process.exit(1);
});
