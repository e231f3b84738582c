// Optimizers, clipping and schedules (lib/optim/).
//
// - Every optimizer and option combination over 5 steps against a JS reference of torch 1.13's
//   single-tensor formulas, float32 rounding by Math.fround (tolerance 1e-6 relative).
// - Against torch itself: test/fixtures/optim/optim.json (written by generate.py in that folder with
//   torch 1.13; no Python needed here). Same bits, except where clip_grad_norm_'s float32 norm enters.
// - gradScale / clipValue, gradients left unchanged, bad input (named in the message, nothing updated),
//   stateDict round trips, learning-rate schedules.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  Adagrad, Adam, AdamW, LSTM, RMSprop, SGD, clipCoefficient, clipGradNorm, constantLR, cosineAnnealingLR,
  exponentialLR, gradNorm, stepLR, tensor, warmup,
} from '../../lib/index';
import type { Optimizer, OptimizerKind, ParamRef } from '../../lib/index';
import { native } from '../../lib/native';
import { mulberry32 } from '../helpers/gradcheck';

const f = Math.fround;
/** float32 a*b + c rounded once (the product of two floats is exact in a double; the sum rounds twice, rarely off by 1 ulp). */
const fma = (a: number, b: number, c: number): number => f(a * b + c);

type Config = Record<string, number | boolean | number[]>;

const MAKE: Record<OptimizerKind, (o: Config) => Optimizer> = {
  sgd: (o) => new SGD(o as never),
  adam: (o) => new Adam(o as never),
  adamw: (o) => new AdamW(o as never),
  rmsprop: (o) => new RMSprop(o as never),
  adagrad: (o) => new Adagrad(o as never),
};

/** torch 1.13 _single_tensor_<kind>, element by element. `g` is already clipped; `st` in optim_state_name order. */
function refStep(kind: OptimizerKind, c: Config, step: number, p: Float32Array, g: Float32Array, st: Float32Array[], fresh: boolean): void {
  const lr = c.lr as number, wd = c.weightDecay as number;
  for (let i = 0; i < p.length; i++) {
    let gi = g[i];
    if (kind !== 'adamw' && wd !== 0) gi = fma(p[i], f(wd), gi);
    switch (kind) {
      case 'sgd': {
        const mu = c.momentum as number;
        if (mu !== 0) {
          const buf = st[0];
          buf[i] = fresh ? gi : fma(gi, f(1 - (c.dampening as number)), f(buf[i] * f(mu)));
          gi = c.nesterov ? fma(buf[i], f(mu), gi) : buf[i];
        }
        p[i] = fma(gi, f(-lr), p[i]);
        break;
      }
      case 'adam':
      case 'adamw': {
        const [b1, b2] = c.betas as number[];
        if (kind === 'adamw') p[i] = f(p[i] * f(1 - lr * wd));
        const [m, v] = st;
        m[i] = fma(gi, f(1 - b1), f(m[i] * f(b1)));
        v[i] = fma(f(f(1 - b2) * gi), gi, f(v[i] * f(b2)));
        let vv = v[i];
        if (c.amsgrad) vv = st[2][i] = Math.max(st[2][i], v[i]);
        const stepSize = lr / (1 - b1 ** step), bc2Sqrt = Math.sqrt(1 - b2 ** step);
        const denom = f(f(f(Math.sqrt(vv)) / f(bc2Sqrt)) + f(c.eps as number));
        p[i] = f(p[i] + f(f(f(-stepSize) * m[i]) / denom));
        break;
      }
      case 'rmsprop': {
        const alpha = c.alpha as number, mu = c.momentum as number;
        const sq = st[0];
        sq[i] = fma(f(f(1 - alpha) * gi), gi, f(sq[i] * f(alpha)));
        let avg: number;
        if (c.centered) {
          const ga = st[mu > 0 ? 2 : 1];
          ga[i] = fma(gi, f(1 - alpha), f(ga[i] * f(alpha)));
          avg = f(Math.sqrt(fma(-ga[i], ga[i], sq[i])));
        } else {
          avg = f(Math.sqrt(sq[i]));
        }
        avg = f(avg + f(c.eps as number));
        if (mu > 0) {
          st[1][i] = f(f(st[1][i] * f(mu)) + f(gi / avg));
          p[i] = fma(st[1][i], f(-lr), p[i]);
        } else {
          p[i] = f(p[i] + f(f(f(-lr) * gi) / avg));
        }
        break;
      }
      case 'adagrad': {
        const clr = lr / (1 + (step - 1) * (c.lrDecay as number));
        st[0][i] = fma(gi, gi, st[0][i]);
        const sd = f(f(Math.sqrt(st[0][i])) + f(c.eps as number));
        p[i] = f(p[i] + f(f(f(-clr) * gi) / sd));
        break;
      }
    }
  }
}

