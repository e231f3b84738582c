// Optimizers: SGD, Adam, AdamW, RMSprop, Adagrad with PyTorch 1.13's torch.optim semantics.
//
// step() checks everything, then updates every parameter in ONE native call
// (native/src/optim/optimizers.cc): same formulas and operation order as torch's single-tensor
// CPU code, so results agree with torch bit for bit (see native/include/fused_rnn_optim.h).
// State buffers are created lazily per parameter name, zero-initialised (Adagrad:
// initialAccumulatorValue), and kept between steps.
//
// One difference from torch: torch counts steps per parameter, these optimizers count them per
// optimizer (every parameter steps together). A parameter first seen after step 1 gets fresh
// state but the optimizer's step count (Adam's bias correction, Adagrad's lr decay).
import {
  checkBoolean, checkInteger, checkNonNegative, Described, invalidArg, invalidType, ownOptions,
} from '../internal/check';
import { WeightStore, acquireAll, isPinned, sharedFloat32, type WriterToken } from '../internal/weight_store';
import { native, type OptimizerStepArgs } from '../native';
import type { Tensor } from '../tensor';

/** A parameter as the optimizer sees it: a name (keys its state), the weights and their gradient. */
export interface ParamRef {
  name: string;
  value: Float32Array;
  grad: Float32Array;
}

/** Also accepted: tensors `{ name, value: Tensor, grad: Tensor }` (layer.parameters() and model.parameters()
 * give `{ name, shape, value, grad }` with Float32Array views, a ParamRef). */
export type ParamLike = ParamRef | { name: string; value: Tensor; grad: Tensor };

export interface StepOptions {
  /** Multiplies every gradient first (float32), as torch.nn.utils.clip_grad_norm_ does: pass
   * clipCoefficient(gradNorm(params), maxNorm). Finite, >= 0. Gradients are not written.
   * @defaultValue 1
   */
  gradScale?: number;
  /** Clamps every (scaled) gradient to [-clipValue, clipValue] (torch.nn.utils.clip_grad_value_).
   * 0 or Infinity = off.
   * @defaultValue 0 (off) */
  clipValue?: number;
}

export type OptimizerKind = 'sgd' | 'adam' | 'adamw' | 'rmsprop' | 'adagrad';

/** torch.optim.SGD. */
export interface SGDOptions {
  /** Learning rate, >= 0. Required (as in torch). */
  lr: number;
  /** Momentum factor, >= 0.
   * @defaultValue 0 (none)
   */
  momentum?: number;
  /** Dampening of the momentum (buf = momentum*buf + (1 - dampening)*g).
   * @defaultValue 0
   */
  dampening?: number;
  /** Nesterov momentum; needs momentum > 0 and dampening 0.
   * @defaultValue false
   */
  nesterov?: boolean;
  /** L2 penalty added to the gradient (g += weightDecay*p), >= 0.
   * @defaultValue 0
   */
  weightDecay?: number;
}

/** torch.optim.Adam and AdamW. */
export interface AdamOptions {
  /** Learning rate, >= 0.
   * @defaultValue 1e-3
   */
  lr?: number;
  /** Decay rates of the first and second moment averages, each in [0, 1).
   * @defaultValue [0.9, 0.999]
   */
  betas?: [number, number];
  /** Added to the denominator, >= 0.
   * @defaultValue 1e-8
   */
  eps?: number;
  /** Adam: L2 penalty added to the gradient. AdamW: decoupled decay, p *= 1 - lr*weightDecay.
   * >= 0.
   * @defaultValue 0 (Adam), 1e-2 (AdamW) */
  weightDecay?: number;
  /** AMSGrad: divide by the running maximum of the second moment.
   * @defaultValue false
   */
  amsgrad?: boolean;
}
export type AdamWOptions = AdamOptions;

/** torch.optim.RMSprop. */
export interface RMSpropOptions {
  /** Learning rate, >= 0.
   * @defaultValue 1e-2
   */
  lr?: number;
  /** Smoothing constant of the squared-gradient average, >= 0.
   * @defaultValue 0.99
   */
  alpha?: number;
  /** Added to the denominator, >= 0.
   * @defaultValue 1e-8
   */
  eps?: number;
  /** L2 penalty added to the gradient, >= 0.
   * @defaultValue 0
   */
  weightDecay?: number;
  /** Momentum factor, >= 0.
   * @defaultValue 0
   */
  momentum?: number;
  /** Normalise by an estimate of the gradient's variance (subtracts the squared mean).
   * @defaultValue false
   */
  centered?: boolean;
}

