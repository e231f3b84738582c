// Every js/ts/sh/bash code block of README.md, run as a reader would run it, in a quick mode.
// - js/ts blocks: compiled with @swc/core (types stripped, nothing else) and run as an ES module in
//   a scratch project whose node_modules/fused-rnn is this repository (dist/, the built package).
//   Many blocks use the reader's own data (`sequences`, `x`, `net.onnx`); PRELUDES supplies it,
//   keyed by a phrase of the block, as small as possible, and the block's text runs unchanged.
// - sh blocks: each `fused-rnn ...` line runs the built bin with flags appended that shrink it
//   (last flag wins: fewer epochs, a small model, a time limit), in order, in the same scratch
//   project (`book.txt`, `series.csv`, `new.csv` are the reader's files, made here); `node
//   examples/...` with EXAMPLE_QUICK=1; `npm start` is checked to be examples/start.js, which
//   examples.test.ts runs. Lines that cannot run here are in SKIPPED with the reason.
// A block or line that matches none of this fails the suite: README and this file stay in step.
// Needs dist/ (npm ci builds it): skipped with a warning without it, except in CI.
import { describe, it, expect, afterAll, beforeAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { transformSync } from '@swc/core';

const root = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');
const bin = join(root, 'dist', 'cli', 'main.js');
const built = existsSync(bin);
const ci = !!process.env.CI;
if (!built && !ci) console.warn('[readme.test] skipped: dist/ is missing; build with npm run build:ts');

interface Block { lang: string; line: number; code: string }

/** The fenced blocks of a Markdown text (indented fences too: list items hold some). */
export function codeBlocks(markdown: string): Block[] {
  const blocks: Block[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^( *)```(\w*)\s*$/.exec(lines[i]);
    if (!open) continue;
    const indent = open[1].length, start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^ *```\s*$/.test(lines[i]); i++) body.push(lines[i].slice(indent));
    blocks.push({ lang: open[2], line: start + 1, code: body.join('\n') + '\n' });
  }
  return blocks;
}

/** The reader's data for blocks that use it, keyed by a phrase only that block has. */
const PRELUDES: { phrase: string; code: string; files?: Record<string, string> }[] = [
  {
    phrase: 'tokenStream(ids',  // "Training models": sequences and targets, a token stream
    code: `
      const sequences = Array.from({ length: 64 }, (_s, n) => Array.from({ length: 5 + (n % 8) }, (_t, t) => [Math.sin(n + t), (n + t) % 2]));
      const targets = sequences.map((s) => [s.reduce((a, step) => a + step[0] * step[1], 0)]);
      const vocab = 20;
      const ids = Array.from({ length: 32 * 70 + 1 }, (_v, i) => (i * 7) % vocab);`,
  },
  {
    phrase: "readBatches('train.jsonl')",  // data that does not fit in memory: a loader of batches
    code: `
      import { Adam as Adam_, Dense as Dense_, LSTM as LSTM_, Sequential as Sequential_ } from 'fused-rnn';
      const model = new Sequential_([new LSTM_({ inputSize: 2, hiddenSize: 8, returnSequences: false, seed: 1 }), new Dense_({ units: 1 })]);
      const optimizer = new Adam_({ lr: 1e-3 });
      async function* readBatches(_file) {
        for (let k = 0; k < 3; k++) yield { x: Array.from({ length: 4 }, () => Array.from({ length: 6 }, (_t, t) => [k, t])), y: Array.from({ length: 4 }, () => [k]) };
      }`,
  },
  {
    phrase: "loadOnnx('net.onnx')",  // an ONNX file of torch.onnx.export and a TF.js model
    code: `
      import { tensor as tensor_ } from 'fused-rnn';
      const x = tensor_(new Float32Array(2 * 5 * 3).map((_v, i) => Math.sin(i)), [2, 5, 3]);`,
    files: {
      'net.onnx': 'test/fixtures/onnx_files/lstm_seq_o9.onnx',
      'web/model/model.json': 'test/fixtures/tfjs/gru_reset_after/model.json',
      'web/model/weights.bin': 'test/fixtures/tfjs/gru_reset_after/weights.bin',
    },
  },
  {
    phrase: 'model.serve({',  // Serving: a model, one sequence, one event of a client's stream
    code: `
      import { Dense as Dense_, LSTM as LSTM_, Sequential as Sequential_ } from 'fused-rnn';
      const model = new Sequential_([new LSTM_({ inputSize: 3, hiddenSize: 8, seed: 1 }), new Dense_({ units: 2 })]);
      const sequence = [[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]], event = [0.1, 0.2, 0.3];
      const states = new Map(), clientId = 'client-1';`,
  },
  {
    phrase: "setPrecision('bf16');",  // Precision: an input and a model
    code: `
      import { Dense as Dense_, LSTM, Sequential as Sequential_, info, tensor as tensor_ } from 'fused-rnn';
      const x = tensor_(new Float32Array(4 * 2 * 128).fill(0.1), [4, 2, 128]);
      const model = new Sequential_([new LSTM({ inputSize: 128, hiddenSize: 16 }), new Dense_({ units: 1 })]);`,
  },
];

/** Shell lines not run here, and why. */
const SKIPPED: Record<string, string> = {
  'npm install': 'installation: the suite runs inside an installed clone',
  'npm test': 'the suite itself',
  'npm run bench:fit': 'a benchmark (about a minute of timing runs, no quick mode); not behaviour',
};

/** Flags appended to a README command so that it takes seconds (commander: the last one wins). */
const QUICK: Record<string, string[]> = {
  train: ['--epochs', '1', '--hidden', '16', '--max-time', '2', '--threads', '1', '-q'],
  sample: ['-n', '40'],
  bench: ['--budget', '0.01'],
};

