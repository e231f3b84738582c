// The fuzzer of issue 10: property-based tests (fast-check) over every public entry point.
//
//   node -r ./test/helpers/ts-register.cjs test/fuzz/run.ts      (npm run fuzz)
//   FUZZ_RUNS=n     cases per property (default 2000 for npm run fuzz; CI passes its own count)
//   FUZZ_SEED=s     fast-check seed (default 20260)
//   FUZZ_ONLY=name  run one property
//
// Properties, for any input (valid or not):
//   * a refused call throws only TypeError or RangeError (SafetensorsError for file contents);
//   * a refused call changes no weight and no optimizer state (hashed before and after);
//   * finite inputs give finite outputs (no NaN from nowhere);
//   * valid inputs give what the plain path gives (async = sync, stateDict round trips, save/load).
// It runs in its own process (test/fuzz/fuzz.test.ts spawns it): a native crash is a failed test
// that names the property (printed to stderr before each one) and the seed to replay it.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import {
  Adagrad, Adam, AdamW, clipCoefficient, decodeSafetensors, Dense, Dropout, Embedding, encodeSafetensors, gradNorm, GRU, LSTM,
  FitStoppedError, RMSprop, RNN, SafetensorsError, Sequential, SGD, tensor, zeros, type Optimizer, type Recurrent, type Tensor,
} from '../../lib/index';

const RUNS = Number(process.env.FUZZ_RUNS ?? 2000);
const SEED = Number(process.env.FUZZ_SEED ?? 20260);
const ONLY = process.env.FUZZ_ONLY ?? '';
const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'frnn-fuzz-'));

// ---- helpers ---------------------------------------------------------------------------------

class Unexpected extends Error {}

/** Runs fn; a thrown value must be a TypeError or RangeError (or one of `also`). Returns whether it threw. */
function refusedCleanly(fn: () => unknown, also: (new (...a: never[]) => Error)[] = []): { threw: boolean; value?: unknown } {
  try {
    return { threw: false, value: fn() };
  } catch (e) {
    if (e instanceof TypeError || e instanceof RangeError || also.some((c) => e instanceof c)) return { threw: true };
    throw new Unexpected(`unexpected ${(e as Error)?.constructor?.name}: ${String((e as Error)?.message ?? e)}`);
  }
}

async function refusedCleanlyAsync(fn: () => Promise<unknown>, also: (new (...a: never[]) => Error)[] = []): Promise<{ threw: boolean; value?: unknown; error?: unknown }> {
  try {
    return { threw: false, value: await fn() };
  } catch (e) {
    // A fit stopped after training started (a non-finite loss): its cause must be as clean.
    const cause = e instanceof FitStoppedError ? e.cause : e;
    if (cause instanceof TypeError || cause instanceof RangeError || also.some((c) => cause instanceof c)) return { threw: true, error: e };
    throw new Unexpected(`unexpected ${(e as Error)?.constructor?.name}: ${String((e as Error)?.message ?? e)}`);
  }
}

/** FNV-1a over the bits of every array. */
function hash(arrays: Float32Array[]): number {
  let h = 0x811c9dc5;
  for (const a of arrays) {
    const u = new Uint32Array(a.buffer, a.byteOffset, a.length);
    for (let i = 0; i < u.length; i++) h = Math.imul(h ^ u[i], 16777619);
  }
  return h >>> 0;
}
const weightsOf = (m: { parameters(): { value: Float32Array }[] }) => m.parameters().map((p) => p.value);
const allFinite = (a: ArrayLike<number>) => { for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return false; return true; };
const sameBits = (a: Float32Array, b: Float32Array) => a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

function check(cond: boolean, what: string): void {
  if (!cond) throw new Unexpected(what);
}

// ---- arbitraries -----------------------------------------------------------------------------

