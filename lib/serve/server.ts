// Dynamic micro-batching for servers: concurrent predict() / step() requests are gathered into
// one batched model call, flushed when the batch is full or when the oldest request has waited
// maxDelayMs, and each caller gets its own row back. Knows no layer or model: a ServeBackend
// (a Sequential's, from model.serve(), or an adapter around another runtime) runs the batches.
import { checkFinite, checkInteger, checkKnownKeys, invalidArg, invalidType } from '../internal/check';
import type { Tensor } from '../tensor';
import { StateLayout, StreamState } from './state';

export interface ServeOptions {
  /** Requests per batched call.
   * @defaultValue 64 */
  maxBatchSize?: number;
  /** How long the first request of a batch waits for others (ms; 0 = until the current
   * macrotask's requests are in). A full batch goes at once; a batch whose delay expired while
   * another batch ran goes as soon as that one ends.
   * @defaultValue 2 */
  maxDelayMs?: number;
  /** Requests waiting for a batch (not yet running); beyond it requests are refused with
   * ServerOverloadedError.
   * @defaultValue 1024 */
  maxQueue?: number;
  /** Batches running at once, each on its own worker thread (inference never waits for other
   * inference). 1: one model call at a time, split over setNumThreads(n) threads. With k > 1, a
   * batch starts once maxBatchSize / k requests wait and a slot is free, so k batches run side by
   * side (as many streams as maxBatchSize make k smaller batches, not one full batch at a time
   * with the other workers idle); a batch still takes up to maxBatchSize requests.
   * @defaultValue 1 */
  maxConcurrentBatches?: number;
}

/** Runs the batches of a ModelServer: a Sequential's (model.serve()) or an adapter for another runtime. */
export interface ServeBackend {
  /** Features per time step (1 for token ids). */
  readonly inputFeatures: number;
  /** Inputs are token ids: integers in 0..vocabSize-1 (checked per request). */
  readonly vocabSize?: number;
  readonly outputFeatures: number;
  /** Whether predict() returns a row per time step ([T, O]) or one row per sequence ([O]). */
  readonly outputHasTime: boolean;
  /** The per-stream state of step(); null when the model cannot stream (step() then refuses). */
  readonly stateLayout: StateLayout | null;
  /** x batch-first [B, T, F] (zeros past each length) -> [B, O], or [B, T, O] when outputHasTime. */
  predictBatch(x: Float32Array, B: number, T: number, lengths: Int32Array): Promise<Float32Array>;
  /** x [B, F] and, per tensor of stateLayout, the batch's states [slots, B, size] -> output [B, O]
   * and the new states in the same layout. The server does not touch x and states until the
   * promise settles, and calls `done()` (when given) once it has copied the results out: the
   * backend may then reuse their arrays. */
  stepBatch(x: Float32Array, B: number, states: Float32Array[]): Promise<{ output: Float32Array; states: Float32Array[]; done?: () => void }>;
}

/** One sequence for predict(): steps × features (token ids: one number per step). */
export type ServeSequence = Tensor | Float32Array | number[][] | number[];
/** One time step for step(): the features of one event (a token id for an Embedding model). */
export type ServeStep = Tensor | Float32Array | number[] | number;

export interface ServeStepResult {
  /** The model's output for this step, [O]. */
  output: Tensor;
  /** The stream's state after this step: pass it to the next step(). */
  state: StreamState;
}

export interface ServerStats {
  /** Requests answered (resolved or rejected by their batch). */
  requests: number;
  batches: number;
  /** requests / batches. */
  meanBatchSize: number;
  /** Requests waiting for a batch now. */
  queued: number;
  /** Batches running now. */
  inFlight: number;
  /** Requests refused because the queue was full. */
  refused: number;
}

/** A request refused because maxQueue requests were already waiting (back-pressure: answer 503 / retry later). */
export class ServerOverloadedError extends Error {
  readonly code = 'ERR_FUSED_RNN_QUEUE_FULL';
  constructor(readonly maxQueue: number) {
    super(`The model server's queue is full (${maxQueue} requests waiting); try again later`);
    this.name = 'ServerOverloadedError';
  }
}

/** A request made after close(). */
export class ServerClosedError extends Error {
  readonly code = 'ERR_FUSED_RNN_SERVER_CLOSED';
  constructor() {
    super('The model server is closed');
    this.name = 'ServerClosedError';
  }
}

