// Layer-level gradient checks (central differences, test/helpers/gradcheck.ts) for every cell type and option that
// the PyTorch fixtures (which carry gradients) do not cover: ONNX/TF extensions (peepholes, clips, coupled gates,
// forget bias, other activations), the pre-reset GRU form, projections in deep bidirectional stacks, variable
// lengths in both directions, batchFirst and reverse-only layers. Cases are tiny so the whole file runs in seconds.

import { describe, it, expect } from 'vitest';
import { LSTM, GRU, RNN } from '../../lib/index';
import { gradCheck, maxAbsDiff, type GradCheckOptions, type GradCheckReport, type LayerLike } from '../helpers/gradcheck';

type AnyOpts = Record<string, unknown>;

/** The usual assertions: no failures, and the check was not vacuous (x and every parameter tensor got checked). */
function expectGradOk(r: GradCheckReport): void {
  expect(r.failures).toEqual([]);
  const x = r.tensors.find((t) => t.name === 'x');
  expect(x, 'x was checked').toBeDefined();
  expect(x!.checked).toBeGreaterThan(0);
  expect(x!.maxAnalytic, 'gradient w.r.t. x is not identically zero').toBeGreaterThan(1e-3);
  for (const t of r.tensors) expect(t.checked, `${t.name} entries checked`).toBeGreaterThan(0);
}

function check(make: () => LayerLike, opts: GradCheckOptions): GradCheckReport {
  const r = gradCheck(make, opts);
  expectGradOk(r);
  return r;
}

/**
 * Asserts an option really changes the function on the checked point (e.g. that some gates were clipped), so the
 * gradient check above exercised it: the same weights in a layer built without the option give other outputs.
 */
function expectOptionMatters(
  layer: InstanceType<typeof LSTM> | InstanceType<typeof GRU> | InstanceType<typeof RNN>,
  without: InstanceType<typeof LSTM> | InstanceType<typeof GRU> | InstanceType<typeof RNN>,
  r: GradCheckReport,
  minDiff = 1e-2,
): void {
  without.loadStateDict(layer.stateDict());
  const { x, ...o } = r.inputs;
  const a = layer.forward(x, o);
  const b = without.forward(x, o);
  expect(maxAbsDiff(a.output.data, b.output.data)).toBeGreaterThan(minDiff);
}

const small = { T: 4, B: 2, I: 3 };

