// The kernel path: info().isa names it, and FUSED_RNN_ISA (set per vitest project) forces it.
import { describe, expect, it } from 'vitest';
import { info } from '../lib/index';

describe('kernel ISA', () => {
  it('is one of the known paths', () => {
    expect(['avx512', 'avx2', 'neon', 'scalar']).toContain(info().isa);
  });

  const forced = process.env.FUSED_RNN_ISA;
  it.runIf(forced)(`is the one FUSED_RNN_ISA asks for (${forced})`, () => {
    expect(info().isa).toBe(forced);
  });
});
