// Layer options: defaults, validation, and the resolved form the native side receives.
import {
  checkBoolean, checkFinite, checkInteger, checkNonNegative, checkOneOf, checkSize, Described, invalidArg, ownOptions,
} from '../../internal/check';
import { randomSeed } from '../../internal/random';
import { SEQUENCE_OPTION_KEYS, resolveSequenceOptions, type ResolvedSequenceOptions, type SequenceOptions } from '../layer';
import { activationSpec, resolveDirectional, type DirectionalActivation, type NativeActivation } from './activations';

export type CellKind = 'lstm' | 'gru' | 'rnn';
export type Direction = 'forward' | 'reverse' | 'bidirectional';
export type Nonlinearity = 'tanh' | 'relu' | 'identity';

/** Options shared by LSTM, GRU and RNN (with SequenceOptions, which only a Sequential reads). */
export interface RecurrentOptions extends SequenceOptions {
  /** Features per time step of the input (PyTorch input_size). Required. */
  inputSize: number;
  /** Hidden units per direction (PyTorch hidden_size, ONNX hidden_size). Required. */
  hiddenSize: number;
  /** Stacked layers; layer k > 0 reads layer k-1's output.
   * @defaultValue 1 */
  numLayers?: number;
  /** Run a second, reversed direction and concatenate (PyTorch bidirectional).
   * @defaultValue false */
  bidirectional?: boolean;
  /** ONNX direction; 'reverse' runs one direction backwards in time.
   * @defaultValue 'forward' */
  direction?: Direction;
  /** Input and recurrent biases (PyTorch bias).
   * @defaultValue true */
  bias?: boolean;
  /** Input and output are [B, T, F] instead of [T, B, F]; states stay [L*D, B, H].
   * @defaultValue false */
  batchFirst?: boolean;
  /** Dropout on the output of every layer but the last, in training (PyTorch dropout), in [0, 1).
   * Masks come from `seed` and a call counter, or from forward's `dropoutSeed`.
   * @defaultValue 0 */
  dropout?: number;
  /** Seed of the uniform(-1/sqrt(H), 1/sqrt(H)) initialisation.
   * @defaultValue random */
  seed?: number;
  /** ONNX clip: clamp every gate pre-activation to [-gateClip, gateClip].
   * @defaultValue 0 (off) */
  gateClip?: number;
}


export interface LSTMOptions extends RecurrentOptions {
  /** Projection size (PyTorch proj_size, LSTMP): h = W_hr·(o ⊙ tanh(c)). 0 < projSize < hiddenSize.
   * @defaultValue 0 */
  projSize?: number;
  /** ONNX peepholes: i and f see c[t-1], o sees c[t].
   * @defaultValue false */
  peephole?: boolean;
  /** ONNX input_forget: couples the gates, f = 1 - i.
   * @defaultValue false */
  inputForget?: boolean;
  /** TF cell_clip: clamp c to [-cellClip, cellClip] after each update.
   * @defaultValue 0 (off) */
  cellClip?: number;
  /** TF forget_bias: added to the forget gate pre-activation at run time.
   * @defaultValue 0 */
  forgetBias?: number;
  /** gate: i, f, o (default sigmoid); cell: g (default tanh); hidden: applied to c (default tanh). */
  activations?: { gate?: DirectionalActivation; cell?: DirectionalActivation; hidden?: DirectionalActivation };
}

export interface GRUOptions extends RecurrentOptions {
  /** true: n = act(Wx + r ⊙ (Uh + b)) (PyTorch, cuDNN, Keras reset_after, ONNX linear_before_reset=1);
   * false: n = act(Wx + U(r ⊙ h) + b) (ONNX default, Keras reset_after=False).
   * @defaultValue true */
  resetAfter?: boolean;
  /** gate: z and r (default sigmoid); cell: the candidate n (default tanh). */
  activations?: { gate?: DirectionalActivation; cell?: DirectionalActivation };
}

export interface RNNOptions extends RecurrentOptions {
  /** PyTorch nonlinearity.
   * @defaultValue 'tanh' */
  nonlinearity?: Nonlinearity;
  /** gate: the nonlinearity (overrides `nonlinearity`). */
  activations?: { gate?: DirectionalActivation };
}