const STATE_NAMES = (kind: OptimizerKind, c: Config): string[] => native.optimizerStateNames(kind, { ...c, beta1: (c.betas as number[] | undefined)?.[0] ?? 0.9, beta2: (c.betas as number[] | undefined)?.[1] ?? 0.999 }) as string[];

function randomF32(rand: () => number, n: number, scale: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (2 * rand() - 1) * scale;
  return a;
}

/** Largest |got - want| / max(|want|, floor) over all elements. */
function maxRel(got: Float32Array, want: ArrayLike<number>, floor = 1e-3): number {
  expect(got.length).toBe(want.length);
  let m = 0;
  for (let i = 0; i < got.length; i++) {
    const e = Math.abs(got[i] - want[i]) / Math.max(Math.abs(want[i]), floor);
    m = Number.isNaN(e) ? Infinity : Math.max(m, e);
  }
  return m;
}

const COMBOS: [OptimizerKind, Config][] = [
  ['sgd', { lr: 0.1 }],
  ['sgd', { lr: 0.05, weightDecay: 0.01 }],
  ['sgd', { lr: 0.05, momentum: 0.9 }],
  ['sgd', { lr: 0.05, momentum: 0.8, dampening: 0.3, weightDecay: 0.02 }],
  ['sgd', { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 0.001 }],
  ['adam', {}],
  ['adam', { lr: 0.01, betas: [0.8, 0.95], eps: 1e-6, weightDecay: 0.05 }],
  ['adam', { lr: 0.02, amsgrad: true }],
  ['adamw', {}],
  ['adamw', { lr: 0.01, betas: [0.85, 0.99], weightDecay: 0.1, amsgrad: true }],
  ['rmsprop', {}],
  ['rmsprop', { lr: 0.005, alpha: 0.9, momentum: 0.7, weightDecay: 0.01 }],
  ['rmsprop', { lr: 0.003, centered: true }],
  ['rmsprop', { lr: 0.003, centered: true, momentum: 0.5, eps: 1e-4 }],
  ['adagrad', {}],
  ['adagrad', { lr: 0.05, lrDecay: 0.1, weightDecay: 0.01, initialAccumulatorValue: 0.1, eps: 1e-8 }],
];

