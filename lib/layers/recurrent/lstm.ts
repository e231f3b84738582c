// LSTM layer: options and constructors; the machinery is shared in recurrent.ts.
import type { Tensor } from '../../tensor';
import type { LSTMOptions } from './config';
import { onnxToOptions, type OnnxAttributes, type OnnxWeights } from './onnx';
import { Recurrent } from './recurrent';

/** PyTorch config for fromTorch: the layer options under their camelCase names. */
export type LSTMTorchConfig = Omit<LSTMOptions, 'seed'> & { seed?: number };

export class LSTM extends Recurrent {
  /**
   * @example new LSTM({ inputSize: 32, hiddenSize: 64 }).forward(tensor(x, [T, B, 32])).output // [T, B, 64]
   * @throws TypeError / RangeError naming the bad option; unknown options throw too.
   */
  constructor(options: LSTMOptions) {
    super('lstm', options);
  }

  /** Builds a layer from PyTorch state_dict names (weight_ih_l0, ..., _reverse). */
  static fromTorch(config: LSTMTorchConfig, stateDict: Record<string, Tensor>): LSTM {
    return new LSTM({ seed: 0, ...config }).loadStateDict(stateDict, 'torch');
  }

  /** Builds a layer from an ONNX LSTM node's attributes and its W, R, B?, P? inputs. */
  static fromOnnx(attributes: OnnxAttributes, weights: OnnxWeights): LSTM {
    const { options, dict } = onnxToOptions('lstm', attributes, weights);
    return new LSTM(options as unknown as LSTMOptions).loadStateDict(dict, 'onnx');
  }
}