/** torch.optim.Adagrad. */
export interface AdagradOptions {
  /** Learning rate, >= 0.
   * @defaultValue 1e-2
   */
  lr?: number;
  /** Learning-rate decay: lr / (1 + (step - 1)*lrDecay), >= 0.
   * @defaultValue 0
   */
  lrDecay?: number;
  /** L2 penalty added to the gradient, >= 0.
   * @defaultValue 0
   */
  weightDecay?: number;
  /** Starting value of the squared-gradient sum, >= 0.
   * @defaultValue 0
   */
  initialAccumulatorValue?: number;
  /** Added to the denominator, >= 0.
   * @defaultValue 1e-10
   */
  eps?: number;
}

export const DEFAULT_ADAM_LR = 1e-3;
export const DEFAULT_ADAM_BETAS: readonly [number, number] = [0.9, 0.999];
export const DEFAULT_ADAM_EPS = 1e-8;
export const DEFAULT_ADAMW_WEIGHT_DECAY = 1e-2;
export const DEFAULT_RMSPROP_LR = 1e-2;
export const DEFAULT_RMSPROP_ALPHA = 0.99;
export const DEFAULT_RMSPROP_EPS = 1e-8;
export const DEFAULT_ADAGRAD_LR = 1e-2;
export const DEFAULT_ADAGRAD_EPS = 1e-10;

/** What stateDict() returns and loadStateDict() takes. State keys read `${paramName}.${torchStateName}`
 * (momentum_buffer, exp_avg, exp_avg_sq, max_exp_avg_sq, square_avg, grad_avg, sum). */
export interface OptimizerStateDict {
  kind: OptimizerKind;
  /** Every option, resolved (the constructor's options with defaults filled in). */
  config: Record<string, unknown>;
  /** Updates done so far. */
  step: number;
  /** The learning rate at the time (a schedule may have changed it from config.lr). */
  lr: number;
  state: Record<string, Float32Array>;
}

const STEP_KEYS = ['gradScale', 'clipValue'] as const;
const OPTION_KEYS: Record<OptimizerKind, readonly string[]> = {
  sgd: ['lr', 'momentum', 'dampening', 'nesterov', 'weightDecay'],
  adam: ['lr', 'betas', 'eps', 'weightDecay', 'amsgrad'],
  adamw: ['lr', 'betas', 'eps', 'weightDecay', 'amsgrad'],
  rmsprop: ['lr', 'alpha', 'eps', 'weightDecay', 'momentum', 'centered'],
  adagrad: ['lr', 'lrDecay', 'weightDecay', 'initialAccumulatorValue', 'eps'],
};
const CLASS_NAMES: Record<OptimizerKind, string> = { sgd: 'SGD', adam: 'Adam', adamw: 'AdamW', rmsprop: 'RMSprop', adagrad: 'Adagrad' };

function checkLr(name: string, value: unknown): number {
  return checkHyper(name, value);
}

/** A hyper-parameter >= 0 that the update loops can use in float32 (1e39 would be Infinity there). */
function checkHyper(name: string, value: unknown): number {
  const v = checkNonNegative(name, value);
  if (!Number.isFinite(Math.fround(v))) throw invalidArg(name, 'finite number >= 0 (at most 3.4028234663852886e38, float32)', value);
  return v;
}

function checkBeta(name: string, value: unknown): number {
  if (typeof value !== 'number') throw invalidType(name, 'number in [0, 1)', value);
  if (!(value >= 0 && value < 1)) throw invalidArg(name, 'number in [0, 1)', value);
  return value;
}

type Resolved = Record<string, number | boolean | [number, number]>;

