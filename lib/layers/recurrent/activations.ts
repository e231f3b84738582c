// Activation specs: names, ONNX-parameterised forms, and their native encoding.
import { invalidArg, invalidType, ownOptions } from '../../internal/check';

/** Names of the supported activations. */
export const ACTIVATION_NAMES = [
  'sigmoid', 'tanh', 'relu', 'identity', 'hardSigmoid', 'affine', 'leakyRelu',
  'thresholdedRelu', 'scaledTanh', 'elu', 'softsign', 'softplus',
] as const;
export type ActivationName = (typeof ACTIVATION_NAMES)[number];

/** An activation by name, or with ONNX's alpha / beta parameters. */
export type ActivationSpec = ActivationName | { name: ActivationName; alpha?: number; beta?: number };
/** One spec for both directions, or a [forward, reverse] pair. */
export type DirectionalActivation = ActivationSpec | [ActivationSpec, ActivationSpec];

/** Resolved form passed to the native side: kind is the index in ACTIVATION_NAMES. */
export interface NativeActivation {
  kind: number;
  alpha: number;
  beta: number;
}

/**
 * Defaults when alpha / beta are not given: ONNX's operator defaults
 * (HardSigmoid 0.2 / 0.5 as in Keras 2, LeakyRelu 0.01, Elu 1, ThresholdedRelu 1,
 * Affine 1 / 0, ScaledTanh 1 / 1).
 */
const DEFAULT_PARAMS: Partial<Record<ActivationName, { alpha: number; beta: number }>> = {
  hardSigmoid: { alpha: 0.2, beta: 0.5 },
  affine: { alpha: 1, beta: 0 },
  leakyRelu: { alpha: 0.01, beta: 0 },
  thresholdedRelu: { alpha: 1, beta: 0 },
  scaledTanh: { alpha: 1, beta: 1 },
  elu: { alpha: 1, beta: 0 },
};

/** Which parameters an activation reads (ONNX consumes activation_alpha/beta in this order). */
export function takesAlpha(name: ActivationName): boolean {
  return name in DEFAULT_PARAMS;
}
export function takesBeta(name: ActivationName): boolean {
  return name === 'hardSigmoid' || name === 'affine' || name === 'scaledTanh';
}

export function resolveActivation(argName: string, spec: unknown): NativeActivation {
  let name: unknown = spec;
  let alpha: unknown;
  let beta: unknown;
  if (typeof spec === 'object' && spec !== null && !Array.isArray(spec)) {
    ({ name, alpha, beta } = ownOptions<{ name: unknown; alpha?: unknown; beta?: unknown }>(argName, spec, ['name', 'alpha', 'beta']));
  } else if (typeof spec !== 'string') {
    throw invalidType(argName, 'activation name or { name, alpha?, beta? }', spec);
  }
  const kind = ACTIVATION_NAMES.indexOf(name as ActivationName);
  if (kind < 0) throw invalidArg(argName, `one of ${ACTIVATION_NAMES.join(', ')}`, name);
  const defaults = DEFAULT_PARAMS[name as ActivationName] ?? { alpha: 0, beta: 0 };
  for (const [key, v] of [['alpha', alpha], ['beta', beta]] as const) {
    if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v))) throw invalidArg(`${argName}.${key}`, 'finite number', v);
  }
  return { kind, alpha: (alpha as number | undefined) ?? defaults.alpha, beta: (beta as number | undefined) ?? defaults.beta };
}

/** Resolves a slot value (one spec or a [forward, reverse] pair) into [forward, reverse]. */
export function resolveDirectional(argName: string, value: unknown): [NativeActivation, NativeActivation] {
  if (Array.isArray(value)) {
    if (value.length !== 2) throw invalidArg(argName, 'an activation or a [forward, reverse] pair', value);
    return [resolveActivation(`${argName}[0]`, value[0]), resolveActivation(`${argName}[1]`, value[1])];
  }
  const a = resolveActivation(argName, value);
  return [a, { ...a }];
}

/** Back from the native encoding to the public spec (for getConfig). */
export function activationSpec(a: NativeActivation): ActivationSpec {
  const name = ACTIVATION_NAMES[a.kind];
  const d = DEFAULT_PARAMS[name];
  if (!d || (d.alpha === a.alpha && d.beta === a.beta)) return name;
  return takesBeta(name) ? { name, alpha: a.alpha, beta: a.beta } : { name, alpha: a.alpha };
}

/** ONNX activation names (case as in the operator spec) to ours. */
export const ONNX_ACTIVATIONS: Record<string, ActivationName> = {
  Sigmoid: 'sigmoid', Tanh: 'tanh', Relu: 'relu', HardSigmoid: 'hardSigmoid', Affine: 'affine',
  LeakyRelu: 'leakyRelu', ThresholdedRelu: 'thresholdedRelu', ScaledTanh: 'scaledTanh', Elu: 'elu',
  Softsign: 'softsign', Softplus: 'softplus',
};
