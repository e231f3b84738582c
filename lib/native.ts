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

/** Matches native ParamKind (native/include/fused_rnn.h). */
export const ParamKind = { W: 0, R: 1, BiasW: 2, BiasR: 3, Peephole: 4, Proj: 5 } as const;
export type ParamKind = (typeof ParamKind)[keyof typeof ParamKind];

/** One tensor of a recurrent layer's flat parameter buffer. */
export interface ParamEntry {
  kind: ParamKind;
  layer: number;
  direction: number;
  offset: number;
  rows: number;
  cols: number;
}

type F32 = Float32Array;
type OptF32 = Float32Array | null;

/** Number format of a recurrent layer's matrix products (README, Precision). */
export type Precision = 'fp32' | 'bf16' | 'int8';
/** The precisions the kernels run: on this CPU's own instructions, or through the portable code (same bits). */
export interface PrecisionsInfo {
  native: Precision[];
  portable: Precision[];
  /** The micro-kernel of bf16 products, e.g. frnn_bf16_gemm_ukernel_8x32__avx512bf16. */
  bf16Kernel: string;
  /** The micro-kernel of int8 products, e.g. frnn_int8_gemm_ukernel_8x32__avx512vnni. */
  int8Kernel: string;
}

/** forward(): outputs are written into `output`, `hN`, `cN`; `saved` (training) receives the record.
 * `precision` (default 'fp32') of the products; 'int8' is inference only (the library refuses a training call).
 * `packVersion` (inference): the version `params` holds (WeightStore.versionOf); the addon then packs
 * them once for that (version, precision) and keeps the pack across calls (async inference, steps). */
export type RnnForwardArgs = [params: F32, x: F32, T: number, B: number, batchFirst: boolean, lengths: Int32Array | null,
  h0: OptF32, c0: OptF32, output: F32, hN: F32, cN: OptF32, saved: OptF32, precision?: Precision,
  packVersion?: number | null];
/** backward(): weight gradients accumulate into `grads`. `precision`: the training forward's (bf16: mixed precision). */
export type RnnBackwardArgs = [params: F32, x: F32, T: number, B: number, batchFirst: boolean, lengths: Int32Array | null,
  h0: OptF32, c0: OptF32, saved: F32, dy: OptF32, dhN: OptF32, dcN: OptF32, dx: OptF32, dh0: OptF32, dc0: OptF32, grads: F32,
  precision?: Precision];

/** The addon's handle of one layer configuration (native/addon/rnn_binding.cc). */
export interface NativeRnn {
  paramLayout(): ParamEntry[];
  paramCount(): number;
  savedSize(T: number, B: number): number;
  forward(...args: RnnForwardArgs): void;
  forwardAsync(...args: RnnForwardArgs): Promise<void>;
  backward(...args: RnnBackwardArgs): void;
  backwardAsync(...args: RnnBackwardArgs): Promise<void>;
  /** Weight packs the handle's cache has made (streaming calls hit it; for tests). */
  packsMade(): number;
}

/** c[m×n] (+)= op(a)·op(b), row-major (native/addon/math_binding.cc). */
export type MatmulArgs = [transA: boolean, transB: boolean, m: number, n: number, k: number, a: F32, b: F32, c: F32, accumulate: boolean];
/** One optimizer update of every parameter (native/addon/optim_binding.cc). */
export type OptimizerStepArgs = [kind: string, hyper: object, step: number, params: F32[], grads: F32[], states: F32[][],
  gradScale: number, clipValue: number, fresh?: boolean[] | null];

/** The exports of fused_rnn.node: positional, checked again natively. lib/ checks every argument first. */
export interface NativeAddon {
  NativeRnn: new (config: object) => NativeRnn;
  info(): { isa: 'avx512' | 'avx2' | 'neon' | 'scalar'; threads: number; precisions: PrecisionsInfo };
  setNumThreads(n: number): void;
  matmul(...args: MatmulArgs): void;
  matmulAsync(...args: MatmulArgs): Promise<void>;
  /** Returns [lossSum, correct]. */
  softmaxCrossEntropy(logits: F32, rows: number, classes: number, targets: F32, valid: Uint8Array | null,
    gradScale: number, grad: F32): [number, number];
  optimizerStep(...args: OptimizerStepArgs): void;
  optimizerStepAsync(...args: OptimizerStepArgs): Promise<void>;
  optimizerStateNames(kind: string, hyper: object): string[];
  sumSquares(arrays: F32[]): number;
}

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

/** Whether that file is a prebuild shipped in the package (prebuilds/) or built on this machine. */
export const addonBuild: 'prebuild' | 'source' =
  path.relative(path.join(packageRoot, 'prebuilds'), addonPath).startsWith('..') ? 'source' : 'prebuild';