/** Options -> every field resolved, checked as torch's constructors check them. */
function resolve(kind: OptimizerKind, options: unknown): Resolved {
  const cls = CLASS_NAMES[kind];
  const o = ownOptions<Record<string, unknown>>(`${cls} options`, options, OPTION_KEYS[kind]);
  switch (kind) {
    case 'sgd': {
      if (o.lr === undefined) throw invalidType('lr', 'finite number >= 0 (SGD has no default learning rate)', o.lr);
      const r = {
        lr: checkLr('lr', o.lr),
        momentum: checkHyper('momentum', o.momentum ?? 0),
        dampening: checkHyper('dampening', o.dampening ?? 0),
        nesterov: checkBoolean('nesterov', o.nesterov ?? false),
        weightDecay: checkHyper('weightDecay', o.weightDecay ?? 0),
      };
      if (r.nesterov && (r.momentum <= 0 || r.dampening !== 0)) {
        throw invalidArg('nesterov', 'momentum > 0 and dampening 0', new Described(`momentum ${r.momentum} and dampening ${r.dampening}`));
      }
      return r;
    }
    case 'adam':
    case 'adamw': {
      const betas = o.betas ?? DEFAULT_ADAM_BETAS;
      if (!Array.isArray(betas) || betas.length !== 2) throw invalidType('betas', '[beta1, beta2]', betas);
      return {
        lr: checkLr('lr', o.lr ?? DEFAULT_ADAM_LR),
        betas: [checkBeta('betas[0]', betas[0]), checkBeta('betas[1]', betas[1])],
        eps: checkHyper('eps', o.eps ?? DEFAULT_ADAM_EPS),
        weightDecay: checkHyper('weightDecay', o.weightDecay ?? (kind === 'adamw' ? DEFAULT_ADAMW_WEIGHT_DECAY : 0)),
        amsgrad: checkBoolean('amsgrad', o.amsgrad ?? false),
      };
    }
    case 'rmsprop':
      return {
        lr: checkLr('lr', o.lr ?? DEFAULT_RMSPROP_LR),
        alpha: checkHyper('alpha', o.alpha ?? DEFAULT_RMSPROP_ALPHA),
        eps: checkHyper('eps', o.eps ?? DEFAULT_RMSPROP_EPS),
        weightDecay: checkHyper('weightDecay', o.weightDecay ?? 0),
        momentum: checkHyper('momentum', o.momentum ?? 0),
        centered: checkBoolean('centered', o.centered ?? false),
      };
    case 'adagrad':
      return {
        lr: checkLr('lr', o.lr ?? DEFAULT_ADAGRAD_LR),
        lrDecay: checkHyper('lrDecay', o.lrDecay ?? 0),
        weightDecay: checkHyper('weightDecay', o.weightDecay ?? 0),
        initialAccumulatorValue: checkHyper('initialAccumulatorValue', o.initialAccumulatorValue ?? 0),
        eps: checkHyper('eps', o.eps ?? DEFAULT_ADAGRAD_EPS),
      };
  }
}

/** The flat hyper-parameter object the native binding reads (optim_binding.cc). */
function nativeHyper(config: Resolved, lr: number): Record<string, number | boolean> {
  const h: Record<string, number | boolean> = {};
  for (const [k, v] of Object.entries(config)) {
    if (k === 'betas') {
      const b = v as [number, number];
      h.beta1 = b[0];
      h.beta2 = b[1];
    } else {
      h[k] = v as number | boolean;
    }
  }
  h.lr = lr;
  return h;
}

/** A parameter's buffers after the checks. */
interface Checked {
  name: string;
  value: Float32Array;
  grad: Float32Array;
}

function f32Of(name: string, v: unknown): Float32Array {
  if (v instanceof Float32Array) return v;
  if (typeof v === 'object' && v !== null && 'data' in v && (v as Tensor).data instanceof Float32Array) return (v as Tensor).data;
  throw invalidType(name, 'Float32Array or Tensor', v);
}

export abstract class Optimizer {
  readonly kind: OptimizerKind;
  /** The learning rate the optimizer was made with (config.lr); schedules scale from it. */
  readonly initialLr: number;
  private config: Resolved;
  private stateNames: readonly string[];
  private currentLr: number;
  private steps = 0;
  /** stepAsync calls not yet settled; they run one after the other, in call order. */
  private pending = 0;
  private queue: Promise<void> = Promise.resolve();
  /** Per parameter name: its state buffers, in stateNames order. */
  private state = new Map<string, Float32Array[]>();

