// The shipped types compile for users on the oldest supported TypeScript (5.0, package.json's
// `typescript-5.0` devDependency): lib/ is compiled to declarations as `npm run build:ts` does,
// then every emitted .d.ts and a user's file (consumer.ts) are type-checked by TypeScript 5.0.
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expect, test } from 'vitest';

const root = path.join(__dirname, '..', '..');
const tsc50 = path.join(root, 'node_modules', 'typescript-5.0', 'bin', 'tsc');
const tscProject = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');

/** Type-checks `files` with TypeScript 5.0 as a user's strict project (skipLibCheck off, no @types/node:
 * today's needs TS 5.7, and the package's types must not need Node's; lib dom gives AbortSignal). */
function check50(dir: string, files: string[], paths: Record<string, string[]> = {}): { status: number | null; out: string } {
  const config = { compilerOptions: { strict: true, noEmit: true, target: 'es2022', lib: ['es2022', 'dom'], module: 'node16',
    moduleResolution: 'node16', types: [], skipLibCheck: false, paths }, files };
  fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify(config));
  const r = spawnSync(process.execPath, [tsc50, '-p', dir], { encoding: 'utf8' });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

test('TypeScript 5.0 compiles every shipped .d.ts and a user file against them', () => {
  expect(execFileSync(process.execPath, [tsc50, '--version'], { encoding: 'utf8' }).trim()).toBe('Version 5.0.4');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fused-rnn-dts-'));
  const out = path.join(dir, 'dist');
  execFileSync(process.execPath, [tscProject, '-p', path.join(root, 'tsconfig.json'), '--emitDeclarationOnly', '--declarationMap', 'false',
    '--sourceMap', 'false', '--outDir', out], { encoding: 'utf8' });
  const dts: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(path.join(d, e.name));
      else if (e.name.endsWith('.d.ts')) dts.push(path.join(d, e.name));
    }
  };
  walk(out);
  expect(dts.length).toBeGreaterThan(20);
  const r = check50(dir, [...dts, path.join(__dirname, 'consumer.ts')], { 'fused-rnn': [path.join(out, 'index.d.ts')] });
  expect(r.out).toBe('');
  expect(r.status).toBe(0);
}, 120_000);

test('the check can fail: TypeScript 5.0 refuses the typed-array generics of 5.7', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fused-rnn-dts-'));
  fs.writeFileSync(path.join(dir, 'probe.d.ts'), 'export declare function f(): Float32Array<ArrayBuffer>;\n');
  const r = check50(dir, [path.join(dir, 'probe.d.ts')]);
  expect(r.out).toMatch(/TS2315: Type 'Float32Array' is not generic/);
});
