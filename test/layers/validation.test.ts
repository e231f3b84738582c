// Bad input: every public entry point throws a TypeError (wrong type) or RangeError (bad value or shape) whose
// message reads `Expected <expected> for <name> but received <actual>`; a failed loadStateDict changes nothing.

import { describe, it, expect } from 'vitest';
import { tensor, LSTM, GRU, RNN } from '../../lib/index';
import type { Tensor } from '../../lib/index';
import { mulberry32, randomTensor, describeBitDiff } from '../helpers/gradcheck';

type ErrorClass = typeof TypeError | typeof RangeError;
const ANY: ErrorClass[] = [TypeError, RangeError];

/** Runs fn, returns the thrown error's message after checking its class and the common message format. */
function thrown(fn: () => unknown, classes: ErrorClass[] = ANY): string {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err, 'expected a throw').toBeDefined();
  const name = (err as Error)?.constructor?.name;
  expect(
    classes.some((C) => err instanceof C),
    `threw ${name}: ${(err as Error)?.message}; expected ${classes.map((c) => c.name).join(' or ')}`,
  ).toBe(true);
  const msg = (err as Error).message;
  expect(msg).toMatch(/^Expected .+ for .+ but received .+/s);
  return msg;
}

/** `for <name> but received`, allowing a qualifying prefix such as `options.` before the name. */
function names(arg: string): RegExp {
  const esc = arg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`for (?:[\\w$\\[\\].]+\\.)?${esc} but received`);
}

const I = 4;
const H = 3;
const T = 5;
const B = 2;
const x0 = () => randomTensor(mulberry32(1), [T, B, I]);

describe('constructor options', () => {
  it('hiddenSize 0 -> RangeError with the documented message', () => {
    const msg = thrown(() => new LSTM({ inputSize: I, hiddenSize: 0 }), [RangeError]);
    expect(msg).toBe('Expected positive integer for hiddenSize but received 0 of type number');
  });

  it('hiddenSize 1.5 -> RangeError', () => {
    const msg = thrown(() => new GRU({ inputSize: I, hiddenSize: 1.5 }), [RangeError]);
    expect(msg).toMatch(names('hiddenSize'));
    expect(msg).toContain('positive integer');
    expect(msg).toContain('1.5');
  });

  it("hiddenSize '3' (a string) -> TypeError", () => {
    const msg = thrown(() => new RNN({ inputSize: I, hiddenSize: '3' as unknown as number }), [TypeError]);
    expect(msg).toMatch(names('hiddenSize'));
    expect(msg).toContain('string');
  });

  it('inputSize missing', () => {
    const msg = thrown(() => new LSTM({ hiddenSize: H } as unknown as ConstructorParameters<typeof LSTM>[0]));
    expect(msg).toMatch(names('inputSize'));
    expect(msg).toContain('undefined');
  });

  it('inputSize negative -> RangeError', () => {
    const msg = thrown(() => new LSTM({ inputSize: -2, hiddenSize: H }), [RangeError]);
    expect(msg).toMatch(names('inputSize'));
    expect(msg).toContain('-2');
  });

  it('numLayers 0 -> RangeError', () => {
    const msg = thrown(() => new LSTM({ inputSize: I, hiddenSize: H, numLayers: 0 }), [RangeError]);
    expect(msg).toMatch(names('numLayers'));
    expect(msg).toContain('received 0');
  });

  it('projSize on a GRU is refused', () => {
    const msg = thrown(() => new GRU({ inputSize: I, hiddenSize: H, projSize: 2 } as unknown as ConstructorParameters<typeof GRU>[0]));
    expect(msg).toContain('projSize');
  });

  it('projSize >= hiddenSize is refused (PyTorch requires proj_size < hidden_size)', () => {
    const msg = thrown(() => new LSTM({ inputSize: I, hiddenSize: H, projSize: H }), [RangeError]);
    expect(msg).toMatch(names('projSize'));
  });

  it('an unknown option name throws instead of being ignored', () => {
    const msg = thrown(() => new LSTM({ inputSize: I, hiddenSize: H, hiddenSzie: 5 } as unknown as ConstructorParameters<typeof LSTM>[0]));
    expect(msg).toContain('hiddenSzie');
  });

  it('an option of another cell type throws (nonlinearity on LSTM, peephole on GRU)', () => {
    expect(thrown(() => new LSTM({ inputSize: I, hiddenSize: H, nonlinearity: 'relu' } as never))).toContain('nonlinearity');
    expect(thrown(() => new GRU({ inputSize: I, hiddenSize: H, peephole: true } as never))).toContain('peephole');
  });

  it('an unknown activation name throws', () => {
    expect(thrown(() => new LSTM({ inputSize: I, hiddenSize: H, activations: { gate: 'sigmoidd' } } as never))).toContain('sigmoidd');
    expect(thrown(() => new GRU({ inputSize: I, hiddenSize: H, activations: { cell: { name: 'swishh' } } } as never))).toContain('swishh');
  });

  it('an activation slot the cell does not have throws (hidden on GRU)', () => {
    expect(thrown(() => new GRU({ inputSize: I, hiddenSize: H, activations: { hidden: 'tanh' } } as never))).toContain('hidden');
  });

  it('an unknown direction or nonlinearity throws', () => {
    expect(thrown(() => new LSTM({ inputSize: I, hiddenSize: H, direction: 'sideways' } as never))).toMatch(names('direction'));
    expect(thrown(() => new RNN({ inputSize: I, hiddenSize: H, nonlinearity: 'gelu' } as never))).toMatch(names('nonlinearity'));
  });

  it('NaN gateClip -> RangeError', () => {
    const msg = thrown(() => new LSTM({ inputSize: I, hiddenSize: H, gateClip: NaN }), [RangeError]);
    expect(msg).toMatch(names('gateClip'));
    expect(msg).toContain('NaN');
  });

  it('negative cellClip -> RangeError', () => {
    const msg = thrown(() => new LSTM({ inputSize: I, hiddenSize: H, cellClip: -1 }), [RangeError]);
    expect(msg).toMatch(names('cellClip'));
    expect(msg).toContain('-1');
  });

  it('NaN gateClip on GRU and RNN too', () => {
    expect(thrown(() => new GRU({ inputSize: I, hiddenSize: H, gateClip: NaN }), [RangeError])).toMatch(names('gateClip'));
    expect(thrown(() => new RNN({ inputSize: I, hiddenSize: H, gateClip: NaN }), [RangeError])).toMatch(names('gateClip'));
  });
});