/** Values no API expects: the fuzz of every argument. */
const weird = fc.oneof(
  fc.constantFrom<unknown>(undefined, null, NaN, -1, 0, 1.5, 2 ** 31, 2 ** 40, 1e39, Infinity, -Infinity, '', '3', 'x', true, {}, [], [[]], () => 1,
    Symbol('s'), new Float64Array(3), new Int32Array(2), new Float32Array(0), { shape: [-1], data: new Float32Array(1) },
    { shape: [1, 1, 2], data: [1, 'a'] }, { __proto__: { numLayers: 3 } }, JSON.parse('{"__proto__": {"x": 1}}')),
  fc.integer({ min: -5, max: 70 }),
  fc.double({ noNaN: false }),
  fc.string({ maxLength: 4 }),
  fc.array(fc.oneof(fc.integer({ min: -2, max: 4 }), fc.string({ maxLength: 1 })), { maxLength: 4 }),
);
/** A value that is usually valid, sometimes weird. */
const maybe = <T>(good: fc.Arbitrary<T>) => fc.oneof({ weight: 6, arbitrary: good }, { weight: 1, arbitrary: weird as fc.Arbitrary<unknown> });

const smallFloat = fc.float({ min: -4, max: 4, noNaN: true, noDefaultInfinity: true });
const cellKind = fc.constantFrom('lstm', 'gru', 'rnn');
const activation = fc.constantFrom('sigmoid', 'tanh', 'relu', 'identity', 'hardSigmoid', 'softsign');

const recurrentOptions = fc.record({
  cell: cellKind,
  inputSize: maybe(fc.integer({ min: 1, max: 5 })),
  hiddenSize: maybe(fc.integer({ min: 1, max: 6 })),
  numLayers: fc.option(maybe(fc.integer({ min: 1, max: 3 })), { nil: undefined }),
  direction: fc.option(maybe(fc.constantFrom('forward', 'reverse', 'bidirectional')), { nil: undefined }),
  bias: fc.option(maybe(fc.boolean()), { nil: undefined }),
  batchFirst: fc.option(fc.boolean(), { nil: undefined }),
  dropout: fc.option(maybe(fc.constantFrom(0, 0.3)), { nil: undefined }),
  gateClip: fc.option(maybe(fc.constantFrom(0, 3)), { nil: undefined }),
  extra: fc.option(fc.oneof(
    fc.record({ projSize: maybe(fc.integer({ min: 0, max: 3 })) }),
    fc.record({ peephole: maybe(fc.boolean()) }),
    fc.record({ resetAfter: maybe(fc.boolean()) }),
    fc.record({ nonlinearity: maybe(fc.constantFrom('tanh', 'relu')) }),
    fc.record({ activations: fc.record({ gate: maybe(activation) }) }),
    fc.record({ bogus: weird }),
  ), { nil: undefined }),
  seed: fc.integer({ min: 0, max: 1000 }),
});
type RecOpts = typeof recurrentOptions extends fc.Arbitrary<infer T> ? T : never;

function makeRecurrent(o: RecOpts): Recurrent {
  const { cell, extra, ...rest } = o;
  const opts: Record<string, unknown> = { ...rest, ...(extra ?? {}) };
  for (const k of Object.keys(opts)) if (opts[k] === undefined) delete opts[k];
  return cell === 'lstm' ? new LSTM(opts as never) : cell === 'gru' ? new GRU(opts as never) : new RNN(opts as never);
}

/** A valid layer and matching input data (finite, moderate). */
const validLayerCase = fc.record({
  cell: cellKind, I: fc.integer({ min: 1, max: 4 }), H: fc.integer({ min: 1, max: 5 }), L: fc.integer({ min: 1, max: 2 }),
  bidirectional: fc.boolean(), T: fc.integer({ min: 1, max: 5 }), B: fc.integer({ min: 1, max: 3 }), seed: fc.integer({ min: 0, max: 99 }),
  values: fc.array(smallFloat, { minLength: 64, maxLength: 64 }), withLengths: fc.boolean(),
});
type LayerCase = typeof validLayerCase extends fc.Arbitrary<infer T> ? T : never;

