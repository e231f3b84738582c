// RNN layer: options and constructors; the machinery is shared in recurrent.ts.
import type { Tensor } from '../../tensor';
import type { RNNOptions } from './config';
import { onnxToOptions, type OnnxAttributes, type OnnxWeights } from './onnx';
import { Recurrent } from './recurrent';

/** PyTorch config for fromTorch: the layer options under their camelCase names. */
export type RNNTorchConfig = Omit<RNNOptions, 'seed'> & { seed?: number };

export class RNN extends Recurrent {
  /**
   * @example new RNN({ inputSize: 32, hiddenSize: 64 }).forward(tensor(x, [T, B, 32])).output // [T, B, 64]
   * @throws TypeError / RangeError naming the bad option; unknown options throw too.
   */
  constructor(options: RNNOptions) {
    super('rnn', options);
  }

  /** Builds a layer from PyTorch state_dict names (weight_ih_l0, ..., _reverse). */
  static fromTorch(config: RNNTorchConfig, stateDict: Record<string, Tensor>): RNN {
    return new RNN({ seed: 0, ...config }).loadStateDict(stateDict, 'torch');
  }

  /** Builds a layer from an ONNX RNN node's attributes and its W, R, B?, P? inputs. */
  static fromOnnx(attributes: OnnxAttributes, weights: Omit<OnnxWeights, "P">): RNN {
    const { options, dict } = onnxToOptions('rnn', attributes, weights);
    return new RNN(options as unknown as RNNOptions).loadStateDict(dict, 'onnx');
  }
}
