// The Sequential API: summary, predict, state dicts, data forms, bad input, fit's control flow
// (early stopping, reproducibility, truncated BPTT; stopping.test.ts: abort and failures).
import { describe, expect, test } from 'vitest';
import { Adam, Dense, Dropout, Embedding, GRU, LSTM, RNN, SGD, Sequential, tensor } from '../../lib/index';
import { firstBitMismatch, mulberry32 } from '../helpers/gradcheck';
import { addingProblem } from './tasks';

/** Many-to-one: the adding problem's shape. */
const lstmModel = (seed = 1, extra: object = {}) =>
  new Sequential([new LSTM({ inputSize: 2, hiddenSize: 8, returnSequences: false, seed, ...extra }), new Dense({ units: 1, seed: seed + 1 })]);

function randomSequences(n: number, F: number, seed: number, minT = 2, maxT = 7): number[][][] {
  const rng = mulberry32(seed);
  return Array.from({ length: n }, () => {
    const T = minT + Math.floor(rng() * (maxT - minT + 1));
    return Array.from({ length: T }, () => Array.from({ length: F }, () => 2 * rng() - 1));
  });
}

describe('Sequential structure', () => {
  test('summary shows parameter counts: a GRU has 3/4 of the weights of the same LSTM', () => {
    const lstm = new Sequential([new LSTM({ inputSize: 32, hiddenSize: 64, seed: 1 })]);
    const gru = new Sequential([new GRU({ inputSize: 32, hiddenSize: 64, seed: 1 })]);
    expect(lstm.paramCount).toBe(4 * 64 * (32 + 64 + 2));
    expect(gru.paramCount * 4).toBe(lstm.paramCount * 3);
    expect(lstm.summary()).toContain('25,088');
    expect(gru.summary()).toContain('18,816');
    const m = new Sequential([new Embedding({ numEmbeddings: 50, embeddingDim: 8, seed: 1 }),
      new LSTM({ inputSize: 8, hiddenSize: 16, bidirectional: true, returnSequences: false, mergeMode: 'sum', seed: 2 }),
      new Dropout({ rate: 0.2 }), new Dense({ units: 3, activation: 'softmax', seed: 3 })]);
    const s = m.summary();
    expect(s).toMatch(/Embedding\(50, 8\)\s+\[T, B, 8\]\s+400/);
    expect(s).toMatch(/LSTM\(8 -> 16, bidirectional sum, last step\)\s+\[B, 16\]\s+3,328/);
    expect(s).toMatch(/Dense\(16 -> 3, softmax\)\s+\[B, 3\]\s+51/);
    expect(s).toContain('Total params: 3,779');
  });

  test('state dict uses torch.nn.Sequential names and round-trips bit-exactly', () => {
    const a = lstmModel(1), b = lstmModel(7);
    expect(Object.keys(a.stateDict())).toEqual(['0.weight_ih_l0', '0.weight_hh_l0', '0.bias_ih_l0', '0.bias_hh_l0', '1.weight', '1.bias']);
    b.loadStateDict(a.stateDict());
    const x = tensor(new Float32Array(3 * 5 * 2).map((_v, i) => Math.sin(i)), [3, 5, 2]);
    expect(firstBitMismatch(a.predictSync(x).data, b.predictSync(x).data)).toBe(-1);
    const before = b.stateDict();
    const bad = { ...a.stateDict(), '1.weight': tensor([1, 2], [1, 2]) };
    expect(() => b.loadStateDict(bad)).toThrow(/shape \[1, 8\] for stateDict\['1.weight'\]/);
    expect(() => b.loadStateDict({ ...a.stateDict(), extra: tensor([1], [1]) })).toThrow(RangeError);
    expect(firstBitMismatch(b.stateDict()['0.weight_ih_l0'].data, before['0.weight_ih_l0'].data)).toBe(-1);
  });

  test('bad structures are refused with the layer named', () => {
    expect(() => new Sequential([])).toThrow(TypeError);
    expect(() => new Sequential([new LSTM({ inputSize: 2, hiddenSize: 4 }), new Dense({ units: 2, inputSize: 3 })]))
      .toThrow(/layers\[1\]\.inputSize/);
    expect(() => new Sequential([new LSTM({ inputSize: 2, hiddenSize: 4, returnSequences: false }), new GRU({ inputSize: 4, hiddenSize: 2 })]))
      .toThrow(/sequence input.*for layers\[1\]/);
    expect(() => new Sequential([new Dense({ units: 2 })])).toThrow(/layers\[0\]/);
    expect(() => new Sequential([new LSTM({ inputSize: 2, hiddenSize: 4, batchFirst: true })])).toThrow(/batchFirst/);
    expect(() => new Sequential([{} as never])).toThrow(TypeError);
    expect(() => new Dropout({ rate: 1 })).toThrow(/rate/);
    expect(() => new LSTM({ inputSize: 2, hiddenSize: 4, mergeMode: 'max' as never })).toThrow(/mergeMode/);
  });
});

