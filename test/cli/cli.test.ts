// The `fused-rnn` command as a user runs it: the built bin (dist/cli/main.js) in a child process,
// every command once for what it does and once for each kind of mistake (one line on stderr, exit
// status 1). Needs dist/ (npm ci builds it); without it the suite is skipped with a warning, except
// in CI, where a missing build fails.
import { describe, it, expect, beforeAll } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WORKLOADS } from '../../lib/cli/bench';
import { drawToken } from '../../lib/cli/sample';
import { buildVocabulary, encode, tokenize } from '../../lib/cli/text';
import { textBatches } from '../../lib/cli/train';
import { Sequential } from '../../lib/index';
import { loadSafetensors } from '../../lib/io/safetensors';

const root = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');
const bin = join(root, 'dist', 'cli', 'main.js');
const built = existsSync(bin);
const ci = !!process.env.CI;
if (!built && !ci) console.warn(`[cli.test] skipped: ${bin} is missing; build with npm run build:ts`);

function cli(args: string[], cwd = root) {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd, encoding: 'utf8', timeout: 60_000 });
  return { out: r.stdout, err: r.stderr, status: r.status };
}

/** A failure: exit status 1 and exactly one line on stderr containing `text`. */
function expectError(r: { err: string; status: number | null }, text: string | RegExp): void {
  expect(r.status).toBe(1);
  const lines = r.err.trim().split('\n');
  expect(lines, r.err).toHaveLength(1);
  expect(lines[0]).toMatch(text);
}

const work = mkdtempSync(join(tmpdir(), 'fused-rnn-cli-'));
const text = 'the cat sat on the mat. the dog sat on the log. '.repeat(40);
writeFileSync(join(work, 'tiny.txt'), text);
const rows = Array.from({ length: 120 }, (_v, t) => `${t},${Math.sin(t / 3).toFixed(4)},${(t % 5).toFixed(1)}`);
writeFileSync(join(work, 'series.csv'), ['t,value,other', ...rows].join('\n') + '\n');