describe('LSTM gradient checks (ONNX / TF extensions)', () => {
  const base = { inputSize: 3, hiddenSize: 4, seed: 1 };

  it('peephole', () => {
    let layer!: InstanceType<typeof LSTM>;
    const r = check(() => (layer = new LSTM({ ...base, peephole: true })), { ...small, seed: 11 });
    const p = r.tensors.find((t) => t.name === 'weight_peephole_l0');
    expect(p, 'weight_peephole_l0 is a parameter').toBeDefined();
    expect(p!.maxAnalytic).toBeGreaterThan(1e-3);
    // Peepholes with the same weights vs. none.
    const plain = new LSTM({ ...base, peephole: true });
    plain.loadStateDict(layer.stateDict());
    for (const q of plain.parameters()) if (q.name.startsWith('weight_peephole')) q.value.fill(0);
    const { x, ...o } = r.inputs;
    expect(maxAbsDiff(layer.forward(x, o).output.data, plain.forward(x, o).output.data)).toBeGreaterThan(1e-3);
  });

  it('peephole, bidirectional, 2 layers, lengths', () => {
    check(() => new LSTM({ ...base, peephole: true, bidirectional: true, numLayers: 2 }), {
      T: 4, B: 3, I: 3, lengths: [4, 2, 3], seed: 12,
    });
  });

  it('projSize', () => {
    const r = check(() => new LSTM({ ...base, projSize: 2 }), { ...small, seed: 13 });
    expect(r.tensors.map((t) => t.name)).toContain('weight_hr_l0');
    expect(r.result.hN.shape).toEqual([1, 2, 2]);
    expect(r.result.cN!.shape).toEqual([1, 2, 4]);
  });

  it('projSize, bidirectional, 2 layers', () => {
    const r = check(() => new LSTM({ ...base, projSize: 2, bidirectional: true, numLayers: 2 }), { ...small, seed: 14 });
    expect(r.tensors.map((t) => t.name)).toEqual(
      expect.arrayContaining(['weight_hr_l0', 'weight_hr_l0_reverse', 'weight_hr_l1', 'weight_hr_l1_reverse']),
    );
    expect(r.result.output.shape).toEqual([4, 2, 4]);
  });

  it('projSize, bidirectional, 2 layers, unsorted lengths', () => {
    check(() => new LSTM({ ...base, projSize: 3, bidirectional: true, numLayers: 2 }), {
      T: 4, B: 3, I: 3, lengths: [2, 4, 1], seed: 15,
    });
  });

  it('gateClip with gates actually clipped', () => {
    // Weights U(-1.5, 1.5): pre-activations have a standard deviation ~1.3, so with clip 1 about 40% of them are
    // clamped. An entry whose perturbation moves a pre-activation across +-1 sees a kink; the checker detects the
    // unstable numeric derivative (eps vs eps/4) and skips it, bounded to 10% of the entries.
    let layer!: InstanceType<typeof LSTM>;
    const r = check(() => (layer = new LSTM({ ...base, gateClip: 1 })), { ...small, weightScale: 1.5, seed: 16 });
    expectOptionMatters(layer, new LSTM(base), r);
  });

  it('gateClip, bidirectional, with peepholes and lengths', () => {
    let layer!: InstanceType<typeof LSTM>;
    const r = check(() => (layer = new LSTM({ ...base, gateClip: 1.2, peephole: true, bidirectional: true })), {
      T: 4, B: 3, I: 3, lengths: [3, 4, 2], weightScale: 1.5, seed: 17,
    });
    expectOptionMatters(layer, new LSTM({ ...base, peephole: true, bidirectional: true }), r);
  });

  it('cellClip with cells actually clipped', () => {
    let layer!: InstanceType<typeof LSTM>;
    const r = check(() => (layer = new LSTM({ ...base, cellClip: 0.3 })), { ...small, weightScale: 1, seed: 18 });
    expectOptionMatters(layer, new LSTM(base), r, 1e-3);
  });

  it('inputForget (f = 1 - i)', () => {
    let layer!: InstanceType<typeof LSTM>;
    const r = check(() => (layer = new LSTM({ ...base, inputForget: true })), { ...small, seed: 19 });
    expectOptionMatters(layer, new LSTM(base), r, 1e-3);
  });

  it('inputForget with peepholes, reverse', () => {
    check(() => new LSTM({ ...base, inputForget: true, peephole: true, direction: 'reverse' }), { ...small, seed: 20 });
  });

  it('forgetBias', () => {
    let layer!: InstanceType<typeof LSTM>;
    const r = check(() => (layer = new LSTM({ ...base, forgetBias: 1 })), { ...small, seed: 21 });
    expectOptionMatters(layer, new LSTM(base), r, 1e-3);
  });

  const activationCases: [string, AnyOpts, Partial<GradCheckOptions>?][] = [
    ['hardSigmoid / relu / identity', { gate: 'hardSigmoid', cell: 'relu', hidden: 'identity' }, { weightScale: 2 }],
    ['hardSigmoid / softsign / identity', { gate: 'hardSigmoid', cell: 'softsign', hidden: 'identity' }, { weightScale: 2 }],
    ['sigmoid / leakyRelu(0.1) / elu(0.5)', { gate: 'sigmoid', cell: { name: 'leakyRelu', alpha: 0.1 }, hidden: { name: 'elu', alpha: 0.5 } }],
    ['softplus / scaledTanh(1.5, 0.7) / affine(0.8, 0.1)', {
      gate: 'softplus',
      cell: { name: 'scaledTanh', alpha: 1.5, beta: 0.7 },
      hidden: { name: 'affine', alpha: 0.8, beta: 0.1 },
    }],
    ['{name} objects without alpha/beta', { gate: { name: 'sigmoid' }, cell: { name: 'tanh' }, hidden: { name: 'softsign' } }],
  ];
  for (const [title, activations, extra] of activationCases) {
    it(`activations ${title}`, () => {
      check(() => new LSTM({ ...base, activations }), { ...small, seed: 22, ...extra });
    });
  }

  it('per-direction activation pairs, bidirectional', () => {
    check(
      () =>
        new LSTM({
          ...base,
          bidirectional: true,
          activations: {
            gate: ['sigmoid', 'hardSigmoid'],
            cell: ['tanh', { name: 'scaledTanh', alpha: 1.5, beta: 0.7 }],
            hidden: [{ name: 'elu', alpha: 0.5 }, 'softsign'],
          },
        }),
      { ...small, seed: 23 },
    );
  });
});

