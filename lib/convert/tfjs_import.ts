// loadTfjs: a TF.js layers model (model.json + weight shards, as `model.save()` writes it; also
// Keras models the Python converter wrote) -> a Sequential with the same output.
//
// Layers: LSTM, GRU (reset_after both ways), SimpleRNN, Bidirectional of those, Dense,
// TimeDistributed(Dense), Embedding, Dropout (and InputLayer, which only carries the input shape).
// Weights are matched by name under each layer's name and set through the Keras layouts
// (model/keras_weights.ts, layers/recurrent/layouts.ts).
import { LSTM } from '../layers/recurrent/lstm';
import { GRU } from '../layers/recurrent/gru';
import { RNN } from '../layers/recurrent/rnn';
import type { ActivationSpec } from '../layers/recurrent/activations';
import type { MergeMode } from '../layers/layer';
import { Dense, type DenseActivation } from '../layers/dense';
import { Embedding } from '../layers/embedding';
import { Dropout } from '../layers/dropout';
import { Sequential } from '../model/sequential';
import type { SequentialLayer } from '../model/model';
import type { Tensor } from '../tensor';
import {
  TfjsImportError, decodeWeights, readManifest, readModelJson, type TfjsArtifacts, type TfjsModelJson,
} from './tfjs_format';

export { TfjsImportError };

export interface LoadTfjsOptions {
  /** Directory of the weight shards when a parsed model.json object is given. */
  baseDir?: string;
}

interface LayerJson { class_name: string; config: Record<string, unknown> }

const RECURRENT = new Set(['LSTM', 'GRU', 'SimpleRNN']);
const DENSE_ACTIVATIONS: readonly DenseActivation[] = ['linear', 'relu', 'tanh', 'sigmoid', 'softmax'];
const MERGE_MODES: readonly MergeMode[] = ['concat', 'sum', 'mul', 'ave'];

/**
 * Loads a TF.js layers model as a Sequential computing the same output. `src`: the path of
 * model.json (or its directory), the parsed model.json (shards read from `options.baseDir`), or
 * the artifacts tfjs' IO handlers pass (`{ modelTopology, weightSpecs, weightData }`).
 * The Sequential takes [N, T, F] (or [N, T] token ids) as the tfjs model does.
 * @throws TfjsImportError naming the first layer it cannot map and why.
 */
export async function loadTfjs(src: string | TfjsModelJson | TfjsArtifacts, options: LoadTfjsOptions = {}): Promise<Sequential> {
  if (typeof options !== 'object' || options === null) throw new TypeError('loadTfjs options: expected an object');
  let artifacts: TfjsArtifacts, what: string;
  if (typeof src === 'string') {
    ({ artifacts, what } = await readModelJson(src));
  } else if (typeof src === 'object' && src !== null && 'weightsManifest' in src) {
    if (typeof options.baseDir !== 'string') throw new TypeError('loadTfjs: a parsed model.json needs options.baseDir (the directory of its weight shards)');
    what = 'model.json';
    artifacts = await readManifest(src, options.baseDir, what);
  } else if (typeof src === 'object' && src !== null && 'weightSpecs' in src && 'weightData' in src) {
    artifacts = src;
    what = 'TF.js artifacts';
  } else {
    throw new TypeError(`loadTfjs: expected a path to model.json, a parsed model.json or TF.js model artifacts but received ${src === null ? 'null' : typeof src}`);
  }
  return importTfjs(artifacts, what);
}