describe('pieces the commands share', () => {
  it('tokenizes characters and words, and encodes against a vocabulary', () => {
    expect(tokenize('ab a', 'char')).toEqual(['a', 'b', ' ', 'a']);
    expect(tokenize("Ahab's whale, Moby-Dick.", 'word')).toEqual(["Ahab's", 'whale', ',', 'Moby', '-', 'Dick', '.']);
    const v = buildVocabulary(tokenize('b a b c', 'word'), 'word', 2);
    expect(v).toEqual(['<unk>', 'b', 'a']);
    expect(encode(['b', 'c', 'a'], v, 'word')).toEqual([1, 0, 2]);
    expect(() => encode(['z'], ['a'], 'char')).toThrow(/not in the model's vocabulary/);
  });

  it('draws tokens with temperature and top-k', () => {
    const logits = [0, 10, 9, -5];
    const always = () => 0.999999;
    expect(drawToken(logits, 1, 1, always)).toBe(1);             // top-1 is the argmax
    expect([1, 2]).toContain(drawToken(logits, 1, 2, always));   // never outside the top 2
    expect(drawToken(logits, 1e-3, 0, () => 0.5)).toBe(1);       // a low temperature is greedy
  });

  it('bench runs the workloads of bench/shapes.json', () => {
    const shapes = JSON.parse(readFileSync(join(root, 'bench', 'shapes.json'), 'utf8')).shapes;
    expect(WORKLOADS.map(({ name, T, B, I, H, modes }) => ({ name, T, B, I, H, modes: [...modes] })))
      .toEqual(shapes.map(({ name, T, B, I, H, modes }: Record<string, unknown>) => ({ name, T, B, I, H, modes })));
  });
});

describe.skipIf(!built && !ci)('fused-rnn (the built bin)', () => {
  const lm = join(work, 'lm');
  const seq = join(work, 'seq');

  beforeAll(() => {
    const r = cli(['train', join(work, 'tiny.txt'), '--out', lm, '--hidden', '16', '--bptt', '8', '--batch', '4', '--epochs', '3', '--threads', '1']);
    expect(r.status, r.err).toBe(0);
    const s = cli(['train', join(work, 'series.csv'), '--csv', '--target', 'value', '--inputs', 'value,other', '--window', '6',
      '--out', seq, '--hidden', '8', '--epochs', '2', '--threads', '1', '--no-picture']);
    expect(s.status, s.err).toBe(0);
  }, 120_000);

  it('--help on the program and on every command; --version', () => {
    const top = cli(['--help']);
    expect(top.status).toBe(0);
    for (const c of ['train', 'sample', 'predict', 'convert', 'info', 'bench', 'inspect']) {
      expect(top.out).toContain(c);
      const h = cli([c, '--help']);
      expect(h.status).toBe(0);
      expect(h.out).toMatch(new RegExp(`^Usage: fused-rnn ${c}`));
    }
    expect(cli(['--version']).out.trim()).toBe(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version);
  });

  it('train writes the model directory, the checkpoint and the loss picture, and its loss falls', () => {
    for (const f of ['model.safetensors', 'config.json', 'task.json', 'checkpoint.safetensors', 'loss.csv', 'loss.svg']) {
      expect(existsSync(join(lm, f)), f).toBe(true);
    }
    expect(readFileSync(join(lm, 'loss.svg'), 'utf8')).toMatch(/^<svg/);
    const task = JSON.parse(readFileSync(join(lm, 'task.json'), 'utf8'));
    expect(task.vocabulary).toEqual([...new Set(text)].sort());
    const r = cli(['train', join(work, 'tiny.txt'), '--out', join(work, 'lm2'), '--hidden', '16', '--bptt', '8', '--batch', '4', '--epochs', '8', '--threads', '1', '-q', '--no-picture']);
    expect(r.status, r.err).toBe(0);
    const loss = Number(/loss ([0-9.]+) \(mean/.exec(r.out)![1]);
    expect(loss).toBeLessThan(Math.log(task.vocabulary.length) * 0.6);  // well below uniform guessing
  });

  it('train --resume continues from the checkpoint to the same weights as one run', () => {
    const args = (out: string, epochs: string) => ['train', join(work, 'tiny.txt'), '--out', out, '--hidden', '8', '--bptt', '8', '--batch', '4', '--epochs', epochs, '--threads', '1', '-q', '--no-picture'];
    expect(cli(args(join(work, 'once'), '2')).status).toBe(0);
    expect(cli(args(join(work, 'twice'), '1')).status).toBe(0);
    const r = cli([...args(join(work, 'twice'), '2'), '--resume']);
    expect(r.status, r.err).toBe(0);
    expect(r.out).toMatch(/^resuming/);
    expect(readFileSync(join(work, 'twice', 'model.safetensors'))).toEqual(readFileSync(join(work, 'once', 'model.safetensors')));
  });

  it('Ctrl-C stops training between updates, saves the last update\'s weights and exits 130', async () => {
    const out = join(work, 'interrupted');
    const child = spawn(process.execPath, [bin, 'train', join(root, 'examples', 'data', 'moby-dick.txt'), '--out', out, '--hidden', '64', '--epochs', '50', '--threads', '1', '-q', '--no-picture'], { cwd: root });
    let stdout = '';
    child.stdout.on('data', (d) => {
      stdout += d;
      if (/^training/m.test(stdout)) setTimeout(() => child.kill('SIGINT'), 1500);
    });
    const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(status, stdout).toBe(130);
    expect(stdout).toMatch(/stopped by Ctrl-C after [1-9][0-9]* updates/);
    expect(existsSync(join(out, 'model.safetensors'))).toBe(true);
    expect(existsSync(join(out, 'checkpoint.safetensors'))).toBe(true);
  });

  it('Ctrl-C inside an epoch, then --resume: the next chunk, the saved weights, the update count and the loss go on', async () => {
    const out = join(work, 'mid-epoch');
    const book = join(root, 'examples', 'data', 'moby-dick.txt');
    // 146 chunks (32 streams x 64 steps) per epoch; at H = 192 on one thread an epoch takes seconds.
    const args = ['train', book, '--out', out, '--hidden', '192', '--epochs', '2', '--threads', '1', '-q', '--no-picture'];
    const child = spawn(process.execPath, [bin, ...args], { cwd: root });
    let stdout = '';
    child.stdout.on('data', (d) => {
      stdout += d;
      if (/^training/m.test(stdout)) setTimeout(() => child.kill('SIGINT'), 2000);
    });
    expect(await new Promise<number | null>((resolve) => child.on('close', resolve)), stdout).toBe(130);
    const k = Number(/stopped by Ctrl-C after (\d+) updates/.exec(stdout)![1]);
    const ids = encode(tokenize(readFileSync(book, 'utf8'), 'char'), JSON.parse(readFileSync(join(out, 'task.json'), 'utf8')).vocabulary, 'char');
    const chunks = textBatches(ids, 32, 64).batches;
    expect(k).toBeGreaterThan(0);
    expect(k, 'stopped inside the first epoch').toBeLessThan(chunks.length);

    // The checkpoint: inside epoch 1 after k chunks, k optimizer steps, the weights saved beside it.
    const cp = loadSafetensors(join(out, 'checkpoint.safetensors'));
    expect([cp.metadata['fused-rnn.epoch'], cp.metadata['fused-rnn.batch'], JSON.parse(cp.metadata['fused-rnn.optimizer']).step]).toEqual(['-1', String(k), k]);
    const saved = loadSafetensors(join(out, 'model.safetensors')).tensors;
    for (const [name, t] of Object.entries(saved)) expect(cp.tensors[`model.${name}`].data, name).toEqual(t.data);
    const model = await Sequential.load(out);  // the saved weights, before the resumed run replaces them

    const r = cli([...args, '--resume', '--max-time', '1']);
    expect(r.status, r.err).toBe(0);
    expect(r.out).toMatch(new RegExp(`after update ${k}, at batch ${k + 1}/${chunks.length} of epoch 1`));
    const rows = readFileSync(join(out, 'loss.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(',').map(Number));
    expect(rows.length).toBeGreaterThan(k);
    rows.forEach(([update], i) => expect(update).toBe(i + 1));  // one count across both runs
    const [, epoch, batch, firstLoss] = rows[k];
    expect([epoch, batch]).toEqual([0, k]);                    // chunk k of epoch 0 is next, not epoch 1
    // The first resumed update's loss is the saved weights' loss on chunk k (the streams' carried
    // state starts from zero on resume, as evaluate's does): the resumed run loaded those weights.
    const { loss } = await model.evaluate(chunks[k], { loss: 'crossEntropy' });
    expect(Math.abs(firstLoss - loss)).toBeLessThan(1e-5 * loss);
    // The loss goes on from where it stood (a little above: the carried state restarts at zero),
    // far below the untrained one.
    const mean = (a: number[][]) => a.reduce((s, row) => s + row[3], 0) / a.length;
    expect(firstLoss).toBeLessThan(rows[k - 1][3] + 0.5);
    expect(mean(rows.slice(k, k + 5))).toBeLessThan(rows[0][3] - 1);
  });

  it('sample streams text in the corpus\' alphabet, seeded', () => {
    const a = cli(['sample', lm, '-n', '40', '--prime', 'the ', '--temperature', '0.5', '--top-k', '3', '--seed', '5']);
    expect(a.status, a.err).toBe(0);
    expect(a.out.startsWith('the ')).toBe(true);
    expect(a.out.trimEnd().length).toBe(44);
    for (const ch of a.out.trimEnd()) expect(text).toContain(ch);
    expect(cli(['sample', lm, '-n', '40', '--prime', 'the ', '--temperature', '0.5', '--top-k', '3', '--seed', '5']).out).toBe(a.out);
  });

  it('predict writes one next-row prediction per window, as CSV', () => {
    const r = cli(['predict', seq, join(work, 'series.csv')]);
    expect(r.status, r.err).toBe(0);
    const lines = r.out.trim().split('\n');
    expect(lines[0]).toBe('row,next_value');
    expect(lines).toHaveLength(1 + 120 - 6 + 1);
    expect(lines[1].split(',')[0]).toBe('6');
    for (const l of lines.slice(1)) expect(Math.abs(Number(l.split(',')[1]))).toBeLessThan(3);
    const file = join(work, 'pred.csv');
    expect(cli(['predict', seq, join(work, 'series.csv'), '--out', file]).status).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe(r.out);
  });

  it('info, bench and inspect', () => {
    const i = cli(['info', '--json']);
    expect(i.status).toBe(0);
    const info = JSON.parse(i.out);
    expect(info.isa).toMatch(/^(avx512|avx2|neon|scalar)$/);
    expect(Number(info.threads)).toBeGreaterThanOrEqual(1);
    const b = cli(['bench', '--workloads', 'small', '--cells', 'gru', '--modes', 'infer', '--budget', '0.01', '--json']);
    expect(b.status, b.err).toBe(0);
    const row = JSON.parse(b.out.trim());
    expect(row).toMatchObject({ workload: 'small', cell: 'gru', mode: 'infer', threads: 1 });
    expect(row.ms).toBeGreaterThan(0);
    const s = cli(['inspect', lm]);
    expect(s.status, s.err).toBe(0);
    expect(s.out).toMatch(/Embedding\(/);
    expect(s.out).toMatch(/1\.weight_hh_l0 +\[64, 16\]/);
    expect(s.out).toMatch(/task: char language model/);
    expect(cli(['inspect', join(lm, 'model.safetensors')]).status).toBe(0);
  });

  it('convert: a trained model to ONNX, to TF.js and back to safetensors, the same layers and weights', () => {
    const onnx = join(work, 'lm.onnx'), web = join(work, 'web'), back = join(work, 'back');
    const a = cli(['convert', lm, onnx]);
    expect(a.status, a.err).toBe(0);
    expect(a.out).toMatch(/\(safetensors\) -> .*lm\.onnx \(onnx\): Embedding, LSTM, Dense; [0-9,]+ parameters/);
    const b = cli(['convert', onnx, join(web, 'model.json')]);
    expect(b.status, b.err).toBe(0);
    expect(existsSync(join(web, 'model.json'))).toBe(true);
    const c = cli(['convert', web, back, '--to', 'safetensors']);
    expect(c.status, c.err).toBe(0);
    const params = (out: string) => /([0-9,]+) parameters/.exec(out)![1];
    expect(params(c.out)).toBe(params(a.out));
    expect(cli(['inspect', back]).status).toBe(0);
  });

  it('train --precision bf16 trains in mixed precision and its loss falls too', () => {
    const r = cli(['train', join(work, 'tiny.txt'), '--out', join(work, 'lm-bf16'), '--hidden', '16', '--bptt', '8', '--batch', '4', '--epochs', '8',
      '--threads', '1', '-q', '--no-picture', '--precision', 'bf16']);
    expect(r.status, r.err).toBe(0);
    const vocabulary = JSON.parse(readFileSync(join(lm, 'task.json'), 'utf8')).vocabulary as string[];
    expect(Number(/loss ([0-9.]+) \(mean/.exec(r.out)![1])).toBeLessThan(Math.log(vocabulary.length) * 0.6);
  });

  it('every command and flag of README\'s CLI block exists (its --help lists it)', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const block = /```sh\n((?:fused-rnn [^\n]*\n)+)```/.exec(readme);
    expect(block, 'README has a block of fused-rnn commands').not.toBeNull();
    for (const line of block![1].trim().split('\n')) {
      const command = line.split(/\s+/)[1];
      const help = cli([command, '--help']);
      expect(help.status, line).toBe(0);
      for (const flag of line.replace(/#.*$/, '').match(/\s--?[a-z][a-z-]*/g) ?? []) expect(help.out, `${line}: ${flag.trim()}`).toContain(flag.trim());
    }
  });

  it('every mistake is one line and exit status 1', () => {
    expectError(cli(['nope']), /^fused-rnn: unknown command 'nope'/);
    expectError(cli(['trian']), /^fused-rnn: unknown command 'trian' \(Did you mean train\?\)$/);
    expectError(cli(['--bogus']), /^fused-rnn: unknown option '--bogus'/);
    // commander's usage errors name the command, as the commands' own errors do
    expectError(cli(['train']), /^fused-rnn train: missing required argument 'file'/);
    expectError(cli(['train', 'x.txt', '--hiden', '3']), /^fused-rnn train: unknown option '--hiden' \(Did you mean --hidden\?\)$/);
    expectError(cli(['train', 'x.txt', '--epochs', '1.5']), /--epochs.*expected an integer >= 1/);
    expectError(cli(['train', 'x.txt', '--lr', '-1']), /--lr.*expected a positive number/);
    expectError(cli(['train', 'x.txt', '--unit', 'byte']), /--unit.*char, word/);
    expectError(cli(['train', join(work, 'tiny.txt'), '--batch', '5000', '--out', join(work, 'm')]), /too few for 5000 streams/);
    expectError(cli(['train', join(work, 'tiny.txt'), '--out', join(work, 'tiny.txt')]), /^fused-rnn train: --out .*tiny\.txt: cannot make the model directory/);
    expectError(cli(['train', join(work, 'series.csv'), '--csv', '--target', 'value', '--resume', '--out', lm]), /--resume: .*holds a text model/);
    expectError(cli(['sample']), /^fused-rnn sample: missing required argument 'model'/);
    expectError(cli(['sample', lm, '-n', '-1']), /^fused-rnn sample: .*-n, --length.*expected an integer >= 0/);
    expectError(cli(['sample', lm, '--temperature', '0']), /--temperature.*expected a positive number/);
    expectError(cli(['predict', seq]), /^fused-rnn predict: missing required argument 'file'/);
    expectError(cli(['predict', seq, join(work, 'missing.csv')]), /^fused-rnn predict: .*missing\.csv/);
    expectError(cli(['predict', join(work, 'nothing'), join(work, 'series.csv')]), /^fused-rnn predict: .*not a model directory/);
    expectError(cli(['convert', lm]), /^fused-rnn convert: missing required argument 'output'/);
    expectError(cli(['convert', lm, join(work, 'x.onnx'), '--from', 'h5']), /--from.*onnx, tfjs, safetensors/);
    expectError(cli(['info', '--bogus']), /^fused-rnn info: unknown option '--bogus'/);
    expectError(cli(['bench', '--threads', '0']), /^fused-rnn bench: .*--threads.*expected an integer >= 1/);
    expectError(cli(['bench', '--budget', '-1']), /--budget.*expected a positive number/);
    expectError(cli(['bench', '--cells', 'tcn']), /--cells: unknown 'tcn'/);
    expectError(cli(['bench', '--modes', 'fly']), /--modes: unknown 'fly'/);
    expectError(cli(['inspect']), /^fused-rnn inspect: missing required argument 'model'/);
    expectError(cli(['train', 'x.txt', '--hidden', '0']), /--hidden.*expected an integer >= 1/);
    expectError(cli(['train', 'x.txt', '--cell', 'tcn']), /--cell.*lstm, gru, rnn/);
    expectError(cli(['train', join(work, 'missing.txt'), '--out', join(work, 'm')]), /^fused-rnn train: cannot read .*missing\.txt/);
    expectError(cli(['train', join(work, 'tiny.txt'), '--precision', 'int8', '--out', join(work, 'm')]), /--precision.*fp32, bf16/);
    expectError(cli(['convert', join(lm, 'model.safetensors'), join(work, 'out.h5')]), /^fused-rnn convert: .*out\.h5/);
    expectError(cli(['convert', join(work, 'nothing.onnx'), join(work, 'x.onnx')]), /^fused-rnn convert: .*nothing\.onnx/);
    expectError(cli(['convert', lm, join(work, 'x.onnx'), '--opset', '5']), /--opset.*expected an integer >= 9/);
    expectError(cli(['train', join(work, 'series.csv'), '--csv', '--out', join(work, 'm')]), /needs --target/);
    expectError(cli(['train', join(work, 'series.csv'), '--csv', '--target', 'nope', '--out', join(work, 'm')]), /no column 'nope'/);
    expectError(cli(['train', join(work, 'tiny.txt'), '--resume', '--out', join(work, 'empty')]), /not a model directory/);
    mkdirSync(join(work, 'no-checkpoint'), { recursive: true });
    copyFileSync(join(lm, 'task.json'), join(work, 'no-checkpoint', 'task.json'));
    expectError(cli(['train', join(work, 'tiny.txt'), '--resume', '--out', join(work, 'no-checkpoint')]), /--resume: .*checkpoint\.safetensors does not exist/);
    expectError(cli(['sample', join(work, 'empty')]), /^fused-rnn sample: .*not a model directory/);
    expectError(cli(['sample', seq]), /use `fused-rnn predict`/);
    expectError(cli(['sample', lm, '--prime', 'Z']), /"Z" is not in the model's vocabulary/);
    expectError(cli(['predict', lm, join(work, 'series.csv')]), /use `fused-rnn sample`/);
    expectError(cli(['predict', seq, join(work, 'tiny.txt')]), /needs a header row/);
    expectError(cli(['bench', '--workloads', 'huge']), /unknown 'huge'/);
    expectError(cli(['inspect', join(work, 'tiny.txt')]), /^fused-rnn inspect: /);
    expectError(cli(['inspect', join(work, 'nothing-here')]), /^fused-rnn inspect: .*nothing-here/);
  });
});