describe('GRU gradient checks', () => {
  const base = { inputSize: 3, hiddenSize: 4, seed: 2 };

  it('resetAfter: false (ONNX default / Keras reset_after=False)', () => {
    check(() => new GRU({ ...base, resetAfter: false }), { ...small, seed: 31 });
  });

  it('resetAfter: true (PyTorch form)', () => {
    check(() => new GRU({ ...base, resetAfter: true }), { ...small, seed: 32 });
  });

  it('the two forms really differ', () => {
    const a = new GRU({ ...base, resetAfter: false });
    const b = new GRU({ ...base, resetAfter: true });
    let layer!: InstanceType<typeof GRU>;
    const r = check(() => (layer = a), { ...small, seed: 33 });
    expectOptionMatters(layer, b, r, 1e-3);
  });

  for (const resetAfter of [true, false]) {
    it(`gateClip with gates actually clipped (resetAfter: ${resetAfter})`, () => {
      let layer!: InstanceType<typeof GRU>;
      const r = check(() => (layer = new GRU({ ...base, resetAfter, gateClip: 1 })), {
        ...small, weightScale: 1.5, seed: 34,
      });
      expectOptionMatters(layer, new GRU({ ...base, resetAfter }), r);
    });
  }

  it('activations hardSigmoid / leakyRelu(0.1), resetAfter: false', () => {
    check(
      () => new GRU({ ...base, resetAfter: false, activations: { gate: 'hardSigmoid', cell: { name: 'leakyRelu', alpha: 0.1 } } }),
      { ...small, weightScale: 1, seed: 35 },
    );
  });
});

describe('RNN gradient checks', () => {
  const base = { inputSize: 3, hiddenSize: 4, seed: 3 };
  for (const nonlinearity of ['tanh', 'relu', 'identity'] as const) {
    it(`nonlinearity ${nonlinearity}`, () => {
      check(() => new RNN({ ...base, nonlinearity }), { ...small, seed: 41 });
    });
  }

  it('gateClip with pre-activations actually clipped', () => {
    let layer!: InstanceType<typeof RNN>;
    const r = check(() => (layer = new RNN({ ...base, gateClip: 0.8 })), { ...small, weightScale: 1.5, seed: 42 });
    expectOptionMatters(layer, new RNN(base), r);
  });

  it('activations { gate: softsign } override the nonlinearity', () => {
    check(() => new RNN({ ...base, nonlinearity: 'relu', activations: { gate: 'softsign' } }), { ...small, seed: 43 });
  });
});

describe('variable lengths with bidirectional layers (unsorted lengths [3, 1, 4, 2], T = 4)', () => {
  const lens = { T: 4, B: 4, I: 3, lengths: [3, 1, 4, 2] };
  const base = { inputSize: 3, hiddenSize: 3, bidirectional: true, seed: 4 };
  const cases: [string, () => LayerLike][] = [
    ['LSTM', () => new LSTM(base)],
    ['GRU resetAfter: true', () => new GRU({ ...base, resetAfter: true })],
    ['GRU resetAfter: false', () => new GRU({ ...base, resetAfter: false })],
    ['RNN tanh', () => new RNN(base)],
  ];
  for (const [name, make] of cases) {
    it(name, () => {
      const r = check(make, { ...lens, seed: 51 });
      // Outputs past each sequence's end are exactly zero.
      const out = r.result.output; // [T, B, 2H]
      const F = out.shape[2];
      for (let b = 0; b < 4; b++) {
        for (let t = lens.lengths[b]; t < 4; t++) {
          for (let f = 0; f < F; f++) expect(out.data[(t * 4 + b) * F + f]).toBe(0);
        }
      }
    });
  }

  it('gradient w.r.t. padded input steps is exactly zero', () => {
    const layer = new LSTM(base);
    const r = gradCheck(() => layer, { ...lens, seed: 52 });
    expect(r.failures).toEqual([]);
    const { x, ...o } = r.inputs;
    layer.forward(x, { ...o, training: true });
    const gO = new Float32Array(r.result.output.data.length).fill(1);
    const g = layer.backward({ gradOutput: { shape: [...r.result.output.shape], data: gO } });
    for (let b = 0; b < 4; b++) {
      for (let t = lens.lengths[b]; t < 4; t++) {
        for (let i = 0; i < 3; i++) expect(g.input.data[(t * 4 + b) * 3 + i]).toBe(0);
      }
    }
  });
});

