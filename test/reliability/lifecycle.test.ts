// Issue 10, defect 2: worker.terminate() while forwardAsync, backwardAsync, an optimizer's
// stepAsync, a Dense matmulAsync or model.predict runs inside that worker used to end the whole
// process (std::terminate from node-addon-api's completion handler during environment teardown).
// The calls run in a child process, so a crash is this test failing with the signal, not a dead runner.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { describe, expect, test } from 'vitest';

const root = path.join(__dirname, '..', '..');
const child = path.join(__dirname, 'children', 'terminate.ts');

function run(...args: string[]) {
  const r = spawnSync(process.execPath, ['-r', path.join(root, 'test/helpers/ts-register.cjs'), child, ...args],
    { encoding: 'utf8', timeout: 120_000 });
  const tail = `${r.stderr ?? ''}${r.stdout ?? ''}`.split('\n').slice(-20).join('\n');
  return { status: r.status, signal: r.signal, tail, stdout: r.stdout };
}

describe('worker threads', () => {
  test('terminating workers in the middle of async native calls, 12 rounds of 4 workers: the process lives', () => {
    const r = run('terminate', '12');
    expect({ status: r.status, signal: r.signal }, r.tail).toEqual({ status: 0, signal: null });
    expect(r.stdout.trim()).toBe('ok');
  }, 120_000);

  test('8 workers load the addon at once and compute what the main thread computes', () => {
    const r = run('many', '8');
    expect({ status: r.status, signal: r.signal }, r.tail).toEqual({ status: 0, signal: null });
  }, 120_000);
});