export const DEFAULT_NUM_LAYERS = 1;
/** The kernels' bounds (native/src/config.cc): inputSize and hiddenSize up to 2^20, fewer than 1e9 weights. */
export const MAX_RNN_SIZE = 2 ** 20;
export const MAX_RNN_PARAMS = 1e9;
const COMMON_KEYS = ['inputSize', 'hiddenSize', 'numLayers', 'bidirectional', 'direction', 'bias', 'batchFirst',
  'dropout', 'seed', 'gateClip', ...SEQUENCE_OPTION_KEYS] as const;
export const OPTION_KEYS: Record<CellKind, readonly string[]> = {
  lstm: [...COMMON_KEYS, 'projSize', 'peephole', 'inputForget', 'cellClip', 'forgetBias', 'activations'],
  gru: [...COMMON_KEYS, 'resetAfter', 'activations'],
  rnn: [...COMMON_KEYS, 'nonlinearity', 'activations'],
};
const ACTIVATION_SLOTS: Record<CellKind, readonly string[]> = {
  lstm: ['gate', 'cell', 'hidden'], gru: ['gate', 'cell'], rnn: ['gate'],
};

/** Every option resolved; what getConfig() returns and the native config is built from. */
export interface ResolvedConfig {
  cell: CellKind;
  inputSize: number;
  hiddenSize: number;
  numLayers: number;
  direction: Direction;
  bias: boolean;
  batchFirst: boolean;
  seed: number;
  gateClip: number;
  projSize: number;
  peephole: boolean;
  inputForget: boolean;
  cellClip: number;
  forgetBias: number;
  resetAfter: boolean;
  dropout: number;
  /** [direction][gate, cell, hidden] */
  activations: NativeActivation[][];
}

const CELL_CODE: Record<CellKind, number> = { lstm: 0, gru: 1, rnn: 2 };
/** The class name of each cell kind (messages, summaries, saved model configs). */
export const CELL_CLASS_NAMES = { lstm: 'LSTM', gru: 'GRU', rnn: 'RNN' } as const satisfies Record<CellKind, string>;

/** The layer's own options, resolved, and how it sits in a Sequential. */
export function resolveOptions(cell: CellKind, options: unknown): { config: ResolvedConfig; inSequential: ResolvedSequenceOptions } {
  // Own properties only: an option inherited from a polluted Object.prototype is never read.
  const own = ownOptions<LSTMOptions & GRUOptions & RNNOptions>(`${CELL_CLASS_NAMES[cell]} options`, options, OPTION_KEYS[cell]);
  const config = resolveConfig(cell, own);
  return { config, inSequential: resolveSequenceOptions(own) };
}

