// Learning-rate schedules: pure objects, lr(step, baseLr) -> the learning rate for that step.
// `step` counts whatever the caller decides (epochs like torch's schedulers, or updates), from 0.
// The closed forms are torch.optim.lr_scheduler's. Use:
//   const sched = warmup({ steps: 100 }, cosineAnnealingLR({ tMax: 10_000 }));
//   opt.lr = sched.lr(opt.stepCount, opt.initialLr); opt.step(params);
import { checkFinite, checkInteger, invalidArg, invalidType, ownOptions } from '../internal/check';

export interface Schedule {
  /** The learning rate at `step` (an integer >= 0) for a base learning rate `baseLr`. */
  lr(step: number, baseLr: number): number;
}

function checkOptions(name: string, o: unknown, keys: readonly string[]): Record<string, unknown> {
  return ownOptions<Record<string, unknown>>(name, o, keys);
}

function checkPositive(name: string, v: unknown): number {
  const x = checkFinite(name, v);
  if (x <= 0) throw invalidArg(name, 'finite number > 0', v);
  return x;
}

function checkStep(step: unknown, baseLr: unknown): [number, number] {
  return [checkInteger('step', step, 0), checkFinite('baseLr', baseLr)];
}

/** torch StepLR: baseLr * gamma^floor(step / stepSize). gamma default 0.1.
 * @example stepLR({ stepSize: 30 }).lr(65, 0.1) // 0.001 */
export function stepLR(options: { stepSize: number; gamma?: number }): Schedule {
  const o = checkOptions('stepLR options', options, ['stepSize', 'gamma']);
  const stepSize = checkInteger('stepSize', o.stepSize, 1);
  const gamma = checkPositive('gamma', o.gamma ?? 0.1);
  return { lr: (step, baseLr) => { const [s, b] = checkStep(step, baseLr); return b * gamma ** Math.floor(s / stepSize); } };
}

/** torch ExponentialLR: baseLr * gamma^step. @example exponentialLR({ gamma: 0.5 }).lr(3, 1) // 0.125 */
export function exponentialLR(options: { gamma: number }): Schedule {
  const o = checkOptions('exponentialLR options', options, ['gamma']);
  const gamma = checkPositive('gamma', o.gamma);
  return { lr: (step, baseLr) => { const [s, b] = checkStep(step, baseLr); return b * gamma ** s; } };
}

/** torch CosineAnnealingLR's closed form: etaMin + (baseLr - etaMin) * (1 + cos(pi * step / tMax)) / 2.
 * etaMin default 0. Past tMax it keeps following the cosine (rises again), as torch's closed form does.
 * @example cosineAnnealingLR({ tMax: 100 }).lr(50, 0.1) // 0.05 */
export function cosineAnnealingLR(options: { tMax: number; etaMin?: number }): Schedule {
  const o = checkOptions('cosineAnnealingLR options', options, ['tMax', 'etaMin']);
  const tMax = checkInteger('tMax', o.tMax, 1);
  const etaMin = checkFinite('etaMin', o.etaMin ?? 0);
  return {
    lr: (step, baseLr) => {
      const [s, b] = checkStep(step, baseLr);
      return etaMin + ((b - etaMin) * (1 + Math.cos((Math.PI * s) / tMax))) / 2;
    },
  };
}

/** Constant baseLr (what warmup() hands over to when given no schedule). */
export function constantLR(): Schedule {
  return { lr: (step, baseLr) => checkStep(step, baseLr)[1] };
}

/**
 * Linear warm-up (torch LinearLR from startFactor to 1 over `steps`), then `then` with its step
 * counted from the end of the warm-up (torch SequentialLR). startFactor in (0, 1], default 1/3.
 * @example warmup({ steps: 4, startFactor: 0.2 }, exponentialLR({ gamma: 0.5 })).lr(2, 1) // 0.6
 */
export function warmup(options: { steps: number; startFactor?: number }, then: Schedule = constantLR()): Schedule {
  const o = checkOptions('warmup options', options, ['steps', 'startFactor']);
  const steps = checkInteger('steps', o.steps, 1);
  const startFactor = checkPositive('startFactor', o.startFactor ?? 1 / 3);
  if (startFactor > 1) throw invalidArg('startFactor', 'number in (0, 1]', startFactor);
  if (typeof then !== 'object' || then === null || typeof then.lr !== 'function') throw invalidType('then', 'Schedule { lr(step, baseLr) }', then);
  return {
    lr: (step, baseLr) => {
      const [s, b] = checkStep(step, baseLr);
      if (s >= steps) return then.lr(s - steps, b);
      return b * (startFactor + ((1 - startFactor) * s) / steps);
    },
  };
}
