import { readFileSync } from 'node:fs';
import { defineConfig } from 'vitest/config';

// `npm test` = `vitest run`. Suites import lib/*.ts directly (no build step besides the addon);
// lib/native.ts finds the addon from the package root (build/Release or prebuilds/).
//
// Projects: 'default' runs every suite on the ISA the addon picks. The numeric suites
// (fixtures, gradient checks, step) run again once per kernel path this CPU supports,
// forced with FUSED_RNN_ISA; test/isa.test.ts checks the path really was the one asked for.
const NUMERIC = ['test/conformance/**/*.test.ts', 'test/model/parity.test.ts', 'test/model/gradcheck.test.ts', 'test/layers/gradcheck.test.ts', 'test/layers/dropout.test.ts', 'test/layers/step.test.ts', 'test/layers/threads.test.ts', 'test/layers/precision.test.ts', 'test/layers/int8.test.ts', 'test/isa.test.ts'];

function supportedIsas(): string[] {
  const isas = ['scalar'];
  if (process.arch !== 'x64') return isas;
  let flags = '';
  try {
    flags = readFileSync('/proc/cpuinfo', 'utf8').match(/^flags\s*:(.*)$/m)?.[1] ?? '';
  } catch {
    return isas;  // no /proc: only the portable path is forced
  }
  const has = (f: string) => new RegExp(`\\b${f}\\b`).test(flags);
  if (has('avx2') && has('fma')) isas.push('avx2');
  if (has('avx512f')) isas.push('avx512');
  return isas;
}

const shared = {
  exclude: ['**/node_modules/**', 'dist/**', 'build/**', 'build-*/**'],
  // Child processes, not worker threads: a native crash takes down one fork with a clear error,
  // and the addon's own thread pool does not share a process with vitest's workers.
  pool: 'forks' as const,
  testTimeout: 60_000,
  hookTimeout: 60_000,
};

export default defineConfig({
  test: {
    projects: [
      { test: { ...shared, name: 'default', include: ['test/**/*.test.ts'] } },
      ...supportedIsas().map((isa) => ({
        test: { ...shared, name: `isa:${isa}`, include: NUMERIC, env: { FUSED_RNN_ISA: isa } },
      })),
    ],
  },
});
