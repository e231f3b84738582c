// A minimal ONNX ModelProto encoder for bench/run.js's onnxruntime peer: one LSTM or GRU node
// (opset 14) with X as the graph input and W, R, B as initializers (constant weights, so
// onnxruntime may prepack them, as it would for a model exported from PyTorch). Only the
// protobuf fields this model needs are written (field numbers from onnx/onnx.proto):
//   ModelProto      1 ir_version, 2 producer_name, 7 graph, 8 opset_import
//   OperatorSetId   1 domain, 2 version
//   GraphProto      1 node, 2 name, 5 initializer, 11 input, 12 output
//   NodeProto       1 input, 2 output, 3 name, 4 op_type, 5 attribute
//   AttributeProto  1 name, 3 i, 20 type (INT = 2)
//   TensorProto     1 dims, 2 data_type (FLOAT = 1), 8 name, 9 raw_data (little-endian)
//   ValueInfoProto  1 name, 2 type; TypeProto 1 tensor_type; TypeProto.Tensor 1 elem_type,
//   2 shape; TensorShapeProto 1 dim; Dimension 1 dim_value
'use strict';

function varint(n) {
  let v = BigInt(n);
  const out = [];
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return Buffer.from(out);
}

/** A varint field (wire type 0). */
const int = (field, n) => Buffer.concat([varint(field * 8), varint(n)]);

/** A length-delimited field (wire type 2): bytes, string or an embedded message. */
function bytes(field, data) {
  const b = typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.concat([varint(field * 8 + 2), varint(b.length), b]);
}

const cat = (...parts) => Buffer.concat(parts.flat(Infinity));

function tensorProto(name, t) {
  if (!(t.data instanceof Float32Array)) throw new TypeError(`${name}: expected Float32Array data`);
  const le = new Float32Array(t.data); // copy; x86 and arm64 are little-endian, as raw_data wants
  return cat(t.shape.map((d) => int(1, d)), int(2, 1), bytes(8, name), bytes(9, new Uint8Array(le.buffer)));
}

function valueInfo(name, shape) {
  const dims = shape.map((d) => bytes(1, int(1, d)));
  const tensorType = cat(int(1, 1), bytes(2, cat(dims)));
  return cat(bytes(1, name), bytes(2, bytes(1, tensorType)));
}

const intAttr = (name, v) => cat(bytes(1, name), int(3, v), int(20, 2));

/**
 * ModelProto bytes of one ONNX LSTM or GRU node computing Y [T, 1, B, H], Y_h [1, B, H]
 * (and Y_c for LSTM) from X [T, B, I].
 * @param {'lstm' | 'gru'} cell
 * @param {{ T: number, B: number, I: number, H: number }} dims
 * @param {{ W: {shape, data}, R: {shape, data}, B: {shape, data} }} weights ONNX layout, e.g. layer.stateDict('onnx')
 * @param {boolean} [linearBeforeReset] GRU: 1 = reset after the recurrent product (PyTorch)
 * @param {{ states?: boolean }} [opts] states: initial_h (and initial_c) [1, B, H] as graph inputs
 */
function rnnModel(cell, { T, B, I, H }, weights, linearBeforeReset = true, { states = false } = {}) {
  const lstm = cell === 'lstm';
  const stateInputs = !states ? [] : lstm ? ['initial_h', 'initial_c'] : ['initial_h'];
  const outputs = lstm ? ['Y', 'Y_h', 'Y_c'] : ['Y', 'Y_h'];
  const attrs = [intAttr('hidden_size', H)];
  if (!lstm) attrs.push(intAttr('linear_before_reset', linearBeforeReset ? 1 : 0));
  const node = cat(
    ['X', 'W', 'R', 'B', ...(states ? ['', ...stateInputs] : [])].map((n) => bytes(1, n)),
    outputs.map((n) => bytes(2, n)),
    bytes(3, 'rnn'),
    bytes(4, lstm ? 'LSTM' : 'GRU'),
    attrs.map((a) => bytes(5, a)),
  );
  const graph = cat(
    bytes(1, node),
    bytes(2, 'fused-rnn-bench'),
    ['W', 'R', 'B'].map((n) => bytes(5, tensorProto(n, weights[n]))),
    bytes(11, valueInfo('X', [T, B, I])),
    stateInputs.map((n) => bytes(11, valueInfo(n, [1, B, H]))),
    bytes(12, valueInfo('Y', [T, 1, B, H])),
    outputs.slice(1).map((n) => bytes(12, valueInfo(n, [1, B, H]))),
  );
  return new Uint8Array(cat(int(1, 8), bytes(2, 'fused-rnn bench'), bytes(7, graph), bytes(8, int(2, 14))));
}

// The wire-format helpers are shared with bench/serve/onnx_models.js.
module.exports = { rnnModel, varint, int, bytes, cat };