describe('optimizers against the JS reference of the torch formulas', () => {
  for (const [kind, options] of COMBOS) {
    for (const clip of [{}, { gradScale: 0.6 }, { clipValue: 0.3 }, { gradScale: 0.5, clipValue: 0.2 }]) {
      it(`${kind} ${JSON.stringify(options)} ${JSON.stringify(clip)}`, () => {
        const opt = MAKE[kind](options);
        const c = opt.getConfig() as Config;
        const names = STATE_NAMES(kind, c);
        const rand = mulberry32(7);
        const sizes = { w: 29, b: 5 };
        const params: ParamRef[] = Object.entries(sizes).map(([name, n]) => ({ name, value: randomF32(rand, n, 1), grad: new Float32Array(n) }));
        const ref = params.map((p) => ({
          value: p.value.slice(),
          st: names.map((s) => new Float32Array(p.value.length).fill(s === 'sum' ? (c.initialAccumulatorValue as number) : 0)),
        }));
        for (let t = 1; t <= 5; t++) {
          for (const p of params) p.grad.set(randomF32(rand, p.grad.length, 1));
          const grads = params.map((p) => p.grad.slice());
          opt.step(params, clip);
          params.forEach((p, i) => {
            expect(p.grad, 'grad left unchanged').toEqual(grads[i]);
            const gradScale = (clip as { gradScale?: number }).gradScale ?? 1, clipValue = (clip as { clipValue?: number }).clipValue ?? 0;
            const g = grads[i].map((x) => {
              let y = f(x * f(gradScale));
              if (clipValue > 0) y = Math.min(Math.max(y, -f(clipValue)), f(clipValue));
              return y;
            });
            refStep(kind, c, t, ref[i].value, g, ref[i].st, t === 1);
            expect(maxRel(p.value, ref[i].value), `${p.name} after step ${t}`).toBeLessThanOrEqual(1e-6);
          });
        }
        expect(opt.stepCount).toBe(5);
        const sd = opt.stateDict();
        params.forEach((p, i) => names.forEach((s, k) => {
          expect(maxRel(sd.state[`${p.name}.${s}`], ref[i].st[k]), `${p.name}.${s}`).toBeLessThanOrEqual(1e-6);
        }));
      });
    }
  }
});

interface FixtureCase {
  name: string;
  kind: OptimizerKind;
  options: Config;
  params: Record<string, number[]>;
  grads: Record<string, number[]>[];
  trajectory: Record<string, number[]>[];
  state: Record<string, number[]>;
  clip?: { maxNorm?: number; clipValue?: number };
  norms?: number[];
}
const fixture = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'optim', 'optim.json'), 'utf8')) as {
  torch: string; steps: number; cases: FixtureCase[];
};

describe(`optimizers against torch ${fixture.torch} (test/fixtures/optim/optim.json)`, () => {
  it('covers every optimizer', () => {
    expect(new Set(fixture.cases.map((c) => c.kind))).toEqual(new Set(['sgd', 'adam', 'adamw', 'rmsprop', 'adagrad']));
  });
  for (const fc of fixture.cases) {
    it(fc.name, () => {
      const opt = MAKE[fc.kind](fc.options);
      const params: ParamRef[] = Object.entries(fc.params).map(([name, v]) => ({ name, value: Float32Array.from(v), grad: new Float32Array(v.length) }));
      // The norm enters through clip_grad_norm_'s float32 norm, which torch sums in its own order.
      const exact = fc.clip?.maxNorm === undefined;
      for (let s = 0; s < fixture.steps; s++) {
        for (const p of params) p.grad.set(fc.grads[s][p.name]);
        let gradScale = 1;
        if (fc.clip?.maxNorm !== undefined) {
          const { norm, gradScale: scale } = clipGradNorm(params, fc.clip.maxNorm);
          expect(Math.abs(norm - fc.norms![s]) / fc.norms![s], 'pre-clip norm').toBeLessThan(1e-6);
          gradScale = scale;
        }
        opt.step(params, { gradScale, clipValue: fc.clip?.clipValue ?? 0 });
        for (const p of params) {
          const want = fc.trajectory[s][p.name];
          if (exact) expect(p.value, `${p.name} after step ${s + 1}: the same bits as torch`).toEqual(Float32Array.from(want));
          else expect(maxRel(p.value, want, 1), `${p.name} after step ${s + 1}`).toBeLessThanOrEqual(2e-6);
        }
      }
      const sd = opt.stateDict();
      expect(Object.keys(sd.state).sort()).toEqual(Object.keys(fc.state).sort());
      for (const [key, want] of Object.entries(fc.state)) {
        if (exact) expect(sd.state[key], key).toEqual(Float32Array.from(want));
        else expect(maxRel(sd.state[key], want), key).toBeLessThanOrEqual(1e-5);
      }
    });
  }
});

