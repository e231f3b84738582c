// Argument checks that throw TypeError / RangeError naming the argument, what was
// expected and what was received, e.g.
//   RangeError: Expected positive integer for hiddenSize but received 0 of type number
/** A received value already put into words (e.g. "3 entries"), printed as is. */
export class Described {
  constructor(readonly text: string) {}
}

/** Describes a received value for an error message. */
export function describe(value: unknown): string {
  if (value instanceof Described) return value.text;
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (Array.isArray(value)) return `[${value.map((v) => (typeof v === 'number' ? String(v) : describe(v))).join(', ')}]`;
  if (ArrayBuffer.isView(value)) return `${value.constructor.name} of length ${(value as unknown as ArrayLike<number>).length}`;
  if (typeof value === 'number' || typeof value === 'boolean') return `${value} of type ${typeof value}`;
  if (typeof value === 'string') return `'${value}' of type string`;
  if (typeof value === 'object') return `${(value as object).constructor?.name ?? 'object'}`;
  return `value of type ${typeof value}`;
}

export function invalidArg(name: string, expected: string, actual: unknown): RangeError {
  return new RangeError(`Expected ${expected} for ${name} but received ${describe(actual)}`);
}

export function invalidType(name: string, expected: string, actual: unknown): TypeError {
  return new TypeError(`Expected ${expected} for ${name} but received ${describe(actual)}`);
}

export function checkInteger(name: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number') throw invalidType(name, min === 1 ? 'positive integer' : `integer in ${min}..${max}`, value);
  if (!Number.isInteger(value) || value < min || value > max) {
    const expected = min === 1 && max === Number.MAX_SAFE_INTEGER ? 'positive integer'
      : max === Number.MAX_SAFE_INTEGER ? `integer >= ${min}` : `integer in ${min}..${max}`;
    throw invalidArg(name, expected, value);
  }
  return value;
}

export function checkBoolean(name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw invalidType(name, 'boolean', value);
  return value;
}

/** A finite number >= 0 (0 = option off). */
export function checkNonNegative(name: string, value: unknown): number {
  if (typeof value !== 'number') throw invalidType(name, 'finite number >= 0', value);
  if (!Number.isFinite(value) || value < 0) throw invalidArg(name, 'finite number >= 0', value);
  return value;
}

export function checkFinite(name: string, value: unknown): number {
  if (typeof value !== 'number') throw invalidType(name, 'finite number', value);
  if (!Number.isFinite(value)) throw invalidArg(name, 'finite number', value);
  return value;
}

export function checkOneOf<T extends string>(name: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !allowed.includes(value as T)) {
    const expected = `one of ${allowed.map((a) => `'${a}'`).join(', ')}`;
    throw typeof value === 'string' ? invalidArg(name, expected, value) : invalidType(name, expected, value);
  }
  return value as T;
}

/** Throws for option names the receiver does not know: none is silently ignored. */
export function checkKnownKeys(name: string, obj: object, known: readonly string[]): void {
  for (const key of Object.keys(obj)) {
    if (!known.includes(key)) throw invalidArg(name, `only the keys ${known.join(', ')}`, new Described(`unknown key '${key}'`));
  }
}

/** Largest feature, hidden, unit or vocabulary size a layer takes (the kernels index with 32-bit integers). */
export const MAX_SIZE = 2 ** 24;
/** Most elements in one weight buffer (8 GiB of float32). */
export const MAX_ELEMENTS = 2 ** 31;

/** A size option: a positive integer, at most `max` (the bound is in the message). */
export function checkSize(name: string, value: unknown, max = MAX_SIZE): number {
  const v = checkInteger(name, value, 1);
  if (v > max) throw invalidArg(name, `positive integer at most ${max}`, v);
  return v;
}

/** A new zeroed Float32Array of n elements, n checked first: never an unnamed 'Invalid typed array length'. */
export function allocF32(name: string, n: number): Float32Array {
  if (!Number.isSafeInteger(n) || n < 0 || n > MAX_ELEMENTS) {
    throw invalidArg(name, `at most ${MAX_ELEMENTS} elements (2^31)`, new Described(`${n} elements`));
  }
  try {
    return new Float32Array(n);
  } catch (e) {
    throw new RangeError(`Could not allocate ${name}: ${n} float32 elements (${(e as Error).message})`);
  }
}

/**
 * Reads an options object: a plain object whose keys are all known, and ONLY its own properties
 * (a value inherited from a polluted Object.prototype is never taken for an option). Returns a
 * copy without prototype holding the own properties among `known`.
 */
export function ownOptions<T extends object>(name: string, value: unknown, known: readonly string[], expected = 'object'): T {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalidType(name, expected, value);
  checkKnownKeys(name, value, known);
  const out = Object.create(null) as Record<string, unknown>;
  for (const k of known) if (Object.prototype.hasOwnProperty.call(value, k)) out[k] = (value as Record<string, unknown>)[k];
  return out as T;
}

/** Every element of a plain array is a number (holes, strings and other values are refused by index). */
export function checkNumbers(name: string, values: ArrayLike<unknown>): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v !== 'number') {
      throw invalidType(`${name}[${i}]`, 'number', Array.isArray(values) && !(i in values) ? new Described('an empty slot (a hole)') : v);
    }
  }
}

/** Every value is finite (no NaN, no ±Infinity); names the first that is not. */
export function checkAllFinite(name: string, values: ArrayLike<number>): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v - v !== 0) throw invalidArg(`${name}[${i}]`, 'finite number', v);
  }
}
