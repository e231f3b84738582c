// Sequential -> a TF.js layers model: model.json (a Keras Sequential topology) and weights.bin,
// the files tfjs' `tf.loadLayersModel('file://…/model.json')` reads (and loadTfjs). A stacked
// recurrent layer becomes that many Keras layers, a bidirectional one a Bidirectional wrapper;
// weights go out in Keras layouts (layers/recurrent/layouts.ts). What tfjs-layers cannot build is
// refused with the layer named.
import * as path from 'node:path';
import { ensureDir, writeFileAtomicAsync } from '../io/atomic';
import { Recurrent } from '../layers/recurrent/recurrent';
import { ACTIVATION_NAMES, type NativeActivation } from '../layers/recurrent/activations';
import { Dense } from '../layers/dense';
import { Dropout } from '../layers/dropout';
import { Embedding } from '../layers/embedding';
import type { Model } from '../model/model';
import { getKerasWeights } from '../model/keras_weights';
import type { Tensor } from '../tensor';
import { WEIGHTS_FILE, type TfjsArtifacts, type TfjsModelJson, type TfjsWeightSpec } from './tfjs_format';

/** Keras names of our activations (default alpha / beta only). */
const KERAS_ACTIVATION: Partial<Record<string, string>> = {
  tanh: 'tanh', sigmoid: 'sigmoid', relu: 'relu', identity: 'linear', softsign: 'softsign', softplus: 'softplus',
  hardSigmoid: 'hard_sigmoid', elu: 'elu',
};
const CELL_CLASS = { lstm: 'LSTM', gru: 'GRU', rnn: 'SimpleRNN' } as const;

/** Writes `dir/model.json` and `dir/weights.bin` (atomically each). */
export async function saveTfjs(model: Model, dir: string): Promise<void> {
  const a = tfjsArtifacts(model);
  await ensureDir(dir);
  const weightData = a.weightData instanceof Uint8Array ? a.weightData : new Uint8Array(a.weightData);
  await writeFileAtomicAsync(path.join(dir, WEIGHTS_FILE), weightData);
  const json: TfjsModelJson = {
    modelTopology: a.modelTopology, format: 'layers-model', generatedBy: 'fused-rnn', convertedBy: null,
    weightsManifest: [{ paths: [WEIGHTS_FILE], weights: a.weightSpecs }],
  };
  await writeFileAtomicAsync(path.join(dir, 'model.json'), new TextEncoder().encode(`${JSON.stringify(json)}\n`));
}