/** Artifacts in memory -> a Sequential (the weights are set all or nothing); keras_h5.ts passes a Keras .h5 model's too. */
export function importTfjs(artifacts: TfjsArtifacts, what: string): Sequential {
  const { layers: specs, kerasVersion } = topologyLayers(artifacts.modelTopology, what);
  const weights = decodeWeights(artifacts, what);
  const layers: SequentialLayer[] = [];
  const kerasList: Tensor[] = [];
  let features: number | null | undefined;  // undefined until an input shape is seen; null: token ids
  specs.forEach((spec, i) => {
    const name = String(spec.config?.name ?? `layers[${i}]`);
    const fail = (why: string) => new TfjsImportError(`${what}: layer '${name}' (${spec.class_name}): ${why}`, name);
    const c = spec.config ?? {};
    const shape = (c.batch_input_shape ?? c.batch_shape) as (number | null)[] | undefined;
    if (Array.isArray(shape) && features === undefined) features = typeof shape[shape.length - 1] === 'number' ? shape[shape.length - 1] : undefined;
    const own = (suffix: string, inner?: string) => pick(weights, name, inner, suffix, fail);
    try {
      switch (spec.class_name) {
        case 'InputLayer':
          return;
        case 'Dropout':
        case 'SpatialDropout1D':
          layers.push(new Dropout({ rate: Number(c.rate) }));
          return;
        case 'Embedding': {
          if (c.mask_zero) throw fail('mask_zero: true (masked steps change the recurrent layers after it; not supported)');
          const layer = new Embedding({ numEmbeddings: Number(c.input_dim), embeddingDim: Number(c.output_dim), seed: 0 });
          features = layer.embeddingDim;
          kerasList.push(own('embeddings'));
          layers.push(layer);
          return;
        }
        case 'Dense':
        case 'TimeDistributed': {
          const d = spec.class_name === 'Dense' ? spec : (c.layer as LayerJson);
          if (d?.class_name !== 'Dense') throw fail(`TimeDistributed(${d?.class_name}): only TimeDistributed(Dense) is supported`);
          if (features == null) throw fail('no input feature size before it (give the model an input shape)');
          const activation = String(d.config.activation ?? 'linear') as DenseActivation;
          if (!DENSE_ACTIVATIONS.includes(activation)) throw fail(`activation '${activation}'; supported: ${DENSE_ACTIVATIONS.join(', ')}`);
          const bias = d.config.use_bias !== false;
          const layer = new Dense({ units: Number(d.config.units), inputSize: features, activation, bias, seed: 0 });
          const inner = spec.class_name === 'Dense' ? undefined : String(d.config.name);
          kerasList.push(own('kernel', inner));
          if (bias) kerasList.push(own('bias', inner));
          features = layer.units;
          layers.push(layer);
          return;
        }
        default: {
          const bidirectional = spec.class_name === 'Bidirectional';
          const r = bidirectional ? (c.layer as LayerJson) : spec;
          if (!r || !RECURRENT.has(r.class_name)) {
            throw fail(bidirectional ? `Bidirectional(${r?.class_name}): only LSTM, GRU and SimpleRNN are supported`
              : 'no fused-rnn layer for it; supported: LSTM, GRU, SimpleRNN, Bidirectional, Dense, TimeDistributed(Dense), Embedding, Dropout');
          }
          if (features == null) throw fail(features === null ? 'a recurrent layer reading token ids (put an Embedding before it)' : 'no input feature size (give the model an input shape)');
          const mergeMode = bidirectional ? c.merge_mode : 'concat';
          if (!MERGE_MODES.includes(mergeMode as MergeMode)) throw fail(`merge_mode ${JSON.stringify(mergeMode)}; supported: ${MERGE_MODES.join(', ')}`);
          const layer = recurrent(r, features, bidirectional, mergeMode as MergeMode, kerasVersion, fail);
          const suffixes = ['kernel', 'recurrent_kernel', ...(r.config.use_bias === false ? [] : ['bias'])];
          for (const dir of bidirectional ? ['forward', 'backward'] : [undefined]) {
            for (const s of suffixes) kerasList.push(dir ? pickDirection(weights, name, dir, s, fail) : own(s));
          }
          features = layer.outputSize * (bidirectional && mergeMode === 'concat' ? 2 : 1);
          layers.push(layer);
        }
      }
    } catch (e) {
      if (e instanceof TfjsImportError) throw e;
      throw fail((e as Error).message);
    }
  });
  if (layers.length === 0) throw new TfjsImportError(`${what}: a model without layers`, null);
  let model: Sequential;
  try {
    model = new Sequential(layers);
    model.setKerasWeights(kerasList);
  } catch (e) {
    throw new TfjsImportError(`${what}: ${(e as Error).message}`, null);
  }
  return model;
}

