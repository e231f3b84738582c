// Issue 10, defects 4, 7 and 9: calls that used to be accepted with a wrong result, or refused
// with an error that did not name the argument, are refused with a TypeError / RangeError that
// names it (the argument, the bound or the element), and change nothing.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, test } from 'vitest';
import {
  Adam, clipCoefficient, Dense, Embedding, GRU, gradNorm, LSTM, loadSafetensors, loadSafetensorsAsync, RNN,
  saveSafetensors, Sequential, tensor, zeros,
} from '../../lib/index';
import { readCheckpoint } from '../../lib/model/checkpoint';

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error, none was thrown');
}

describe('defect 4: one layer object used twice in a Sequential', () => {
  test('is refused, naming both places', () => {
    const l = new LSTM({ inputSize: 2, hiddenSize: 2, seed: 1 });
    const d = new Dense({ units: 2, seed: 2 });
    expect(() => new Sequential([l, l])).toThrow(RangeError);
    expect(() => new Sequential([l, l])).toThrow(/for layers\[1\] but received the LSTM object of layers\[0\] again/);
    expect(() => new Sequential([new Dense({ units: 2, inputSize: 2 }), d, new Dense({ units: 2 }), d])).toThrow(/layers\[3\].*layers\[1\]/);
  });
});

describe('defect 7: strings, holes and other non-numbers in plain arrays', () => {
  test('tensor()', () => {
    const e = thrown(() => tensor(['a', 'b'] as never, [2]));
    expect(e).toBeInstanceOf(TypeError);
    expect(e.message).toMatch(/data\[0\]/);
    // eslint-disable-next-line no-sparse-arrays
    expect(thrown(() => tensor([1, , 3] as never, [3])).message).toMatch(/data\[1\].*hole/);
    expect(thrown(() => tensor([1, {}, 3] as never, [3]))).toBeInstanceOf(TypeError);
  });

  test('loadStateDict with plain arrays (weights unchanged)', () => {
    const l = new RNN({ inputSize: 1, hiddenSize: 1, bias: false, seed: 1 });
    const before = l.weights.slice();
    const e = thrown(() => l.loadStateDict({ weight_ih_l0: { shape: [1, 1], data: ['a'] }, weight_hh_l0: { shape: [1, 1], data: [1] } } as never));
    expect(e).toBeInstanceOf(TypeError);
    expect(e.message).toMatch(/weight_ih_l0\.data\[0\]/);
    expect(l.weights).toEqual(before);
  });

  test('model.step, predictSync and fit with string features', async () => {
    const m = new Sequential([new LSTM({ inputSize: 2, hiddenSize: 2, seed: 1 }), new Dense({ units: 1, seed: 2 })]);
    expect(thrown(() => m.step([['a', 'b']] as never))).toBeInstanceOf(TypeError);
    expect(thrown(() => m.step([[1, 'b']] as never)).message).toMatch(/x\[0\]\[1\]/);
    expect(thrown(() => m.predictSync([[[1, 2], [3, 'x']]] as never)).message).toMatch(/x\[0\]\[1\]\[1\]/);
    await expect(m.fit({ x: [[[1, 2], ['3', 4]]], y: [[[1], [2]]] } as never, { epochs: 1, optimizer: new Adam(), loss: 'mse' }))
      .rejects.toThrow(TypeError);
    await expect(m.fit({ x: [[[1, 2], [3, 4]]], y: [[[1], ['2']]] } as never, { epochs: 1, optimizer: new Adam(), loss: 'mse' }))
      .rejects.toThrow(/data\.y\[0\]\[1\]/);
  });
});