describe('stacks, layouts and directions', () => {
  const base = { inputSize: 3, hiddenSize: 3, seed: 5 };

  it('2-layer bidirectional LSTM', () => {
    check(() => new LSTM({ ...base, numLayers: 2, bidirectional: true }), { ...small, seed: 61 });
  });
  it('2-layer bidirectional GRU (both forms)', () => {
    check(() => new GRU({ ...base, numLayers: 2, bidirectional: true, resetAfter: true }), { ...small, seed: 62 });
    check(() => new GRU({ ...base, numLayers: 2, bidirectional: true, resetAfter: false }), { ...small, seed: 63 });
  });
  it('2-layer bidirectional RNN relu', () => {
    check(() => new RNN({ ...base, numLayers: 2, bidirectional: true, nonlinearity: 'relu' }), { ...small, seed: 64 });
  });
  it('2-layer bidirectional LSTM with lengths and zero initial state', () => {
    check(() => new LSTM({ ...base, numLayers: 2, bidirectional: true }), {
      T: 4, B: 3, I: 3, lengths: [1, 4, 3], initialState: 'zero', seed: 65,
    });
  });

  it('batchFirst LSTM (bidirectional, lengths)', () => {
    const r = check(() => new LSTM({ ...base, batchFirst: true, bidirectional: true }), {
      T: 4, B: 3, I: 3, batchFirst: true, lengths: [4, 2, 3], seed: 66,
    });
    expect(r.result.output.shape).toEqual([3, 4, 6]);
    expect(r.result.hN.shape).toEqual([2, 3, 3]);
  });
  it('batchFirst GRU and RNN', () => {
    check(() => new GRU({ ...base, batchFirst: true }), { ...small, batchFirst: true, seed: 67 });
    check(() => new RNN({ ...base, batchFirst: true, numLayers: 2 }), { ...small, batchFirst: true, seed: 68 });
  });

  for (const [name, make] of [
    ['LSTM', () => new LSTM({ ...base, direction: 'reverse' })],
    ['GRU', () => new GRU({ ...base, direction: 'reverse' })],
    ['GRU resetAfter: false', () => new GRU({ ...base, direction: 'reverse', resetAfter: false })],
    ['RNN', () => new RNN({ ...base, direction: 'reverse' })],
  ] as [string, () => LayerLike][]) {
    it(`direction 'reverse' ${name} (with lengths)`, () => {
      const r = check(make, { T: 4, B: 3, I: 3, lengths: [2, 4, 3], seed: 69 });
      expect(r.result.hN.shape[0]).toBe(1);
    });
  }

  it("no initial state passed (initialState: 'none')", () => {
    check(() => new LSTM({ ...base, numLayers: 2 }), { ...small, initialState: 'none', seed: 70 });
  });

  it('T = 1, B = 1', () => {
    check(() => new LSTM({ ...base, peephole: true, projSize: 2 }), { T: 1, B: 1, I: 3, seed: 71 });
  });
});

describe('the checker catches wrong gradients (so the checks above are not vacuous)', () => {
  /** Wraps a layer and corrupts what its backward() produces. */
  function corrupted(inner: LayerLike, corrupt: (inner: LayerLike, r: ReturnType<LayerLike['backward']>) => void): LayerLike {
    return {
      forward: (x, o) => inner.forward(x, o),
      backward: (g) => {
        const r = inner.backward(g);
        corrupt(inner, r);
        return r;
      },
      parameters: () => inner.parameters(),
      zeroGrad: () => inner.zeroGrad(),
    };
  }
  const base = { inputSize: 3, hiddenSize: 4, seed: 8 };

  it('two swapped gate blocks in a weight gradient', () => {
    const r = gradCheck(
      () =>
        corrupted(new LSTM(base), (l) => {
          // weight_hh_l0 grad is [4H, H]: swap the i and f blocks (H rows of H each).
          const g = l.parameters().find((p) => p.name === 'weight_hh_l0')!.grad;
          const blk = 4 * 4;
          const i = g.slice(0, blk);
          g.copyWithin(0, blk, 2 * blk);
          g.set(i, blk);
        }),
      { ...small, seed: 81 },
    );
    expect(r.failures.some((f) => f.startsWith('weight_hh_l0:'))).toBe(true);
    expect(r.failures.some((f) => f.startsWith('weight_ih_l0:'))).toBe(false);
  });

  it('a 3% error in the initial-state gradient', () => {
    const r = gradCheck(
      () =>
        corrupted(new GRU(base), (_l, res) => {
          for (let j = 0; j < res.h0.data.length; j++) res.h0.data[j] *= 1.03;
        }),
      { ...small, seed: 82 },
    );
    expect(r.failures.some((f) => f.startsWith('h0:'))).toBe(true);
    expect(r.failures.some((f) => f.startsWith('x:'))).toBe(false);
  });

  it('one wrong bias-gradient entry', () => {
    const r = gradCheck(
      () =>
        corrupted(new RNN(base), (l) => {
          l.parameters().find((p) => p.name === 'bias_hh_l0')!.grad[2] += 0.05;
        }),
      { ...small, seed: 83 },
    );
    expect(r.failures.filter((f) => f.startsWith('  bias_hh_l0[2]:'))).toHaveLength(1);
  });
});
