#!/usr/bin/env node
// The `fused-rnn` command (package.json "bin"): train, sample, predict, convert, info, bench, inspect.
// Every failure is one line on stderr, `fused-rnn <command>: <why>`, and exit status 1
// (commander's own usage errors too); --help on the program and on every command.
import { availableParallelism } from 'node:os';
import { Command, InvalidArgumentError, Option } from 'commander';
import { convertModel, info, type ModelFileFormat } from '../index';
import { runBench, WORKLOADS } from './bench';
import { oneLine } from './errors';
import { infoLines } from './info';
import { inspect } from './inspect';
import { predict } from './predict';
import { sample } from './sample';
import { train, type TrainOptions } from './train';

const say = (line: string) => console.log(line);
const write = (s: string) => process.stdout.write(s);

function integer(min: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`expected an integer >= ${min}`);
    return n;
  };
}

function positive(v: string): number {
  const n = Number(v);
  if (!(n > 0) || !Number.isFinite(n)) throw new InvalidArgumentError('expected a positive number');
  return n;
}

const list = (v: string): string[] => v.split(',').map((s) => s.trim()).filter(Boolean);

/** Runs a command's body; any error becomes one line and exit status 1. */
function action<A extends unknown[]>(name: string, body: (...args: A) => Promise<number | void> | number | void) {
  return async (...args: A): Promise<void> => {
    try {
      const code = await body(...args);
      if (typeof code === 'number') process.exitCode = code;
    } catch (e) {
      console.error(`fused-rnn ${name}: ${oneLine(e)}`);
      process.exitCode = 1;
    }
  };
}

/** Whose usage a commander error is about: the program until a command is chosen. */
let usageOf = 'fused-rnn';

