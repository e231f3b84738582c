// convertModel: one model file format to another (the CLI's `fused-rnn convert in out`).
//   onnx         NAME.onnx                                   loadOnnx / exportOnnx
//   tfjs         model.json (+ .bin shards) or its directory loadTfjs / saveTfjs
//   safetensors  NAME.safetensors, or a Sequential.save() directory (model.safetensors + config.json):
//                PyTorch nn.Sequential names, the architecture in the file's metadata
//                (quantize: 'int8' writes the recurrent weight matrices as I8 + scales)
//   keras-h5     NAME.h5 saved whole by Keras (model.save)      loadKerasModel (read only)
// The format of each side comes from its name (or options.from / options.to).
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { Sequential } from '../model/sequential';
import { saveWeightsFile } from '../model/model_file';
import { checkOneOf, ownOptions } from '../internal/check';
import { loadOnnx } from './onnx_import';
import { exportOnnx } from './onnx_export';
import { loadTfjs } from './tfjs_import';
import { saveTfjs } from './tfjs_export';
import { loadKerasModel } from './keras_h5';

export type ModelFileFormat = 'onnx' | 'tfjs' | 'safetensors' | 'keras-h5';
const FORMATS: readonly ModelFileFormat[] = ['onnx', 'tfjs', 'safetensors', 'keras-h5'];
/** Keras' .h5 is read only: fused-rnn writes Keras models as TF.js (saveTfjs), which Keras users load with tensorflowjs. */
const OUTPUT_FORMATS: readonly ModelFileFormat[] = ['onnx', 'tfjs', 'safetensors'];

export interface ConvertOptions {
  /** The input's format when its name does not say. */
  from?: ModelFileFormat;
  /** The output's format when its name does not say (a directory: tfjs or safetensors). */
  to?: ModelFileFormat;
  /** ONNX opset of an .onnx output (default: exportOnnx's). */
  opset?: number;
  /** 'int8': a safetensors output with the recurrent weight matrices quantized (SaveOptions.quantize). */
  quantize?: 'int8';
}

export interface ConvertResult {
  from: ModelFileFormat;
  to: ModelFileFormat;
  /** The layers of the model converted (their kinds, in order). */
  layers: string[];
  parameters: number;
}

/**
 * Reads the model at `input` and writes it to `output` in another (or the same) format.
 * @example await convertModel('lstm.onnx', 'web/model.json')   // ONNX -> TF.js
 * @throws TypeError / RangeError for names whose format is unclear; the loaders' and writers'
 *   errors (OnnxImportError, TfjsImportError, refusals naming the layer) as they are.
 */
export async function convertModel(input: string, output: string, options: ConvertOptions = {}): Promise<ConvertResult> {
  const o = ownOptions<ConvertOptions>('convertModel options', options, ['from', 'to', 'opset', 'quantize']);
  if (typeof input !== 'string' || input === '') throw new TypeError(`convertModel: expected an input path but received ${typeof input}`);
  if (typeof output !== 'string' || output === '') throw new TypeError(`convertModel: expected an output path but received ${typeof output}`);
  const from = o.from === undefined ? await inputFormat(input) : checkOneOf('from', o.from, FORMATS);
  const to = o.to === undefined ? outputFormat(output) : checkOneOf('to', o.to, OUTPUT_FORMATS);
  if (o.quantize !== undefined && to !== 'safetensors') throw new RangeError(`convertModel: quantize is for a safetensors output, not ${to}`);
  const save = o.quantize === undefined ? {} : { quantize: o.quantize };
  const model = from === 'onnx' ? await loadOnnx(input) : from === 'tfjs' ? await loadTfjs(input)
    : from === 'keras-h5' ? await loadKerasModel(input) : await Sequential.load(input);
  if (to === 'onnx') {
    await exportOnnx(model, output, o.opset === undefined ? {} : { opset: o.opset });
  } else if (to === 'tfjs') {
    // tfjs names the file model.json beside its shards: a directory, or a path ending in model.json.
    if (output.endsWith('.json') && path.basename(output) !== 'model.json') throw new RangeError(`convertModel: a TF.js output is a directory or .../model.json, not '${output}'`);
    await saveTfjs(model, output.endsWith('.json') ? path.dirname(output) : output);
  } else if (output.endsWith('.safetensors')) {
    await saveWeightsFile(model, output, save);
  } else {
    await model.save(output, save);
  }
  return { from, to, layers: model.blocks.map((b) => b.kind), parameters: model.paramCount };
}

async function inputFormat(file: string): Promise<ModelFileFormat> {
  const byName = formatOfName(file);
  if (byName) return byName;
  const entries = await fs.readdir(file).catch(() => null);
  if (entries?.includes('model.json')) return 'tfjs';
  if (entries?.includes('model.safetensors')) return 'safetensors';
  throw new RangeError(`convertModel: cannot tell the format of '${file}' (expected NAME.onnx, model.json or a directory with it, NAME.safetensors or a directory with model.safetensors, NAME.h5; or give options.from)`);
}

function outputFormat(file: string): ModelFileFormat {
  const byName = formatOfName(file);
  if (byName === 'keras-h5') throw new RangeError(`convertModel: Keras .h5 files are read, not written ('${file}'); write model.json (TF.js), .onnx or .safetensors`);
  if (byName) return byName;
  throw new RangeError(`convertModel: cannot tell the format to write '${file}' in (name it NAME.onnx, model.json or NAME.safetensors, or give options.to for a directory)`);
}

function formatOfName(file: string): ModelFileFormat | null {
  if (file.endsWith('.onnx')) return 'onnx';
  if (file.endsWith('.json')) return 'tfjs';
  if (file.endsWith('.safetensors')) return 'safetensors';
  if (file.endsWith('.h5')) return 'keras-h5';
  return null;
}