  protected constructor(kind: OptimizerKind, options: unknown) {
    this.kind = kind;
    this.config = resolve(kind, options);
    this.currentLr = this.config.lr as number;
    this.initialLr = this.currentLr;
    this.stateNames = Object.freeze(native.optimizerStateNames(kind, nativeHyper(this.config, this.currentLr)) as string[]);
  }

  /** The current learning rate (a schedule sets it between steps). Finite, >= 0. */
  get lr(): number {
    return this.currentLr;
  }
  set lr(value: number) {
    this.currentLr = checkLr('lr', value);
  }

  /** Updates done so far. */
  get stepCount(): number {
    return this.steps;
  }

  /** The resolved options (defaults filled in). */
  getConfig(): Record<string, unknown> {
    return structuredClone(this.config);
  }

  /**
   * One update of every parameter, in one native call. Gradients are read, never written;
   * `gradScale` and `clipValue` apply to them on the fly (see StepOptions).
   * @example
   * const opt = new Adam({ lr: 1e-3 });
   * lstm.zeroGrad();
   * const { output } = lstm.forward(x, { training: true });
   * lstm.backward({ gradOutput: output });               // d(sum(output²)/2)
   * const norm = gradNorm(lstm.parameters());            // pre-clip norm, for logging
   * opt.step(lstm.parameters(), { gradScale: clipCoefficient(norm, 1.0) });
   * @throws TypeError / RangeError naming the argument (`params[2].grad`, `opts.gradScale`, ...) for any bad
   * input, before anything is updated: a call that throws leaves weights and state as they were.
   */
  step(params: readonly ParamLike[], opts: StepOptions = {}): void {
    this.stepAs(null, params, opts);
  }

  /**
   * step() on a worker thread (big models: the event loop stays free). An update is a writer
   * (README, "Concurrency"): it waits for the writers holding these parameters' layers (fit, an
   * async training call) and for this optimizer's earlier stepAsync calls; inference meanwhile
   * reads the weights as they were before the update. Parameters whose memory JS could take
   * away during the update (not a layer's weights, which live on SharedArrayBuffers) are
   * updated on the main thread instead.
   */
  stepAsync(params: readonly ParamLike[], opts: StepOptions = {}): Promise<void> {
    return this.stepAsyncAs(null, params, opts);
  }

  /** @internal step() for `writer` (fit), which may already hold the layers. */
  stepAs(writer: WriterToken | null, params: readonly ParamLike[], opts: StepOptions): void {
    this.checkNoAsyncStep('step');
    const call = this.prepareStep(params, opts);
    for (const s of call.stores) s.checkWritable(writer, `${this.kind}.step`);
    try {
      native.optimizerStep(...call.args);
    } catch (e) {
      throw call.named(e);
    }
    call.commit();
  }

  /** @internal */
  async stepAsyncAs(writer: WriterToken | null, params: readonly ParamLike[], opts: StepOptions): Promise<void> {
    const before = this.queue;
    let settled = () => {};
    this.queue = new Promise((resolve) => { settled = resolve; });
    this.pending++;
    try {
      await before;
      const call = this.prepareStep(params, opts);
      const owner = writer ?? {};
      const release = await acquireAll(call.stores, owner);
      try {
        if (!call.pinned) {
          native.optimizerStep(...call.args);
        } else {
          for (const s of call.stores) s.beginUpdate();
          try {
            await native.optimizerStepAsync(...call.args);
          } finally {
            for (const s of call.stores) s.endUpdate();
          }
        }
        call.commit();
      } catch (e) {
        throw call.named(e);
      } finally {
        release();
      }
    } finally {
      this.pending--;
      settled();
    }
  }

  private checkNoAsyncStep(what: string): void {
    if (this.pending > 0) throw new Error(`${what}: this ${this.kind} optimizer has a stepAsync() running; await it first`);
  }