describe('predict', () => {
  test('ragged arrays: each sequence gets what it gets alone; zeros past its end', async () => {
    const m = new Sequential([new GRU({ inputSize: 3, hiddenSize: 6, seed: 3 }), new Dense({ units: 2, seed: 4 })]);
    const xs = randomSequences(9, 3, 5);
    const all = m.predictSync(xs, { batchSize: 4 });
    const T = Math.max(...xs.map((s) => s.length));
    expect(all.shape).toEqual([9, T, 2]);
    xs.forEach((seq, i) => {
      const alone = m.predictSync([seq]);
      for (let t = 0; t < T; t++) {
        for (let o = 0; o < 2; o++) {
          const got = all.data[(i * T + t) * 2 + o];
          if (t >= seq.length) expect(got).toBe(0);
          else expect(Math.abs(got - alone.data[t * 2 + o])).toBeLessThan(1e-6);
        }
      }
    });
    const async = await m.predict(xs, { batchSize: 4 });
    expect(firstBitMismatch(async.data, all.data)).toBe(-1);
  });

  test('tensor input with lengths, many-to-one output [N, O]', () => {
    const m = new Sequential([new LSTM({ inputSize: 2, hiddenSize: 4, returnSequences: false, seed: 1 }), new Dense({ units: 3, seed: 2 })]);
    const x = tensor(new Float32Array(4 * 6 * 2).map((_v, i) => Math.cos(i)), [4, 6, 2]);
    const out = m.predictSync(x, { lengths: [6, 2, 3, 1] });
    expect(out.shape).toEqual([4, 3]);
    const second = m.predictSync(tensor(x.data.slice(12, 12 + 4), [1, 2, 2]));
    for (let o = 0; o < 3; o++) expect(Math.abs(out.data[3 + o] - second.data[o])).toBeLessThan(1e-6);
    expect(() => m.predictSync(x, { lengths: [6, 2, 7, 1] })).toThrow(/1\.\.6 for lengths\[2\]/);
  });

  test('bad data names the element', () => {
    const m = lstmModel();
    expect(() => m.predictSync([[[1, 2], [3]]])).toThrow(/2 features for x\[0\]\[1\]/);
    expect(() => m.predictSync([[]])).toThrow(/at least one step for x\[0\]/);
    expect(() => m.predictSync(tensor([1, 2, 3], [1, 1, 3]))).toThrow(/shape \[N, T, 2\] for x/);
    const emb = new Sequential([new Embedding({ numEmbeddings: 4, embeddingDim: 2, seed: 1 }), new LSTM({ inputSize: 2, hiddenSize: 2, seed: 1 })]);
    expect(() => emb.predictSync([[1, 2, 4]])).toThrow(/0\.\.3 for token id/);
  });
});