function resolveConfig(cell: CellKind, o: LSTMOptions & GRUOptions & RNNOptions): ResolvedConfig {
  const hiddenSize = checkSize('hiddenSize', o.hiddenSize, MAX_RNN_SIZE);
  const r: ResolvedConfig = {
    cell,
    inputSize: checkSize('inputSize', o.inputSize, MAX_RNN_SIZE),
    hiddenSize,
    numLayers: checkInteger('numLayers', o.numLayers ?? DEFAULT_NUM_LAYERS, 1, 1024),
    direction: 'forward',
    bias: checkBoolean('bias', o.bias ?? true),
    batchFirst: checkBoolean('batchFirst', o.batchFirst ?? false),
    seed: o.seed === undefined ? randomSeed() : checkInteger('seed', o.seed, 0),
    gateClip: checkNonNegative('gateClip', o.gateClip ?? 0),
    projSize: checkInteger('projSize', o.projSize ?? 0, 0, hiddenSize - 1),
    peephole: checkBoolean('peephole', o.peephole ?? false),
    inputForget: checkBoolean('inputForget', o.inputForget ?? false),
    cellClip: checkNonNegative('cellClip', o.cellClip ?? 0),
    forgetBias: checkFinite('forgetBias', o.forgetBias ?? 0),
    resetAfter: checkBoolean('resetAfter', o.resetAfter ?? true),
    dropout: 0,
    activations: [],
  };
  const bidirectional = o.bidirectional === undefined ? undefined : checkBoolean('bidirectional', o.bidirectional);
  if (o.direction !== undefined) {
    r.direction = checkOneOf('direction', o.direction, ['forward', 'reverse', 'bidirectional'] as const);
    if (bidirectional !== undefined && bidirectional !== (r.direction === 'bidirectional')) {
      throw invalidArg('bidirectional', `${r.direction === 'bidirectional'} (to agree with direction '${r.direction}')`, bidirectional);
    }
  } else if (bidirectional) {
    r.direction = 'bidirectional';
  }
  const dropout = checkNonNegative('dropout', o.dropout ?? 0);
  if (!(dropout < 1)) throw invalidArg('dropout', 'number in [0, 1)', dropout);
  r.dropout = dropout;

  // Activations: defaults per cell, then the user's overrides per slot.
  const rnnDefault = checkOneOf('nonlinearity', o.nonlinearity ?? 'tanh', ['tanh', 'relu', 'identity'] as const);
  const defaults: Record<string, string> = {
    gate: cell === 'rnn' ? rnnDefault : 'sigmoid', cell: 'tanh', hidden: 'tanh',
  };
  const given = ownOptions<Record<string, unknown>>('activations', o.activations ?? {}, ACTIVATION_SLOTS[cell]);
  const slots = ['gate', 'cell', 'hidden'].map((slot) =>
    resolveDirectional(`activations.${slot}`, (given as Record<string, unknown>)[slot] ?? defaults[slot]));
  r.activations = [0, 1].map((d) => slots.map((pair) => pair[d]));
  // Weights per layer and direction (native param_layout): G*H*(input + Hout) matrices, biases, peepholes, projection.
  const D = numDirections(r), Hout = outputSize(r), G = gateCount(cell);
  const perDirection = (inputs: number) => G * hiddenSize * (inputs + Hout + (r.bias ? 2 : 0))
    + (r.peephole ? 3 * hiddenSize : 0) + (r.projSize > 0 ? Hout * hiddenSize : 0);
  const params = D * (perDirection(r.inputSize) + (r.numLayers - 1) * perDirection(D * Hout));
  if (params >= MAX_RNN_PARAMS) {
    throw invalidArg('inputSize, hiddenSize and numLayers', 'fewer than 1e9 weights in all', new Described(`about ${params} weights`));
  }
  return r;
}

/** The inverse of resolveOptions: options that rebuild the same layer (saved model configs). */
export function optionsFromResolved(r: ResolvedConfig, inSequential: ResolvedSequenceOptions): RecurrentOptions & Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const source = { ...r, ...inSequential } as unknown as Record<string, unknown>;
  for (const key of OPTION_KEYS[r.cell]) {
    if (key === 'activations' || key === 'bidirectional') continue;
    if (key in source) out[key] = source[key];
  }
  const activations: Record<string, DirectionalActivation> = {};
  ACTIVATION_SLOTS[r.cell].forEach((slot, i) => {
    const [f, b] = [activationSpec(r.activations[0][i]), activationSpec(r.activations[1][i])];
    activations[slot] = JSON.stringify(f) === JSON.stringify(b) ? f : [f, b];
  });
  out.activations = activations;
  return out as unknown as RecurrentOptions & Record<string, unknown>;
}

export function numDirections(r: ResolvedConfig): number {
  return r.direction === 'bidirectional' ? 2 : 1;
}

export function outputSize(r: ResolvedConfig): number {
  return r.projSize > 0 ? r.projSize : r.hiddenSize;
}

export function gateCount(cell: CellKind): number {
  return cell === 'lstm' ? 4 : cell === 'gru' ? 3 : 1;
}

/** The config object native/addon/rnn_binding.cc parses. */
export function toNativeConfig(r: ResolvedConfig): object {
  return {
    cell: CELL_CODE[r.cell],
    inputSize: r.inputSize,
    hiddenSize: r.hiddenSize,
    projSize: r.projSize,
    numLayers: r.numLayers,
    numDirections: numDirections(r),
    reverse: r.direction === 'reverse',
    bias: r.bias,
    peephole: r.peephole,
    inputForget: r.inputForget,
    resetAfter: r.resetAfter,
    gateClip: r.gateClip,
    cellClip: r.cellClip,
    forgetBias: r.forgetBias,
    activations: r.activations,
  };
}
