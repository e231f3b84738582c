// GRU layer: options and constructors; the machinery is shared in recurrent.ts.
import type { Tensor } from '../../tensor';
import type { GRUOptions } from './config';
import { onnxToOptions, type OnnxAttributes, type OnnxWeights } from './onnx';
import { Recurrent } from './recurrent';

/** PyTorch config for fromTorch: the layer options under their camelCase names. */
export type GRUTorchConfig = Omit<GRUOptions, 'seed'> & { seed?: number };

export class GRU extends Recurrent {
  /**
   * @example new GRU({ inputSize: 32, hiddenSize: 64 }).forward(tensor(x, [T, B, 32])).output // [T, B, 64]
   * @throws TypeError / RangeError naming the bad option; unknown options throw too.
   */
  constructor(options: GRUOptions) {
    super('gru', options);
  }

  /** Builds a layer from PyTorch state_dict names (weight_ih_l0, ..., _reverse). */
  static fromTorch(config: GRUTorchConfig, stateDict: Record<string, Tensor>): GRU {
    return new GRU({ seed: 0, ...config }).loadStateDict(stateDict, 'torch');
  }

  /** Builds a layer from an ONNX GRU node's attributes and its W, R, B?, P? inputs. */
  static fromOnnx(attributes: OnnxAttributes, weights: Omit<OnnxWeights, "P">): GRU {
    const { options, dict } = onnxToOptions('gru', attributes, weights);
    return new GRU(options as unknown as GRUOptions).loadStateDict(dict, 'onnx');
  }
}
