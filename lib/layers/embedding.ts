// Embedding: token ids -> learned vectors (PyTorch nn.Embedding: weight [numEmbeddings, embeddingDim], init N(0, 1)).
import { allocF32, checkInteger, checkSize, Described, invalidArg, MAX_ELEMENTS, ownOptions } from '../internal/check';
import { mulberry32, randomSeed } from '../internal/random';
import type { Flow, LayerContext, ModelLayer, ParamRef } from './layer';

export interface EmbeddingOptions {
  /** Vocabulary size: ids are integers in 0..numEmbeddings-1. Required. */
  numEmbeddings: number;
  /** Features per token. Required. */
  embeddingDim: number;
  /** Seed of the N(0, 1) initialisation. Default random. */
  seed?: number;
}

export class Embedding implements ModelLayer {
  readonly kind = 'Embedding';
  readonly numEmbeddings: number;
  readonly embeddingDim: number;
  readonly seed: number;
  readonly weights: Float32Array;
  readonly grads: Float32Array;
  private ids: Int32Array | null = null;

  constructor(optionsIn: EmbeddingOptions) {
    const options = ownOptions<EmbeddingOptions>('Embedding options', optionsIn, ['numEmbeddings', 'embeddingDim', 'seed']);
    this.numEmbeddings = checkSize('numEmbeddings', options.numEmbeddings);
    this.embeddingDim = checkSize('embeddingDim', options.embeddingDim);
    this.seed = options.seed === undefined ? randomSeed() : checkInteger('seed', options.seed, 0);
    const n = this.numEmbeddings * this.embeddingDim;
    if (n > MAX_ELEMENTS) throw invalidArg('numEmbeddings * embeddingDim', `at most ${MAX_ELEMENTS} (2^31) weights`, new Described(String(n)));
    this.weights = allocF32('Embedding weights', n);
    this.grads = allocF32('Embedding gradients', n);
    const rand = mulberry32(this.seed);
    for (let i = 0; i < this.weights.length; i += 2) {  // Box-Muller: two normals per draw
      const r = Math.sqrt(-2 * Math.log(1 - rand())), a = 2 * Math.PI * rand();
      this.weights[i] = r * Math.cos(a);
      if (i + 1 < this.weights.length) this.weights[i + 1] = r * Math.sin(a);
    }
  }

  connect(inputFeatures: number | null, index: number): number {
    if (inputFeatures !== null) {
      throw invalidArg(`layers[${index}] (Embedding) input`, 'token ids (Embedding must come first)', `${inputFeatures} features`);
    }
    return this.embeddingDim;
  }

  keepsTime(inputHasTime: boolean): boolean { return inputHasTime; }

  parameters(): ParamRef[] {
    return [{ name: 'weight', shape: [this.numEmbeddings, this.embeddingDim], value: this.weights, grad: this.grads }];
  }

  zeroGrad(): void { this.grads.fill(0); }

  forward(x: Flow, ctx: LayerContext): Flow {
    const n = x.data.length, E = this.embeddingDim, V = this.numEmbeddings;
    const ids = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const id = x.data[i];
      if (!Number.isInteger(id) || id < 0 || id >= V) throw invalidArg('token id', `integer in 0..${V - 1}`, id);
      ids[i] = id;
    }
    const y = new Float32Array(n * E);
    for (let i = 0; i < n; i++) y.set(this.weights.subarray(ids[i] * E, ids[i] * E + E), i * E);
    this.ids = ctx.training ? ids : null;
    return { data: y, shape: [...x.shape, E], lengths: x.lengths };
  }

  backward(dy: Float32Array): null {
    const ids = this.ids;
    if (!ids) throw new Error('Embedding.backward() needs a training forward first');
    const E = this.embeddingDim;
    for (let i = 0; i < ids.length; i++) {
      const g = this.grads.subarray(ids[i] * E, ids[i] * E + E);
      for (let e = 0; e < E; e++) g[e] += dy[i * E + e];
    }
    return null;
  }

  step(x: Flow, state: unknown): { y: Flow; state: unknown } {
    return { y: this.forward(x, { training: false, seed: 0 }), state };
  }

  getConfig(): object {
    return { numEmbeddings: this.numEmbeddings, embeddingDim: this.embeddingDim, seed: this.seed };
  }
}
