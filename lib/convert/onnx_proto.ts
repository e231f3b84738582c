// ONNX files as plain objects: decoding and encoding with protobufjs and the ONNX project's own
// onnx.proto (lib/convert/proto/onnx.proto, from ONNX 1.12, Apache-2.0), and tensors between TensorProto and
// typed arrays (raw_data, float_data / int64_data / int32_data / double_data, external data files).
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as protobuf from 'protobufjs';

/** TensorProto.DataType values used here. */
export const DataType = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7, BOOL: 9, DOUBLE: 11 } as const;
/** AttributeProto.AttributeType values. */
export const AttrType = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, FLOATS: 6, INTS: 7, STRINGS: 8 } as const;

// The decoded messages (field names as in onnx.proto; int64 fields as numbers, bytes as Uint8Array).
export interface TensorProto {
  dims?: number[];
  data_type?: number;
  name?: string;
  raw_data?: Uint8Array;
  float_data?: number[];
  int32_data?: number[];
  int64_data?: number[];
  double_data?: number[];
  data_location?: number;
  external_data?: { key: string; value: string }[];
}
export interface AttributeProto {
  name: string;
  type?: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  t?: TensorProto;
  floats?: number[];
  ints?: number[];
  strings?: Uint8Array[];
}
export interface NodeProto {
  input?: string[];
  output?: string[];
  name?: string;
  op_type: string;
  domain?: string;
  attribute?: AttributeProto[];
}
export interface ValueInfoProto {
  name: string;
  type?: { tensor_type?: { elem_type?: number; shape?: { dim?: { dim_value?: number; dim_param?: string }[] } } };
}
export interface GraphProto {
  node?: NodeProto[];
  name?: string;
  initializer?: TensorProto[];
  input?: ValueInfoProto[];
  output?: ValueInfoProto[];
}
export interface ModelProto {
  ir_version?: number;
  producer_name?: string;
  producer_version?: string;
  graph?: GraphProto;
  opset_import?: { domain?: string; version: number }[];
}

let modelType: protobuf.Type | null = null;

/** The proto's location: lib/convert/proto/onnx.proto in the package (from lib/convert or dist/convert). */
function protoFile(): string {
  return path.join(__dirname, '..', '..', 'lib', 'convert', 'proto', 'onnx.proto');
}

function ModelType(): protobuf.Type {
  if (!modelType) {
    const { root } = protobuf.parse(fs.readFileSync(protoFile(), 'utf8'), { keepCase: true });
    modelType = root.lookupType('onnx.ModelProto');
  }
  return modelType;
}

/** Decodes ModelProto bytes; throws an Error naming `what` when they are not a model. */
export function decodeModel(bytes: Uint8Array, what: string): ModelProto {
  const T = ModelType();
  let msg: protobuf.Message;
  try {
    msg = T.decode(bytes);
  } catch (e) {
    throw new Error(`${what}: not an ONNX model (protobuf: ${(e as Error).message})`);
  }
  const obj = T.toObject(msg, { longs: Number, enums: Number, arrays: true, defaults: false }) as ModelProto;
  if (!obj.graph) throw new Error(`${what}: not an ONNX model (no graph)`);
  return obj;
}

export function encodeModel(model: ModelProto): Uint8Array {
  const T = ModelType();
  return T.encode(T.fromObject(model)).finish();
}

/** A constant tensor: float32 data, or integers / booleans as doubles. */
export interface Const {
  dims: number[];
  dtype: 'float' | 'int' | 'bool';
  data: Float32Array | Float64Array;
}

export const sizeOf = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);

/** Reads external data: (location, offset, length?) -> bytes. */
export type ExternalReader = (location: string, offset: number, length: number | undefined) => Uint8Array;

/** An ExternalReader over files beside the model (in `dir`); refuses paths that leave it. */
export function externalReaderFor(dir: string | null, what: string): ExternalReader {
  const cache = new Map<string, Uint8Array>();
  return (location, offset, length) => {
    if (dir === null) throw new Error(`${what}: tensor data in the external file '${location}': load the model from its path (or pass baseDir)`);
    const file = path.resolve(dir, location);
    if (path.isAbsolute(location) || path.relative(dir, file).startsWith('..')) {
      throw new Error(`${what}: external data location '${location}' is outside the model's directory`);
    }
    let bytes = cache.get(file);
    if (!bytes) {
      try {
        bytes = fs.readFileSync(file);
      } catch (e) {
        throw new Error(`${what}: cannot read external data '${location}': ${(e as Error).message}`);
      }
      cache.set(file, bytes);
    }
    const end = length === undefined ? bytes.length : offset + length;
    if (offset < 0 || end > bytes.length) throw new Error(`${what}: external data '${location}' is too short (${bytes.length} bytes, need ${end})`);
    return bytes.subarray(offset, end);
  };
}

