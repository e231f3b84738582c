// step(): one time step of streaming inference. Running it T times, feeding the returned state back, must give the
// same outputs and final states as forward() over the whole sequence.

import { describe, it, expect } from 'vitest';
import { tensor, LSTM, GRU, RNN } from '../../lib/index';
import type { Tensor } from '../../lib/index';
import { mulberry32, randomTensor, maxAbs, maxAbsDiff } from '../helpers/gradcheck';

type Layer = InstanceType<typeof LSTM> | InstanceType<typeof GRU> | InstanceType<typeof RNN>;
type StepState = { h: Tensor; c?: Tensor };

/** |a - b| <= rel * max|b| elementwise (max|b| floored at 1e-3 so all-zero references still compare tightly). */
function expectClose(a: Tensor, b: Tensor, what: string, rel = 1e-6): void {
  expect(a.shape, `${what} shape`).toEqual(b.shape);
  const bound = rel * Math.max(1e-3, maxAbs(b.data));
  const d = maxAbsDiff(a.data, b.data);
  expect(d, `${what}: max |step - forward| = ${d}, allowed ${bound}`).toBeLessThanOrEqual(bound);
}

/** Rows t of a [T, B, F] tensor (or [B, T, F] when batchFirst) as a [B, F] tensor. */
function timeSlice(x: Tensor, t: number, batchFirst = false): Tensor {
  const [d0, d1, F] = x.shape;
  const B = batchFirst ? d0 : d1;
  const out = new Float32Array(B * F);
  for (let b = 0; b < B; b++) {
    const src = batchFirst ? (b * d1 + t) * F : (t * d1 + b) * F;
    out.set(x.data.subarray(src, src + F), b * F);
  }
  return tensor(out, [B, F]);
}

interface Case {
  name: string;
  make: () => Layer;
  L: number;
  Hout: number;
  H: number;
  lstm: boolean;
  batchFirst?: boolean;
}

const I = 3;
const H = 4;
const cases: Case[] = [];
for (const L of [1, 2]) {
  cases.push(
    { name: `LSTM L=${L}`, make: () => new LSTM({ inputSize: I, hiddenSize: H, numLayers: L, seed: 7 }), L, H, Hout: H, lstm: true },
    {
      name: `LSTM projSize=2 L=${L}`,
      make: () => new LSTM({ inputSize: I, hiddenSize: H, projSize: 2, numLayers: L, seed: 7 }),
      L, H, Hout: 2, lstm: true,
    },
    {
      name: `LSTM peephole L=${L}`,
      make: () => new LSTM({ inputSize: I, hiddenSize: H, peephole: true, numLayers: L, seed: 7 }),
      L, H, Hout: H, lstm: true,
    },
    {
      name: `GRU resetAfter=true L=${L}`,
      make: () => new GRU({ inputSize: I, hiddenSize: H, resetAfter: true, numLayers: L, seed: 7 }),
      L, H, Hout: H, lstm: false,
    },
    {
      name: `GRU resetAfter=false L=${L}`,
      make: () => new GRU({ inputSize: I, hiddenSize: H, resetAfter: false, numLayers: L, seed: 7 }),
      L, H, Hout: H, lstm: false,
    },
    { name: `RNN tanh L=${L}`, make: () => new RNN({ inputSize: I, hiddenSize: H, numLayers: L, seed: 7 }), L, H, Hout: H, lstm: false },
    {
      name: `RNN relu L=${L}`,
      make: () => new RNN({ inputSize: I, hiddenSize: H, nonlinearity: 'relu', numLayers: L, seed: 7 }),
      L, H, Hout: H, lstm: false,
    },
  );
}
cases.push({
  name: 'LSTM batchFirst L=2',
  make: () => new LSTM({ inputSize: I, hiddenSize: H, numLayers: 2, batchFirst: true, seed: 7 }),
  L: 2, H, Hout: H, lstm: true, batchFirst: true,
});

const T = 5;
const B = 2;

/** Runs step() over the whole sequence; returns the per-step outputs stacked as [T, B, Hout] and the last result. */
function runSteps(layer: Layer, x: Tensor, c: Case, init?: StepState) {
  const outs = new Float32Array(T * B * c.Hout);
  let state: StepState | undefined = init;
  let last: ReturnType<Layer['step']> | undefined;
  for (let t = 0; t < T; t++) {
    const s = layer.step(timeSlice(x, t, c.batchFirst), state);
    expect(s.output.shape).toEqual([B, c.Hout]);
    expect(s.h.shape).toEqual([c.L, B, c.Hout]);
    if (c.lstm) expect(s.c!.shape).toEqual([c.L, B, c.H]);
    else expect(s.c).toBeUndefined();
    // output is the top layer's h.
    expect(Array.from(s.output.data)).toEqual(Array.from(s.h.data.subarray((c.L - 1) * B * c.Hout)));
    outs.set(s.output.data, t * B * c.Hout);
    state = s.state;
    last = s;
  }
  return { output: tensor(outs, [T, B, c.Hout]), last: last! };
}

