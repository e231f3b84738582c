// Every example in examples/ (README, "Examples") run as a user runs it, in its quick mode
// (EXAMPLE_QUICK=1: seconds each), and what it prints checked. The examples require 'fused-rnn'
// (the package's own name, resolved to dist/), so the suite needs the build like test/package.test.ts:
// skipped with a warning without dist/, except in CI, where a missing build fails.
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');
const built = existsSync(join(root, 'dist', 'cli', 'main.js'));
const ci = !!process.env.CI;
if (!built && !ci) console.warn('[examples.test] skipped: dist/ is missing; build with npm run build:ts');

// The PyTorch half of the round trip runs where a python3 with torch is found (Debian: python3-torch).
const python = ['/usr/bin/python3', 'python3'].find((p) => spawnSync(p, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0) ?? null;

function example(file: string, ...args: string[]): string {
  const r = spawnSync(process.execPath, [join(root, 'examples', file), ...args], {
    cwd: root, encoding: 'utf8', timeout: 90_000, env: { ...process.env, EXAMPLE_QUICK: '1', FUSED_RNN_NUM_THREADS: '1' },
  });
  expect(r.status, `${file}: ${r.stderr}`).toBe(0);
  return r.stdout;
}

describe.skipIf(!built && !ci)('examples (quick mode)', () => {
  it('memory-cell.js: the gates and the cell at each step, the seed\'s outputs', () => {
    const out = example('memory-cell.js');
    const rows = out.split('\n').filter((l) => /^ *\d+ +\[/.test(l));
    expect(rows).toHaveLength(7);
    const y = rows.map((l) => Math.round(Number(l.trim().split(/\s+/).pop())));
    expect(y).toEqual([0, 0, 0, 7, 0, 0, 6]);
    const c = rows.map((l) => Number(l.trim().split(/\s+/).at(-2)));
    expect(c[1]).toBeCloseTo(7, 3);   // 3 + 4 summed
    expect(c[4]).toBeCloseTo(0, 3);   // forgotten at x2 = -1
  });

  it('gradients.js: the linear RNN matches w^999 and 999 w^998; the picture is written', () => {
    const out = example('gradients.js');
    for (const [w, y, dw] of [[0.99, 0.99 ** 999, 999 * 0.99 ** 998], [1.01, 1.01 ** 999, 999 * 1.01 ** 998]]) {
      const m = new RegExp(`w = ${w.toFixed(2)}: y_T = (\\S+) .*dy_T/dw = (\\S+) `).exec(out)!;
      expect(Math.abs(Number(m[1]) / y - 1)).toBeLessThan(1e-3);
      expect(Math.abs(Number(m[2]) / dw - 1)).toBeLessThan(1e-3);
    }
    expect(out).toMatch(/picture: examples\/output\/gradients\.svg/);
    expect(readFileSync(join(root, 'examples', 'output', 'gradients.svg'), 'utf8')).toMatch(/^<svg/);
  });

  it('forecast.js: the LSTM beats both naive baselines on held-out steps', () => {
    const out = example('forecast.js');
    const mae = (label: RegExp) => Number(label.exec(out)![1]);
    const lstm = mae(/LSTM\(32\)\s+([0-9.]+)/), last = mae(/last value\s+([0-9.]+)/), seasonal = mae(/24 steps ago\s+([0-9.]+)/);
    expect(lstm).toBeLessThan(last);
    expect(lstm).toBeLessThan(seasonal);
  });

  it('classify.js: a bidirectional GRU on variable-length sequences beats guessing', () => {
    const out = example('classify.js');
    const [, acc, base] = /held-out accuracy ([0-9.]+)%.*commoner class: ([0-9.]+)%/.exec(out)!;
    expect(Number(acc)).toBeGreaterThan(Number(base) + 20);
  });

  it.skipIf(!python)('pytorch/roundtrip: fused-rnn -> PyTorch (same output) -> trained -> fused-rnn (same output)', () => {
    expect(example('pytorch/roundtrip.js')).toMatch(/wrote .*model\.safetensors/);
    const py = spawnSync(python!, [join(root, 'examples', 'pytorch', 'roundtrip.py'), join(root, 'examples', 'output', 'pytorch')], { cwd: root, encoding: 'utf8', timeout: 90_000 });
    expect(py.status, py.stderr).toBe(0);
    expect(Number(/fused-rnn's output (\S+)/.exec(py.stdout)![1])).toBeLessThan(1e-6);
    const back = example('pytorch/roundtrip.js', '--back');
    expect(Number(/PyTorch's output (\S+)/.exec(back)![1])).toBeLessThan(1e-6);
  });

  it('start.js (npm start): trains on Moby-Dick, samples, writes the loss picture', () => {
    const out = example('start.js');
    expect(out).toMatch(/training a char language model \(78 tokens\)/);
    expect(out).toMatch(/stopped by --max-time after [1-9]\d* updates/);
    // After the heading's blank line: the prime, 80 sampled characters (which may end in
    // whitespace, so no trim), and the newline `sample` ends with.
    const sample = out.split('A sample (temperature 0.7):\n\n')[1];
    expect(sample.startsWith('Call me')).toBe(true);
    expect(sample.endsWith('\n')).toBe(true);
    expect([...sample.slice(0, -1)].length).toBe('Call me'.length + 80);
    expect(existsSync(join(root, 'examples', 'output', 'moby-dick', 'loss.svg'))).toBe(true);
  });
});