describe('forward() inputs', () => {
  const lstm = () => new LSTM({ inputSize: I, hiddenSize: H, seed: 1 });

  it('x with the wrong rank', () => {
    const msg = thrown(() => lstm().forward(tensor(new Float32Array(T * B * I), [T, B * I])), [RangeError]);
    expect(msg).toMatch(names('x'));
    expect(msg).toContain(`[${T}, ${B * I}]`);
  });

  it('x with the wrong feature size -> the documented message', () => {
    const msg = thrown(() => lstm().forward(tensor(new Float32Array(T * B * 3), [T, B, 3])), [RangeError]);
    expect(msg).toBe(`Expected shape [${T}, ${B}, ${I}] for x but received [${T}, ${B}, 3]`);
  });

  it('x with the wrong feature size, batchFirst', () => {
    const layer = new GRU({ inputSize: I, hiddenSize: H, batchFirst: true });
    const msg = thrown(() => layer.forward(tensor(new Float32Array(T * B * 3), [B, T, 3])), [RangeError]);
    expect(msg).toBe(`Expected shape [${B}, ${T}, ${I}] for x but received [${B}, ${T}, 3]`);
  });

  it('x data as a Float64Array -> TypeError', () => {
    const bad = { shape: [T, B, I], data: new Float64Array(T * B * I) } as unknown as Tensor;
    const msg = thrown(() => lstm().forward(bad), [TypeError]);
    expect(msg).toMatch(/for x\b/);
    expect(msg).toContain('Float32Array');
    expect(msg).toContain('Float64Array');
  });

  it('x data as a plain array -> TypeError', () => {
    const bad = { shape: [T, B, I], data: new Array(T * B * I).fill(0) } as unknown as Tensor;
    expect(thrown(() => lstm().forward(bad), [TypeError])).toMatch(/for x\b/);
  });

  it('x is not a tensor -> TypeError', () => {
    expect(thrown(() => lstm().forward(null as unknown as Tensor), [TypeError])).toMatch(names('x'));
    expect(thrown(() => lstm().forward(new Float32Array(40) as unknown as Tensor), [TypeError])).toMatch(/for x\b/);
  });

  it('x data length not matching its shape -> RangeError', () => {
    const bad = { shape: [T, B, I], data: new Float32Array(T * B * I - 1) } as Tensor;
    const msg = thrown(() => lstm().forward(bad), [RangeError]);
    expect(msg).toMatch(/for x\b/);
    expect(msg).toContain(String(T * B * I));
    expect(msg).toContain(String(T * B * I - 1));
  });

  it('lengths[b] = 0 -> the documented message', () => {
    const msg = thrown(() => lstm().forward(x0(), { lengths: [0, T] }), [RangeError]);
    expect(msg).toBe(`Expected integer in 1..${T} for lengths[0] but received 0 of type number`);
  });

  it('lengths[b] = T + 1', () => {
    const msg = thrown(() => lstm().forward(x0(), { lengths: [T, T + 1] }), [RangeError]);
    expect(msg).toBe(`Expected integer in 1..${T} for lengths[1] but received ${T + 1} of type number`);
  });

  it('lengths[b] = 1.5', () => {
    const msg = thrown(() => lstm().forward(x0(), { lengths: [1.5, 2] }), [RangeError]);
    expect(msg).toBe(`Expected integer in 1..${T} for lengths[0] but received 1.5 of type number`);
  });

  it('lengths as an Int32Array is checked too', () => {
    const msg = thrown(() => lstm().forward(x0(), { lengths: new Int32Array([3, 0]) }), [RangeError]);
    expect(msg).toMatch(names('lengths[1]'));
  });

  it('lengths with the wrong count', () => {
    const msg = thrown(() => lstm().forward(x0(), { lengths: [T, T, T] }), [RangeError]);
    expect(msg).toMatch(/for lengths\b/);
    expect(msg).toContain(String(B));
    expect(msg).toContain('3');
  });

  it('lengths of the wrong type', () => {
    expect(thrown(() => lstm().forward(x0(), { lengths: 'abc' as unknown as number[] }), [TypeError])).toMatch(/for lengths\b/);
    expect(thrown(() => lstm().forward(x0(), { lengths: [3, '2'] as unknown as number[] }), [TypeError])).toMatch(/lengths\[1\]/);
  });

  it('h0 with the wrong shape', () => {
    const msg = thrown(() => lstm().forward(x0(), { h0: tensor(new Float32Array(B * 4), [1, B, 4]) }), [RangeError]);
    expect(msg).toBe(`Expected shape [1, ${B}, ${H}] for h0 but received [1, ${B}, 4]`);
  });

  it('c0 with the wrong shape', () => {
    const msg = thrown(() => lstm().forward(x0(), { c0: tensor(new Float32Array(2 * B * H), [2, B, H]) }), [RangeError]);
    expect(msg).toBe(`Expected shape [1, ${B}, ${H}] for c0 but received [2, ${B}, ${H}]`);
  });

  it('h0 of a bidirectional 2-layer LSTM with projection: [L*D, B, projSize]', () => {
    const layer = new LSTM({ inputSize: I, hiddenSize: H, projSize: 2, bidirectional: true, numLayers: 2 });
    const msg = thrown(() => layer.forward(x0(), { h0: tensor(new Float32Array(4 * B * H), [4, B, H]) }), [RangeError]);
    expect(msg).toBe(`Expected shape [4, ${B}, 2] for h0 but received [4, ${B}, ${H}]`);
    // and c0 keeps hiddenSize
    const msg2 = thrown(() => layer.forward(x0(), { c0: tensor(new Float32Array(4 * B * 2), [4, B, 2]) }), [RangeError]);
    expect(msg2).toBe(`Expected shape [4, ${B}, ${H}] for c0 but received [4, ${B}, 2]`);
  });

  it('h0 data as a Float64Array -> TypeError', () => {
    const bad = { shape: [1, B, H], data: new Float64Array(B * H) } as unknown as Tensor;
    expect(thrown(() => lstm().forward(x0(), { h0: bad }), [TypeError])).toMatch(/for h0\b/);
  });

  it('GRU h0 with the wrong shape', () => {
    const layer = new GRU({ inputSize: I, hiddenSize: H, bidirectional: true });
    const msg = thrown(() => layer.forward(x0(), { h0: tensor(new Float32Array(B * H), [1, B, H]) }), [RangeError]);
    expect(msg).toBe(`Expected shape [2, ${B}, ${H}] for h0 but received [1, ${B}, ${H}]`);
  });

  it('an unknown forward option throws', () => {
    expect(thrown(() => lstm().forward(x0(), { trainig: true } as never))).toContain('trainig');
  });

  it('step(): x with the wrong shape', () => {
    const msg = thrown(() => lstm().step(tensor(new Float32Array(B * 3), [B, 3])), [RangeError]);
    expect(msg).toMatch(names('x'));
    expect(msg).toContain(`[${B}, 3]`);
  });
});