describe('clipping', () => {
  it('gradNorm is the float64 norm of all gradients together', () => {
    const a = Float32Array.from([3, 0]), b = Float32Array.from([4]);
    expect(gradNorm([{ name: 'a', value: new Float32Array(2), grad: a }, { name: 'b', value: new Float32Array(1), grad: b }])).toBe(5);
    expect(gradNorm([])).toBe(0);
    expect(native.sumSquares([Float32Array.from([1e30, 1e30])])).toBeCloseTo(2 * f(1e30) ** 2, -50);
  });

  it('clipCoefficient is min(1, maxNorm / (norm + 1e-6)) in float32', () => {
    expect(clipCoefficient(0.5, 1)).toBe(1);
    expect(clipCoefficient(10, 1)).toBe(f(f(1 / f(10 + f(1e-6))) * 1));
    expect(Math.abs(clipCoefficient(4, 2) - 0.5)).toBeLessThan(1e-6);
    expect(clipCoefficient(Infinity, 1)).toBe(0);
    expect(clipCoefficient(NaN, 1)).toBeNaN();
    expect(() => clipCoefficient(1, -1)).toThrow(RangeError);
  });

  it('step with gradScale equals step with the gradients scaled beforehand', () => {
    const rand = mulberry32(3);
    const p0 = randomF32(rand, 50, 1), g0 = randomF32(rand, 50, 3);
    const a = new Adam({ lr: 0.01 }), b = new Adam({ lr: 0.01 });
    const pa = { name: 'p', value: p0.slice(), grad: g0.slice() };
    const pb = { name: 'p', value: p0.slice(), grad: g0.map((x) => f(x * f(0.25))) };
    a.step([pa], { gradScale: 0.25 });
    b.step([pb]);
    expect(pa.value).toEqual(pb.value);
    expect(pa.grad).toEqual(g0);
  });

  it('clipValue clamps g to [-c, c]; 0 and Infinity turn it off', () => {
    const run = (clipValue: number, grad: number[]) => {
      const p = { name: 'p', value: new Float32Array(grad.length), grad: Float32Array.from(grad) };
      new SGD({ lr: 1 }).step([p], { clipValue });
      return Array.from(p.value);
    };
    expect(run(0.5, [2, -3, 0.25])).toEqual([-0.5, 0.5, -0.25]);
    expect(run(0, [2, -3])).toEqual([-2, 3]);
    expect(run(Infinity, [2, -3])).toEqual([-2, 3]);
  });
});