/** Splits a shell line into words: double- and single-quoted words, no other shell syntax. */
function words(line: string): string[] {
  return [...line.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]);
}

const work = mkdtempSync(join(tmpdir(), 'fused-rnn-readme-'));
const env = { ...process.env, EXAMPLE_QUICK: '1', FUSED_RNN_NUM_THREADS: '1' };

function run(cmd: string, args: string[], what: string): string {
  const r = spawnSync(cmd, args, { cwd: work, encoding: 'utf8', timeout: 60_000, env });
  expect(r.status, `${what}\n${r.stderr}`).toBe(0);
  // What a block prints is for the reader: an undefined or NaN there is a mistake in the block.
  expect(r.stdout, what).not.toMatch(/\bundefined\b|\bNaN\b/);
  return r.stdout;
}

function runScript(block: Block): void {
  const preludes = PRELUDES.filter((p) => block.code.includes(p.phrase));
  for (const p of preludes) for (const [to, from] of Object.entries(p.files ?? {})) {
    mkdirSync(join(work, to, '..'), { recursive: true });
    cpSync(join(root, from), join(work, to));
  }
  // Import declarations are hoisted, so a prelude may sit before the block's own imports.
  const source = preludes.map((p) => p.code).join('\n') + '\n' + block.code;
  const { code } = transformSync(source, { filename: `README-${block.line}.ts`, jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'es6' } });
  const file = join(work, `readme-${block.line}.mjs`);
  writeFileSync(file, code);
  run(process.execPath, [file], `README.md:${block.line} (${block.lang})`);
}

function runShellLine(line: string, where: string): void {
  const w = words(line.replace(/\s#.*$/, ''));
  if (w[0] === 'npx' && w[1] === 'fused-rnn') w.shift();
  if (w[0] === 'fused-rnn') {
    run(process.execPath, [bin, ...w.slice(1), ...(QUICK[w[1]] ?? [])], `${where}: ${line}`);
  } else if (w[0] === 'node' && w[1]?.startsWith('examples/')) {
    run(process.execPath, [join(root, w[1]), ...w.slice(2)], `${where}: ${line}`);
  } else if (w.join(' ') === 'npm start') {
    // examples.test.ts runs start.js in quick mode and checks what it prints; running it here too
    // would write the same examples/output/moby-dick at the same time. Here: npm start is that file.
    expect(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).scripts.start, `${where}: ${line}`).toBe('node examples/start.js');
    expect(readFileSync(join(root, 'test', 'examples', 'examples.test.ts'), 'utf8')).toContain("example('start.js')");
  } else {
    throw new Error(`${where}: no way to run \`${line}\` here: teach test/examples/readme.test.ts, or add it to SKIPPED with the reason`);
  }
}

const readme = readFileSync(join(root, 'README.md'), 'utf8');
const blocks = codeBlocks(readme).filter((b) => ['js', 'ts', 'sh', 'bash'].includes(b.lang));

describe('README code blocks', () => {
  it('are found (fences, indented ones too)', () => {
    expect(codeBlocks('a\n```ts\nx\n```\n- item\n  ```sh\n  y\n  ```\n')).toEqual([
      { lang: 'ts', line: 2, code: 'x\n' }, { lang: 'sh', line: 6, code: 'y\n' }]);
    expect(blocks.length).toBeGreaterThanOrEqual(8);
    expect(words(`fused-rnn sample model --prime "Call me" -n 4`)).toEqual(['fused-rnn', 'sample', 'model', '--prime', 'Call me', '-n', '4']);
  });

  it('every prelude is used (a README edit that drops its phrase shows here)', () => {
    for (const p of PRELUDES) expect(blocks.some((b) => b.code.includes(p.phrase)), p.phrase).toBe(true);
  });
});

describe.skipIf(!built && !ci)('README code blocks run (quick mode)', () => {
  beforeAll(() => {
    // The package as a reader's project sees it, and the reader's files the shell blocks name.
    mkdirSync(join(work, 'node_modules'));
    symlinkSync(root, join(work, 'node_modules', 'fused-rnn'), 'dir');
    writeFileSync(join(work, 'package.json'), '{ "name": "reader", "private": true }\n');
    writeFileSync(join(work, 'book.txt'), readFileSync(join(root, 'examples', 'data', 'moby-dick.txt'), 'utf8').slice(0, 20_000));
    const rows = (n: number, from: number) => Array.from({ length: n }, (_v, i) => {
      const t = from + i;
      return `${t % 24},${(10 + 5 * Math.sin(t / 12)).toFixed(2)},${(50 + 20 * Math.sin((2 * Math.PI * t) / 24) + (t % 7)).toFixed(2)}`;
    });
    writeFileSync(join(work, 'series.csv'), ['hour,temperature,load', ...rows(300, 0)].join('\n') + '\n');
    writeFileSync(join(work, 'new.csv'), ['hour,temperature,load', ...rows(80, 300)].join('\n') + '\n');
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  for (const block of blocks) {
    const first = block.code.split('\n').find((l) => l.trim() && !l.startsWith('//')) ?? '';
    it(`README.md:${block.line} ${block.lang}: ${first.slice(0, 60)}`, () => {
      if (block.lang === 'js' || block.lang === 'ts') return runScript(block);
      for (const line of block.code.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'))) {
        const command = line.replace(/\s#.*$/, '').trim();
        if (command in SKIPPED) continue;
        runShellLine(line, `README.md:${block.line}`);
      }
    }, 120_000);
  }
});