describe('backward()', () => {
  it('before any forward throws', () => {
    const layer = new LSTM({ inputSize: I, hiddenSize: H });
    expect(() => layer.backward({ gradOutput: tensor(new Float32Array(T * B * H), [T, B, H]) })).toThrow();
  });

  it('after an inference (non-training) forward throws', () => {
    const layer = new GRU({ inputSize: I, hiddenSize: H });
    layer.forward(x0());
    expect(() => layer.backward({ gradOutput: tensor(new Float32Array(T * B * H), [T, B, H]) })).toThrow();
  });

  it('gradOutput with the wrong shape -> RangeError', () => {
    const layer = new LSTM({ inputSize: I, hiddenSize: H });
    layer.forward(x0(), { training: true });
    const msg = thrown(() => layer.backward({ gradOutput: tensor(new Float32Array(T * B * 4), [T, B, 4]) }), [RangeError]);
    expect(msg).toBe(`Expected shape [${T}, ${B}, ${H}] for gradOutput but received [${T}, ${B}, 4]`);
  });

  it('gradHN / gradCN with the wrong shape -> RangeError', () => {
    const layer = new LSTM({ inputSize: I, hiddenSize: H, bidirectional: true });
    layer.forward(x0(), { training: true });
    const m1 = thrown(() => layer.backward({ gradHN: tensor(new Float32Array(B * H), [1, B, H]) }), [RangeError]);
    expect(m1).toBe(`Expected shape [2, ${B}, ${H}] for gradHN but received [1, ${B}, ${H}]`);
    const m2 = thrown(() => layer.backward({ gradCN: tensor(new Float32Array(2 * B * 2), [2, B, 2]) }), [RangeError]);
    expect(m2).toBe(`Expected shape [2, ${B}, ${H}] for gradCN but received [2, ${B}, 2]`);
  });

  it('a rejected backward leaves the gradients untouched', () => {
    const layer = new LSTM({ inputSize: I, hiddenSize: H });
    layer.forward(x0(), { training: true });
    const before = layer.stateDict('torch', { grad: true });
    expect(() => layer.backward({ gradOutput: tensor(new Float32Array(T * B * 4), [T, B, 4]) })).toThrow();
    const after = layer.stateDict('torch', { grad: true });
    for (const k of Object.keys(before)) expect(describeBitDiff(after[k], before[k]), k).toBeNull();
  });
});

