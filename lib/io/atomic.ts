// Atomic file replacement: readers of `path` see either the old file or the complete new one, never a
// partial write, even if the process dies midway.
//
//   1. write the bytes to a temp file in the same directory: `.${base}.${pid}.${random}.tmp`
//      (same directory = same file system, so the rename below is atomic);
//   2. fsync the temp file (its data is on disk before the rename makes it visible);
//   3. rename it over `path` (atomic on POSIX; on Windows Node's rename replaces the target too);
//   4. fsync the directory, best effort (makes the rename itself durable; not possible on Windows).
// On any error before the rename the temp file is deleted and the old file is left untouched.
// A process killed mid-write (SIGKILL, power loss) cannot delete its temp file: the next write to
// the same path deletes the temp files of `path` whose process is gone (or that are older than
// STALE_TEMP_MS, in case the pid was reused).
//
// The new file gets the default mode (0o666 minus the umask), not the mode of the file it replaces.
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { invalidType } from '../internal/check';

/** A temp file this old is stale whatever its pid says (pids get reused). */
export const STALE_TEMP_MS = 30 * 60 * 1000;

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The temp files of `target` left in its directory, with the pid in their name. */
function tempsOf(target: string, entries: string[]): { file: string; pid: number }[] {
  const re = new RegExp(`^\\.${escapeRegExp(path.basename(target))}\\.(\\d+)\\.[0-9a-f]{12}\\.tmp$`);
  const out: { file: string; pid: number }[] = [];
  for (const e of entries) {
    const m = re.exec(e);
    if (m) out.push({ file: path.join(path.dirname(target), e), pid: Number(m[1]) });
  }
  return out;
}

function pidAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';  // alive, another user's
  }
}

function isStale(pid: number, mtimeMs: number): boolean {
  return !pidAlive(pid) || Date.now() - mtimeMs > STALE_TEMP_MS;
}

/** Deletes the stale temp files of `target` (best effort: errors are ignored). Exported for tests. */
export function removeStaleTemps(target: string): void {
  try {
    for (const t of tempsOf(target, fs.readdirSync(path.dirname(target)))) {
      try {
        if (isStale(t.pid, fs.statSync(t.file).mtimeMs)) fs.unlinkSync(t.file);
      } catch { /* gone already, or not ours to delete */ }
    }
  } catch { /* no directory listing: nothing to clean */ }
}

async function removeStaleTempsAsync(target: string): Promise<void> {
  try {
    for (const t of tempsOf(target, await fsp.readdir(path.dirname(target)))) {
      try {
        if (isStale(t.pid, (await fsp.stat(t.file)).mtimeMs)) await fsp.unlink(t.file);
      } catch { /* gone already, or not ours to delete */ }
    }
  } catch { /* no directory listing: nothing to clean */ }
}

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
  removeStaleTemps(file);
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
  await removeStaleTempsAsync(file);
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

/**
 * `mkdir -p dir`, one level at a time from the nearest existing ancestor. Node's recursive mkdir
 * never settles on some file systems (procfs: mkdir('/proc/x', { recursive: true }) loops), so the
 * parents are checked first and each missing level made with a plain mkdir, whose error names it.
 * @throws (rejects) ENOTDIR when an ancestor is a file; the file system's error otherwise.
 */
export async function ensureDir(dir: string): Promise<void> {
  if (typeof dir !== 'string' || dir.length === 0) throw invalidType('path', 'non-empty string', dir);
  const missing: string[] = [];
  for (let p = path.resolve(dir); ;) {
    let st: fs.Stats;
    try {
      st = await fsp.stat(p);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      missing.push(p);
      const up = path.dirname(p);
      if (up === p) break;
      p = up;
      continue;
    }
    if (!st.isDirectory()) {
      throw Object.assign(new Error(`ENOTDIR: not a directory: '${p}' (making '${dir}')`), { code: 'ENOTDIR', path: p });
    }
    break;
  }
  for (const p of missing.reverse()) {
    try {
      await fsp.mkdir(p);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
}