  private prepareStep(params: readonly ParamLike[], opts: StepOptions) {
    const checked = this.checkParams(params);
    opts = ownOptions<StepOptions>('opts', opts, STEP_KEYS);
    const gradScale = opts.gradScale ?? 1;
    if (typeof gradScale !== 'number') throw invalidType('opts.gradScale', 'finite number >= 0', gradScale);
    // The scale is applied in float32: 1e39 would be Infinity there.
    if (!Number.isFinite(gradScale) || gradScale < 0 || !Number.isFinite(Math.fround(gradScale))) {
      throw invalidArg('opts.gradScale', 'finite number >= 0 (at most 3.4028234663852886e38, float32)', gradScale);
    }
    const clipValue = opts.clipValue ?? 0;
    if (typeof clipValue !== 'number') throw invalidType('opts.clipValue', 'number >= 0 (0 or Infinity: off)', clipValue);
    if (!(clipValue >= 0)) throw invalidArg('opts.clipValue', 'number >= 0 (0 or Infinity: off)', clipValue);

    // State for names seen for the first time is made here and kept only if the update runs.
    const created = new Map<string, Float32Array[]>();
    const states = checked.map((p) => {
      const existing = this.state.get(p.name);
      if (existing) return existing;
      const fresh = this.newState(p.value.length);
      created.set(p.name, fresh);
      return fresh;
    });
    const fresh = checked.map((p) => created.has(p.name));
    const args: OptimizerStepArgs = [this.kind, nativeHyper(this.config, this.currentLr), this.steps + 1,
      checked.map((p) => p.value), checked.map((p) => p.grad), states, gradScale, clipValue, fresh];
    // The layers whose weights these are (their writers exclude this update), and whether every
    // buffer the update touches is one JS cannot take away while a worker thread writes it.
    const stores = new Set<WeightStore>();
    for (const p of checked) {
      const s = WeightStore.of(p.value.buffer);
      if (s) stores.add(s);
    }
    const pinned = checked.every((p) => isPinned(p.value) && isPinned(p.grad)) && states.every((bufs) => bufs.every(isPinned));
    const commit = () => {
      for (const [name, s] of created) this.state.set(name, s);
      this.steps++;
      for (const s of stores) s.touch();
    };
    // The native side refuses non-finite gradients (nothing written) naming grads[i]: say which parameter.
    const named = (e: unknown) => {
      if (e instanceof RangeError) {
        e.message = e.message.replace(/grads\[(\d+)\]/, (_m, i: string) => `params[${i}].grad ('${checked[Number(i)]?.name}')`);
      }
      return e;
    };
    return { args, commit, stores, pinned, named };
  }

  /** Forgets the state of every parameter and the step count (the learning rate stays). */
  reset(): void {
    this.checkNoAsyncStep('reset');
    this.state.clear();
    this.steps = 0;
  }

  /** A copy of the optimizer's state: config, step count, learning rate and every state buffer. */
  stateDict(): OptimizerStateDict {
    const state: Record<string, Float32Array> = {};
    for (const [name, bufs] of this.state) bufs.forEach((b, k) => { state[`${name}.${this.stateNames[k]}`] = b.slice(); });
    return { kind: this.kind, config: this.getConfig(), step: this.steps, lr: this.currentLr, state };
  }

