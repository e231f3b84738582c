// Child of test/reliability/stale_temps.test.ts: starts an atomic write of 64 MiB to argv[2] and
// SIGKILLs itself as soon as its temp file exists (no cleanup can run), leaving the temp behind.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomicAsync } from '../../../lib/io/atomic';

const target = process.argv[2];
const dir = path.dirname(target);
const timer = setInterval(() => {
  if (fs.readdirSync(dir).some((f) => f.endsWith(`.tmp`) && f.includes(`.${process.pid}.`))) process.kill(process.pid, 'SIGKILL');
}, 1);
void writeFileAtomicAsync(target, new Uint8Array(64 << 20).fill(7)).then(() => {
  clearInterval(timer);
  process.kill(process.pid, 'SIGKILL');  // finished before the timer saw the temp: still a kill, no temp
});
