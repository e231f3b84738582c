// Embedding: token ids -> learned vectors (PyTorch nn.Embedding: weight [numEmbeddings, embeddingDim], init N(0, 1)).
import { allocF32, checkInteger, checkSize, Described, invalidArg, MAX_ELEMENTS, ownOptions } from '../internal/check';
import { mulberry32, randomSeed } from '../internal/random';
import { WeightStore } from '../internal/weight_store';
import type { Flow, LayerContext, ModelLayer, ParamRef } from './layer';

export interface EmbeddingOptions {
  /** Vocabulary size: ids are integers in 0..numEmbeddings-1. Required. */
  numEmbeddings: number;
  /** Features per token. Required. */
  embeddingDim: number;
  /** Seed of the N(0, 1) initialisation.
   * @defaultValue random
   */
  seed?: number;
}

export class Embedding implements ModelLayer {
  readonly kind = 'Embedding';
  readonly numEmbeddings: number;
  readonly embeddingDim: number;
  readonly seed: number;
  /** The table [numEmbeddings, embeddingDim] and its gradient (lib/internal/weight_store.ts). */
  private readonly store: WeightStore;
  private ids: Int32Array | null = null;

  constructor(optionsIn: EmbeddingOptions) {
    const options = ownOptions<EmbeddingOptions>('Embedding options', optionsIn, ['numEmbeddings', 'embeddingDim', 'seed']);
    this.numEmbeddings = checkSize('numEmbeddings', options.numEmbeddings);
    this.embeddingDim = checkSize('embeddingDim', options.embeddingDim);
    this.seed = options.seed === undefined ? randomSeed() : checkInteger('seed', options.seed, 0);
    const n = this.numEmbeddings * this.embeddingDim;
    if (n > MAX_ELEMENTS) throw invalidArg('numEmbeddings * embeddingDim', `at most ${MAX_ELEMENTS} (2^31) weights`, new Described(String(n)));
    this.store = new WeightStore('Embedding', n);
    const w = this.store.weights;
    const rand = mulberry32(this.seed);
    for (let i = 0; i < w.length; i += 2) {  // Box-Muller: two normals per draw
      const r = Math.sqrt(-2 * Math.log(1 - rand())), a = 2 * Math.PI * rand();
      w[i] = r * Math.cos(a);
      if (i + 1 < w.length) w[i + 1] = r * Math.sin(a);
    }
  }

  /** The table [numEmbeddings, embeddingDim] (SharedArrayBuffer). */
  get weights(): Float32Array {
    this.store.touch();  // a writable view
    return this.store.weights;
  }

  get grads(): Float32Array { return this.store.grads; }

  stores(): WeightStore[] { return [this.store]; }

  connect(inputFeatures: number | null, index: number): number {
    if (inputFeatures !== null) {
      throw invalidArg(`layers[${index}] (Embedding) input`, 'token ids (Embedding must come first)', `${inputFeatures} features`);
    }
    return this.embeddingDim;
  }

  keepsTime(inputHasTime: boolean): boolean { return inputHasTime; }

  parameters(): ParamRef[] {
    this.store.touch();  // writable views
    return [{ name: 'weight', shape: [this.numEmbeddings, this.embeddingDim], value: this.store.weights, grad: this.store.grads }];
  }

  zeroGrad(): void { this.store.grads.fill(0); }

  forward(x: Flow, ctx: LayerContext): Flow {
    const n = x.data.length, E = this.embeddingDim, V = this.numEmbeddings;
    const ids = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const id = x.data[i];
      if (!Number.isInteger(id) || id < 0 || id >= V) throw invalidArg('token id', `integer in 0..${V - 1}`, id);
      ids[i] = id;
    }
    if (ctx.training) this.store.checkWritable(ctx.writer ?? null, 'Embedding.forward (training)');
    const table = ctx.training ? this.store.weights : ctx.reads?.get(this.store) ?? this.store.forSyncRead();
    const y = new Float32Array(n * E);
    for (let i = 0; i < n; i++) y.set(table.subarray(ids[i] * E, ids[i] * E + E), i * E);
    if (ctx.training) this.ids = ids;  // inference leaves training state alone
    return { data: y, shape: [...x.shape, E], lengths: x.lengths };
  }

  backward(dy: Float32Array): null {
    const ids = this.ids;
    if (!ids) throw new Error('Embedding.backward() needs a training forward first');
    const E = this.embeddingDim;
    for (let i = 0; i < ids.length; i++) {
      const g = this.store.grads.subarray(ids[i] * E, ids[i] * E + E);
      for (let e = 0; e < E; e++) g[e] += dy[i * E + e];
    }
    return null;
  }

  step(x: Flow, state: unknown, reads?: ReadonlyMap<WeightStore, Float32Array>): { y: Flow; state: unknown } {
    return { y: this.forward(x, reads ? { training: false, seed: 0, reads } : { training: false, seed: 0 }), state };
  }

  getConfig(): object {
    return { numEmbeddings: this.numEmbeddings, embeddingDim: this.embeddingDim, seed: this.seed };
  }
}
