// Float32Arrays for a call's private copies and staging, kept between calls: a fresh multi-MB
// array costs a page fault per 4 KiB on first touch (tens of ms per call in a VM), a reused one
// nothing. Arrays come back with give() once the call that took them has settled.

/** Arrays kept per length: enough for a few calls in flight (one LSTM step takes five arrays
 * of B·H floats: h0, c0, output, hN, cN), not a leak when lengths vary: at most KEEP_BYTES in all. */
const KEEP_PER_LENGTH = 16;
const KEEP_BYTES = 256 * 1024 * 1024;
const free = new Map<number, Float32Array[]>();
let keptBytes = 0;

/** An array of n floats (its contents are whatever the last user left). */
export function take(n: number): Float32Array {
  const a = free.get(n)?.pop();
  if (!a) return new Float32Array(n);
  keptBytes -= a.byteLength;
  return a;
}

/** Returns arrays from take() for reuse. */
export function give(...arrays: (Float32Array | null)[]): void {
  for (const a of arrays) {
    if (a === null) continue;
    let list = free.get(a.length);
    if (!list) free.set(a.length, (list = []));
    if (list.length < KEEP_PER_LENGTH && keptBytes + a.byteLength <= KEEP_BYTES) {
      list.push(a);
      keptBytes += a.byteLength;
    }
  }
}

/** A private copy of `a` in a reused array (give() it back when done). */
export function copyOf(a: Float32Array): Float32Array {
  const c = take(a.length);
  c.set(a);
  return c;
}