describe('Optimizer API', () => {
  it('steps a layer through parameters() (views) and through its flat buffers', () => {
    const lstm = new LSTM({ inputSize: 3, hiddenSize: 4, seed: 1 });
    const x = tensor(Float32Array.from({ length: 2 * 1 * 3 }, (_, i) => Math.sin(i)), [2, 1, 3]);
    lstm.zeroGrad();
    lstm.forward(x, { training: true });
    lstm.backward({ gradOutput: tensor(new Float32Array(2 * 1 * 4).fill(1), [2, 1, 4]) });
    const before = lstm.weights.slice();
    const viaViews = new SGD({ lr: 0.1, momentum: 0.9 });
    viaViews.step(lstm.parameters());
    const after = lstm.weights.slice();
    expect(after).not.toEqual(before);
    // The same update on the flat buffers.
    const flat = { name: 'all', value: before.slice(), grad: lstm.grads };
    new SGD({ lr: 0.1, momentum: 0.9 }).step([flat]);
    expect(flat.value).toEqual(after);
  });

  it('SGD momentum: a parameter first seen at a later step starts its buffer at g (torch: buf is None)', () => {
    const opt = new SGD({ lr: 1, momentum: 0.9, dampening: 0.5 });
    const a = { name: 'a', value: new Float32Array(1), grad: Float32Array.from([2]) };
    opt.step([a]);
    opt.step([a]);
    const b = { name: 'b', value: new Float32Array(1), grad: Float32Array.from([2]) };
    opt.step([a, b]);
    const s = opt.stateDict().state;
    expect(s['b.momentum_buffer'][0]).toBe(2);  // not 0.5 * 2
    expect(s['a.momentum_buffer'][0]).toBe(f(f(f(f(2 * f(0.9)) + 1) * f(0.9)) + 1));
  });

  it('stateDict round trip continues identically', () => {
    for (const [kind, options] of COMBOS) {
      const rand = mulberry32(11);
      const make = () => [{ name: 'w', value: randomF32(rand, 13, 1), grad: new Float32Array(13) }, { name: 'b', value: randomF32(rand, 3, 1), grad: new Float32Array(3) }];
      const params = make();
      const a = MAKE[kind](options);
      const grads = Array.from({ length: 5 }, () => params.map((p) => randomF32(rand, p.value.length, 1)));
      for (let t = 0; t < 3; t++) {
        params.forEach((p, i) => p.grad.set(grads[t][i]));
        a.step(params);
      }
      a.lr = a.lr * 0.5;
      const saved = a.stateDict();
      const b = MAKE[kind](kind === 'sgd' ? { lr: 123 } : {});
      b.loadStateDict(saved);
      expect(b.stepCount).toBe(3);
      expect(b.lr).toBe(a.lr);
      expect(b.getConfig()).toEqual(a.getConfig());
      // Loading copies: changing the dict afterwards does not reach the optimizer.
      for (const buf of Object.values(saved.state)) buf.fill(NaN);
      const pb = params.map((p) => ({ ...p, value: p.value.slice() }));
      for (let t = 3; t < 5; t++) {
        params.forEach((p, i) => p.grad.set(grads[t][i]));
        a.step(params);
        b.step(pb);
      }
      params.forEach((p, i) => expect(pb[i].value, `${kind} ${JSON.stringify(options)} ${p.name}`).toEqual(p.value));
      expect(b.stateDict()).toEqual(a.stateDict());
    }
  });

  it('reset() forgets state and steps', () => {
    const opt = new Adam();
    opt.step([{ name: 'p', value: new Float32Array(2), grad: Float32Array.from([1, 1]) }]);
    opt.reset();
    expect(opt.stepCount).toBe(0);
    expect(opt.stateDict().state).toEqual({});
  });
});

/** Runs fn, checks the error class and the `Expected X for name but received Y` form, returns the message. */
function thrown(fn: () => unknown, cls: typeof TypeError | typeof RangeError): string {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err, 'expected a throw').toBeInstanceOf(cls);
  const msg = (err as Error).message;
  expect(msg).toMatch(/^Expected .+ for .+/);
  return msg;
}

