// Pins this process (every thread) and so the processes it starts to `cpus` (a taskset list
// such as '0' or '0-1'); false where taskset is missing or not Linux. The vCPUs of this kind of VM
// run at different speeds that change by the minute (the same bench_rnn row measured 15.3 ms on
// one and 18.2 ms on the other, seconds apart): two sides compared in one run must share a CPU.
'use strict';
const { execFileSync } = require('node:child_process');

function pinTo(cpus) {
  if (process.platform !== 'linux') return false;
  try {
    execFileSync('taskset', ['-a', '-p', '-c', cpus, String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

module.exports = { pinTo };