const PREDICT = 0, STEP = 1;

/** A queued request (recycled through a free list). */
interface Pending {
  kind: number;
  seq: number;
  src: Float32Array | number[][] | number[] | number | null;
  steps: number;
  state: StreamState | null;
  resolve: ((v: never) => void) | null;
  reject: ((e: unknown) => void) | null;
  /** Set when the batch ended: the result, or the error (failed). */
  result: unknown;
  failed: boolean;
}

/** Callers answered per macrotask: between slices the event loop runs (I/O, timers), so a
 * batch of hundreds of answers does not hold it for their whole HTTP replies. */
const ANSWER_SLICE = 32;

/** A FIFO of pending requests of one kind, with its delay timer. */
class Queue {
  private items: (Pending | undefined)[] = [];
  private head = 0;
  /** Set when the head has waited maxDelayMs (its timer fired). */
  due = false;
  timer: ReturnType<typeof setTimeout> | ReturnType<typeof setImmediate> | null = null;

  constructor(readonly kind: number) {}

  get length(): number { return this.items.length - this.head; }
  get headSeq(): number { return this.items[this.head]!.seq; }

  push(p: Pending): void { this.items.push(p); }

  takeInto(n: number, out: Pending[]): void {
    for (let i = 0; i < n; i++) {
      out.push(this.items[this.head]!);
      this.items[this.head++] = undefined;
    }
    if (this.head === this.items.length) {
      this.items.length = 0;
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}

/** The buffers of one batch in flight, kept for the next batch (grown, never shrunk). */
interface BatchBuffers {
  members: Pending[];
  input: Float32Array;
  lengths: Int32Array;
  states: Float32Array[];
}

/**
 * A micro-batching front of a model for servers: `predict(sequence)` and `step(x, state)` return
 * promises of the caller's own result, computed in batched calls with other callers' requests.
 * @example
 *   const server = model.serve({ maxBatchSize: 64, maxDelayMs: 2 });
 *   const y = await server.predict(sequence);                  // what model.predict([sequence]) gives for it
 *   let s = await server.step(event);                          // a new stream
 *   s = await server.step(nextEvent, s.state);                 // s.output, s.state (s.state.toBytes())
 *   await server.close();                                      // answers what is queued, then resolves
 */
export class ModelServer {
  readonly maxBatchSize: number;
  readonly maxDelayMs: number;
  readonly maxQueue: number;
  readonly maxConcurrentBatches: number;
  /** Requests that start a batch while a slot is free: ceil(maxBatchSize / maxConcurrentBatches). */
  private readonly startAt: number;
  private readonly queues = [new Queue(PREDICT), new Queue(STEP)];
  private readonly pool: BatchBuffers[] = [];
  private readonly free: Pending[] = [];
  private queued = 0;
  private inFlight = 0;
  /** Batches whose callers are still being answered (slice by slice). */
  private answering = 0;
  private seq = 0;
  private closing = false;
  private closed: Promise<void> | null = null;
  private onIdle: (() => void) | null = null;
  private counts = { requests: 0, batches: 0, refused: 0 };

  constructor(readonly backend: ServeBackend, options: ServeOptions = {}) {
    if (typeof backend !== 'object' || backend === null || typeof backend.predictBatch !== 'function' || typeof backend.stepBatch !== 'function') {
      throw invalidType('backend', 'a ServeBackend { predictBatch, stepBatch, ... }', backend);
    }
    if (typeof options !== 'object' || options === null) throw invalidType('serve options', 'object', options);
    checkKnownKeys('serve options', options, ['maxBatchSize', 'maxDelayMs', 'maxQueue', 'maxConcurrentBatches']);
    this.maxBatchSize = checkInteger('maxBatchSize', options.maxBatchSize ?? 64, 1, 65536);
    this.maxDelayMs = checkFinite('maxDelayMs', options.maxDelayMs ?? 2);
    if (this.maxDelayMs < 0) throw invalidArg('maxDelayMs', 'finite number >= 0', this.maxDelayMs);
    this.maxQueue = checkInteger('maxQueue', options.maxQueue ?? 1024, 1);
    this.maxConcurrentBatches = checkInteger('maxConcurrentBatches', options.maxConcurrentBatches ?? 1, 1, 1024);
    this.startAt = Math.ceil(this.maxBatchSize / this.maxConcurrentBatches);
  }

  /** The shapes of a stream's state (for StreamState.fromBytes(bytes, server)).
   * @throws RangeError when the model cannot stream (a bidirectional or reverse layer). */
  get stateLayout(): StateLayout {
    const layout = this.backend.stateLayout;
    if (!layout) throw new RangeError("This model cannot stream: step() needs every recurrent layer to run forward in time");
    return layout;
  }

  /** Whether close() was called. */
  get isClosed(): boolean { return this.closing; }

  /** A new stream's state (zeros, or the model's learned initial state). */
  initialState(): StreamState {
    const layout = this.stateLayout;
    return new StreamState(layout, layout.initial ? layout.initial.slice() : new Float32Array(layout.total));
  }

  /** StreamState.fromBytes() checked against this model's state shapes (RangeError when they differ). */
  loadState(bytes: Uint8Array | ArrayBuffer): StreamState {
    return StreamState.fromBytes(bytes, this.stateLayout);
  }

  /**
   * The model's output for one sequence ([T, F] steps; token ids [T]): what
   * `model.predict([sequence])` gives for it, without its leading N axis: [O], or [T, O] for a
   * many-to-many model. The input is read when the batch starts: do not change it before then.
   * Rejects (this request only) with TypeError / RangeError for a wrong shape or non-finite value,
   * ServerOverloadedError when the queue is full, ServerClosedError after close().
   */
  predict(sequence: ServeSequence): Promise<Tensor> {
    if (this.closing) return Promise.reject(new ServerClosedError());
    let steps: number;
    try {
      steps = this.checkSequence(sequence);
    } catch (e) {
      return Promise.reject(e);
    }
    const src = sequence instanceof Float32Array || Array.isArray(sequence) ? sequence : (sequence as Tensor).data;
    return this.enqueue(PREDICT, src, steps, null) as Promise<Tensor>;
  }

  /**
   * One time step of one stream: x [F] (a token id for an Embedding model) and the stream's state
   * (undefined for a new stream) -> its output [O] and its next state. Equals `model.step([x],
   * state)` for that stream. The state passed in is not changed.
   */
  step(x: ServeStep, state?: StreamState | null): Promise<ServeStepResult> {
    if (this.closing) return Promise.reject(new ServerClosedError());
    let src: Float32Array | number[] | number;
    try {
      const layout = this.stateLayout;
      src = this.checkStep(x);
      if (state !== undefined && state !== null) this.checkState(state, layout);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.enqueue(STEP, src, 1, state ?? null) as Promise<ServeStepResult>;
  }

  /** Counters since the server started. */
  stats(): ServerStats {
    const { requests, batches, refused } = this.counts;
    return { requests, batches, meanBatchSize: batches ? requests / batches : 0, queued: this.queued, inFlight: this.inFlight, refused };
  }

  /** Stops accepting requests (they reject with ServerClosedError), runs every queued request
   * without waiting for more, and resolves when the last batch is answered. */
  close(): Promise<void> {
    if (!this.closed) {
      this.closing = true;
      this.closed = new Promise<void>((resolve) => { this.onIdle = resolve; });
      for (const q of this.queues) this.clearTimer(q);
      this.tryFlush();
      this.checkIdle();
    }
    return this.closed;
  }

  // ---- requests ------------------------------------------------------------------------------

  /** Checks a sequence; returns its steps (T). */
  private checkSequence(x: ServeSequence): number {
    const F = this.backend.inputFeatures;
    const ids = this.backend.vocabSize !== undefined;
    let steps: number;
    if (x instanceof Float32Array) {
      if (x.length === 0 || x.length % F !== 0) throw invalidArg('sequence', `a Float32Array of T·${F} values (T >= 1)`, x);
      steps = x.length / F;
      this.checkValues('sequence', x);
    } else if (Array.isArray(x)) {
      if (x.length === 0) throw invalidArg('sequence', 'at least one step', 'an empty array');
      steps = x.length;
      if (typeof x[0] === 'number') {
        if (F !== 1) throw invalidArg('sequence[0]', `${F} features`, x[0]);
        this.checkValues('sequence', x as number[]);
      } else {
        if (ids) throw invalidArg('sequence[0]', 'a token id', x[0]);
        for (let t = 0; t < steps; t++) {
          const row = (x as number[][])[t];
          if (!Array.isArray(row) || row.length !== F) throw invalidArg(`sequence[${t}]`, `${F} features`, row);
          this.checkValues(`sequence[${t}]`, row);
        }
      }
    } else if (typeof x === 'object' && x !== null && 'shape' in x && 'data' in x) {
      const t = x as Tensor;
      if (!(t.data instanceof Float32Array)) throw invalidType('sequence.data', 'Float32Array', t.data);
      const want = ids || F === 1 ? [1, 2] : [2];
      if (!Array.isArray(t.shape) || !want.includes(t.shape.length) || !(t.shape[0] >= 1) || (t.shape.length === 2 && t.shape[1] !== F)
        || t.data.length !== t.shape[0] * F) {
        throw invalidArg('sequence', `a tensor [T, ${F}]${ids || F === 1 ? ' or [T]' : ''}`, t.shape);
      }
      steps = t.shape[0];
      this.checkValues('sequence', t.data);
    } else {
      throw invalidType('sequence', 'Tensor [T, F], Float32Array, number[][] or number[]', x);
    }
    return steps;
  }

  private checkStep(x: ServeStep): Float32Array | number[] | number {
    const F = this.backend.inputFeatures;
    if (typeof x === 'number') {
      if (F !== 1) throw invalidArg('x', `${F} features`, x);
      this.checkValue('x', x);
      return x;
    }
    let v: Float32Array | number[];
    if (x instanceof Float32Array || Array.isArray(x)) v = x;
    else if (typeof x === 'object' && x !== null && 'data' in x && (x as Tensor).data instanceof Float32Array) v = (x as Tensor).data;
    else throw invalidType('x', 'Tensor, Float32Array or number[] of one step\'s features', x);
    if (v.length !== F) throw invalidArg('x', `${F} features`, v);
    this.checkValues('x', v);
    return v;
  }

  private checkValues(name: string, v: ArrayLike<number>): void {
    const V = this.backend.vocabSize;
    for (let i = 0; i < v.length; i++) {
      const e = v[i];
      if (V === undefined ? !Number.isFinite(e) : !(Number.isInteger(e) && e >= 0 && e < V)) this.checkValue(`${name}[${i}]`, e);
    }
  }

  private checkValue(name: string, e: unknown): void {
    const V = this.backend.vocabSize;
    if (typeof e !== 'number') throw invalidType(name, 'number', e);
    if (V !== undefined && !(Number.isInteger(e) && e >= 0 && e < V)) throw invalidArg(name, `a token id in 0..${V - 1}`, e);
    if (!Number.isFinite(e)) throw invalidArg(name, 'a finite number', e);
  }

  private checkState(state: StreamState, layout: StateLayout): void {
    if (!(state instanceof StreamState)) throw invalidType('state', 'a StreamState (from a previous step(), initialState() or StreamState.fromBytes())', state);
    if (!layout.matches(state.layout)) {
      throw new RangeError(`This stream state does not fit the model: it holds ${state.layout.describe()}; the model's state is ${layout.describe()}`);
    }
    const d = state.data;
    for (let i = 0; i < d.length; i++) if (!Number.isFinite(d[i])) throw invalidArg(`state.data[${i}]`, 'a finite number', d[i]);
  }

  private enqueue(kind: number, src: Float32Array | number[][] | number[] | number, steps: number, state: StreamState | null): Promise<unknown> {
    if (this.queued >= this.maxQueue) {
      this.counts.refused++;
      return Promise.reject(new ServerOverloadedError(this.maxQueue));
    }
    return new Promise((resolve, reject) => {
      const p = this.free.pop() ?? { kind: 0, seq: 0, src: null, steps: 0, state: null, resolve: null, reject: null, result: null, failed: false };
      p.kind = kind;
      p.seq = this.seq++;
      p.src = src;
      p.steps = steps;
      p.state = state;
      p.resolve = resolve as (v: never) => void;
      p.reject = reject;
      const q = this.queues[kind];
      q.push(p);
      this.queued++;
      if (q.length >= this.startAt || q.due) this.tryFlush();
      else if (q.timer === null) this.armTimer(q);
    });
  }

  // ---- batching ------------------------------------------------------------------------------

  private armTimer(q: Queue): void {
    const fire = () => {
      q.timer = null;
      if (q.length > 0) q.due = true;
      this.tryFlush();
    };
    q.timer = this.maxDelayMs > 0 ? setTimeout(fire, this.maxDelayMs) : setImmediate(fire);
  }

  private clearTimer(q: Queue): void {
    if (q.timer === null) return;
    if (this.maxDelayMs > 0) clearTimeout(q.timer as ReturnType<typeof setTimeout>);
    else clearImmediate(q.timer as ReturnType<typeof setImmediate>);
    q.timer = null;
  }

  /** Starts batches while a slot is free and a queue holds startAt requests, is due, or closing. */
  private tryFlush(): void {
    while (this.inFlight < this.maxConcurrentBatches) {
      let pick: Queue | null = null;
      for (const q of this.queues) {
        if (q.length === 0 || !(q.length >= this.startAt || q.due || this.closing)) continue;
        if (pick === null || q.headSeq < pick.headSeq) pick = q;
      }
      if (pick === null) return;
      this.flush(pick);
    }
  }

  private flush(q: Queue): void {
    const buf = this.pool.pop() ?? { members: [], input: new Float32Array(0), lengths: new Int32Array(0), states: [] };
    const n = Math.min(q.length, this.maxBatchSize);
    q.takeInto(n, buf.members);
    this.queued -= n;
    if (q.length === 0) {
      q.due = false;
      this.clearTimer(q);
    } else if (!q.due && q.timer === null && !this.closing) {
      this.armTimer(q);
    }
    this.inFlight++;
    this.counts.batches++;
    const run = q.kind === PREDICT ? this.runPredict(buf) : this.runStep(buf);
    void run.catch((e: unknown) => fail(buf.members, e)).then(() => this.finish(buf));
  }

  /** Gathers the sequences (batch-first, padded with zeros), runs them, hands each caller its rows. */
  private async runPredict(buf: BatchBuffers): Promise<void> {
    const { members } = buf, B = members.length;
    const F = this.backend.inputFeatures, O = this.backend.outputFeatures;
    let T = 0;
    for (const m of members) if (m.steps > T) T = m.steps;
    if (buf.input.length < B * T * F) buf.input = new Float32Array(Math.max(B * T * F, this.maxBatchSize * T * F));
    if (buf.lengths.length < B) buf.lengths = new Int32Array(this.maxBatchSize);
    const x = buf.input, lengths = buf.lengths;
    for (let b = 0; b < B; b++) {
      const m = members[b], at = b * T * F, src = m.src as Float32Array | number[][] | number[];
      if (src instanceof Float32Array) x.set(src, at);
      else if (typeof src[0] === 'number') for (let i = 0; i < m.steps; i++) x[at + i] = (src as number[])[i];
      else {
        for (let t = 0; t < m.steps; t++) {
          const row = (src as number[][])[t];
          for (let f = 0; f < F; f++) x[at + t * F + f] = row[f];
        }
      }
      x.fill(0, at + m.steps * F, at + T * F);
      lengths[b] = m.steps;
    }
    let out: Float32Array;
    try {
      out = await this.backend.predictBatch(x.subarray(0, B * T * F), B, T, lengths.subarray(0, B));
      const want = B * (this.backend.outputHasTime ? T : 1) * O;
      if (!(out instanceof Float32Array) || out.length !== want) throw new Error(`The serve backend returned ${out?.length} outputs for a batch of ${B} where ${want} were due`);
    } catch (e) {
      fail(members, e);
      return;
    }
    for (let b = 0; b < B; b++) {
      const m = members[b];
      const y: Tensor = this.backend.outputHasTime
        ? { shape: [m.steps, O], data: out.slice(b * T * O, (b * T + m.steps) * O) }
        : { shape: [O], data: out.slice(b * O, b * O + O) };
      m.result = y;
    }
  }

  /** Gathers the steps and the streams' states ([slots, B, size] per tensor), runs them, scatters back. */
  private async runStep(buf: BatchBuffers): Promise<void> {
    const { members } = buf, B = members.length;
    const F = this.backend.inputFeatures, O = this.backend.outputFeatures;
    const layout = this.backend.stateLayout!;
    if (buf.input.length < B * F) buf.input = new Float32Array(Math.max(B, this.maxBatchSize) * F);
    const x = buf.input;
    for (let b = 0; b < B; b++) {
      const src = members[b].src!;
      if (typeof src === 'number') x[b * F] = src;
      else if (src instanceof Float32Array) x.set(src, b * F);
      else for (let f = 0; f < F; f++) x[b * F + f] = (src as number[])[f];
    }
    const states: Float32Array[] = [];
    layout.tensors.forEach((t, k) => {
      const n = t.slots * B * t.size;
      if (!buf.states[k] || buf.states[k].length < n) buf.states[k] = new Float32Array(t.slots * Math.max(B, this.maxBatchSize) * t.size);
      const s = buf.states[k];
      for (let b = 0; b < B; b++) {
        const from = members[b].state?.data ?? layout.initial;
        gather(from, layout.offsets[k], s, t.slots, t.size, B, b);
      }
      states.push(s.subarray(0, n));
    });
    let res: { output: Float32Array; states: Float32Array[]; done?: () => void };
    try {
      res = await this.backend.stepBatch(x.subarray(0, B * F), B, states);
      if (!(res?.output instanceof Float32Array) || res.output.length !== B * O || !Array.isArray(res.states)
        || res.states.length !== layout.tensors.length || res.states.some((s, k) => s.length !== layout.tensors[k].slots * B * layout.tensors[k].size)) {
        throw new Error(`The serve backend returned outputs or states of the wrong size for a batch of ${B}`);
      }
    } catch (e) {
      fail(members, e);
      return;
    }
    for (let b = 0; b < B; b++) {
      // One allocation per caller: the output and the new state share a buffer.
      const all = new Float32Array(O + layout.total);
      const out = all.subarray(0, O);
      for (let o = 0; o < O; o++) out[o] = res.output[b * O + o];
      const data = all.subarray(O);
      for (let k = 0; k < layout.tensors.length; k++) {
        const t = layout.tensors[k];
        scatter(res.states[k], t.slots, t.size, B, b, data, layout.offsets[k]);
      }
      members[b].result = { output: { shape: [O], data: out }, state: new StreamState(layout, data) } satisfies ServeStepResult;
    }
    res.done?.();
  }

  /** The batch's model call is over: free its slot (the next batch starts), then answer its callers. */
  private finish(buf: BatchBuffers): void {
    const members = buf.members;
    buf.members = [];
    this.counts.requests += members.length;
    this.pool.push(buf);
    this.inFlight--;
    this.answering++;
    // The next batch: a full one, or one whose first request's delay has expired meanwhile.
    this.tryFlush();
    void this.answer(members);
  }

  private async answer(members: Pending[]): Promise<void> {
    for (let i = 0; i < members.length; i++) {
      if (i > 0 && i % ANSWER_SLICE === 0) await new Promise<void>((r) => { setImmediate(r); });
      const m = members[i];
      if (m.failed) m.reject!(m.result);
      else (m.resolve as (v: unknown) => void)(m.result);
      m.src = null;
      m.state = null;
      m.resolve = null;
      m.reject = null;
      m.result = null;
      m.failed = false;
      this.free.push(m);
    }
    this.answering--;
    this.checkIdle();
  }

  private checkIdle(): void {
    if (this.closing && this.inFlight === 0 && this.answering === 0 && this.queued === 0 && this.onIdle) {
      const done = this.onIdle;
      this.onIdle = null;
      done();
    }
  }
}

function fail(members: Pending[], e: unknown): void {
  for (const m of members) {
    m.result = e;
    m.failed = true;
  }
}

/** One stream's [slots, size] (at `offset` of `from`; zeros when null) into row b of [slots, B, size]. */
function gather(from: Float32Array | null, offset: number, to: Float32Array, slots: number, size: number, B: number, b: number): void {
  for (let s = 0; s < slots; s++) {
    const dst = (s * B + b) * size;
    if (from === null) to.fill(0, dst, dst + size);
    else for (let j = 0, src = offset + s * size; j < size; j++) to[dst + j] = from[src + j];
  }
}

/** Row b of [slots, B, size] into one stream's [slots, size] at `offset` of `to`. */
function scatter(from: Float32Array, slots: number, size: number, B: number, b: number, to: Float32Array, offset: number): void {
  for (let s = 0; s < slots; s++) {
    const src = (s * B + b) * size;
    for (let j = 0, dst = offset + s * size; j < size; j++) to[dst + j] = from[src + j];
  }
}