  /**
   * Replaces config, step count, learning rate and state with copies of the dict's (as torch's
   * load_state_dict takes the hyper-parameters from the dict).
   * @throws TypeError / RangeError naming the bad entry; nothing changes unless all of it is valid.
   */
  loadStateDict(d: OptimizerStateDict): void {
    this.checkNoAsyncStep('loadStateDict');
    d = ownOptions<OptimizerStateDict>('state dict', d, ['kind', 'config', 'step', 'lr', 'state']);
    if (d.kind !== this.kind) throw invalidArg('kind', `'${this.kind}'`, d.kind);
    const config = resolve(this.kind, d.config);
    const steps = checkInteger('step', d.step, 0);
    const lr = checkLr('lr', d.lr);
    const names = native.optimizerStateNames(this.kind, nativeHyper(config, lr)) as string[];
    if (typeof d.state !== 'object' || d.state === null) throw invalidType('state', 'object', d.state);
    const byParam = new Map<string, Float32Array[]>();
    for (const [key, buf] of Object.entries(d.state)) {
      const dot = key.lastIndexOf('.');
      const param = key.slice(0, dot), stateName = key.slice(dot + 1);
      const k = names.indexOf(stateName);
      if (dot < 1 || k < 0) {
        throw invalidArg('state', `keys <param>.<${names.join('|') || 'no state'}>`, new Described(`key '${key}'`));
      }
      if (!(buf instanceof Float32Array)) throw invalidType(`state['${key}']`, 'Float32Array', buf);
      const bufs = byParam.get(param) ?? [];
      bufs[k] = buf;
      byParam.set(param, bufs);
    }
    for (const [param, bufs] of byParam) {
      for (let k = 0; k < names.length; k++) {
        const key = `${param}.${names[k]}`;
        if (!bufs[k]) throw invalidArg('state', `an entry '${key}'`, new Described('none'));
        if (bufs[k].length !== bufs[0].length) {
          throw invalidArg(`state['${key}']`, `Float32Array of length ${bufs[0].length} (as ${param}.${names[0]})`, bufs[k]);
        }
      }
    }
    this.config = config;
    this.stateNames = Object.freeze(names);
    this.currentLr = lr;
    this.steps = steps;
    this.state = new Map([...byParam].map(([p, bufs]) => [p, bufs.map((b) => {
      const copy = sharedFloat32(b.length);
      copy.set(b);
      return copy;
    })]));
  }

  private newState(n: number): Float32Array[] {
    const init = this.kind === 'adagrad' ? (this.config.initialAccumulatorValue as number) : 0;
    return this.stateNames.map(() => {
      const b = sharedFloat32(n);  // a worker thread may update it (stepAsync)
      if (init !== 0) b.fill(init);
      return b;
    });
  }

  private checkParams(params: readonly ParamLike[]): Checked[] {
    if (!Array.isArray(params)) throw invalidType('params', 'array of { name, value, grad }', params);
    const seen = new Set<string>();
    return params.map((p, i) => {
      const at = `params[${i}]`;
      if (typeof p !== 'object' || p === null) throw invalidType(at, '{ name, value, grad }', p);
      if (typeof p.name !== 'string' || p.name === '') throw invalidType(`${at}.name`, 'non-empty string', p.name);
      if (seen.has(p.name)) throw invalidArg(`${at}.name`, 'a name used once', p.name);
      seen.add(p.name);
      const value = f32Of(`${at}.value`, p.value);
      const grad = f32Of(`${at}.grad`, p.grad);
      if (grad.length !== value.length) throw invalidArg(`${at}.grad`, `Float32Array of length ${value.length} (as value)`, grad);
      const st = this.state.get(p.name);
      if (st && st.length > 0 && st[0].length !== value.length) {
        throw invalidArg(`${at}.value`, `Float32Array of length ${st[0].length} (the size '${p.name}' had before)`, value);
      }
      return { name: p.name, value, grad };
    });
  }
}

/** torch.optim.SGD: plain, momentum, Nesterov, L2 weight decay. @example new SGD({ lr: 0.1, momentum: 0.9 }) */
export class SGD extends Optimizer {
  constructor(options: SGDOptions) {
    super('sgd', options);
  }
}

/** torch.optim.Adam (L2 weight decay, optional AMSGrad). @example new Adam({ lr: 1e-3, betas: [0.9, 0.999] }) */
export class Adam extends Optimizer {
  constructor(options: AdamOptions = {}) {
    super('adam', options);
  }
}

/** torch.optim.AdamW (decoupled weight decay, default 1e-2). @example new AdamW({ lr: 1e-3, weightDecay: 0.01 }) */
export class AdamW extends Optimizer {
  constructor(options: AdamWOptions = {}) {
    super('adamw', options);
  }
}

/** torch.optim.RMSprop (optional momentum, centered). @example new RMSprop({ lr: 1e-2, alpha: 0.99 }) */
export class RMSprop extends Optimizer {
  constructor(options: RMSpropOptions = {}) {
    super('rmsprop', options);
  }
}

/** torch.optim.Adagrad (dense gradients). @example new Adagrad({ lr: 1e-2, lrDecay: 0 }) */
export class Adagrad extends Optimizer {
  constructor(options: AdagradOptions = {}) {
    super('adagrad', options);
  }
}
