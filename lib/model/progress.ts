// What fit({ verbose }) prints, with Keras' meaning: 0 nothing; 1 a live bar per epoch on a
// terminal (cli-progress: updates done, loss and metrics so far, updates/s, ETA), one line per
// epoch elsewhere (a log file, a pipe); 2 one line per epoch. Exported for the CLI and for users
// who drive their own loop (trainOnBatch).
import { Format, SingleBar } from 'cli-progress';
import { checkInteger, invalidArg, invalidType } from '../internal/check';

/** 0 silent, 1 a progress bar per epoch (one line per epoch when the stream is not a terminal), 2 one line per epoch. */
export type Verbosity = 0 | 1 | 2;

/** Where progress is written: a stream such as process.stdout (a terminal when isTTY is true). */
export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/** Named values shown after the counts: loss, accuracy, valLoss, ... (undefined ones are left out). */
export type ProgressLogs = Record<string, number | undefined>;

export interface FitProgress {
  /** An epoch starts (0-based); `batches`: how many it has, or null when unknown (an iterable). */
  epochStart(epoch: number, batches: number | null): void;
  /** After a batch's update(s): how many batches are done in this epoch, updates done in it, and the means so far. */
  batchEnd(batchesDone: number, updates: number, logs: ProgressLogs): void;
  /** The epoch's final values (with validation): ends the bar, or prints the epoch's line. */
  epochEnd(logs: ProgressLogs): void;
  /** Ends a bar left open (a fit that stopped inside an epoch); safe to call twice. */
  close(): void;
}

export interface ProgressOptions {
  /** Epochs of the whole fit, shown as `Epoch 3/10`. */
  epochs: number;
  /** @defaultValue process.stdout */
  stream?: ProgressStream;
}

/** 0, 1 or 2 (a RangeError for other numbers, a TypeError for anything else). */
export function checkVerbose(v: unknown): Verbosity {
  if (v === 0 || v === 1 || v === 2) return v;
  throw (typeof v === 'number' ? invalidArg : invalidType)('verbose', '0, 1 or 2', v);
}

/** Four significant decimals as Keras, small values in exponent form so they do not read as 0. */
export function formatValue(v: number): string {
  const a = Math.abs(v);
  return a !== 0 && a < 1e-3 ? v.toExponential(3) : v.toFixed(4);
}

function formatLogs(logs: ProgressLogs): string {
  return Object.entries(logs).filter(([, v]) => v !== undefined).map(([k, v]) => ` - ${k}: ${formatValue(v!)}`).join('');
}

function formatSeconds(s: number): string {
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)}s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m}m${String(Math.round(s - 60 * m)).padStart(2, '0')}s` : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/**
 * A reporter for `verbose` (null for 0). The live bar is drawn only when `verbose` is 1 and the
 * stream is a terminal; otherwise one line per epoch:
 * `Epoch 3/10 - 64 updates - 1.5s - 42.7 updates/s - loss: 0.0123 - accuracy: 0.9531`.
 * @example const p = fitProgress(1, { epochs }); p?.epochStart(0, n); ...; p?.epochEnd({ loss }); p?.close();
 */
export function fitProgress(verbose: Verbosity, options: ProgressOptions): FitProgress | null {
  checkVerbose(verbose);
  const epochs = checkInteger('epochs', options.epochs, 1);
  if (verbose === 0) return null;
  const stream = options.stream ?? process.stdout;
  return verbose === 1 && stream.isTTY === true ? new BarProgress(stream, epochs) : new LineProgress(stream, epochs);
}

/** One line per epoch, written when the epoch ends. */
class LineProgress implements FitProgress {
  private epoch = 0;
  private started = 0;
  private updates = 0;

  constructor(private readonly stream: ProgressStream, private readonly epochs: number) {}

  epochStart(epoch: number): void {
    this.epoch = epoch;
    this.updates = 0;
    this.started = performance.now();
  }

  batchEnd(_batchesDone: number, updates: number): void {
    this.updates = updates;
  }

  epochEnd(logs: ProgressLogs): void {
    const seconds = (performance.now() - this.started) / 1000;
    const rate = seconds > 0 ? (this.updates / seconds).toFixed(1) : '-';
    this.stream.write(`Epoch ${this.epoch + 1}/${this.epochs} - ${this.updates} updates - ${formatSeconds(seconds)} - ` +
      `${rate} updates/s${formatLogs(logs)}\n`);
  }

  close(): void {}
}

/** The live bar: cli-progress draws and redraws it in place (at most 10 times a second). */
class BarProgress implements FitProgress {
  private bar: SingleBar | null = null;
  private started = 0;

  constructor(private readonly stream: ProgressStream, private readonly epochs: number) {}

  epochStart(epoch: number, batches: number | null): void {
    this.close();
    this.started = performance.now();
    const counts = batches === null ? '{value} batches' : '{value}/{total} [{bar}]';
    const running = `{head} ${counts} - ${batches === null ? '{duration_formatted}' : 'ETA {eta_formatted}'} - {rate}{logs}`;
    const done = `{head} ${counts} - {duration_formatted} - {rate}{logs}`;
    const bar = new SingleBar({
      stream: this.stream as NodeJS.WritableStream,
      barsize: 24,
      barCompleteChar: '=',
      barIncompleteChar: '.',
      // Keras shows the ETA while the epoch runs and the time it took once it ends.
      format: (options, params, payload: { done: boolean }) =>
        Format.Formatter({ ...options, format: payload.done ? done : running }, params, payload),
    });
    bar.start(batches ?? 0, 0, { head: `Epoch ${epoch + 1}/${this.epochs}`, rate: '', logs: '', done: false });
    this.bar = bar;
  }

  batchEnd(batchesDone: number, updates: number, logs: ProgressLogs): void {
    const seconds = (performance.now() - this.started) / 1000;
    this.bar?.update(batchesDone, { rate: seconds > 0 ? `${(updates / seconds).toFixed(1)} updates/s` : '', logs: formatLogs(logs) });
  }

  epochEnd(logs: ProgressLogs): void {
    this.bar?.update({ logs: formatLogs(logs), done: true });
    this.close();
  }

  close(): void {
    this.bar?.stop();
    this.bar = null;
  }
}
