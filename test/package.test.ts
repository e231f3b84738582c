// The built package entry points, as a consumer sees them: ESM `import` and CJS `require` of 'fused-rnn' from
// outside the repository, and require() by absolute path. Needs the build output (dist/): without it the suite
// is skipped with a warning saying why, except in CI (process.env.CI), where `npm ci` (prepare: tsc) must have
// built it and a missing dist/ fails.

import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, symlinkSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, '');
const built = existsSync(join(root, 'dist', 'index.js'));
const version: string = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version;

const ci = !!process.env.CI;
if (!built && !ci) {
  console.warn(`[package.test] skipped: ${join(root, 'dist', 'index.js')} is missing; build the package first (dist/ and the addon)`);
}

/** A throwaway consumer project whose node_modules/fused-rnn links to this repository. */
function consumerDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'fused-rnn-consumer-'));
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(root, join(dir, 'node_modules', 'fused-rnn'), 'dir');
  return dir;
}

function runNode(args: string[], cwd: string): { stdout: string; stderr: string; status: number | null } {
  const r = spawnSync(process.execPath, args, { cwd, encoding: 'utf8', timeout: 60_000 });
  return { stdout: r.stdout, stderr: r.stderr, status: r.status };
}

// Both snippets build a layer, run forward, and print what a consumer would look at.
const body = `
const layer = new LSTM({ inputSize: 3, hiddenSize: 4, seed: 1 });
const x = tensor(new Float32Array(2 * 5 * 3).fill(0.5), [5, 2, 3]);
const r = layer.forward(x);
console.log(JSON.stringify({ shape: r.output.shape, hN: r.hN.shape, finite: Array.from(r.output.data).every(Number.isFinite),
  gru: typeof GRU, rnn: typeof RNN, info: info() }));
`;

function parseLast(stdout: string) {
  const lines = stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]);
}

function expectConsumerResult(r: { stdout: string; stderr: string; status: number | null }): void {
  expect(r.status, `node exited with ${r.status}\nstderr: ${r.stderr}`).toBe(0);
  const out = parseLast(r.stdout);
  expect(out.shape).toEqual([5, 2, 4]);
  expect(out.hN).toEqual([1, 2, 4]);
  expect(out.finite).toBe(true);
  expect(out.gru).toBe('function');
  expect(out.rnn).toBe('function');
  expect(out.info.version).toBe(version);
}

describe.skipIf(!built && !ci)('package entry points (needs dist/ from the build)', () => {
  it('dist/index.js exists (in CI, npm ci -> prepare -> tsc builds it)', () => {
    expect(built, `${join(root, 'dist', 'index.js')} is missing`).toBe(true);
  });

  it("ESM: import { LSTM } from 'fused-rnn'", () => {
    const dir = consumerDir();
    try {
      const r = runNode(['--input-type=module', '-e', `import { LSTM, GRU, RNN, tensor, info } from 'fused-rnn';\n${body}`], dir);
      expectConsumerResult(r);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("CJS: require('fused-rnn')", () => {
    const dir = consumerDir();
    try {
      const r = runNode(['-e', `const { LSTM, GRU, RNN, tensor, info } = require('fused-rnn');\n${body}`], dir);
      expectConsumerResult(r);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('CJS: require() by absolute path from an unrelated directory', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fused-rnn-abs-'));
    try {
      const r = runNode(['-e', `const { LSTM, GRU, RNN, tensor, info } = require(${JSON.stringify(root)});\n${body}`], dir);
      expectConsumerResult(r);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // (Node's CommonJS interop re-exports the __esModule marker as a named ESM export; it is not API.)
  it('ESM and CJS entries expose the same names', () => {
    const dir = consumerDir();
    try {
      const esm = runNode(['--input-type=module', '-e', `import * as m from 'fused-rnn'; console.log(JSON.stringify(Object.keys(m).filter((k) => k !== 'default' && k !== '__esModule').sort()));`], dir);
      const cjs = runNode(['-e', `console.log(JSON.stringify(Object.keys(require('fused-rnn')).filter((k) => k !== 'default' && k !== '__esModule').sort()));`], dir);
      expect(esm.status, esm.stderr).toBe(0);
      expect(cjs.status, cjs.stderr).toBe(0);
      const e = parseLast(esm.stdout) as string[];
      expect(e).toEqual(expect.arrayContaining(['LSTM', 'GRU', 'RNN', 'tensor', 'info']));
      expect(e).toEqual(parseLast(cjs.stdout));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('type declarations are emitted (dist/index.d.ts)', () => {
    expect(existsSync(join(root, 'dist', 'index.d.ts'))).toBe(true);
  });
});