describe('bad input', () => {
  const fresh = () => [
    { name: 'w', value: Float32Array.from([1, 2, 3]), grad: Float32Array.from([0.1, 0.2, 0.3]) },
    { name: 'b', value: Float32Array.from([4]), grad: Float32Array.from([0.4]) },
  ];

  it('constructor options are checked and unknown keys refused', () => {
    expect(thrown(() => new SGD({} as never), TypeError)).toContain('for lr');
    expect(thrown(() => new SGD({ lr: -1 }), RangeError)).toBe('Expected finite number >= 0 for lr but received -1 of type number');
    expect(thrown(() => new Adam({ betas: [0.9, 1] }), RangeError)).toBe('Expected number in [0, 1) for betas[1] but received 1 of type number');
    expect(thrown(() => new Adam({ beta1: 0.9 } as never), RangeError)).toContain("unknown key 'beta1'");
    expect(thrown(() => new SGD({ lr: 0.1, nesterov: true }), RangeError)).toContain('for nesterov');
    expect(thrown(() => new RMSprop({ eps: NaN }), RangeError)).toContain('for eps');
    expect(thrown(() => new Adagrad({ lrDecay: -0.1 }), RangeError)).toContain('for lrDecay');
    expect(thrown(() => new AdamW({ amsgrad: 1 } as never), TypeError)).toContain('for amsgrad');
    const opt = new Adam();
    expect(thrown(() => { opt.lr = -0.1; }, RangeError)).toContain('for lr');
    expect(opt.lr).toBe(1e-3);
  });

  it('step(): wrong lengths and types are named, and nothing is updated', () => {
    for (const opt of [new Adam({ lr: 0.1 }), new SGD({ lr: 0.1, momentum: 0.9 })]) {
      const params = fresh();
      opt.step(params);
      const values = params.map((p) => p.value.slice());
      const state = opt.stateDict();
      const cases: [() => unknown, typeof TypeError | typeof RangeError, string][] = [
        [() => opt.step([params[0], { ...params[1], grad: new Float32Array(2) }]), RangeError, 'Expected Float32Array of length 1 (as value) for params[1].grad but received Float32Array of length 2'],
        [() => opt.step([{ ...params[0], value: new Float32Array(5), grad: new Float32Array(5) }, params[1]]), RangeError, 'for params[0].value'],
        [() => opt.step([params[0], { ...params[1], grad: [0.1] as never }]), TypeError, 'for params[1].grad'],
        [() => opt.step([params[0], params[0]]), RangeError, 'for params[1].name'],
        [() => opt.step(params, { gradScale: NaN }), RangeError, 'for opts.gradScale'],
        [() => opt.step(params, { clipValue: -1 }), RangeError, 'for opts.clipValue'],
        [() => opt.step(params, { maxNorm: 1 } as never), RangeError, "unknown key 'maxNorm'"],
        [() => opt.step('w' as never), TypeError, 'for params'],
      ];
      for (const [fn, cls, text] of cases) expect(thrown(fn, cls)).toContain(text);
      params.forEach((p, i) => expect(p.value).toEqual(values[i]));
      expect(opt.stateDict()).toEqual(state);
      expect(opt.stepCount).toBe(1);
    }
  });

  it('the native optimizerStep checks everything before writing anything', () => {
    const params = [new Float32Array(48), new Float32Array(48), new Float32Array(48), new Float32Array(48)];
    params.forEach((p) => p.fill(1));
    const grads = params.map(() => new Float32Array(48).fill(0.5));
    const states = params.map(() => [new Float32Array(48), new Float32Array(48)]);
    const call = (over: Partial<{ kind: unknown; hyper: unknown; step: unknown; grads: unknown; states: unknown; gradScale: unknown; clipValue: unknown }>) => () =>
      // Deliberately ill-typed arguments: the addon's own checks are under test.
      (native.optimizerStep as (...a: unknown[]) => void)(over.kind ?? 'adam', over.hyper ?? { lr: 0.1 }, over.step ?? 1, params, over.grads ?? grads, over.states ?? states,
        over.gradScale ?? 1, over.clipValue ?? 0);
    const badGrads = [...grads.slice(0, 3), new Float32Array(12)];
    expect(thrown(call({ grads: badGrads }), RangeError)).toBe('Expected Float32Array of length 48 for grads[3] but received length 12');
    expect(thrown(call({ grads: grads.slice(1) }), RangeError)).toContain('Expected array of length 4 (params.length) for grads');
    expect(thrown(call({ states: [...states.slice(0, 3), [states[3][0]]] }), RangeError)).toContain('for states[3] but received length 1');
    expect(thrown(call({ states: [...states.slice(0, 2), [states[2][0], new Float32Array(47)], states[3]] }), RangeError)).toContain('for states[2][1]');
    expect(thrown(call({ step: 0 }), RangeError)).toContain('for step');
    expect(thrown(call({ step: 1.5 }), RangeError)).toContain('for step');
    expect(thrown(call({ gradScale: Infinity }), RangeError)).toContain('for gradScale');
    expect(thrown(call({ clipValue: NaN }), RangeError)).toContain('for clipValue');
    expect(thrown(call({ kind: 'lion' }), RangeError)).toContain('for kind');
    expect(thrown(call({ hyper: { lr: -1 } }), RangeError)).toContain('for lr');
    expect(thrown(call({ hyper: { beta2: 1 } }), RangeError)).toContain('for betas[1]');
    expect(thrown(call({ grads: [...grads.slice(0, 3), new Float64Array(48)] }), TypeError)).toContain('for grads[3]');
    for (const p of params) expect(p.every((v) => v === 1)).toBe(true);
    for (const s of states) expect(s.every((b) => b.every((v) => v === 0))).toBe(true);
    call({})();
    for (const p of params) expect(p.every((v) => v !== 1)).toBe(true);
  });

  it('loadStateDict checks fully and changes nothing on failure', () => {
    const opt = new Adam({ lr: 0.1 });
    const params = fresh();
    opt.step(params);
    const good = opt.stateDict();
    const before = opt.stateDict();
    const bad: [unknown, string][] = [
      [{ ...good, kind: 'sgd' }, 'for kind'],
      [{ ...good, step: -1 }, 'for step'],
      [{ ...good, lr: NaN }, 'for lr'],
      [{ ...good, config: { ...good.config, betas: [2, 0.9] } }, 'for betas[0]'],
      [{ ...good, state: { ...good.state, 'w.momentum_buffer': new Float32Array(3) } }, "key 'w.momentum_buffer'"],
      [{ ...good, state: { ...good.state, 'w.exp_avg': new Float32Array(2) } }, "for state['w.exp_avg_sq']"],
      [{ ...good, state: { 'w.exp_avg': new Float32Array(3) } }, "an entry 'w.exp_avg_sq'"],
      [{ ...good, state: { ...good.state, 'b.exp_avg': [0] } }, "for state['b.exp_avg']"],
      [{ ...good, extra: 1 }, "unknown key 'extra'"],
    ];
    for (const [d, text] of bad) {
      let err: unknown;
      try {
        opt.loadStateDict(d as never);
      } catch (e) {
        err = e;
      }
      expect((err as Error)?.message, JSON.stringify(text)).toContain(text);
      expect(opt.stateDict()).toEqual(before);
    }
  });
});

