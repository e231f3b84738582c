// Issue 10, defect 8: a save killed mid-write (SIGKILL) leaves its temp file
// (`.<name>.<pid>.<random>.tmp` next to the target); the next save to that path deletes it. Temp
// files of live processes are kept unless older than STALE_TEMP_MS.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, test } from 'vitest';
import { removeStaleTemps, STALE_TEMP_MS, tempPathFor, writeFileAtomic, writeFileAtomicAsync } from '../../lib/io/atomic';
import { Dense, Sequential } from '../../lib/index';

const root = path.join(__dirname, '..', '..');
const temps = (dir: string) => fs.readdirSync(dir).filter((f) => f.endsWith('.tmp'));

function killedSave(target: string) {
  const r = spawnSync(process.execPath, ['-r', path.join(root, 'test/helpers/ts-register.cjs'),
    path.join(__dirname, 'children', 'killed_save.ts'), target], { encoding: 'utf8', timeout: 60_000 });
  expect(r.signal, r.stderr).toBe('SIGKILL');
}

describe('temp files of killed saves', () => {
  test('a SIGKILLed save leaves its temp file; the next save to the path removes it', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'frnn-stale-'));
    const target = path.join(dir, 'model.safetensors');
    killedSave(target);
    const first = temps(dir);
    expect(first.length).toBe(1);
    expect(first[0]).toMatch(/^\.model\.safetensors\.\d+\.[0-9a-f]{12}\.tmp$/);
    killedSave(target);  // its own start removed the first one's temp, then it left its own
    const left = temps(dir);
    expect(left.length).toBe(1);
    expect(left[0]).not.toBe(first[0]);
    // Another file's temp of a dead process is not this path's business.
    const otherTemp = path.join(dir, path.basename(left[0]).replace('.model.safetensors.', '.other.bin.'));
    fs.copyFileSync(path.join(dir, left[0]), otherTemp);
    await writeFileAtomicAsync(target, new Uint8Array([1, 2, 3]));
    expect(temps(dir)).toEqual([path.basename(otherTemp)]);
    writeFileAtomic(path.join(dir, 'other.bin'), new Uint8Array([4]));
    expect(temps(dir)).toEqual([]);
    expect([...fs.readFileSync(target)]).toEqual([1, 2, 3]);
  }, 120_000);

  test("live processes' temp files are kept unless older than STALE_TEMP_MS", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'frnn-stale-'));
    const target = path.join(dir, 'x.bin');
    const mine = tempPathFor(target);  // this process: alive, maybe mid-write
    const init = path.join(dir, `.x.bin.1.${'a'.repeat(12)}.tmp`);  // pid 1 is alive
    fs.writeFileSync(mine, 'a');
    fs.writeFileSync(init, 'b');
    removeStaleTemps(target);
    expect(temps(dir).sort()).toEqual([path.basename(init), path.basename(mine)].sort());
    const old = (Date.now() - STALE_TEMP_MS - 60_000) / 1000;
    fs.utimesSync(init, old, old);
    removeStaleTemps(target);
    expect(temps(dir)).toEqual([path.basename(mine)]);
    fs.unlinkSync(mine);
  });

  test('model.save cleans the temp files a killed model.save left', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'frnn-stale-'));
    fs.writeFileSync(path.join(dir, '.model.safetensors.999999999.0123456789ab.tmp'), 'partial');
    fs.writeFileSync(path.join(dir, '.config.json.999999999.0123456789ab.tmp'), 'partial');
    await new Sequential([new Dense({ units: 1, inputSize: 1, seed: 1 })]).save(dir);
    expect(temps(dir)).toEqual([]);
  });
});
