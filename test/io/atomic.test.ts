// lib/io/atomic.ts: the target holds either its old content or the complete new content, and no temp file is
// left behind, whatever step fails. Failures are injected by wrapping node:fs and node:fs/promises (pass-through
// unless a test arms a fault), plus real ones (target is a directory, missing directory).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

const fault = vi.hoisted(() => ({ step: '' as '' | 'write' | 'fsync' | 'rename' | 'open', calls: 0 }));

function boom(step: string): Error {
  return Object.assign(new Error(`injected ${step} failure`), { code: 'EIO' });
}

vi.mock('node:fs', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs')>();
  return {
    ...real,
    openSync: (...a: Parameters<typeof real.openSync>) => {
      if (fault.step === 'open') throw boom('open');
      return real.openSync(...a);
    },
    writeSync: (fd: number, buf: Uint8Array, off: number, len: number) => {
      if (fault.step === 'write' && fault.calls++ > 0) throw boom('write');
      // The first call writes half, so the failure comes after a partial write.
      return real.writeSync(fd, buf, off, fault.step === 'write' ? Math.ceil(len / 2) : len);
    },
    fsyncSync: (fd: number) => {
      if (fault.step === 'fsync') throw boom('fsync');
      return real.fsyncSync(fd);
    },
    renameSync: (a: fs.PathLike, b: fs.PathLike) => {
      if (fault.step === 'rename') throw boom('rename');
      return real.renameSync(a, b);
    },
  };
});

vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  return {
    ...real,
    open: async (...a: Parameters<typeof real.open>) => {
      if (fault.step === 'open') throw boom('open');
      const handle = await real.open(...a);
      if (fault.step === 'write' || fault.step === 'fsync') {
        const write = handle.write.bind(handle) as (b: Uint8Array, o: number, l: number) => Promise<{ bytesWritten: number }>;
        Object.assign(handle, {
          write: async (b: Uint8Array, o: number, l: number) => {
            if (fault.step === 'write' && fault.calls++ > 0) throw boom('write');
            return write(b, o, fault.step === 'write' ? Math.ceil(l / 2) : l);
          },
          sync: async () => {
            if (fault.step === 'fsync') throw boom('fsync');
          },
        });
      }
      return handle;
    },
    rename: async (a: fs.PathLike, b: fs.PathLike) => {
      if (fault.step === 'rename') throw boom('rename');
      return real.rename(a, b);
    },
  };
});

const { writeFileAtomic, writeFileAtomicAsync, tempPathFor } = await import('../../lib/io/atomic');

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'frnn-atomic-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
beforeEach(() => {
  fault.step = '';
  fault.calls = 0;
});
afterEach(() => {
  expect(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp')), 'temp files left behind').toEqual([]);
});

const OLD = new TextEncoder().encode('old content');
const NEW = Uint8Array.from({ length: 100_000 }, (_, i) => (i * 31) & 255);

const variants = [
  ['writeFileAtomic', async (p: string, b: Uint8Array) => writeFileAtomic(p, b)],
  ['writeFileAtomicAsync', writeFileAtomicAsync],
] as const;

describe.each(variants)('%s', (_name, write) => {
  it('creates a file, then replaces it whole', async () => {
    const p = path.join(dir, `create-${_name}.bin`);
    await write(p, OLD);
    expect(fs.readFileSync(p).equals(Buffer.from(OLD))).toBe(true);
    await write(p, NEW);
    expect(fs.readFileSync(p).equals(Buffer.from(NEW))).toBe(true);
    await write(p, new Uint8Array(0));
    expect(fs.readFileSync(p).length).toBe(0);
  });

  it.each(['open', 'write', 'fsync', 'rename'] as const)('leaves the old file when %s fails', async (step) => {
    const p = path.join(dir, `fail-${step}-${_name}.bin`);
    fs.writeFileSync(p, OLD);
    fault.step = step;
    await expect(write(p, NEW)).rejects.toThrow(`injected ${step} failure`);
    fault.step = '';
    expect(fs.readFileSync(p).equals(Buffer.from(OLD))).toBe(true);
  });

  it('leaves no file when there was none and the write fails', async () => {
    const p = path.join(dir, `none-${_name}.bin`);
    fault.step = 'rename';
    await expect(write(p, NEW)).rejects.toThrow('injected rename failure');
    fault.step = '';
    expect(fs.existsSync(p)).toBe(false);
  });

  it('real failures: the target is a non-empty directory, or the directory does not exist', async () => {
    const target = path.join(dir, `is-a-dir-${_name}`);
    fs.mkdirSync(target);
    fs.writeFileSync(path.join(target, 'keep'), OLD);
    await expect(write(target, NEW)).rejects.toThrow(/EISDIR|ENOTEMPTY|EEXIST|EPERM/);
    expect(fs.readFileSync(path.join(target, 'keep')).equals(Buffer.from(OLD))).toBe(true);
    await expect(write(path.join(dir, 'no-such-dir', 'x.bin'), NEW)).rejects.toThrow(/ENOENT/);
  });

  it('checks its arguments', async () => {
    await expect(write('', NEW)).rejects.toThrow(/^Expected non-empty string for path but received '' of type string$/);
    await expect(write(path.join(dir, 'x'), [1, 2] as never)).rejects.toThrow(/^Expected Uint8Array for bytes but received \[1, 2\]$/);
  });
});

describe('tempPathFor', () => {
  it('is a hidden file in the same directory, named after the target, the pid and a random part', () => {
    const a = tempPathFor('/some/dir/model.safetensors');
    const b = tempPathFor('/some/dir/model.safetensors');
    expect(path.dirname(a)).toBe('/some/dir');
    expect(path.basename(a)).toMatch(new RegExp(`^\\.model\\.safetensors\\.${process.pid}\\.[0-9a-f]{12}\\.tmp$`));
    expect(a).not.toBe(b);
  });
});
