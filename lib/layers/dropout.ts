// Dropout: in training, zero each feature with probability `rate` and scale the rest by
// 1/(1-rate) (inverted dropout, as PyTorch and Keras); identity at inference.
import { checkInteger, invalidArg, invalidType, ownOptions } from '../internal/check';
import { applyMask, dropoutMask } from '../internal/random';
import type { WeightStore } from '../internal/weight_store';
import type { Flow, LayerContext, ModelLayer, ParamRef } from './layer';

export interface DropoutOptions {
  /** Probability of dropping a feature, in [0, 1). */
  rate: number;
}

export class Dropout implements ModelLayer {
  readonly kind = 'Dropout';
  readonly rate: number;
  private index = 0;
  private mask: Float32Array | null = null;

  constructor(options: DropoutOptions) {
    const rate = ownOptions<DropoutOptions>('Dropout options', options, ['rate']).rate;
    if (typeof rate !== 'number') throw invalidType('rate', 'number in [0, 1)', rate);
    if (!(rate >= 0 && rate < 1)) throw invalidArg('rate', 'number in [0, 1)', rate);
    this.rate = rate;
  }

  connect(inputFeatures: number | null, index: number): number {
    if (inputFeatures === null) throw invalidArg(`layers[${index}] (Dropout) input`, 'features', 'token ids');
    this.index = checkInteger('index', index, 0);
    return inputFeatures;
  }

  keepsTime(inputHasTime: boolean): boolean { return inputHasTime; }
  parameters(): ParamRef[] { return []; }
  stores(): WeightStore[] { return []; }
  zeroGrad(): void {}

  forward(x: Flow, ctx: LayerContext): Flow {
    if (!ctx.training) return x;  // inference leaves training state alone
    if (this.rate === 0) {
      this.mask = null;
      return x;
    }
    // Reproducible masks: the stream depends on the fit seed, epoch, batch and this layer's place.
    this.mask = dropoutMask(x.data.length, this.rate, ctx.seed, this.index);
    return { data: applyMask(x.data, this.mask), shape: x.shape, lengths: x.lengths };
  }

  backward(dy: Float32Array): Float32Array {
    return this.mask ? applyMask(dy, this.mask) : dy;
  }

  step(x: Flow, state: unknown, reads?: ReadonlyMap<WeightStore, Float32Array>): { y: Flow; state: unknown } {
    return { y: this.forward(x, reads ? { training: false, seed: 0, reads } : { training: false, seed: 0 }), state };
  }

  getConfig(): object { return { rate: this.rate }; }
}