function program(): Command {
  const p = new Command('fused-rnn')
    .description('LSTM, GRU and RNN models on fused CPU kernels: train, sample, predict, inspect, benchmark')
    .version(info().version)
    .showSuggestionAfterError()
    // commander's own usage errors in the same form as the commands' (`fused-rnn <command>: <why>`);
    // subcommands share this output configuration, so the hook below names the command.
    .configureOutput({ outputError: (s, out) => out(`${usageOf}: ${s.trim().replace(/^error: /, '').replace(/\s*\n\s*/g, ' ')}\n`) })
    .hook('preSubcommand', (_p, sub) => { usageOf = `fused-rnn ${sub.name()}`; });

  p.command('train')
    .description('train a character or word language model on a text file, or (--csv) a next-row model on a CSV file')
    .argument('<file>', 'a UTF-8 text file, or a CSV file with a header row (--csv)')
    .option('-o, --out <dir>', 'model directory to write (model, task.json, checkpoint, loss.svg)', 'model')
    .addOption(new Option('--unit <unit>', 'text: tokens are characters or words').choices(['char', 'word']).default('char'))
    .option('--csv', 'the file is a CSV table: learn the next row\'s --target columns from windows of rows')
    .option('--target <columns>', 'CSV: the column(s) to predict, comma-separated')
    .option('--inputs <columns>', 'CSV: the input columns (default: all)')
    .option('--window <n>', 'CSV: rows per input window', integer(1), 20)
    .addOption(new Option('--cell <cell>', 'recurrent cell').choices(['lstm', 'gru', 'rnn']).default('lstm'))
    .option('--hidden <n>', 'hidden units per layer', integer(1), 256)
    .option('--layers <n>', 'stacked recurrent layers', integer(1), 1)
    .option('--embedding <n>', 'text: embedding width (default: min(64, hidden))', integer(1))
    .option('--bptt <n>', 'text: time steps per update (truncated backpropagation through time)', integer(1), 64)
    .option('--batch <n>', 'sequences per update (text: parallel streams of the file)', integer(1), 32)
    .option('--epochs <n>', 'passes over the data', integer(1), 10)
    .option('--lr <rate>', 'Adam learning rate', positive, 3e-3)
    .addOption(new Option('--precision <p>', 'arithmetic of the recurrent products (bf16: mixed precision, float32 weights)').choices(['fp32', 'bf16']).default('fp32'))
    .option('--vocab-size <n>', 'word models: the most frequent words kept (others become <unk>)', integer(2), 10000)
    .option('--seed <n>', 'seed of the initial weights', integer(0), 1)
    .option('--max-time <seconds>', 'stop after this long (as Ctrl-C does: the last update\'s weights are saved)', positive)
    .option('--resume', 'continue from the model directory\'s last checkpoint')
    .option('--threads <n>', 'kernel threads (default: every core)', integer(1), availableParallelism())
    .option('-q, --quiet', 'no progress display')
    .option('--no-picture', 'do not write loss.svg')
    .action(action('train', (file: string, o: TrainOptions) => train(file, o, say)));

  p.command('sample')
    .description('stream text from a language model, one token at a time (model.step())')
    .argument('<model>', 'a model directory written by `fused-rnn train`')
    .option('-n, --length <n>', 'tokens to generate', integer(0), 500)
    .option('-t, --temperature <t>', 'below 1: safer choices; above 1: more varied', positive, 0.8)
    .option('-k, --top-k <k>', 'draw among the k likeliest tokens only (0: all)', integer(0), 0)
    .option('-p, --prime <text>', 'text the sample continues', '')
    .option('--seed <n>', 'seed of the draws', integer(0), 1)
    .action(action('sample', (dir: string, o) => sample(dir, o, write)));

  p.command('predict')
    .description('a CSV sequence model\'s next-row predictions for every window of a CSV file (CSV out)')
    .argument('<model>', 'a model directory written by `fused-rnn train --csv`')
    .argument('<file>', 'a CSV file with the columns the model was trained on')
    .option('-o, --out <file>', 'write the CSV here instead of standard output')
    .action(action('predict', (dir: string, file: string, o: { out?: string }) => predict(dir, file, o.out, write)));

  p.command('convert')
    .description('a model file to another format: ONNX (.onnx), TF.js (model.json or its directory), safetensors (.safetensors or a model directory); Keras .h5 (model.save) in only')
    .argument('<input>', 'the model to read')
    .argument('<output>', 'where to write it; the format comes from the name unless --to says')
    .addOption(new Option('--from <format>', 'the input\'s format when its name does not say').choices(['onnx', 'tfjs', 'safetensors', 'keras-h5']))
    .addOption(new Option('--to <format>', 'the output\'s format when its name does not say').choices(['onnx', 'tfjs', 'safetensors']))
    .option('--opset <n>', 'ONNX opset of an .onnx output (9 to 21; default 17)', integer(9))
    .addOption(new Option('--quantize <type>', 'a safetensors output with the recurrent weight matrices as int8 + per-row scales (loads in precision int8)').choices(['int8']))
    .action(action('convert', async (input: string, output: string, o: { from?: ModelFileFormat; to?: ModelFileFormat; opset?: number; quantize?: 'int8' }) => {
      const r = await convertModel(input, output, o);
      say(`${input} (${r.from}) -> ${output} (${r.to}): ${r.layers.join(', ')}; ${r.parameters.toLocaleString('en-US')} parameters`);
    }));

  p.command('info')
    .description('version, kernel ISA, threads and build of this install')
    .option('--json', 'one JSON object')
    .action(action('info', (o: { json?: boolean }) => {
      const lines = infoLines();
      if (o.json) say(JSON.stringify(Object.fromEntries(lines)));
      else for (const [k, v] of lines) say(`${k.padEnd(9)} ${v}`);
    }));

  p.command('bench')
    .description('the standard workloads (bench/shapes.json) through the package: ms per call and GFLOP/s')
    .option('--workloads <names>', `comma-separated: ${WORKLOADS.map((w) => w.name).join(', ')}`, list, ['stream', 'small', 'medium'])
    .option('--cells <names>', 'comma-separated: lstm, gru', list, ['lstm', 'gru'])
    .option('--modes <names>', 'comma-separated: infer, train', list, ['infer', 'train'])
    .option('--threads <n>', 'kernel threads', integer(1), 1)
    .option('--budget <seconds>', 'time per row (at least 3 calls)', positive, 0.3)
    .option('--json', 'one JSON object per row')
    .action(action('bench', (o: { workloads: string[]; cells: string[]; modes: string[]; threads: number; budget: number; json?: boolean }) => {
      const check = (what: string, got: string[], known: readonly string[]) => {
        const bad = got.find((g) => !known.includes(g));
        if (bad !== undefined) throw new Error(`--${what}: unknown '${bad}' (known: ${known.join(', ')})`);
      };
      check('workloads', o.workloads, WORKLOADS.map((w) => w.name));
      check('cells', o.cells, ['lstm', 'gru']);
      check('modes', o.modes, ['infer', 'train']);
      const i = info();
      if (!o.json) say(`fused-rnn ${i.version}, ${i.isa}, ${o.threads} thread(s)\nworkload cell mode   ms/call   GFLOP/s  calls`);
      runBench(o, (r) => say(o.json ? JSON.stringify(r)
        : `${r.workload.padEnd(8)} ${r.cell.padEnd(4)} ${r.mode.padEnd(5)} ${r.ms.toPrecision(3).padStart(8)} ${r.gflops.toFixed(1).padStart(9)} ${String(r.calls).padStart(6)}`));
    }));

  p.command('inspect')
    .description('a model file\'s layers, weight shapes and parameter count')
    .argument('<model>', 'a model directory or .safetensors file saved by fused-rnn')
    .action(action('inspect', (location: string) => inspect(location, say)));

  return p;
}

program().parseAsync(process.argv).catch((e) => {
  console.error(`fused-rnn: ${oneLine(e)}`);
  process.exitCode = 1;
});