describe('schedules', () => {
  it('stepLR, exponentialLR, cosineAnnealingLR follow torch closed forms', () => {
    const s = stepLR({ stepSize: 3, gamma: 0.5 });
    expect([0, 1, 2, 3, 5, 6, 9].map((t) => s.lr(t, 1))).toEqual([1, 1, 1, 0.5, 0.5, 0.25, 0.125]);
    expect(stepLR({ stepSize: 30 }).lr(65, 0.1)).toBeCloseTo(0.001, 15);
    const e = exponentialLR({ gamma: 0.9 });
    expect(e.lr(0, 0.1)).toBe(0.1);
    expect(e.lr(3, 0.1)).toBeCloseTo(0.1 * 0.729, 15);
    const c = cosineAnnealingLR({ tMax: 10, etaMin: 0.01 });
    expect(c.lr(0, 0.1)).toBeCloseTo(0.1, 15);
    expect(c.lr(5, 0.1)).toBeCloseTo(0.055, 15);
    expect(c.lr(10, 0.1)).toBeCloseTo(0.01, 15);
    expect(c.lr(3, 0.1)).toBeCloseTo(0.01 + (0.09 * (1 + Math.cos((Math.PI * 3) / 10))) / 2, 15);
    expect(constantLR().lr(100, 0.3)).toBe(0.3);
  });

  it('warmup ramps linearly from startFactor, then hands over with its own step count', () => {
    const w = warmup({ steps: 4, startFactor: 0.2 }, exponentialLR({ gamma: 0.5 }));
    expect([0, 1, 2, 3].map((t) => w.lr(t, 1))).toEqual([0.2, 0.4, 0.6000000000000001, 0.8]);
    expect([4, 5, 6].map((t) => w.lr(t, 1))).toEqual([1, 0.5, 0.25]);
    const plain = warmup({ steps: 2 });
    expect(plain.lr(0, 0.3)).toBeCloseTo(0.1, 15);
    expect(plain.lr(7, 0.3)).toBe(0.3);
  });

  it('drives an optimizer through lr', () => {
    const opt = new SGD({ lr: 0.1 });
    const sched = warmup({ steps: 2, startFactor: 0.5 }, stepLR({ stepSize: 1, gamma: 0.1 }));
    const p = { name: 'p', value: new Float32Array(1), grad: Float32Array.from([1]) };
    const lrs: number[] = [];
    for (let t = 0; t < 4; t++) {
      opt.lr = sched.lr(opt.stepCount, opt.initialLr);
      lrs.push(opt.lr);
      opt.step([p]);
    }
    expect(lrs.map((x) => +x.toPrecision(12))).toEqual([0.05, 0.075, 0.1, 0.01]);
  });

  it('bad options and steps are named', () => {
    expect(() => stepLR({ stepSize: 0 })).toThrow(/for stepSize/);
    expect(() => exponentialLR({ gamma: -1 })).toThrow(/for gamma/);
    expect(() => cosineAnnealingLR({ tMax: 10, etaMin: NaN })).toThrow(/for etaMin/);
    expect(() => warmup({ steps: 3, startFactor: 1.5 })).toThrow(/for startFactor/);
    expect(() => warmup({ steps: 3, extra: 1 } as never)).toThrow(/unknown key 'extra'/);
    expect(() => stepLR({ stepSize: 2 }).lr(-1, 0.1)).toThrow(/for step/);
    expect(() => stepLR({ stepSize: 2 }).lr(1.5, 0.1)).toThrow(/for step/);
  });
});