/** The topology, weight specs and weight bytes of `model` (what tfjs' IO handlers carry). */
export function tfjsArtifacts(model: Model): TfjsArtifacts {
  const layers: object[] = [];
  const weights: { name: string; t: Tensor }[] = [];
  const used = new Map<string, number>();
  const unique = (base: string) => {
    const n = (used.get(base) ?? 0) + 1;
    used.set(base, n);
    return `${base}_${n}`;
  };
  // Every layer is checked before the weights are read in Keras layouts (which refuse less clearly).
  model.layers.forEach((layer, i) => { if (layer instanceof Recurrent) checkRecurrent(layer, `saveTfjs: layers[${i}] (${layer.constructor.name})`); });
  const kerasWeights = getKerasWeights(model);
  let k = 0;  // next entry of kerasWeights (layer order, Keras layouts)
  model.layers.forEach((layer, i) => {
    const where = `saveTfjs: layers[${i}] (${layer.constructor.name})`;
    const features = layer instanceof Recurrent || layer instanceof Dense ? layer.inputSize : null;
    const inputShape = i === 0 ? { batch_input_shape: [null, null, ...(features === null ? [] : [features])] } : {};
    if (layer instanceof Dropout) {
      layers.push({ class_name: 'Dropout', config: { name: unique('dropout'), rate: layer.rate, ...inputShape } });
    } else if (layer instanceof Embedding) {
      const name = unique('embedding');
      layers.push({ class_name: 'Embedding', config: { name, input_dim: layer.numEmbeddings, output_dim: layer.embeddingDim, mask_zero: false, ...inputShape } });
      weights.push({ name: `${name}/embeddings`, t: kerasWeights[k++] });
    } else if (layer instanceof Dense) {
      const name = unique('dense');
      layers.push({ class_name: 'Dense', config: { name, units: layer.units, activation: layer.activation, use_bias: layer.useBias, ...inputShape } });
      weights.push({ name: `${name}/kernel`, t: kerasWeights[k++] });
      if (layer.useBias) weights.push({ name: `${name}/bias`, t: kerasWeights[k++] });
    } else if (layer instanceof Recurrent) {
      const c = layer.config, seq = layer.inSequential;
      const acts = activationsOf(layer, where);
      const D = layer.numDirections;
      for (let l = 0; l < c.numLayers; l++) {
        const top = l === c.numLayers - 1;
        const inner = unique(c.cell === 'rnn' ? 'simple_rnn' : c.cell);
        const config: Record<string, unknown> = {
          name: inner, units: c.hiddenSize, activation: acts.activation, use_bias: c.bias,
          return_sequences: top ? seq.returnSequences : true, go_backwards: false, stateful: false, return_state: false,
          ...(acts.recurrent ? { recurrent_activation: acts.recurrent } : {}),
          ...(c.cell === 'gru' ? { reset_after: false } : {}),
        };
        const per = c.bias ? 3 : 2;
        const take = (): Tensor[] => kerasWeights.slice(k, (k += per));
        if (D === 1) {
          layers.push({ class_name: CELL_CLASS[c.cell], config: { ...config, ...(l === 0 ? inputShape : {}) } });
          take().forEach((t, j) => weights.push({ name: `${inner}/${['kernel', 'recurrent_kernel', 'bias'][j]}`, t }));
        } else {
          const name = unique('bidirectional');
          const mergeMode = top ? seq.mergeMode : 'concat';
          layers.push({ class_name: 'Bidirectional', config: { name, merge_mode: mergeMode, layer: { class_name: CELL_CLASS[c.cell], config }, ...(l === 0 ? inputShape : {}) } });
          for (const dir of ['forward', 'backward']) {
            take().forEach((t, j) => weights.push({ name: `${name}/${dir}_${inner}/${['kernel', 'recurrent_kernel', 'bias'][j]}`, t }));
          }
        }
      }
    } else {
      throw new TypeError(`${where}: not a layer TF.js has`);
    }
  });
  const bytes = new Uint8Array(weights.reduce((n, w) => n + 4 * w.t.data.length, 0));
  const view = new DataView(bytes.buffer);
  let at = 0;
  for (const w of weights) for (const v of w.t.data) view.setFloat32((at += 4) - 4, v, true);
  const weightSpecs: TfjsWeightSpec[] = weights.map((w) => ({ name: w.name, shape: [...w.t.shape], dtype: 'float32' }));
  return {
    modelTopology: { class_name: 'Sequential', config: { name: 'sequential', layers }, keras_version: 'fused-rnn', backend: 'tensor_flow.js' },
    weightSpecs,
    weightData: bytes,
  };
}

function checkRecurrent(layer: Recurrent, where: string): void {
  const c = layer.config;
  if (c.projSize > 0 || c.peephole || c.inputForget || c.gateClip > 0 || c.cellClip > 0 || c.forgetBias !== 0) {
    throw new TypeError(`${where}: Keras' ${CELL_CLASS[c.cell]} has no projSize, peephole, inputForget, gateClip, cellClip or forgetBias`);
  }
  if (c.direction === 'reverse') throw new TypeError(`${where}: direction 'reverse' (Keras' go_backwards also reverses the output in time)`);
  if (c.cell === 'gru' && c.resetAfter) throw new TypeError(`${where}: resetAfter: true (PyTorch's GRU); tfjs-layers builds GRU with reset_after false only`);
  if (layer.inSequential.learnInitialState) throw new TypeError(`${where}: learnInitialState (Keras has no learned initial state)`);
  activationsOf(layer, where);
}

/** Keras' activation and recurrent_activation of a recurrent layer (one per slot, same both ways). */
function activationsOf(layer: Recurrent, where: string): { activation: string; recurrent?: string } {
  const c = layer.config;
  const [fwd, bwd] = c.activations;
  const name = (a: NativeActivation) => {
    const ours = ACTIVATION_NAMES[a.kind];
    const keras = KERAS_ACTIVATION[ours];
    const defaults = ours === 'hardSigmoid' ? a.alpha === 0.2 && a.beta === 0.5 : ours === 'elu' ? a.alpha === 1 : true;
    if (!keras || !defaults) throw new TypeError(`${where}: activation ${ours}${defaults ? '' : ` with alpha ${a.alpha}`} has no Keras name`);
    return keras;
  };
  const same = (x: NativeActivation, y: NativeActivation) => x.kind === y.kind && x.alpha === y.alpha && x.beta === y.beta;
  if (layer.numDirections === 2 && fwd.some((a, s) => !same(a, bwd[s]))) throw new TypeError(`${where}: different activations per direction (Keras has one set)`);
  if (c.cell === 'rnn') return { activation: name(fwd[0]) };
  // LSTM slots gate, cell, hidden (Keras' activation is both cell and hidden); GRU gate, cell.
  if (c.cell === 'lstm' && !same(fwd[1], fwd[2])) throw new TypeError(`${where}: cell and hidden activations differ (Keras' LSTM has one activation for both)`);
  return { activation: name(fwd[1]), recurrent: name(fwd[0]) };
}