/** TensorProto -> Const: FLOAT as float32; INT64, INT32, INT8, UINT8, BOOL as doubles; other types are refused. */
export function readTensor(t: TensorProto, external: ExternalReader, what: string): Const {
  const dims = (t.dims ?? []).map(Number);
  const n = sizeOf(dims);
  const type = t.data_type ?? 0;
  let raw = t.raw_data && t.raw_data.length ? t.raw_data : null;
  if (t.data_location === 1) {
    const kv = Object.fromEntries((t.external_data ?? []).map((e) => [e.key, e.value]));
    if (!kv.location) throw new Error(`${what}: external data without a location`);
    raw = external(kv.location, Number(kv.offset ?? 0), kv.length === undefined ? undefined : Number(kv.length));
  }
  const view = raw ? new DataView(raw.buffer, raw.byteOffset, raw.byteLength) : null;
  const need = (bytesPer: number) => {
    if (view && view.byteLength !== n * bytesPer) throw new Error(`${what}: ${view.byteLength} bytes of data for ${n} elements of shape [${dims.join(', ')}]`);
  };
  const fromList = (list: number[] | undefined, Ctor: Float32ArrayConstructor | Float64ArrayConstructor) => {
    const src = list ?? [];
    if (src.length !== n) throw new Error(`${what}: ${src.length} values for shape [${dims.join(', ')}]`);
    return Ctor.from(src);
  };
  switch (type) {
    case DataType.FLOAT: {
      need(4);
      if (!view) return { dims, dtype: 'float', data: fromList(t.float_data, Float32Array) };
      const data = new Float32Array(n);
      for (let i = 0; i < n; i++) data[i] = view.getFloat32(i * 4, true);
      return { dims, dtype: 'float', data };
    }
    case DataType.INT64: {
      need(8);
      if (!view) return { dims, dtype: 'int', data: fromList(t.int64_data, Float64Array) };
      const data = new Float64Array(n);
      for (let i = 0; i < n; i++) data[i] = Number(view.getBigInt64(i * 8, true));
      return { dims, dtype: 'int', data };
    }
    case DataType.INT32: case DataType.INT8: case DataType.UINT8: case DataType.BOOL: {
      const size = type === DataType.INT32 ? 4 : 1;
      need(size);
      const dtype = type === DataType.BOOL ? 'bool' : 'int';
      if (!view) return { dims, dtype, data: fromList(t.int32_data, Float64Array) };
      const data = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        data[i] = type === DataType.INT32 ? view.getInt32(i * 4, true) : type === DataType.INT8 ? view.getInt8(i) : view.getUint8(i);
      }
      return { dims, dtype, data };
    }
    default:
      throw new Error(`${what}: tensor element type ${type} is not supported (float32, int64, int32, int8, uint8, bool are)`);
  }
}

/** Const -> TensorProto (raw_data, little-endian): float32 as FLOAT, ints as INT64. */
export function writeTensor(name: string, c: Const): TensorProto {
  const n = c.data.length;
  if (c.dtype === 'float') {
    const buf = new Uint8Array(n * 4);
    const v = new DataView(buf.buffer);
    for (let i = 0; i < n; i++) v.setFloat32(i * 4, c.data[i], true);
    return { name, dims: [...c.dims], data_type: DataType.FLOAT, raw_data: buf };
  }
  const buf = new Uint8Array(n * (c.dtype === 'bool' ? 1 : 8));
  const v = new DataView(buf.buffer);
  for (let i = 0; i < n; i++) {
    if (c.dtype === 'bool') v.setUint8(i, c.data[i] ? 1 : 0);
    else v.setBigInt64(i * 8, BigInt(c.data[i]), true);
  }
  return { name, dims: [...c.dims], data_type: c.dtype === 'bool' ? DataType.BOOL : DataType.INT64, raw_data: buf };
}

/** An attribute's value as JSON-like data (tensors as Const). */
export function attributeValue(a: AttributeProto, external: ExternalReader, what: string): unknown {
  const type = a.type ?? (a.t ? AttrType.TENSOR : a.ints?.length ? AttrType.INTS : a.floats?.length ? AttrType.FLOATS
    : a.strings?.length ? AttrType.STRINGS : a.s ? AttrType.STRING : a.f !== undefined ? AttrType.FLOAT : AttrType.INT);
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  switch (type) {
    case AttrType.FLOAT: return a.f ?? 0;
    case AttrType.INT: return a.i ?? 0;
    case AttrType.STRING: return text(a.s ?? new Uint8Array());
    case AttrType.TENSOR: return readTensor(a.t ?? {}, external, `${what} attribute '${a.name}'`);
    case AttrType.FLOATS: return a.floats ?? [];
    case AttrType.INTS: return a.ints ?? [];
    case AttrType.STRINGS: return (a.strings ?? []).map(text);
    default: throw new Error(`${what}: attribute '${a.name}' has a type (${type}) this reader does not take`);
  }
}

/** AttributeProto of a JS value: number (INT if integer and `int`, else FLOAT), string, number[], string[]. */
export function makeAttribute(name: string, v: number | string | number[] | string[], int = true): AttributeProto {
  if (typeof v === 'string') return { name, type: AttrType.STRING, s: new TextEncoder().encode(v) };
  if (typeof v === 'number') return int ? { name, type: AttrType.INT, i: v } : { name, type: AttrType.FLOAT, f: v };
  if (v.length && typeof v[0] === 'string') return { name, type: AttrType.STRINGS, strings: (v as string[]).map((s) => new TextEncoder().encode(s)) };
  return int ? { name, type: AttrType.INTS, ints: v as number[] } : { name, type: AttrType.FLOATS, floats: v as number[] };
}