describe('stepAsync', () => {
  it('the same bits as step(), off the main thread; a sync step meanwhile is refused', async () => {
    // Off the main thread only for memory JS cannot take away meanwhile (SharedArrayBuffer, as
    // layers use); plain arrays are updated on the main thread, with the same bits.
    const shared = (n: number, f: (i: number) => number) => {
      const a = new Float32Array(new SharedArrayBuffer(4 * n));
      for (let i = 0; i < n; i++) a[i] = f(i);
      return a;
    };
    const make = (sab: boolean) => ({ name: 'w',
      value: sab ? shared(1000, Math.sin) : Float32Array.from({ length: 1000 }, (_v, i) => Math.sin(i)),
      grad: sab ? shared(1000, Math.cos) : Float32Array.from({ length: 1000 }, (_v, i) => Math.cos(i)) });
    const a = make(false), b = make(true), c = make(false);
    const sync = new Adam({ lr: 0.01 }), async = new Adam({ lr: 0.01 }), plain = new Adam({ lr: 0.01 });
    for (let k = 0; k < 3; k++) {
      sync.step([a], { gradScale: 0.5 });
      const p = async.stepAsync([b], { gradScale: 0.5 });
      expect(() => async.step([b])).toThrow(/stepAsync\(\) running/);
      await p;
      await plain.stepAsync([c], { gradScale: 0.5 });
    }
    expect(async.stepCount).toBe(3);
    expect(Buffer.compare(Buffer.from(a.value.buffer), Buffer.from(b.value.slice().buffer))).toBe(0);
    expect(Buffer.compare(Buffer.from(a.value.buffer), Buffer.from(c.value.buffer))).toBe(0);
    await expect(async.stepAsync([{ ...b, grad: new Float32Array(3) }])).rejects.toThrow(/grad/);
    expect(async.stepCount).toBe(3);
  });
});
