// The kernel path: info().isa names it, and FUSED_RNN_ISA (set per vitest project) forces it.
// A forced path this CPU cannot run (or an unknown name) is not an error at load: the library
// says so once on stderr and runs its best path, which info().isa reports (README, Environment).
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { info } from '../lib/index';
import { addonPath } from '../lib/native';

describe('kernel ISA', () => {
  it('is one of the known paths', () => {
    expect(['avx512', 'avx2', 'neon', 'scalar']).toContain(info().isa);
  });

  const forced = process.env.FUSED_RNN_ISA;
  it.runIf(forced)(`is the one FUSED_RNN_ISA asks for (${forced})`, () => {
    expect(info().isa).toBe(forced);
  });

  /** info() twice in a fresh process with FUSED_RNN_ISA=value: { isa, stderr }. */
  function infoWith(value: string | undefined): { isa: string; stderr: string } {
    const env = { ...process.env };
    if (value === undefined) delete env.FUSED_RNN_ISA;
    else env.FUSED_RNN_ISA = value;
    const r = spawnSync(process.execPath, ['-e', `const a = require(${JSON.stringify(addonPath)}); a.info(); console.log(a.info().isa);`],
      { env, encoding: 'utf8', timeout: 30_000 });
    expect(r.status, r.stderr).toBe(0);
    return { isa: r.stdout.trim(), stderr: r.stderr };
  }

  it('a forced ISA this CPU lacks, or an unknown one: one clear message, and info().isa is the path that runs', () => {
    const best = infoWith(undefined);
    expect(best.stderr).toBe('');
    const lacking = process.arch === 'arm64' ? 'avx2' : 'neon';
    const a = infoWith(lacking);
    expect(a.isa).toBe(best.isa);
    expect(a.stderr).toBe(`fused-rnn: FUSED_RNN_ISA=${lacking} is not supported by this CPU; using ${best.isa}\n`);
    const b = infoWith('avx9000');
    expect(b.isa).toBe(best.isa);
    expect(b.stderr).toBe(`fused-rnn: unknown FUSED_RNN_ISA=avx9000 (scalar, avx2, avx512, neon); using ${best.isa}\n`);
  });
});
