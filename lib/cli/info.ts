// `fused-rnn info`: what this install runs on — every field of info() (version, kernel ISA,
// threads, and whatever else the package reports), Node and the CPU.
import { cpus } from 'node:os';
import { info as packageInfo } from '../index';

export function infoLines(): [string, string][] {
  const fields = Object.entries(packageInfo() as Record<string, unknown>).map(([k, v]): [string, string] =>
    [k, Array.isArray(v) ? v.join(', ') : typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)]);
  return [...fields, ['node', process.version], ['platform', `${process.platform}-${process.arch}`],
    ['cpu', `${cpus()[0]?.model ?? 'unknown'} (${cpus().length} logical cores)`]];
}