function buildCase(c: LayerCase) {
  const layer = makeRecurrent({ cell: c.cell, inputSize: c.I, hiddenSize: c.H, numLayers: c.L, direction: c.bidirectional ? 'bidirectional' : 'forward', seed: c.seed } as RecOpts);
  const n = c.T * c.B * c.I;
  const x = tensor(Float32Array.from({ length: n }, (_v, i) => c.values[i % 64]), [c.T, c.B, c.I]);
  const lengths = c.withLengths ? Array.from({ length: c.B }, (_v, b) => 1 + ((b * 7 + c.seed) % c.T)) : undefined;
  return { layer, x, lengths };
}

// ---- properties ------------------------------------------------------------------------------

type Prop = { name: string; runs: number; property: fc.IProperty<never> | fc.IAsyncProperty<never> };
const props: Prop[] = [];
const prop = (name: string, share: number, property: fc.IProperty<never> | fc.IAsyncProperty<never>) =>
  props.push({ name, runs: Math.max(1, Math.round(RUNS * share)), property });

prop('constructors: recurrent layers', 1, fc.property(recurrentOptions, (o) => {
  refusedCleanly(() => makeRecurrent(o));
}) as never);

prop('constructors: Dense, Embedding, Dropout, Sequential', 1, fc.property(
  maybe(fc.integer({ min: 1, max: 6 })), maybe(fc.integer({ min: 1, max: 6 })), maybe(fc.constantFrom('linear', 'relu', 'softmax')), maybe(fc.double({ min: 0, max: 1 })),
  fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 0, maxLength: 4 }), weird,
  (units, inputSize, activation, rate, picks, junk) => {
    refusedCleanly(() => new Dense({ units, inputSize, activation } as never));
    refusedCleanly(() => new Embedding({ numEmbeddings: units, embeddingDim: inputSize } as never));
    refusedCleanly(() => new Dropout({ rate } as never));
    const pool = [new LSTM({ inputSize: 2, hiddenSize: 3, seed: 1 }), new Dense({ units: 3, seed: 2 }), new Dropout({ rate: 0.1 }),
      new GRU({ inputSize: 3, hiddenSize: 2, returnSequences: false, seed: 3 }), new Embedding({ numEmbeddings: 4, embeddingDim: 2, seed: 4 })];
    const layers: unknown[] = picks.map((i) => (i < pool.length ? pool[i] : junk));
    if (picks.length > 1 && picks[0] === picks[1] && picks[0] < pool.length) layers[1] = layers[0];  // the same object twice
    refusedCleanly(() => new Sequential(layers as never));
  }) as never);

prop('layer forward / backward / step: refusals change nothing, finite in -> finite out, async = sync', 0.5, fc.asyncProperty(
  validLayerCase, fc.option(weird, { nil: undefined }), fc.constantFrom('x', 'opts', 'h0', 'lengths', 'grad', 'step', 'stateDict'),
  async (c, junk, where) => {
    const { layer, x, lengths } = buildCase(c);
    const w0 = hash([layer.weights]);
    const opts: Record<string, unknown> = { training: true };
    if (lengths) opts.lengths = lengths;
    if (junk !== undefined) {
      if (where === 'x') refusedCleanly(() => layer.forward(junk as never, opts));
      else if (where === 'opts') refusedCleanly(() => layer.forward(x, junk as never));
      else if (where === 'h0' || where === 'lengths') refusedCleanly(() => layer.forward(x, { ...opts, [where === 'h0' ? 'h0' : 'lengths']: junk }));
      else if (where === 'step') refusedCleanly(() => layer.step(x.shape[1] > 0 ? tensor(x.data.slice(0, c.B * c.I), [c.B, c.I]) : x, junk as never));
      else if (where === 'stateDict') refusedCleanly(() => layer.stateDict(junk as never, junk as never));
      else {
        layer.forward(x, opts);
        refusedCleanly(() => layer.backward(junk as never));
      }
      check(hash([layer.weights]) === w0, `weights changed by a refused call (${where})`);
      return;
    }
    const sync = layer.forward(x, opts);
    const asyncR = await layer.forwardAsync(x, opts);
    check(allFinite(sync.output.data) && allFinite(sync.hN.data), 'finite input gave a non-finite output');
    check(sameBits(sync.output.data, asyncR.output.data) && sameBits(sync.hN.data, asyncR.hN.data), 'forwardAsync differs from forward');
    layer.zeroGrad();
    const g1 = layer.backward({ gradOutput: sync.output });
    const grads1 = layer.grads.slice();
    layer.zeroGrad();
    const g2 = await layer.backwardAsync({ gradOutput: sync.output });
    check(sameBits(grads1, layer.grads) && sameBits(g1.input.data, g2.input.data), 'backwardAsync differs from backward');
    check(allFinite(grads1) && allFinite(g1.input.data), 'finite input gave non-finite gradients');
    if (!layer.bidirectional && layer.config.direction === 'forward' && !c.withLengths && !layer.batchFirst) {
      let s: ReturnType<Recurrent['step']> | undefined;
      for (let t = 0; t < c.T; t++) s = layer.step(tensor(x.data.slice(t * c.B * c.I, (t + 1) * c.B * c.I), [c.B, c.I]), s?.state);
      const D = 1, Hout = layer.outputSize;
      const last = sync.output.data.slice((c.T - 1) * c.B * D * Hout);
      const diff = Math.max(...Array.from(last, (v, i) => Math.abs(v - s!.output.data[i])));
      check(diff < 1e-5, `step() differs from forward() by ${diff}`);
    }
    check(hash([layer.weights]) === w0, 'forward/backward changed the weights');
  }) as never);

