// Readers and writers of one layer's weights (ARCHITECTURE.md, "Concurrency").
//
// Readers (inference) never wait and are never refused:
//  - a sync reader (main thread) reads the live weights, or the last snapshot while an async
//    update is writing them;
//  - an async reader (a native job on a worker thread) reads a snapshot: a private copy of one
//    complete version, taken by the first async reader after a change and shared by every reader
//    of that version. A new version gets a new array, so readers still running keep theirs.
// Writers (training calls, optimizer updates, loadStateDict, fit) exclude each other: async
// writers queue in call order; a sync writer that finds the store held by another throws. An
// async update first makes sure a snapshot of the version before it exists, so a reader that
// arrives meanwhile reads that version: inference during fit sees the state after some complete
// update and never stalls training for more than one copy of the weights.
//
// Weights and gradients live on SharedArrayBuffers: JS cannot transfer, detach or shrink them,
// so a native job may keep pointers into them until it settles.

/** A Float32Array on a SharedArrayBuffer (cannot be transferred, detached or resized). */
export function sharedFloat32(n: number): Float32Array {
  return new Float32Array(new SharedArrayBuffer(n * Float32Array.BYTES_PER_ELEMENT));
}

/** Whether native code may hold on to `a` after the call returns (its memory cannot go away). */
export function isPinned(a: ArrayBufferView): boolean {
  return typeof SharedArrayBuffer !== 'undefined' && a.buffer instanceof SharedArrayBuffer;
}

/** Who holds a store: fit, one async training call, one optimizer update. */
export type WriterToken = object;

let nextId = 0;

export class WeightStore {
  private static readonly byBuffer = new WeakMap<ArrayBufferLike, WeightStore>();

  /** The store whose weights or gradients live on `buffer` (optimizers find theirs this way). */
  static of(buffer: ArrayBufferLike): WeightStore | undefined {
    return WeightStore.byBuffer.get(buffer);
  }

  /** The live weights: what writers write and users see. */
  readonly weights: Float32Array;
  /** Gradients, same layout; written by backward, read by optimizers. */
  readonly grads: Float32Array;
  /** Orders stores for acquireAll (no two writers wait for each other). */
  readonly id = nextId++;
  private version = 0;
  private snapshot: { version: number; data: Float32Array } | null = null;
  private updating = 0;
  private holder: WriterToken | null = null;
  private depth = 0;
  private readonly waiting: { owner: WriterToken; resume: () => void }[] = [];

  constructor(readonly owner: string, size: number) {
    try {
      this.weights = sharedFloat32(size);
      this.grads = sharedFloat32(size);
    } catch (e) {
      throw new RangeError(`Could not allocate the ${owner} weights and gradients: 2 x ${size} float32 (${(e as Error).message})`);
    }
    WeightStore.byBuffer.set(this.weights.buffer, this);
    WeightStore.byBuffer.set(this.grads.buffer, this);
  }

  /** Marks the weights changed: the next async reader copies them again. Writers call it after
   * writing, and so does every method that hands out writable views of the live weights. */
  touch(): void {
    this.version++;
  }

  /** The version `data` (live weights or a snapshot) holds, for caches of what is derived from it
   * (the addon's packed weights); null for the live weights while an update writes them, or for an
   * array this store no longer tracks. */
  versionOf(data: Float32Array): number | null {
    if (data === this.weights) return this.updating > 0 ? null : this.version;
    return data === this.snapshot?.data ? this.snapshot.version : null;
  }

  /** The weights a sync reader reads now: live, or the version before an update in flight. */
  forSyncRead(): Float32Array {
    return this.updating > 0 ? this.snapshot!.data : this.weights;
  }

  /** The weights an async reader reads: one complete version that no writer will touch. */
  forAsyncRead(): Float32Array {
    const s = this.snapshot;
    if (s && (s.version === this.version || this.updating > 0)) return s.data;
    return this.takeSnapshot();
  }

  /** An async update is about to write the live weights (the store must be held). */
  beginUpdate(): void {
    if (this.updating === 0 && this.snapshot?.version !== this.version) this.takeSnapshot();
    this.updating++;
  }

  /** The update has settled (success or not): a new version. */
  endUpdate(): void {
    this.updating--;
    this.touch();
  }

  /** Waits until no other writer holds the store, then holds it for `owner` (again if it already does). */
  acquire(owner: WriterToken): Promise<void> {
    if (this.holder === null || this.holder === owner) {
      this.holder = owner;
      this.depth++;
      return Promise.resolve();
    }
    return new Promise((resume) => this.waiting.push({ owner, resume }));
  }

  release(owner: WriterToken): void {
    if (this.holder !== owner) throw new Error(`${this.owner}: released by a writer that does not hold it`);
    if (--this.depth > 0) return;
    this.holder = null;
    const next = this.waiting.shift();
    if (next) {
      this.holder = next.owner;
      this.depth = 1;
      next.resume();
    }
  }

  /** For sync writers: throws when another writer holds the store (sync calls cannot wait). */
  checkWritable(owner: WriterToken | null, what: string): void {
    if (this.holder !== null && this.holder !== owner) {
      throw new Error(`${what}: the ${this.owner} weights are held by a running writer (fit, an async training call or an ` +
        'optimizer update); await it first. Inference needs no waiting.');
    }
  }

  private takeSnapshot(): Float32Array {
    const data = new Float32Array(this.weights.length);
    data.set(this.weights);
    this.snapshot = { version: this.version, data };
    return data;
  }
}

/** Holds every store for `owner`, in one global order so that two writers never wait for each other. */
export async function acquireAll(stores: Iterable<WeightStore>, owner: WriterToken): Promise<() => void> {
  const sorted = [...new Set(stores)].sort((a, b) => a.id - b.id);
  const held: WeightStore[] = [];
  try {
    for (const s of sorted) {
      await s.acquire(owner);
      held.push(s);
    }
  } catch (e) {
    for (const s of held.reverse()) s.release(owner);
    throw e;
  }
  return () => {
    for (const s of held.reverse()) s.release(owner);
  };
}

/** The same elements of `view` (a view of some store's live weights) in the version a sync reader
 * reads now: `view` itself unless an async update is writing that store. */
export function syncReadView(view: Float32Array): Float32Array {
  const store = WeightStore.of(view.buffer);
  if (!store) return view;
  const src = store.forSyncRead();
  if (src === store.weights) return view;
  const at = (view.byteOffset - store.weights.byteOffset) / Float32Array.BYTES_PER_ELEMENT;
  return src.subarray(at, at + view.length);
}
