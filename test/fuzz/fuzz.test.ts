// Runs the fuzzer (test/fuzz/run.ts) in a child process with a fixed seed and case count:
// FUZZ_RUNS=3000 cases per cheap property (less for the costly ones: 19,350 cases in all,
// 10-20 s on the project machine). A native crash in the child fails this test with the signal
// and the property that was running; a failed property with its counterexample and the
// FUZZ_SEED / FUZZ_ONLY line that replays it (`npm run fuzz` runs longer: FUZZ_RUNS=20000 npm run fuzz).
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { expect, test } from 'vitest';

const root = path.join(__dirname, '..', '..');
const runs = process.env.FUZZ_RUNS ?? '3000';

test(`fuzz every public entry point (seed 20260, FUZZ_RUNS=${runs})`, () => {
  const r = spawnSync(process.execPath, ['-r', path.join(root, 'test/helpers/ts-register.cjs'), path.join(__dirname, 'run.ts')],
    { encoding: 'utf8', timeout: 280_000, env: { ...process.env, FUZZ_RUNS: runs, FUZZ_SEED: process.env.FUZZ_SEED ?? '20260' }, maxBuffer: 64 << 20 });
  const running = (r.stderr ?? '').split('\n').filter((l) => l.startsWith('fuzz: ')).pop() ?? '(none)';
  if (r.signal !== null || (r.status !== 0 && r.status !== 1)) {
    throw new Error(`the fuzzer's process died (signal ${r.signal}, status ${r.status}) while running\n  ${running}\n` +
      `stderr (last lines):\n${(r.stderr ?? '').split('\n').slice(-30).join('\n')}`);
  }
  const report = JSON.parse(r.stdout.trim().split('\n').pop()!) as { cases: number; ms: number; results: { name: string; ok: boolean; runs: number; error?: string }[] };
  console.log(`fuzz: ${report.cases} cases in ${(report.ms / 1000).toFixed(1)} s (${report.results.length} properties)`);
  const failed = report.results.filter((p) => !p.ok).map((p) => `${p.name}: ${p.error}`);
  expect(failed, failed.join('\n\n')).toEqual([]);
  expect(report.cases).toBeGreaterThan(1000);
}, 300_000);