describe('loadStateDict()', () => {
  const cfg = { inputSize: I, hiddenSize: H, bidirectional: true, numLayers: 2 };

  /**
   * The dict comes from another layer (every weight differs) and the faulty entry is the LAST key, so an
   * implementation that copied entry by entry before validating would already have changed the weights.
   */
  function expectRejectedUnchanged(
    mutate: (d: Record<string, Tensor>) => Record<string, Tensor>,
    layout: 'torch' | 'onnx' | 'keras' = 'torch',
    classes: ErrorClass[] = ANY,
  ): string {
    const layer = new LSTM({ ...cfg, seed: 1 });
    const before = layer.stateDict();
    const dict = mutate(new LSTM({ ...cfg, seed: 2 }).stateDict(layout));
    const msg = thrown(() => layer.loadStateDict(dict, layout), classes);
    const after = layer.stateDict();
    for (const k of Object.keys(before)) expect(describeBitDiff(after[k], before[k]), `${k} unchanged`).toBeNull();
    return msg;
  }

  /** Re-inserts key k so it comes last in iteration order. */
  function last(d: Record<string, Tensor>, k: string, v?: Tensor): Record<string, Tensor> {
    const { [k]: old, ...rest } = d;
    return { ...rest, [k]: v ?? old };
  }

  it('missing key', () => {
    const msg = expectRejectedUnchanged((d) => {
      const { bias_hh_l1_reverse: _drop, ...rest } = d;
      void _drop;
      return rest;
    });
    expect(msg).toContain('bias_hh_l1_reverse');
  });

  it('wrong shape', () => {
    const msg = expectRejectedUnchanged(
      (d) => last(d, 'weight_hh_l1_reverse', tensor(new Float32Array(4 * H * (H + 1)), [4 * H, H + 1])),
      'torch',
      [RangeError],
    );
    expect(msg).toMatch(names('weight_hh_l1_reverse'));
    expect(msg).toContain(`[${4 * H}, ${H}]`);
    expect(msg).toContain(`[${4 * H}, ${H + 1}]`);
  });

  it('right shape, wrong element count (data shorter than the shape says)', () => {
    const msg = expectRejectedUnchanged((d) => last(d, 'bias_ih_l1', { shape: [4 * H], data: new Float32Array(4 * H - 1) }), 'torch', [RangeError]);
    expect(msg).toContain('bias_ih_l1');
  });

  it('wrong dtype', () => {
    const msg = expectRejectedUnchanged(
      (d) => last(d, 'weight_ih_l1', { shape: [4 * H, 2 * H], data: new Float64Array(8 * H * H) } as unknown as Tensor),
      'torch',
      [TypeError],
    );
    expect(msg).toContain('weight_ih_l1');
  });

  it('unknown key', () => {
    const msg = expectRejectedUnchanged((d) => ({ ...d, weight_foo_l0: tensor(new Float32Array(3), [3]) }));
    expect(msg).toContain('weight_foo_l0');
  });

  it('peephole weights for a layer without peepholes are an unknown key', () => {
    const msg = expectRejectedUnchanged((d) => ({ ...d, weight_peephole_l0: tensor(new Float32Array(3 * H), [3 * H]) }));
    expect(msg).toContain('weight_peephole_l0');
  });

  it("'onnx' layout: missing R_l1 / wrong W shape", () => {
    expect(expectRejectedUnchanged((d) => {
      const { R_l1: _drop, ...rest } = d;
      void _drop;
      return rest;
    }, 'onnx')).toContain('R_l1');
    expect(
      expectRejectedUnchanged((d) => last(d, 'W_l1', tensor(new Float32Array(2 * 4 * H * H), [2, 4 * H, H])), 'onnx', [RangeError]),
    ).toContain('W_l1');
  });

  it("'keras' layout: wrong kernel shape (not transposed)", () => {
    const msg = expectRejectedUnchanged(
      (d) => last(d, 'kernel_l1_reverse', tensor(new Float32Array(4 * H * 2 * H), [4 * H, 2 * H])),
      'keras',
      [RangeError],
    );
    expect(msg).toContain('kernel_l1_reverse');
  });

  it('an unknown layout name throws', () => {
    const layer = new LSTM(cfg);
    expect(() => layer.loadStateDict(layer.stateDict(), 'tf' as never)).toThrow();
    expect(() => layer.stateDict('tf' as never)).toThrow();
  });

  it('a dict that is not an object throws TypeError', () => {
    const layer = new LSTM(cfg);
    expect(() => layer.loadStateDict(null as never)).toThrow(TypeError);
  });
});
