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