/** forward()'s output in time-major order. */
function timeMajor(out: Tensor, batchFirst?: boolean): Tensor {
  if (!batchFirst) return out;
  const [Bo, To, F] = out.shape;
  const r = new Float32Array(out.data.length);
  for (let t = 0; t < To; t++) for (let b = 0; b < Bo; b++) r.set(out.data.subarray((b * To + t) * F, (b * To + t + 1) * F), (t * Bo + b) * F);
  return tensor(r, [To, Bo, F]);
}

describe('step() equals forward() over the sequence', () => {
  for (const c of cases) {
    it(`${c.name}, zero initial state`, () => {
      const rng = mulberry32(100);
      const layer = c.make();
      const x = randomTensor(rng, c.batchFirst ? [B, T, I] : [T, B, I]);
      const fw = layer.forward(x);
      const st = runSteps(layer, x, c);
      expectClose(st.output, timeMajor(fw.output, c.batchFirst), 'output');
      expectClose(st.last.h, fw.hN, 'h');
      if (c.lstm) expectClose(st.last.c!, fw.cN!, 'c');
      // The state object holds the same tensors' values.
      expectClose(st.last.state.h, fw.hN, 'state.h');
      if (c.lstm) expectClose(st.last.state.c!, fw.cN!, 'state.c');
    });

    it(`${c.name}, with initial state`, () => {
      const rng = mulberry32(200);
      const layer = c.make();
      const x = randomTensor(rng, c.batchFirst ? [B, T, I] : [T, B, I]);
      const h0 = randomTensor(rng, [c.L, B, c.Hout], -0.5, 0.5);
      const c0 = c.lstm ? randomTensor(rng, [c.L, B, c.H], -0.5, 0.5) : undefined;
      const fw = layer.forward(x, c0 ? { h0, c0 } : { h0 });
      const h0Copy = new Float32Array(h0.data);
      const st = runSteps(layer, x, c, c0 ? { h: h0, c: c0 } : { h: h0 });
      expect(Array.from(h0.data), 'step does not modify the state it was given').toEqual(Array.from(h0Copy));
      expectClose(st.output, timeMajor(fw.output, c.batchFirst), 'output');
      expectClose(st.last.h, fw.hN, 'h');
      if (c.lstm) expectClose(st.last.c!, fw.cN!, 'c');
    });
  }

  it('feeding { h, c } built from the returned tensors works like feeding .state', () => {
    const layer = new LSTM({ inputSize: I, hiddenSize: H, numLayers: 2, seed: 9 });
    const rng = mulberry32(300);
    const x0 = randomTensor(rng, [B, I]);
    const x1 = randomTensor(rng, [B, I]);
    const s0 = layer.step(x0);
    const a = layer.step(x1, s0.state);
    const b = layer.step(x1, { h: tensor(Array.from(s0.h.data), [...s0.h.shape]), c: tensor(Array.from(s0.c!.data), [...s0.c!.shape]) });
    expect(Array.from(a.h.data)).toEqual(Array.from(b.h.data));
    expect(Array.from(a.c!.data)).toEqual(Array.from(b.c!.data));
  });

  it('step() does not disturb a later forward() (no hidden state kept in the layer)', () => {
    const layer = new GRU({ inputSize: I, hiddenSize: H, seed: 9 });
    const rng = mulberry32(301);
    const x = randomTensor(rng, [T, B, I]);
    const before = layer.forward(x);
    layer.step(randomTensor(rng, [B, I]));
    const after = layer.forward(x);
    expect(Array.from(after.output.data)).toEqual(Array.from(before.output.data));
  });
});

describe('step() refuses layers it cannot stream', () => {
  it.each([
    ['LSTM bidirectional', () => new LSTM({ inputSize: I, hiddenSize: H, bidirectional: true })],
    ['GRU bidirectional', () => new GRU({ inputSize: I, hiddenSize: H, bidirectional: true })],
    ['RNN bidirectional', () => new RNN({ inputSize: I, hiddenSize: H, bidirectional: true })],
    ["LSTM direction 'bidirectional'", () => new LSTM({ inputSize: I, hiddenSize: H, direction: 'bidirectional' })],
    ["LSTM direction 'reverse'", () => new LSTM({ inputSize: I, hiddenSize: H, direction: 'reverse' })],
  ] as [string, () => Layer][])('%s throws', (_name, make) => {
    const layer = make();
    expect(() => layer.step(tensor(new Float32Array(B * I), [B, I]))).toThrow();
  });
});
