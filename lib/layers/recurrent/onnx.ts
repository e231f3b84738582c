// ONNX LSTM / GRU / RNN node attributes -> layer options (operator semantics of opset 14-22).
import { checkInteger, checkOneOf, invalidArg, invalidType, ownOptions } from '../../internal/check';
import type { Tensor } from '../../tensor';
import { ONNX_ACTIVATIONS, takesAlpha, takesBeta, type ActivationSpec } from './activations';
import type { CellKind, Direction } from './config';

/** The ONNX node attributes, as named in the operator spec. */
export interface OnnxAttributes {
  activations?: string[];
  activation_alpha?: number[];
  activation_beta?: number[];
  clip?: number;
  direction?: Direction;
  hidden_size?: number;
  input_forget?: number;
  layout?: number;
  linear_before_reset?: number;
}

/** ONNX inputs holding weights: W [D, G*H, I], R [D, G*H, H], B [D, 2*G*H], P [D, 3*H] (LSTM). */
export interface OnnxWeights {
  W: Tensor;
  R: Tensor;
  B?: Tensor;
  P?: Tensor;
}

const ATTRIBUTE_KEYS: Record<CellKind, string[]> = {
  lstm: ['activations', 'activation_alpha', 'activation_beta', 'clip', 'direction', 'hidden_size', 'input_forget', 'layout'],
  gru: ['activations', 'activation_alpha', 'activation_beta', 'clip', 'direction', 'hidden_size', 'layout', 'linear_before_reset'],
  rnn: ['activations', 'activation_alpha', 'activation_beta', 'clip', 'direction', 'hidden_size', 'layout'],
};
const DEFAULT_ACTIVATIONS: Record<CellKind, string[]> = {
  lstm: ['Sigmoid', 'Tanh', 'Tanh'], gru: ['Sigmoid', 'Tanh'], rnn: ['Tanh'],
};
const SLOTS: Record<CellKind, string[]> = { lstm: ['gate', 'cell', 'hidden'], gru: ['gate', 'cell'], rnn: ['gate'] };
const GATES: Record<CellKind, number> = { lstm: 4, gru: 3, rnn: 1 };

function numberList(name: string, v: unknown): number[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'number' || !Number.isFinite(x))) throw invalidType(name, 'array of finite numbers', v);
  return v as number[];
}

/**
 * Maps ONNX attributes and weight shapes to layer options plus an 'onnx'-layout state dict.
 * activation_alpha / activation_beta are consumed in order by the activations that take
 * them (forward direction first); when a list runs out the ONNX operator's default applies.
 */
export function onnxToOptions(cell: CellKind, attributes: unknown, weights: unknown) {
  const a = ownOptions<OnnxAttributes>('ONNX attributes', attributes, ATTRIBUTE_KEYS[cell]);
  const w = ownOptions<OnnxWeights>('ONNX weights', weights, cell === 'lstm' ? ['W', 'R', 'B', 'P'] : ['W', 'R', 'B'], 'object { W, R, B?, P? }');
  for (const key of ['W', 'R'] as const) {
    const t = w[key];
    if (typeof t !== 'object' || t === null || !Array.isArray(t.shape) || t.shape.length !== 3) throw invalidArg(key, 'a rank-3 Tensor', t?.shape ?? t);
  }
  const [D, GH, inputSize] = w.W.shape;
  const hiddenSize = a.hidden_size === undefined ? w.R.shape[2] : checkInteger('hidden_size', a.hidden_size, 1);
  if (GH !== GATES[cell] * hiddenSize) throw invalidArg('W', `shape [${D}, ${GATES[cell] * hiddenSize}, I] (hidden_size ${hiddenSize})`, w.W.shape);
  const direction = checkOneOf('direction', a.direction ?? 'forward', ['forward', 'reverse', 'bidirectional'] as const);
  if (D !== (direction === 'bidirectional' ? 2 : 1)) throw invalidArg('W', `${direction === 'bidirectional' ? 2 : 1} directions in shape[0]`, w.W.shape);
  const layout = a.layout === undefined ? 0 : checkInteger('layout', a.layout, 0, 1);

  const names = a.activations ?? [...DEFAULT_ACTIVATIONS[cell], ...(D === 2 ? DEFAULT_ACTIVATIONS[cell] : [])];
  const perDir = SLOTS[cell].length;
  if (!Array.isArray(names) || names.length !== perDir * D) throw invalidArg('activations', `${perDir * D} names`, names);
  const alphas = [...numberList('activation_alpha', a.activation_alpha)];  // copies: consumed below
  const betas = [...numberList('activation_beta', a.activation_beta)];
  const specs: ActivationSpec[] = names.map((onnxName, i) => {
    const name = ONNX_ACTIVATIONS[onnxName as string];
    if (!name) throw invalidArg(`activations[${i}]`, `one of ${Object.keys(ONNX_ACTIVATIONS).join(', ')}`, onnxName);
    const spec: { name: typeof name; alpha?: number; beta?: number } = { name };
    if (takesAlpha(name) && alphas.length) spec.alpha = alphas.shift();
    if (takesBeta(name) && betas.length) spec.beta = betas.shift();
    return spec;
  });
  const activations: Record<string, ActivationSpec | [ActivationSpec, ActivationSpec]> = {};
  SLOTS[cell].forEach((slot, s) => {
    activations[slot] = D === 2 ? [specs[s], specs[perDir + s]] : specs[s];
  });

  const options: Record<string, unknown> = {
    inputSize, hiddenSize, direction, batchFirst: layout === 1, bias: w.B !== undefined, activations, seed: 0,
  };
  if (a.clip !== undefined) {
    if (typeof a.clip !== 'number' || !(a.clip > 0) || !Number.isFinite(a.clip)) throw invalidArg('clip', 'finite number > 0', a.clip);
    options.gateClip = a.clip;
  }
  if (cell === 'lstm') {
    options.inputForget = !!checkInteger('input_forget', a.input_forget ?? 0, 0, 1);
    options.peephole = w.P !== undefined;
  }
  if (cell === 'gru') options.resetAfter = !!checkInteger('linear_before_reset', a.linear_before_reset ?? 0, 0, 1);
  const dict: Record<string, Tensor> = { W: w.W, R: w.R };
  if (w.B !== undefined) dict.B = w.B;
  if (w.P !== undefined) dict.P = w.P;
  return { options, dict };
}