prop('stateDict / loadStateDict / fromTorch / fromOnnx: round trips exact, mutations refused without change', 0.5, fc.property(
  validLayerCase, fc.constantFrom('torch', 'onnx', 'keras'), fc.nat(), weird, fc.constantFrom('drop', 'extra', 'shape', 'value', 'array', 'none', 'proto'),
  (c, layout, pick, junk, how) => {
    const { layer } = buildCase(c);
    const dict = refusedCleanly(() => layer.stateDict(layout)).value as Record<string, Tensor> | undefined;
    if (!dict) return;  // layout not available for this layer (checked to be a clean refusal)
    const other = buildCase({ ...c, seed: c.seed + 1 }).layer;
    const keys = Object.keys(dict);
    const key = keys[pick % keys.length];
    const mutated: Record<string, unknown> = { ...dict };
    if (how === 'drop') delete mutated[key];
    else if (how === 'extra') mutated[`${key}x`] = dict[key];
    else if (how === 'shape') mutated[key] = { shape: [...dict[key].shape, 1], data: dict[key].data };
    else if (how === 'value') mutated[key] = junk;
    else if (how === 'array') mutated[key] = { shape: dict[key].shape, data: Array.from(dict[key].data, (v, i) => (i === 0 ? junk : v)) };
    else if (how === 'proto') Object.defineProperty(mutated, '__proto__', { value: dict[key], enumerable: true });
    const w0 = hash([other.weights]);
    const r = refusedCleanly(() => other.loadStateDict(mutated as never, layout));
    if (how === 'none') {
      // Keras keeps one bias (the sum of torch's two): exact means the dict comes back the same.
      const back = other.stateDict(layout);
      check(!r.threw && keys.every((k) => sameBits(back[k].data, dict[k].data)), `${layout} round trip not exact`);
      if (layout !== 'keras') check(sameBits(other.weights, layer.weights), `${layout} round trip changed the weights`);
      if (layout === 'torch') {
        const cls = c.cell === 'lstm' ? LSTM : c.cell === 'gru' ? GRU : RNN;
        const t = cls.fromTorch({ inputSize: c.I, hiddenSize: c.H, numLayers: c.L, bidirectional: c.bidirectional }, dict);
        check(sameBits(t.weights, layer.weights), 'fromTorch not exact');
      }
      if (layout === 'onnx' && c.L === 1) {
        const cls = c.cell === 'lstm' ? LSTM : c.cell === 'gru' ? GRU : RNN;
        const attrs: Record<string, unknown> = { hidden_size: c.H, direction: c.bidirectional ? 'bidirectional' : 'forward' };
        if (c.cell === 'gru') attrs.linear_before_reset = 1;
        const t = cls.fromOnnx(attrs as never, dict as never);
        check(sameBits(t.weights, layer.weights), 'fromOnnx not exact');
        refusedCleanly(() => cls.fromOnnx({ ...attrs, hidden_size: junk } as never, dict as never));
        refusedCleanly(() => cls.fromOnnx(attrs as never, { ...dict, W: junk } as never));
      }
    } else if (r.threw) {
      check(hash([other.weights]) === w0, `a refused loadStateDict (${how}) changed the weights`);
    } else {
      check(how === 'array' && typeof junk === 'number', `a mutated dict (${how}) was accepted`);
    }
  }) as never);

