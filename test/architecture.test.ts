// The import rules of lib/ (.dependency-cruiser.cjs, ARCHITECTURE.md): no import circles,
// layers know no model or optimizer, file formats know only tensors. A new violation fails here.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { expect, it } from 'vitest';

const root = path.join(__dirname, '..');

it('lib/ keeps its import rules (dependency-cruiser)', () => {
  const cli = path.join(root, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');
  const run = spawnSync(process.execPath, [cli, 'lib', '--config', '.dependency-cruiser.cjs', '--output-type', 'json'], {
    cwd: root, encoding: 'utf8', maxBuffer: 64 << 20,
  });
  expect(run.error).toBeUndefined();
  const report = JSON.parse(run.stdout) as { summary: { violations: { rule: { name: string }; from: string; to: string }[]; totalCruised: number } };
  const violations = report.summary.violations.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`);
  expect(violations).toEqual([]);
  expect(report.summary.totalCruised).toBeGreaterThan(30);  // it really read lib/
});
