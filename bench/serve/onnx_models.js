// The two served models as ONNX graphs for onnxruntime-node, with the batch (and time) axes
// symbolic so one session serves any batch size. Weights come from our Sequential, so ORT and
// fused-rnn compute the same function (bench/serve/server.js checks the outputs agree).
//   predict: X [T, B, I], sequence_lens [B] -> LSTM -> Squeeze -> LSTM -> Y_h -> Squeeze -> Gemm -> score [B, 1]
//   step:    X [1, B, I], h0 [1, B, H], c0 [1, B, H] -> LSTM -> (Y_h, Y_c) ; Squeeze(Y_h) -> Gemm -> out [B, O]
// Protobuf field numbers: see bench/onnx_model.js (same encoder, plus dim_param = 2 in
// TensorShapeProto.Dimension, INT64 / INT32 tensors and the Squeeze / Gemm nodes).
'use strict';

const { int, bytes, cat } = require('../onnx_model');

const FLOAT = 1, INT32 = 6, INT64 = 7;

/** TensorProto: dims, data_type, name, raw_data (little-endian). */
function initializer(name, shape, data) {
  const type = data instanceof Float32Array ? FLOAT : data instanceof BigInt64Array ? INT64 : INT32;
  const copy = new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
  return bytes(5, cat(shape.map((d) => int(1, d)), int(2, type), bytes(8, name), bytes(9, copy)));
}

/** ValueInfoProto with dims that are numbers (dim_value) or names (dim_param). */
function valueInfo(name, elemType, shape) {
  const dims = shape.map((d) => bytes(1, typeof d === 'number' ? int(1, d) : bytes(2, d)));
  return cat(bytes(1, name), bytes(2, bytes(1, cat(int(1, elemType), bytes(2, cat(dims))))));
}

const intAttr = (name, v) => bytes(5, cat(bytes(1, name), int(3, v), int(20, 2)));

function node(op, inputs, outputs, name, attrs = []) {
  return bytes(1, cat(inputs.map((n) => bytes(1, n)), outputs.map((n) => bytes(2, n)), bytes(3, name), bytes(4, op), attrs));
}

function model(nodes, inits, inputs, outputs) {
  const graph = cat(nodes, bytes(2, 'fused-rnn-serve-bench'), inits,
    inputs.map((v) => bytes(11, v)), outputs.map((v) => bytes(12, v)));
  return new Uint8Array(cat(int(1, 8), bytes(2, 'fused-rnn bench/serve'), bytes(7, graph), bytes(8, int(2, 14))));
}

const axes = (name, a) => initializer(name, [a.length], BigInt64Array.from(a.map(BigInt)));

/** From a Sequential [LSTM(I -> H, numLayers 2, returnSequences: false), Dense(O)]. */
function predictModel(seq) {
  const lstm = seq.layers[0], dense = seq.layers[1];
  const H = lstm.hiddenSize, I = lstm.inputSize, O = dense.units;
  const w = lstm.stateDict('onnx');
  const dw = dense.parameters();
  const inits = [
    initializer('W0', w.W.shape, w.W.data), initializer('R0', w.R.shape, w.R.data), initializer('B0', w.B.shape, w.B.data),
    initializer('W1', w.W_l1.shape, w.W_l1.data), initializer('R1', w.R_l1.shape, w.R_l1.data), initializer('B1', w.B_l1.shape, w.B_l1.data),
    initializer('Wd', dw[0].shape, dw[0].value), initializer('bd', dw[1].shape, dw[1].value),
    axes('ax0', [0]), axes('ax1', [1]),
  ];
  const nodes = [
    node('LSTM', ['X', 'W0', 'R0', 'B0', 'sequence_lens'], ['Y0'], 'lstm0', [intAttr('hidden_size', H)]),
    node('Squeeze', ['Y0', 'ax1'], ['X1'], 'sq0'),
    node('LSTM', ['X1', 'W1', 'R1', 'B1', 'sequence_lens'], ['', 'Yh1'], 'lstm1', [intAttr('hidden_size', H)]),
    node('Squeeze', ['Yh1', 'ax0'], ['h1'], 'sq1'),
    node('Gemm', ['h1', 'Wd', 'bd'], ['score'], 'dense', [intAttr('transB', 1)]),
  ];
  return model(nodes, inits,
    [valueInfo('X', FLOAT, ['T', 'B', I]), valueInfo('sequence_lens', INT32, ['B'])],
    [valueInfo('score', FLOAT, ['B', O])]);
}

/** From a Sequential [LSTM(I -> H), Dense(O)]: one step with the state in and out. */
function stepModel(seq) {
  const lstm = seq.layers[0], dense = seq.layers[1];
  const H = lstm.hiddenSize, I = lstm.inputSize, O = dense.units;
  const w = lstm.stateDict('onnx');
  const dw = dense.parameters();
  const inits = [
    initializer('W', w.W.shape, w.W.data), initializer('R', w.R.shape, w.R.data), initializer('B', w.B.shape, w.B.data),
    initializer('Wd', dw[0].shape, dw[0].value), initializer('bd', dw[1].shape, dw[1].value), axes('ax0', [0]),
  ];
  const nodes = [
    node('LSTM', ['X', 'W', 'R', 'B', '', 'h0', 'c0'], ['', 'Y_h', 'Y_c'], 'lstm', [intAttr('hidden_size', H)]),
    node('Squeeze', ['Y_h', 'ax0'], ['h'], 'sq'),
    node('Gemm', ['h', 'Wd', 'bd'], ['out'], 'dense', [intAttr('transB', 1)]),
  ];
  return model(nodes, inits,
    [valueInfo('X', FLOAT, [1, 'B', I]), valueInfo('h0', FLOAT, [1, 'B', H]), valueInfo('c0', FLOAT, [1, 'B', H])],
    [valueInfo('out', FLOAT, ['B', O]), valueInfo('Y_h', FLOAT, [1, 'B', H]), valueInfo('Y_c', FLOAT, [1, 'B', H])]);
}

module.exports = { predictModel, stepModel };