const optimizerArb = fc.oneof(
  fc.record({ kind: fc.constant('sgd'), o: fc.record({ lr: maybe(fc.double({ min: 0, max: 1, noNaN: true })), momentum: fc.option(maybe(fc.constantFrom(0, 0.9)), { nil: undefined }), nesterov: fc.option(maybe(fc.boolean()), { nil: undefined }) }) }),
  fc.record({ kind: fc.constantFrom('adam', 'adamw'), o: fc.record({ lr: fc.option(maybe(fc.double({ min: 0, max: 1, noNaN: true })), { nil: undefined }), betas: fc.option(maybe(fc.tuple(fc.constantFrom(0, 0.9), fc.constantFrom(0.5, 0.999))), { nil: undefined }), amsgrad: fc.option(fc.boolean(), { nil: undefined }) }) }),
  fc.record({ kind: fc.constant('rmsprop'), o: fc.record({ centered: fc.option(maybe(fc.boolean()), { nil: undefined }), momentum: fc.option(maybe(fc.constantFrom(0, 0.5)), { nil: undefined }) }) }),
  fc.record({ kind: fc.constant('adagrad'), o: fc.record({ lrDecay: fc.option(maybe(fc.constantFrom(0, 0.1)), { nil: undefined }), eps: fc.option(maybe(fc.constantFrom(1e-10, 0)), { nil: undefined }) }) }),
);
function makeOptimizer(kind: string, o: Record<string, unknown>): Optimizer {
  const opts = Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
  switch (kind) {
    case 'sgd': return new SGD(opts as never);
    case 'adam': return new Adam(opts as never);
    case 'adamw': return new AdamW(opts as never);
    case 'rmsprop': return new RMSprop(opts as never);
    default: return new Adagrad(opts as never);
  }
}

prop('optimizers: refusals change nothing, finite gradients -> finite weights, stepAsync = step', 0.5, fc.asyncProperty(
  optimizerArb, fc.array(fc.array(smallFloat, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 3 }), fc.option(weird, { nil: undefined }),
  fc.constantFrom('grad', 'gradScale', 'clipValue', 'params', 'badgrad'), fc.double({ min: 0, max: 2, noNaN: true }),
  async (spec, values, junk, where, scale) => {
    const made = refusedCleanly(() => makeOptimizer(spec.kind, spec.o as Record<string, unknown>));
    if (made.threw) return;
    const make = () => makeOptimizer(spec.kind, spec.o as Record<string, unknown>);
    const params = () => values.map((v, i) => ({ name: `p${i}`, value: Float32Array.from(v), grad: Float32Array.from(v, (x) => x * 0.5 - 0.1) }));
    const a = make(), b = make(), pa = params(), pb = params();
    if (junk !== undefined || where === 'badgrad') {
      a.step(pa);
      const before = hash(pa.map((p) => p.value)), state = JSON.stringify(Object.entries(a.stateDict().state).map(([k, v]) => [k, Array.from(v)]));
      if (where === 'badgrad') pa[0].grad[0] = [NaN, Infinity, -Infinity][values.length % 3];
      const call = where === 'grad' ? () => a.step([{ ...pa[0], grad: junk as never }])
        : where === 'gradScale' ? () => a.step(pa, { gradScale: junk as never })
          : where === 'clipValue' ? () => a.step(pa, { clipValue: junk as never })
            : where === 'params' ? () => a.step(junk as never) : () => a.step(pa);
      const r = refusedCleanly(call);
      const stateAfter = JSON.stringify(Object.entries(a.stateDict().state).map(([k, v]) => [k, Array.from(v)]));
      if (r.threw) check(hash(pa.map((p) => p.value)) === before && stateAfter === state, `a refused step (${where}) changed weights or state`);
      if (where === 'badgrad') check(r.threw, 'a NaN/Infinity gradient was applied');
      return;
    }
    for (let k = 0; k < 3; k++) {
      a.step(pa, { gradScale: clipCoefficient(gradNorm(pa), scale + 0.1) });
      await b.stepAsync(pb, { gradScale: clipCoefficient(gradNorm(pb), scale + 0.1) });
    }
    check(pa.every((p, i) => sameBits(p.value, pb[i].value)), 'stepAsync differs from step');
    // Finite gradients and sane hyper-parameters (no momentum of 1e30): finite weights.
    const sane = Object.values(spec.o).every((v) => typeof v !== 'number' || v <= 10);
    if (sane) check(pa.every((p) => allFinite(p.value)), 'finite gradients gave non-finite weights');
  }) as never);