/** The layer list of a Sequential topology (tfjs' and Keras' JSON; model_config when wrapped). */
function topologyLayers(topology: unknown, what: string): { layers: LayerJson[]; kerasVersion: string } {
  const t = topology as { model_config?: unknown; keras_version?: unknown; class_name?: unknown; config?: unknown };
  const m = (t.model_config ?? t) as { class_name?: unknown; config?: unknown };
  const kerasVersion = String(t.keras_version ?? '');
  if (m.class_name !== 'Sequential') {
    throw new TfjsImportError(`${what}: a ${String(m.class_name)} model; only Sequential models are supported (tf.sequential, keras.Sequential)`, null);
  }
  // Keras 2.0 wrote the layer list as the config itself.
  const layers = Array.isArray(m.config) ? m.config : (m.config as { layers?: unknown })?.layers;
  if (!Array.isArray(layers) || layers.some((l) => typeof l !== 'object' || l === null || typeof l.class_name !== 'string')) {
    throw new TfjsImportError(`${what}: the Sequential config has no list of { class_name, config } layers`, null);
  }
  return { layers: layers as LayerJson[], kerasVersion };
}

/** The weight `<layer>/…/<suffix>` (tfjs names it under the outer layer; some files under the inner one). */
function pick(weights: Map<string, Tensor>, layer: string, inner: string | undefined, suffix: string, fail: (why: string) => Error): Tensor {
  for (const prefix of inner ? [layer, inner] : [layer]) {
    const hits = [...weights.keys()].filter((k) => k.startsWith(`${prefix}/`) && k.endsWith(`/${suffix}`));
    if (hits.length === 1) return weights.get(hits[0])!;
    if (hits.length > 1) throw fail(`several weights end in '${suffix}': ${hits.join(', ')}`);
  }
  throw fail(`no weight '${layer}/…/${suffix}' in the manifest`);
}

/** Bidirectional: the forward_… / backward_… sub-layer's weight. */
function pickDirection(weights: Map<string, Tensor>, layer: string, dir: string, suffix: string, fail: (why: string) => Error): Tensor {
  const hits = [...weights.keys()].filter((k) => k.startsWith(`${layer}/${dir}_`) && k.endsWith(`/${suffix}`));
  if (hits.length !== 1) throw fail(`expected one weight '${layer}/${dir}_…/${suffix}', found ${hits.length}`);
  return weights.get(hits[0])!;
}

/** Keras activation names (tfjs writes snake_case too) -> ours; Keras 3's hard_sigmoid is relu6(x + 3) / 6. */
function activation(name: unknown, kerasVersion: string, fail: (why: string) => Error): ActivationSpec {
  switch (name) {
    case 'tanh': case 'sigmoid': case 'relu': case 'softsign': case 'softplus': case 'elu':
      return name;
    case 'linear': return 'identity';
    case 'hard_sigmoid': case 'hardSigmoid':
      return /^3\./.test(kerasVersion) ? { name: 'hardSigmoid', alpha: 1 / 6, beta: 0.5 } : 'hardSigmoid';
    default: throw fail(`activation ${JSON.stringify(name)}; supported: tanh, sigmoid, hard_sigmoid, relu, linear, softsign, softplus, elu`);
  }
}

function recurrent(r: LayerJson, inputSize: number, bidirectional: boolean, mergeMode: MergeMode, kerasVersion: string,
  fail: (why: string) => Error): LSTM | GRU | RNN {
  const c = r.config;
  for (const [key, why] of [
    ['go_backwards', 'the output comes back reversed in time'], ['return_state', 'a Sequential passes one output on'],
    ['stateful', 'states carried between predict calls'], ['time_major', 'time-major input'],
  ] as const) {
    if (c[key]) throw fail(`${key}: true (${why}) is not supported`);
  }
  const common = {
    inputSize, hiddenSize: Number(c.units), bias: c.use_bias !== false, bidirectional, seed: 0,
    returnSequences: c.return_sequences === true, mergeMode,
  };
  const act = activation(c.activation ?? 'tanh', kerasVersion, fail);
  const gate = () => activation(c.recurrent_activation ?? 'hard_sigmoid', kerasVersion, fail);
  if (r.class_name === 'LSTM') return new LSTM({ ...common, activations: { gate: gate(), cell: act, hidden: act } });
  if (r.class_name === 'GRU') return new GRU({ ...common, resetAfter: c.reset_after === true, activations: { gate: gate(), cell: act } });
  return new RNN({ ...common, activations: { gate: act } });
}