describe('defect 9: hygiene', () => {
  test('huge hiddenSize / inputSize: RangeError with the bound', () => {
    for (const [C, key] of [[LSTM, 'hiddenSize'], [GRU, 'inputSize'], [RNN, 'hiddenSize']] as const) {
      for (const v of [2 ** 31, 2 ** 40]) {
        const e = thrown(() => new C({ inputSize: 2, hiddenSize: 2, [key]: v }));
        expect(e).toBeInstanceOf(RangeError);
        expect(e.message).toMatch(new RegExp(`positive integer at most 1048576 for ${key}`));
      }
    }
    expect(thrown(() => new LSTM({ inputSize: 2 ** 20, hiddenSize: 2 ** 20 })).message).toMatch(/fewer than 1e9 weights/);
  });

  test('huge Dense / Embedding sizes and zeros(): the argument is named', () => {
    expect(thrown(() => new Dense({ units: 2 ** 30, inputSize: 2 }))).toBeInstanceOf(RangeError);
    expect(thrown(() => new Dense({ units: 2 ** 24, inputSize: 2 ** 24 })).message).toMatch(/units \* inputSize/);
    expect(thrown(() => new Embedding({ numEmbeddings: 2 ** 24, embeddingDim: 2 ** 10 })).message).toMatch(/numEmbeddings \* embeddingDim/);
    expect(thrown(() => new Embedding({ numEmbeddings: 2 ** 40, embeddingDim: 1 })).message).toMatch(/numEmbeddings/);
    for (const bad of [[-1], [1.5], [NaN], [2, Infinity], ['2']]) {
      const e = thrown(() => zeros(bad as never));
      expect(e instanceof RangeError || e instanceof TypeError, String(e)).toBe(true);
      expect(e.message).toMatch(/shape\[\d\]/);
    }
    expect(thrown(() => zeros([2 ** 20, 2 ** 20, 4])).message).toMatch(/zeros\(shape\)/);
    expect(zeros([2, 0]).data.length).toBe(0);
  });

  test("stateDict('torch', null), step(x, 5), unknown predict options", () => {
    const l = new LSTM({ inputSize: 2, hiddenSize: 2, seed: 1 });
    expect(thrown(() => l.stateDict('torch', null as never))).toBeInstanceOf(TypeError);
    expect(thrown(() => l.stateDict('torch', null as never)).message).toMatch(/for opts/);
    expect(thrown(() => l.step(tensor([1, 2], [1, 2]), 5 as never)).message).toMatch(/for state/);
    const m = new Sequential([new LSTM({ inputSize: 2, hiddenSize: 2, seed: 1 })]);
    expect(thrown(() => m.predictSync([[[1, 1]]], { batchsize: 2 } as never)).message).toMatch(/unknown key 'batchsize'/);
    return expect(m.predict([[[1, 1]]], { foo: 1 } as never)).rejects.toThrow(RangeError);
  });

  test('loadSafetensors(directory) names the path', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'frnn-dir-'));
    expect(thrown(() => loadSafetensors(dir)).message).toContain(dir);
    await expect(loadSafetensorsAsync(dir)).rejects.toThrow(dir);
  });

  test("a checkpoint epoch of '', ' 0x1 ' or '1e3' is refused", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'frnn-epoch-'));
    const opt = JSON.stringify({ kind: 'sgd', config: { lr: 1 }, step: 0, lr: 1 });
    for (const epoch of ['', ' 0x1 ', '1e3', '01', '-0', '1.0']) {
      const file = path.join(dir, 'c.safetensors');
      saveSafetensors(file, {}, { 'fused-rnn.optimizer': opt, 'fused-rnn.epoch': epoch });
      await expect(readCheckpoint(file), JSON.stringify(epoch)).rejects.toThrow(/epoch/);
    }
    saveSafetensors(path.join(dir, 'ok.safetensors'), {}, { 'fused-rnn.optimizer': opt, 'fused-rnn.epoch': '12' });
    expect((await readCheckpoint(path.join(dir, 'ok.safetensors'))).epoch).toBe(12);
  });

  test('clipCoefficient(-1, 1) throws; NaN and Infinity norms still pass through', () => {
    expect(thrown(() => clipCoefficient(-1, 1))).toBeInstanceOf(RangeError);
    expect(clipCoefficient(NaN, 1)).toBeNaN();
    expect(clipCoefficient(Infinity, 1)).toBe(0);
  });

  test('an option inherited from a polluted Object.prototype is never read', () => {
    const proto = Object.prototype as Record<string, unknown>;
    proto.numLayers = 3;
    proto.units = 7;
    proto.lr = 100;
    proto.gradScale = 0;
    try {
      expect(new LSTM({ inputSize: 2, hiddenSize: 2, seed: 1 }).numLayers).toBe(1);
      expect(new Dense({ units: 2, inputSize: 2, seed: 1 }).units).toBe(2);
      expect(new Adam({}).lr).toBe(1e-3);
      const l = new LSTM({ inputSize: 1, hiddenSize: 1, seed: 1 });
      l.forward(tensor([1], [1, 1, 1]), { training: true });
      l.backward({ gradOutput: tensor([1], [1, 1, 1]) });
      const before = l.weights.slice();
      new Adam({ lr: 0.1 }).step(l.parameters(), {});
      expect(gradNorm(l.parameters())).toBeGreaterThan(0);
      expect(l.weights).not.toEqual(before);  // gradScale 0 from the prototype would leave them
    } finally {
      delete proto.numLayers;
      delete proto.units;
      delete proto.lr;
      delete proto.gradScale;
    }
  });

  test("loadStateDict refuses keys named 'constructor' and '__proto__'", () => {
    const l = new LSTM({ inputSize: 2, hiddenSize: 2, seed: 1 });
    const before = l.weights.slice();
    expect(thrown(() => l.loadStateDict({ ...l.stateDict(), constructor: l.stateDict().weight_ih_l0 } as never)).message).toMatch(/constructor/);
    const withProto = JSON.parse(`{"__proto__": 1}`) as Record<string, unknown>;
    Object.assign(withProto, l.stateDict());
    expect(thrown(() => l.loadStateDict(withProto as never)).message).toMatch(/__proto__/);
    expect(l.weights).toEqual(before);
  });

  test.skipIf(!fs.existsSync('/proc/self'))("model.save('/proc/x') settles (rejects) instead of hanging", async () => {
    const m = new Sequential([new Dense({ units: 1, inputSize: 1, seed: 1 })]);
    const t0 = Date.now();
    await expect(m.save('/proc/fused-rnn-test/x')).rejects.toThrow(/proc/);
    expect(Date.now() - t0).toBeLessThan(5000);
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'frnn-save-')), 'f');
    fs.writeFileSync(file, 'x');
    await expect(m.save(path.join(file, 'sub'))).rejects.toThrow(/ENOTDIR/);
  }, 10_000);

  test('the Optimizer.step doc example runs as written', () => {
    const lstm = new LSTM({ inputSize: 3, hiddenSize: 4, seed: 1 });
    const x = tensor(new Float32Array(2 * 1 * 3).fill(0.5), [2, 1, 3]);
    // --- lib/optim/optimizers.ts, Optimizer.step's @example ---
    const opt = new Adam({ lr: 1e-3 });
    lstm.zeroGrad();
    const { output } = lstm.forward(x, { training: true });
    lstm.backward({ gradOutput: output });
    const norm = gradNorm(lstm.parameters());
    opt.step(lstm.parameters(), { gradScale: clipCoefficient(norm, 1.0) });
    // ---
    expect(opt.stepCount).toBe(1);
    const doc = fs.readFileSync(path.join(__dirname, '../../lib/optim/optimizers.ts'), 'utf8');
    expect(doc).toContain('lstm.backward({ gradOutput: output });');
    expect(doc).toContain('lstm.forward(x, { training: true });');
  });
});