const seqArb = (F: number) => fc.array(fc.array(fc.array(smallFloat, { minLength: F, maxLength: F }), { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 6 });

prop('model: fit / predict / evaluate / step: only TypeError/RangeError, refused fit leaves the weights, predict = predictSync', 0.3, fc.asyncProperty(
  seqArb(2), fc.option(weird, { nil: undefined }), fc.constantFrom('x', 'y', 'opts', 'epochs', 'batchSize', 'loss', 'clipGradNorm', 'nonFinite', 'predict', 'step', 'elem'),
  fc.constantFrom('sgd', 'adam'), fc.integer({ min: 0, max: 50 }),
  async (xs, junk, where, opt, seed) => {
    const m = new Sequential([new GRU({ inputSize: 2, hiddenSize: 3, returnSequences: false, seed }), new Dense({ units: 1, seed: seed + 1 })]);
    const ys = xs.map((s) => [s.length / 4]);
    const optimizer = opt === 'sgd' ? new SGD({ lr: 0.05 }) : new Adam({ lr: 0.01 });
    const base = { epochs: 2, batchSize: 2, optimizer, loss: 'mse' as const, clipGradNorm: 1, seed };
    const w0 = hash(weightsOf(m));
    if (where === 'epochs' && typeof junk === 'number' && junk > 100) return;  // valid, merely long (2**31 epochs)
    if (junk === undefined) {
      const h = await m.fit({ x: xs, y: ys }, base);
      check(h.epochs.every((e) => Number.isFinite(e.loss)) && weightsOf(m).every(allFinite), 'fit on finite data gave NaN');
      const p1 = m.predictSync(xs), p2 = await m.predict(xs), p3 = await m.predict(xs, { batchSize: 3 });
      check(sameBits(p1.data, p2.data) && allFinite(p1.data), 'predict differs from predictSync');
      // Other batches, other kernel blockings: the same values up to float32 rounding.
      check(p3.data.every((v, i) => Math.abs(v - p1.data[i]) <= 1e-5 * Math.max(1, Math.abs(p1.data[i]))), 'predict depends on batchSize');
      const ev = await m.evaluate({ x: xs, y: ys }, { loss: 'mse' });
      check(Number.isFinite(ev.loss), 'evaluate gave a non-finite loss');
      return;
    }
    const run = async () => {
      if (where === 'x') return m.fit({ x: junk, y: ys } as never, base);
      if (where === 'y') return m.fit({ x: xs, y: junk } as never, base);
      if (where === 'opts') return m.fit({ x: xs, y: ys }, junk as never);
      if (where === 'predict') return m.predict(junk as never);
      if (where === 'step') return m.step(junk as never);
      if (where === 'elem') {
        const bad = xs.map((s) => s.map((st) => [...st]));
        bad[bad.length - 1][0][1] = junk as number;
        return m.fit({ x: bad, y: ys }, base);
      }
      return m.fit({ x: xs, y: ys }, { ...base, [where]: junk } as never);
    };
    const r = await refusedCleanlyAsync(run);
    // A refusal changes nothing; a fit that stopped keeps the updates it completed, and no other.
    const kept = r.error instanceof FitStoppedError ? r.error.history.updates : 0;
    if (r.threw && kept === 0) check(hash(weightsOf(m)) === w0, `a refused ${where} changed the weights`);
    check(weightsOf(m).every(allFinite), `weights became non-finite (${where})`);
  }) as never);

prop('save / load: round trip exact; mutated files refused with SafetensorsError / TypeError / RangeError only', 0.1, fc.asyncProperty(
  fc.integer({ min: 0, max: 99 }), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 0, maxLength: 4 }), fc.nat(),
  async (seed, flips, cut) => {
    const m = new Sequential([new Embedding({ numEmbeddings: 5, embeddingDim: 3, seed }), new LSTM({ inputSize: 3, hiddenSize: 2, seed: seed + 1 }), new Dense({ units: 2, seed: seed + 2 })]);
    const dir = path.join(tmpDir, `m${seed}-${flips.length}-${cut % 7}`);
    await m.save(dir);
    const again = await Sequential.load(dir);
    check(JSON.stringify(Object.entries(again.stateDict()).map(([k, v]) => [k, Array.from(v.data)])) ===
      JSON.stringify(Object.entries(m.stateDict()).map(([k, v]) => [k, Array.from(v.data)])), 'save/load not exact');
    const file = path.join(dir, 'model.safetensors');
    const bytes = fs.readFileSync(file);
    for (const [at, v] of flips) bytes[at % bytes.length] = v;
    fs.writeFileSync(file, flips.length === 0 ? bytes.subarray(0, cut % bytes.length) : bytes);
    await refusedCleanlyAsync(() => Sequential.load(dir), [SafetensorsError]);
  }) as never);

