// exportOnnx / onnxBytes: the written file runs in onnxruntime-node with our outputs (1e-5 relative)
// for every layer kind and option ONNX expresses; loadOnnx of it gives back the same weights, bit for
// bit; what ONNX cannot express is refused with the layer named.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it, expect, afterAll } from 'vitest';
import { Dense, Dropout, Embedding, GRU, LSTM, RNN, Sequential, loadOnnx, onnxBytes, type SequentialLayer } from '../../lib/index';
import { SKIP_ORT, Worst, loadOrt, runOrt, transpose } from './helpers';

const worst = new Worst('exportOnnx -> onnxruntime-node vs fused-rnn');
const N = 3, T = 6, F = 4;

function input(seed: number) {
  const data = new Float32Array(N * T * F);
  let s = seed >>> 0;
  for (let i = 0; i < data.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    data[i] = (s / 2 ** 32) * 2 - 1;
  }
  return { data, shape: [N, T, F] };
}

/** Learned initial states get non-zero values (they start at 0). */
function withInitialStates(m: Sequential): Sequential {
  for (const p of m.parameters()) if (/\.(h0|c0)$/.test(p.name)) p.value.forEach((_v, i) => { p.value[i] = Math.sin(i + 1) * 0.5; });
  for (const s of m.stores()) s.touch();
  return m;
}

const cases: { name: string; opset?: number; layers: () => SequentialLayer[] }[] = [
  { name: 'LSTM -> Dense', layers: () => [new LSTM({ inputSize: F, hiddenSize: 5, seed: 1 }), new Dense({ units: 3, seed: 2 })] },
  { name: 'LSTM 2 layers bidirectional, many-to-one -> Dense softmax (opset 9)', opset: 9,
    layers: () => [new LSTM({ inputSize: F, hiddenSize: 5, numLayers: 2, bidirectional: true, returnSequences: false, seed: 3 }), new Dense({ units: 3, activation: 'softmax', seed: 4 })] },
  { name: 'GRU resetAfter (PyTorch) -> Dense tanh (opset 13)', opset: 13,
    layers: () => [new GRU({ inputSize: F, hiddenSize: 6, resetAfter: true, seed: 5 }), new Dense({ units: 2, activation: 'tanh', seed: 6 })] },
  { name: 'GRU reset before (ONNX default), 3 layers, many-to-one', opset: 14,
    layers: () => [new GRU({ inputSize: F, hiddenSize: 4, numLayers: 3, resetAfter: false, returnSequences: false, seed: 7 }), new Dense({ units: 2, seed: 8 })] },
  { name: 'RNN tanh bidirectional -> Dense relu -> Dense sigmoid', opset: 17,
    layers: () => [new RNN({ inputSize: F, hiddenSize: 5, bidirectional: true, seed: 9 }), new Dense({ units: 4, activation: 'relu', seed: 10 }), new Dense({ units: 2, activation: 'sigmoid', seed: 11 })] },
  { name: 'RNN relu 2 layers, reverse', opset: 11,
    layers: () => [new RNN({ inputSize: F, hiddenSize: 5, numLayers: 2, nonlinearity: 'relu', direction: 'reverse', seed: 12 })] },
  { name: 'LSTM peepholes, coupled gates, gate clip, ONNX activations (opset 21)', opset: 21,
    layers: () => [new LSTM({ inputSize: F, hiddenSize: 4, peephole: true, inputForget: true, gateClip: 0.8, seed: 13,
      activations: { gate: { name: 'hardSigmoid', alpha: 0.3, beta: 0.45 }, cell: 'softsign', hidden: { name: 'leakyRelu', alpha: 0.1 } } })] },
  { name: 'GRU bidirectional with per-direction activations and identity', opset: 15,
    layers: () => [new GRU({ inputSize: F, hiddenSize: 3, bidirectional: true, seed: 14, activations: { gate: 'sigmoid', cell: ['tanh', 'identity'] } })] },
  { name: 'Dense first -> LSTM -> Dropout -> Dense', opset: 13,
    layers: () => [new Dense({ units: 6, inputSize: F, activation: 'tanh', seed: 15 }), new LSTM({ inputSize: 6, hiddenSize: 4, seed: 16 }), new Dropout({ rate: 0.3 }), new Dense({ units: 2, seed: 17 })] },
  { name: 'LSTM learned initial state, 2 layers bidirectional', opset: 17,
    layers: () => [new LSTM({ inputSize: F, hiddenSize: 4, numLayers: 2, bidirectional: true, learnInitialState: true, seed: 18 }), new Dense({ units: 2, seed: 19 })] },
  { name: 'GRU learned initial state, many-to-one', opset: 9,
    layers: () => [new GRU({ inputSize: F, hiddenSize: 4, learnInitialState: true, returnSequences: false, seed: 20 })] },
  { name: 'GRU bidirectional mergeMode sum -> Dense', opset: 13,
    layers: () => [new GRU({ inputSize: F, hiddenSize: 4, bidirectional: true, mergeMode: 'sum', seed: 21 }), new Dense({ units: 2, seed: 22 })] },
  { name: 'LSTM bidirectional 2 layers mergeMode ave', opset: 9,
    layers: () => [new LSTM({ inputSize: F, hiddenSize: 4, numLayers: 2, bidirectional: true, mergeMode: 'ave', seed: 23 })] },
  { name: 'RNN bidirectional mergeMode mul, many-to-one -> Dense', opset: 17,
    layers: () => [new RNN({ inputSize: F, hiddenSize: 4, bidirectional: true, mergeMode: 'mul', returnSequences: false, seed: 24 }), new Dense({ units: 3, seed: 25 })] },
];