describe('fit', () => {
  const data = () => addingProblem(64, 10, 3);

  test('reproducible: the same seed gives the same weights bit for bit (shuffle and dropout included)', async () => {
    const run = async () => {
      const m = new Sequential([new LSTM({ inputSize: 2, hiddenSize: 8, numLayers: 2, dropout: 0.2, seed: 1 }), new Dropout({ rate: 0.3 }),
        new LSTM({ inputSize: 8, hiddenSize: 8, returnSequences: false, seed: 5 }), new Dense({ units: 1, seed: 2 })]);
      await m.fit(data(), { epochs: 2, batchSize: 16, optimizer: new Adam({ lr: 0.01 }), loss: 'mse', seed: 9 });
      return m.stateDict();
    };
    const [a, b] = [await run(), await run()];
    for (const k of Object.keys(a)) expect(firstBitMismatch(a[k].data, b[k].data), k).toBe(-1);
  });

  test('inference runs during fit; a second writer is refused (sync) or waits (async)', async () => {
    const m = lstmModel();
    const before = m.predictSync(data().x);
    const p = m.fit(data(), { epochs: 1, optimizer: new SGD({ lr: 0.1 }), loss: 'mse' });
    expect(m.predictSync(data().x).data).toEqual(before.data);  // no update has landed yet
    expect(() => m.loadStateDict(m.stateDict())).toThrow(/held by a running writer/);
    const second = m.fit(data(), { epochs: 1, optimizer: new SGD({ lr: 0 }), loss: 'mse' });  // queued
    await p;
    const after = m.predictSync(data().x);
    await second;  // lr 0: the weights stay at the first fit's
    expect(m.predictSync(data().x).data).toEqual(after.data);
  });

  test('early stopping and callbacks report epochs, losses, gradient norms', async () => {
    const m = lstmModel();
    const norms: number[] = [];
    const h = await m.fit(data(), {
      epochs: 20, batchSize: 32, optimizer: new SGD({ lr: 0 }), loss: 'mse', validationSplit: 0.25,
      earlyStopping: { monitor: 'valLoss', patience: 1 }, onBatchEnd: (b) => { norms.push(b.gradNorm); },
    });
    expect(h.stopped).toBe('earlyStopping');
    expect(h.epochs.length).toBe(3);  // epoch 0 sets the best, 1 and 2 do not improve
    expect(h.epochs[0].valLoss).toBeGreaterThan(0);
    expect(norms.length).toBe(3 * 2);  // 48 training sequences / 32 = 2 batches per epoch
    expect(norms.every((n) => n > 0)).toBe(true);
  });

  test('bad options are refused before anything runs', async () => {
    const m = lstmModel();
    const base = { epochs: 1, optimizer: new SGD({ lr: 0.1 }), loss: 'mse' as const };
    await expect(m.fit(data(), { ...base, epochs: 0 })).rejects.toThrow(/epochs/);
    await expect(m.fit(data(), { ...base, loss: 'hinge' as never })).rejects.toThrow(/loss/);
    await expect(m.fit(data(), { ...base, bptt: { steps: 3, stateful: true } })).rejects.toThrow(/shuffle/);
    await expect(m.fit(data(), { ...base, bogus: 1 } as never)).rejects.toThrow(/bogus/);
    await expect(m.fit(data(), { ...base, onBatchEnd: 3 } as never)).rejects.toThrow(/function for onBatchEnd/);
    await expect(m.fit(data(), { ...base, earlyStopping: { monitor: 'valLoss', patience: 1 } })).rejects.toThrow(/no validation data/);
    await expect(m.fit(data(), { ...base, earlyStopping: { patience: -1 } })).rejects.toThrow(/earlyStopping\.patience/);
    await expect(m.fit(data(), { ...base, lrScheduleUnit: 'step' as never })).rejects.toThrow(/lrScheduleUnit/);
    await expect(m.fit(data(), { ...base, checkpoint: { path: 5 } } as never)).rejects.toThrow(/checkpoint\.path/);
    await expect(m.fit(data(), { ...base, validationSplit: 1 })).rejects.toThrow(/validationSplit/);
    await expect(m.fit(data(), { ...base, optimizer: { step() {} } } as never)).rejects.toThrow(/optimizer/);
    await expect(m.fit({ x: data().x, y: tensor([1, 2], [2, 1]) }, base)).rejects.toThrow(/data\.y/);
    const bi = new Sequential([new LSTM({ inputSize: 2, hiddenSize: 4, bidirectional: true, seed: 1 }), new Dense({ units: 1, seed: 1 })]);
    const seq = { x: data().x, y: tensor(new Float32Array(64 * 10), [64, 10, 1]) };
    await expect(bi.fit(seq, { ...base, bptt: { steps: 3 } })).rejects.toThrow(/bidirectional/);
  });

  test('pre-batched data: each given batch is one update, same bits as batchSize cutting the same data', async () => {
    const { x, y } = addingProblem(48, 6, 8);
    const slice = (lo: number, hi: number) => ({
      x: tensor(x.data.slice(lo * 12, hi * 12), [hi - lo, 6, 2]), y: tensor(y.data.slice(lo, hi), [hi - lo, 1]),
    });
    const run = async (data: Parameters<Sequential['fit']>[0]) => {
      const m = lstmModel(3);
      const h = await m.fit(data, { epochs: 2, batchSize: 16, shuffle: false, optimizer: new Adam({ lr: 0.01 }), loss: 'mse' });
      return { w: m.stateDict(), updates: h.updates };
    };
    const flat = await run({ x, y });
    const pre = await run({ batches: [slice(0, 16), slice(16, 32), slice(32, 48)] });
    expect(pre.updates).toBe(6);
    for (const k of Object.keys(flat.w)) expect(firstBitMismatch(flat.w[k].data, pre.w[k].data), k).toBe(-1);
    // Batches of different sizes and lengths, shuffled as whole batches.
    const ragged = { batches: [slice(0, 5), { x: [[[1, 0], [0.5, 1]], [[0.2, 1]]], y: [1.5, 0.2] }, slice(5, 48)] };
    const h = await lstmModel(4).fit(ragged, { epochs: 3, optimizer: new Adam({ lr: 0.01 }), loss: 'mse', seed: 1 });
    expect(h.updates).toBe(9);
    await expect(lstmModel(4).fit({ batches: [{ x: [[[1]]], y: [1] }] }, { epochs: 1, optimizer: new Adam({ lr: 0.01 }), loss: 'mse' }))
      .rejects.toThrow(/data\.batches\[0\]\.x\[0\]\[0\]/);
  });

  test('truncated BPTT with steps >= T is full BPTT (bit for bit)', async () => {
    const seqData = () => {
      const { x } = addingProblem(32, 12, 4);
      return { x, y: tensor(x.data.filter((_v, i) => i % 2 === 0), [32, 12, 1]) };
    };
    const run = async (bptt?: { steps: number }) => {
      const m = new Sequential([new LSTM({ inputSize: 2, hiddenSize: 6, seed: 1 }), new Dense({ units: 1, seed: 2 })]);
      await m.fit(seqData(), { epochs: 2, batchSize: 8, optimizer: new SGD({ lr: 0.1, momentum: 0.9 }), loss: 'mse', ...(bptt ? { bptt } : {}) });
      return m.stateDict();
    };
    const full = await run(), chunked = await run({ steps: 12 });
    for (const k of Object.keys(full)) expect(firstBitMismatch(full[k].data, chunked[k].data), k).toBe(-1);
    const k4 = await run({ steps: 4 });
    expect(firstBitMismatch(full['1.weight'].data, k4['1.weight'].data)).not.toBe(-1);
  });
});

void RNN;