prop('setKerasWeights: any list refused with TypeError / RangeError and no change; a valid list round trips exactly', 0.5, fc.property(
  fc.integer({ min: 0, max: 99 }), fc.nat(), weird, fc.constantFrom('element', 'shape', 'data', 'length', 'list', 'none'),
  (seed, at, junk, how) => {
    const m = new Sequential([new LSTM({ inputSize: 2, hiddenSize: 3, seed }), new GRU({ inputSize: 3, hiddenSize: 2, seed: seed + 1 }), new Dense({ units: 2, seed: seed + 2 })]);
    const w0 = hash(weightsOf(m));
    const list: unknown[] = m.getKerasWeights().map((t) => ({ shape: [...t.shape], data: t.data.map((v) => v * 0.5) }));
    const i = at % list.length;
    const t = list[i] as Tensor;
    let arg: unknown = list;
    if (how === 'element') list[i] = junk;
    else if (how === 'shape') t.shape = junk as never;
    else if (how === 'data') t.data = junk as never;
    else if (how === 'length') list.splice(i, 1);
    else if (how === 'list') arg = junk;
    const r = refusedCleanly(() => m.setKerasWeights(arg as never));
    if (r.threw) check(hash(weightsOf(m)) === w0, `a refused setKerasWeights (${how}) changed the weights`);
    else if (how === 'none') check(m.getKerasWeights().every((w, j) => sameBits(w.data, (list[j] as Tensor).data)), 'setKerasWeights did not round trip');
  }) as never);