describe('exportOnnx: onnxruntime-node runs the file with our outputs', () => {
  const { ort, error } = loadOrt();
  afterAll(() => console.log(ort ? worst.summary() : `[exportOnnx vs onnxruntime-node] NOT RUN: onnxruntime-node unavailable (${error})`));
  if (!ort && SKIP_ORT) {
    it.skip(`onnxruntime-node unavailable (${error}); skipped because FUSED_RNN_SKIP_ORT=1`, () => {});
  } else {
    it('onnxruntime-node loads (a devDependency; FUSED_RNN_SKIP_ORT=1 skips these)', () => {
      expect(ort, `onnxruntime-node: ${error}`).not.toBeNull();
    });
    cases.forEach((c, k) => {
      it(`${c.name}`, async () => {
        const model = withInitialStates(new Sequential(c.layers()));
        const x = input(100 + k);
        const ours = model.predictSync(x);
        const bytes = onnxBytes(model, c.opset ? { opset: c.opset } : {});
        const out = await runOrt(bytes, { x: transpose(x.data, x.shape, [1, 0, 2]) });
        const y = out.y;
        const ref = y.shape.length === 3 ? transpose(y.data, y.shape, [1, 0, 2]) : y;
        worst.check(c.name, ours.data, ours.shape, ref.data, ref.shape);
      });
    });
  }
});

