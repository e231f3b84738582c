// Float32Arrays for a call's private copies and staging, kept between calls: a fresh multi-MB
// array costs a page fault per 4 KiB on first touch (tens of ms per call in a VM), a reused one
// nothing. Arrays come back with give() once the call that took them has settled.

/** Arrays kept per length: enough for a few calls in flight, not a leak when lengths vary. */
const KEEP_PER_LENGTH = 4;
const free = new Map<number, Float32Array[]>();

/** An array of n floats (its contents are whatever the last user left). */
export function take(n: number): Float32Array {
  return free.get(n)?.pop() ?? new Float32Array(n);
}

/** Returns arrays from take() for reuse. */
export function give(...arrays: (Float32Array | null)[]): void {
  for (const a of arrays) {
    if (a === null) continue;
    let list = free.get(a.length);
    if (!list) free.set(a.length, (list = []));
    if (list.length < KEEP_PER_LENGTH) list.push(a);
  }
}

/** A private copy of `a` in a reused array (give() it back when done). */
export function copyOf(a: Float32Array): Float32Array {
  const c = take(a.length);
  c.set(a);
  return c;
}
