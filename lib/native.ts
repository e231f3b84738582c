// Loads the compiled addon (native/addon/*.cc -> fused_rnn.node).
//
// Where it looks, in this order:
//   $FUSED_RNN_ADDON                    explicit path to a .node file (e.g. a cmake-js build), used alone
//   <root>/prebuilds/<platform>-<arch>  `npm run prebuild` (prebuildify, N-API, one build for every Node version):
//                                       a matching prebuild wins, as `npm install` then builds nothing
//   <root>/build/Release, build/Debug   `npm install` without a matching prebuild, `npm run build:native`
// (Developers who rebuild with node-gyp after running prebuildify: delete prebuilds/ or use FUSED_RNN_ADDON.)
// <root> is the package folder: this file runs from lib/ (vitest) or dist/ (published), one level down.
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';

/** The raw exports of fused_rnn.node. lib/ wraps every one of them with argument checks. */
export interface NativeAddon { [k: string]: any }

type NodeGypBuild = ((dir: string) => unknown) & { path(dir: string): string };

/** The package folder (holds package.json, build/, prebuilds/). */
export const packageRoot: string = path.join(__dirname, '..');

const requireHere = createRequire(__filename);

function describeDir(dir: string): string {
  let entries: string[];
  try {
    entries = fs.readdirSync(dir);
  } catch {
    return `${dir} (not found)`;
  }
  const nodeFiles = entries.filter((e) => e.endsWith('.node'));
  return nodeFiles.length > 0
    ? `${dir} (has ${nodeFiles.join(', ')}, none matching)`
    : `${dir} (no .node file)`;
}

function loadError(tried: string[], fix: string, cause: unknown): Error {
  const reason = cause instanceof Error ? cause.message.trim() : String(cause);
  return new Error(
    `fused-rnn: could not load the native addon for ${process.platform}-${process.arch} ` +
      `(node ${process.versions.node}, N-API ${process.versions.napi ?? '?'}).\n` +
      `Tried:\n${tried.map((t) => `  ${t}`).join('\n')}\n` +
      `Fix: ${fix}\n` +
      `Cause: ${reason}`,
    { cause },
  );
}

function load(): { addon: NativeAddon; path: string } {
  const explicit = process.env.FUSED_RNN_ADDON;
  if (explicit) {
    const file = path.resolve(explicit);
    try {
      return { addon: requireHere(file) as NativeAddon, path: file };
    } catch (err) {
      throw loadError(
        [`${file} (from FUSED_RNN_ADDON)`],
        'point FUSED_RNN_ADDON at a fused_rnn.node built for this platform, or unset it',
        err,
      );
    }
  }

  const prebuilt = loadPrebuild();
  if (prebuilt) return prebuilt;
  const nodeGypBuild = requireHere('node-gyp-build') as NodeGypBuild;
  const tried = [
    describeDir(path.join(packageRoot, 'build', 'Release')),
    describeDir(path.join(packageRoot, 'build', 'Debug')),
    describeDir(path.join(packageRoot, 'prebuilds', `${process.platform}-${process.arch}`)),
  ];
  const fix =
    `run \`npm install\` or \`npm run build:native\` in ${packageRoot} ` +
    '(building from source needs a C++17 compiler, python3 and make)';
  let file: string;
  try {
    file = nodeGypBuild.path(packageRoot);
  } catch (err) {
    throw loadError(tried, fix, err);
  }
  try {
    return { addon: requireHere(file) as NativeAddon, path: file };
  } catch (err) {
    throw loadError([`${file} (found, failed to load)`], `${fix}; the file may be stale or built for another Node`, err);
  }
}

/** The prebuild for this platform, if one exists and loads (else fall through to build/). */
function loadPrebuild(): { addon: NativeAddon; path: string } | null {
  const dir = path.join(packageRoot, 'prebuilds', `${process.platform}-${process.arch}`);
  let files: string[];
  try {
    files = fs.readdirSync(dir).filter((f) => f.endsWith('.node')).sort();
  } catch {
    return null;
  }
  for (const f of files) {
    const file = path.join(dir, f);
    try {
      return { addon: requireHere(file) as NativeAddon, path: file };
    } catch {
      // Built for another libc or Node ABI: try the next one, then build/.
    }
  }
  return null;
}

const loaded = load();

/** The addon's exports. */
export const native: NativeAddon = loaded.addon;

/** The .node file that was loaded (for info() and bug reports). */
export const addonPath: string = loaded.path;