describe('exportOnnx -> loadOnnx round trip', () => {
  cases.forEach((c, k) => {
    it(`${c.name}: bit-identical weights and outputs`, async () => {
      const model = withInitialStates(new Sequential(c.layers()));
      const back = await loadOnnx(onnxBytes(model, c.opset ? { opset: c.opset } : {}));
      // Dropout is not in the file: compare the weights in order.
      const a = Object.values(model.stateDict()), b = Object.values(back.stateDict());
      expect(b.map((t) => t.shape)).toEqual(a.map((t) => t.shape));
      a.forEach((t, i) => expect(Buffer.from(b[i].data.buffer).equals(Buffer.from(t.data.buffer)), `tensor ${i}`).toBe(true));
      const x = input(200 + k);
      expect(Array.from(back.predictSync(x).data)).toEqual(Array.from(model.predictSync(x).data));
    });
  });

  it('writes a file (Sequential.exportOnnx) that loadOnnx reads', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fused-rnn-onnx-'));
    try {
      const model = new Sequential(cases[1].layers());
      await model.exportOnnx(path.join(dir, 'm.onnx'), { opset: 14 });
      const back = await loadOnnx(path.join(dir, 'm.onnx'));
      const x = input(7);
      expect(Array.from(back.predictSync(x).data)).toEqual(Array.from(model.predictSync(x).data));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('exportOnnx refuses what ONNX cannot express, naming the layer', () => {
  const refuse = (layers: SequentialLayer[], re: RegExp) => expect(() => onnxBytes(new Sequential(layers))).toThrow(re);
  it('LSTM projection', () => refuse([new LSTM({ inputSize: F, hiddenSize: 4, projSize: 2 })], /layers\[0\] \(LSTM\): ONNX's LSTM has no projection/));
  it('cell clip and forget bias', () => {
    refuse([new LSTM({ inputSize: F, hiddenSize: 4, cellClip: 3 })], /layers\[0\].*no cell clip/);
    refuse([new LSTM({ inputSize: F, hiddenSize: 4, forgetBias: 1 })], /layers\[0\].*forget bias/);
  });
  it('states: true with a learned initial state', () => expect(() => onnxBytes(new Sequential([new GRU({ inputSize: F, hiddenSize: 2, learnInitialState: true })]), { states: true }))
    .toThrow(/layers\[0\] \(GRU\): has a learned initial state/));
  it('unknown options', () => expect(() => onnxBytes(new Sequential(cases[0].layers()), { state: true } as never)).toThrow(/state/));
  it('opset out of range', () => expect(() => onnxBytes(new Sequential(cases[0].layers()), { opset: 8 })).toThrow(/opset/));
});

/** Token ids [N, T] in 0..V-1. */
function ids(seed: number, V: number) {
  const data = new Float32Array(N * T);
  let s = seed >>> 0;
  for (let i = 0; i < data.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    data[i] = Math.floor((s / 2 ** 32) * V);
  }
  return { data, shape: [N, T] };
}
const int64 = (t: { data: Float32Array; shape: number[] }) => ({ data: BigInt64Array.from(t.data, (v) => BigInt(v)), shape: t.shape });

describe('exportOnnx: Embedding, sequence_lens and states as graph inputs', () => {
  const { ort, error } = loadOrt();
  if (!ort && SKIP_ORT) {
    it.skip(`onnxruntime-node unavailable (${error}); skipped because FUSED_RNN_SKIP_ORT=1`, () => {});
    return;
  }
  const embedModel = () => new Sequential([
    new Embedding({ numEmbeddings: 9, embeddingDim: 5, seed: 30 }),
    new LSTM({ inputSize: 5, hiddenSize: 4, bidirectional: true, seed: 31 }), new Dense({ units: 3, seed: 32 }),
  ]);

  for (const opset of [9, 17]) {
    it(`Embedding -> LSTM -> Dense (opset ${opset}): onnxruntime-node and the round trip`, async () => {
      const model = embedModel();
      const x = ids(300 + opset, 9);
      const ours = model.predictSync(x);
      const bytes = onnxBytes(model, { opset });
      const out = await runOrt(bytes, { x: int64(transpose(x.data, x.shape, [1, 0]) as { data: Float32Array; shape: number[] }) });
      const ref = transpose(out.y.data, out.y.shape, [1, 0, 2]);
      worst.check(`embedding opset ${opset}`, ours.data, ours.shape, ref.data, ref.shape);
      const back = await loadOnnx(bytes);
      expect(Object.keys(back.stateDict())).toEqual(Object.keys(model.stateDict()));
      Object.values(model.stateDict()).forEach((t, i) => expect(Buffer.from(Object.values(back.stateDict())[i].data.buffer).equals(Buffer.from(t.data.buffer))).toBe(true));
      expect(Array.from(back.predictSync(x).data)).toEqual(Array.from(ours.data));
    });
  }

  it('sequenceLens: the valid steps match predict() with lengths (many-to-many and many-to-one)', async () => {
    const lengths = [6, 2, 4];
    for (const [k, returnSequences] of [[0, true], [1, false]] as const) {
      const model = new Sequential([new GRU({ inputSize: F, hiddenSize: 4, numLayers: 2, bidirectional: true, returnSequences, seed: 40 + k })]);
      const x = input(400 + k);
      const ours = model.predictSync(x, { lengths });
      const bytes = onnxBytes(model, { sequenceLens: true, opset: 14 });
      const out = await runOrt(bytes, { x: transpose(x.data, x.shape, [1, 0, 2]), sequence_lens: { data: Int32Array.from(lengths), shape: [N] } });
      const ref = out.y.shape.length === 3 ? transpose(out.y.data, out.y.shape, [1, 0, 2]) : out.y;
      worst.check(`sequence_lens returnSequences ${returnSequences}`, ours.data, ours.shape, ref.data, ref.shape);
      const back = await loadOnnx(bytes);  // sequence_lens from a graph input: predict()'s lengths
      expect(Array.from(back.predictSync(x, { lengths }).data)).toEqual(Array.from(ours.data));
    }
  });

  it('states: h0.k / c0.k in, hN.k / cN.k out, as the layer\'s own forward with those states', async () => {
    for (const opset of [9, 17]) {
      const lstm = new LSTM({ inputSize: F, hiddenSize: 3, numLayers: 2, bidirectional: true, seed: 50 });
      const model = new Sequential([lstm]);
      const x = transpose(input(500 + opset).data, [N, T, F], [1, 0, 2]);  // [T, N, F]
      const state = (seed: number) => ({ data: input(seed).data.slice(0, 4 * N * 3), shape: [4, N, 3] });
      const h0 = state(60), c0 = state(61);
      const ours = lstm.forward({ data: x.data, shape: x.shape }, { h0, c0 });
      const out = await runOrt(onnxBytes(model, { states: true, opset }), { x, 'h0.0': h0, 'c0.0': c0 });
      worst.check(`states y opset ${opset}`, ours.output.data, ours.output.shape, out.y.data, out.y.shape);
      worst.check(`states hN opset ${opset}`, ours.hN.data, ours.hN.shape, out['hN.0'].data, out['hN.0'].shape);
      worst.check(`states cN opset ${opset}`, ours.cN!.data, ours.cN!.shape, out['cN.0'].data, out['cN.0'].shape);
    }
  });
});
