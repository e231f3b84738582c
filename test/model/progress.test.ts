// fit({ verbose }): a live bar per epoch on a terminal (a pseudo-terminal from util-linux's
// `script`), one line per epoch through a pipe or with verbose 2, nothing with 0.
import { execFileSync, spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { describe, expect, test } from 'vitest';
import { fitProgress } from '../../lib/model/progress';

const root = path.join(__dirname, '..', '..');
const child = path.join(__dirname, 'children', 'verbose_fit.ts');
const command = (verbose: number) => [process.execPath, '-r', path.join(root, 'test/helpers/ts-register.cjs'), child, String(verbose)];
const EPOCH_LINE = /^Epoch (\d)\/3 - 9 updates - \d+\.\ds - [\d.]+ updates\/s - loss: \d\.\d{4} - accuracy: \d\.\d{4} - valLoss: \d\.\d{4} - valAccuracy: \d\.\d{4}$/;

function viaPipe(verbose: number): string {
  const [node, ...args] = command(verbose);
  const r = spawnSync(node, args, { encoding: 'utf8', timeout: 60_000 });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
}

/** Runs the child on a pseudo-terminal: its stdout is a TTY. */
function viaTerminal(verbose: number): string {
  const quoted = command(verbose).map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
  return execFileSync('script', ['-qec', quoted, '/dev/null'], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, COLUMNS: '200' } });
}

const hasScript = spawnSync('script', ['--version']).status === 0;

describe('fit verbose', () => {
  test('off a terminal, verbose 1 and 2 print one line per epoch; 0 prints nothing', () => {
    for (const v of [1, 2]) {
      const lines = viaPipe(v).split('\n');
      expect(lines.slice(0, 3).map((l) => EPOCH_LINE.exec(l)?.[1])).toEqual(['1', '2', '3']);
      expect(lines.slice(3)).toEqual(['done', '']);
    }
    expect(viaPipe(0)).toBe('done\n');
  }, 60_000);

  test.skipIf(!hasScript)('on a terminal, verbose 1 draws a bar per epoch, redrawn in place, ending with the epoch\'s values', () => {
    const out = viaTerminal(1);
    expect(out).toContain('\x1b[1G');  // cli-progress returns to column 1 to redraw
    for (let e = 1; e <= 3; e++) {
      const redraws = out.split('\x1b[1G').filter((s) => s.startsWith(`Epoch ${e}/3 `));
      expect(redraws.length, `epoch ${e}`).toBeGreaterThanOrEqual(2);
      expect(redraws[0]).toMatch(/^Epoch \d\/3 0\/9 \[\.{24}\] - ETA/);
      expect(redraws.at(-1)).toMatch(/^Epoch \d\/3 9\/9 \[={24}\] - \d+s - [\d.]+ updates\/s - loss: \d\.\d{4} - accuracy: \d\.\d{4} - valLoss: \d\.\d{4} - valAccuracy: \d\.\d{4}/);
    }
    expect(out.trimEnd().endsWith('done')).toBe(true);
  }, 60_000);

  test.skipIf(!hasScript)('on a terminal, verbose 2 prints plain lines', () => {
    const lines = viaTerminal(2).split(/\r?\n/);
    expect(lines.slice(0, 3).map((l) => EPOCH_LINE.exec(l)?.[1])).toEqual(['1', '2', '3']);
    expect(lines[3]).toBe('done');
  }, 60_000);
});

describe('fitProgress', () => {
  const sink = (isTTY: boolean) => {
    const stream = { text: '', isTTY, columns: 200, write(s: string) { this.text += s; return true; } };
    return stream;
  };

  test('the line reporter writes the epoch line with every given value, small ones in exponent form', () => {
    const s = sink(false);
    const p = fitProgress(2, { epochs: 10, stream: s })!;
    p.epochStart(2, 5);
    p.batchEnd(5, 7, { loss: 0.5 });
    p.epochEnd({ loss: 0.00012346, mae: 1.5, valLoss: undefined });
    expect(s.text).toMatch(/^Epoch 3\/10 - 7 updates - \d+\.\ds - [\d.]+ updates\/s - loss: 1\.235e-4 - mae: 1\.5000\n$/);
  });

  test('a bar with an unknown batch count shows the batches done; close() ends an open bar once', () => {
    const s = sink(true);
    const p = fitProgress(1, { epochs: 2, stream: s })!;
    p.epochStart(0, null);
    p.batchEnd(4, 4, { loss: 2 });
    p.close();
    p.close();
    expect(s.text).toMatch(/Epoch 1\/2 4 batches - \d+s - [\d.]+ updates\/s - loss: 2\.0000/);
    expect(s.text.endsWith('\n')).toBe(true);
  });

  test('verbose 0 gives no reporter; other values are refused', () => {
    expect(fitProgress(0, { epochs: 1 })).toBeNull();
    expect(() => fitProgress(3 as 1, { epochs: 1 })).toThrow(RangeError);
    expect(() => fitProgress(true as unknown as 1, { epochs: 1 })).toThrow(TypeError);
  });
});
