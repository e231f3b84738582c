// Atomic file replacement: readers of `path` see either the old file or the complete new one, never a
// partial write, even if the process dies midway.
//
//   1. write the bytes to a temp file in the same directory: `.${base}.${pid}.${random}.tmp`
//      (same directory = same file system, so the rename below is atomic);
//   2. fsync the temp file (its data is on disk before the rename makes it visible);
//   3. rename it over `path` (atomic on POSIX; on Windows Node's rename replaces the target too);
//   4. fsync the directory, best effort (makes the rename itself durable; not possible on Windows).
// On any error before the rename the temp file is deleted and the old file is left untouched.
//
// The new file gets the default mode (0o666 minus the umask), not the mode of the file it replaces.
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { invalidType } from '../internal/check';

/** The temp file name used next to `target`. Exported for tests. */
export function tempPathFor(target: string): string {
  const dir = path.dirname(target);
  const base = path.basename(target);
  return path.join(dir, `.${base}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
}

function checkArgs(file: unknown, bytes: unknown): void {
  if (typeof file !== 'string' || file.length === 0) throw invalidType('path', 'non-empty string', file);
  if (!(bytes instanceof Uint8Array)) throw invalidType('bytes', 'Uint8Array', bytes);
}

function fsyncDirSync(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // Best effort: directories cannot be opened or fsynced on some platforms (Windows).
  } finally {
    if (fd !== undefined) {
      try { fs.closeSync(fd); } catch { /* ignore */ }
    }
  }
}

async function fsyncDir(dir: string): Promise<void> {
  let handle: fsp.FileHandle | undefined;
  try {
    handle = await fsp.open(dir, 'r');
    await handle.sync();
  } catch {
    // Best effort, as in fsyncDirSync.
  } finally {
    if (handle !== undefined) await handle.close().catch(() => undefined);
  }
}

/**
 * Writes `bytes` to `file` atomically: after a crash or an error the file holds either its old
 * content (or does not exist, if it did not) or all of `bytes`.
 * @example writeFileAtomic('model.safetensors', encodeSafetensors(dict))
 * @throws TypeError for a bad path or bytes; the file system's error (ENOENT, EACCES, ENOSPC...)
 *   otherwise, after deleting the temp file.
 */
export function writeFileAtomic(file: string, bytes: Uint8Array): void {
  checkArgs(file, bytes);
  const tmp = tempPathFor(file);
  let fd: number | undefined;
  try {
    fd = fs.openSync(tmp, 'wx');
    for (let done = 0; done < bytes.length;) {
      done += fs.writeSync(fd, bytes, done, bytes.length - done);
    }
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(tmp, file);
  } catch (err) {
    if (fd !== undefined) {
      try { fs.closeSync(fd); } catch { /* ignore */ }
    }
    try { fs.unlinkSync(tmp); } catch { /* it may not exist */ }
    throw err;
  }
  fsyncDirSync(path.dirname(file));
}

/**
 * The asynchronous writeFileAtomic(), on node:fs/promises.
 * @example await writeFileAtomicAsync('model.safetensors', encodeSafetensors(dict))
 * @throws (rejects) as writeFileAtomic().
 */
export async function writeFileAtomicAsync(file: string, bytes: Uint8Array): Promise<void> {
  checkArgs(file, bytes);
  const tmp = tempPathFor(file);
  let handle: fsp.FileHandle | undefined;
  try {
    handle = await fsp.open(tmp, 'wx');
    for (let done = 0; done < bytes.length;) {
      const { bytesWritten } = await handle.write(bytes, done, bytes.length - done);
      done += bytesWritten;
    }
    await handle.sync();
    await handle.close();
    handle = undefined;
    await fsp.rename(tmp, file);
  } catch (err) {
    if (handle !== undefined) await handle.close().catch(() => undefined);
    await fsp.unlink(tmp).catch(() => undefined);
    throw err;
  }
  await fsyncDir(path.dirname(file));
}
