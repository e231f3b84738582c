// Keras weights: the flat list `model.get_weights()` returns (and `set_weights()` takes), in
// layer order. Per recurrent layer and direction: kernel [I, G*H], recurrent_kernel [Hout, G*H],
// bias (Keras gate orders, see layers/recurrent/layouts.ts); a bidirectional layer lists the forward
// direction, then the backward one; numLayers > 1 stands for that many stacked Keras layers.
// Dense: kernel [in, units] (transposed from ours), bias. Embedding: embeddings [V, E].
import { invalidArg, invalidType } from '../internal/check';
import { Recurrent } from '../layers/recurrent/recurrent';
import type { Tensor } from '../tensor';
import { Dense } from '../layers/dense';
import { Embedding } from '../layers/embedding';
import type { Model } from './model';
import { syncReadView } from '../internal/weight_store';

export function getKerasWeights(model: Model): Tensor[] {
  const out: Tensor[] = [];
  model.layers.forEach((layer, i) => {
    if (layer instanceof Recurrent) {
      checkKerasCompatible(layer, i);
      out.push(...Object.values(layer.stateDict('keras')));
    } else if (layer instanceof Dense) {
      const [w, b] = layer.parameters();
      out.push({ shape: [layer.inputSize, layer.units], data: transpose(syncReadView(w.value), layer.units, layer.inputSize) });
      if (b) out.push({ shape: [layer.units], data: syncReadView(b.value).slice() });
    } else if (layer instanceof Embedding) {
      out.push({ shape: [layer.numEmbeddings, layer.embeddingDim], data: syncReadView(layer.parameters()[0].value).slice() });
    }
  });
  return out;
}

/** Loads every weight from Keras' list; all or nothing (shapes checked before anything changes). */
export function setKerasWeights(model: Model, weights: Tensor[]): void {
  if (!Array.isArray(weights)) throw invalidType('weights', 'array of tensors (Keras get_weights() order)', weights);
  const expected = getKerasWeights(model);
  if (weights.length !== expected.length) throw invalidArg('weights', `${expected.length} arrays (Keras get_weights() order)`, `${weights.length} arrays`);
  expected.forEach((e, j) => {
    const w = weights[j];
    if (typeof w !== 'object' || w === null || !(w.data instanceof Float32Array) || !Array.isArray(w.shape)) {
      throw invalidType(`weights[${j}]`, 'Tensor', w);
    }
    if (w.shape.length !== e.shape.length || w.shape.some((d, k) => d !== e.shape[k]) || w.data.length !== e.data.length) {
      throw invalidArg(`weights[${j}]`, `shape [${e.shape.join(', ')}]`, w.shape);
    }
  });
  // Every tensor is valid: now apply (the recurrent layers re-check their own dicts first).
  const dicts: { layer: Recurrent; dict: Record<string, Tensor> }[] = [];
  let j = 0;
  model.layers.forEach((layer) => {
    if (layer instanceof Recurrent) {
      const keys = Object.keys(layer.stateDict('keras'));
      dicts.push({ layer, dict: Object.fromEntries(keys.map((k) => [k, weights[j++]])) });
    } else if (layer instanceof Dense) j += layer.useBias ? 2 : 1;
    else if (layer instanceof Embedding) j += 1;
  });
  const staged = dicts.map(({ layer, dict }) => ({ layer, before: layer.weights.slice(), dict }));
  try {
    for (const s of staged) s.layer.loadStateDict(s.dict, 'keras');
  } catch (e) {
    for (const s of staged) s.layer.weights.set(s.before);
    throw e;
  }
  j = 0;
  model.layers.forEach((layer) => {
    if (layer instanceof Recurrent) j += Object.keys(layer.stateDict('keras')).length;
    else if (layer instanceof Dense) {
      const [w, b] = layer.parameters();
      w.value.set(transpose(weights[j++].data, layer.inputSize, layer.units));
      if (b) b.value.set(weights[j++].data);
    } else if (layer instanceof Embedding) layer.weights.set(weights[j++].data);
  });
}

function checkKerasCompatible(layer: Recurrent, i: number): void {
  if (layer.inSequential.learnInitialState) throw invalidArg(`layers[${i}].learnInitialState`, 'false (Keras has no learned initial state)', true);
}

/** [rows, cols] -> [cols, rows]. */
function transpose(a: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(a.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = a[r * cols + c];
  return out;
}