prop('fit resumeFrom a mutated or foreign checkpoint: refused cleanly, weights unchanged', 0.05, fc.asyncProperty(
  fc.integer({ min: 0, max: 99 }), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 0, maxLength: 4 }), fc.nat(), fc.boolean(),
  async (seed, flips, cut, foreign) => {
    const make = (hidden: number) => new Sequential([new GRU({ inputSize: 2, hiddenSize: hidden, returnSequences: false, seed }), new Dense({ units: 1, seed: seed + 1 })]);
    const xs = [[[0.1, 0.2], [0.3, -0.1]], [[0.5, 0.4]], [[-0.2, 0.1], [0.0, 0.3], [0.2, 0.2]]];
    const data = { x: xs, y: xs.map((s) => [s.length / 4]) };
    const file = path.join(tmpDir, `cp${seed}-${flips.length}-${cut % 5}.safetensors`);
    // A checkpoint of a model with another hidden size (foreign), or of this model, bytes mutated.
    await make(foreign ? 4 : 3).fit(data, { epochs: 1, batchSize: 2, optimizer: new SGD({ lr: 0.01 }), loss: 'mse', checkpoint: { path: file } });
    const bytes = fs.readFileSync(file);
    for (const [p, v] of flips) bytes[p % bytes.length] = v;
    fs.writeFileSync(file, flips.length === 0 && !foreign ? bytes.subarray(0, cut % bytes.length) : bytes);
    const m = make(3);
    const w0 = hash(weightsOf(m));
    const r = await refusedCleanlyAsync(() => m.fit(data, { epochs: 2, batchSize: 2, optimizer: new SGD({ lr: 0.01 }), loss: 'mse', resumeFrom: file }), [SafetensorsError]);
    if (r.threw && !(r.error instanceof FitStoppedError)) check(hash(weightsOf(m)) === w0, 'a refused resumeFrom changed the weights');
    check(weightsOf(m).every(allFinite), 'weights became non-finite after resumeFrom');
  }) as never);

prop('safetensors decode on mutated bytes: SafetensorsError only; encode/decode exact', 1, fc.property(
  fc.dictionary(fc.string({ minLength: 1, maxLength: 5 }), fc.array(fc.float(), { maxLength: 5 }), { maxKeys: 3 }),
  fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 5 }), fc.nat(),
  (d, flips, cut) => {
    const tensors: Record<string, Tensor> = {};
    for (const [k, v] of Object.entries(d)) if (k !== '__metadata__') tensors[k] = tensor(Float32Array.from(v), [v.length]);
    const bytes = encodeSafetensors(tensors, { a: 'b' });
    const back = decodeSafetensors(bytes);
    check(Object.keys(tensors).every((k) => sameBits(back.tensors[k].data, tensors[k].data)), 'encode/decode not exact');
    const mutated = bytes.slice(0, flips.length === 0 ? cut % (bytes.length + 1) : bytes.length);
    for (const [at, v] of flips) if (mutated.length) mutated[at % mutated.length] = v;
    refusedCleanly(() => decodeSafetensors(mutated), [SafetensorsError]);
  }) as never);

prop('tensor / zeros / clipCoefficient on any value', 1, fc.property(weird, weird, (a, b) => {
  refusedCleanly(() => tensor(a as never, b as never));
  refusedCleanly(() => zeros(a as never));
  refusedCleanly(() => clipCoefficient(a as never, b as never));
}) as never);

// ---- driver ----------------------------------------------------------------------------------

async function main(): Promise<void> {
  const t0 = Date.now();
  const results: { name: string; runs: number; ms: number; ok: boolean; error?: string }[] = [];
  for (const p of props) {
    if (ONLY && !p.name.includes(ONLY)) continue;
    process.stderr.write(`fuzz: ${p.name} (${p.runs} cases, seed ${SEED})\n`);
    const t = Date.now();
    const details = await fc.check(p.property as fc.IAsyncProperty<never>, { numRuns: p.runs, seed: SEED, endOnFailure: true, timeout: 30_000 });
    const r = { name: p.name, runs: details.numRuns, ms: Date.now() - t, ok: !details.failed, error: undefined as string | undefined };
    if (details.failed) {
      r.error = `${String((details.errorInstance as Error)?.message ?? details.errorInstance)}\n  counterexample: ${fc.stringify(details.counterexample).slice(0, 600)}\n  replay: FUZZ_SEED=${SEED} FUZZ_ONLY='${p.name}' (path ${details.counterexamplePath})`;
    }
    results.push(r);
  }
  const cases = results.reduce((n, r) => n + r.runs, 0);
  console.log(JSON.stringify({ seed: SEED, cases, ms: Date.now() - t0, results }));
  fs.rmSync(tmpDir, { recursive: true, force: true });
  process.exit(results.every((r) => r.ok) ? 0 : 1);
}

void main();
