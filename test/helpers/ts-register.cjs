// Lets a plain `node` child process (tests that must survive or observe a crash: worker
// termination, SIGKILL, the fuzzer) run lib/*.ts and test/*.ts directly, without dist/:
//   node -r ./test/helpers/ts-register.cjs script.ts
// Each .ts file is compiled to CommonJS with @swc/core (a devDependency) when required; the
// output is cached by content hash in the OS temp folder (worker threads load lib/ again each).
'use strict';
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const cacheDir = path.join(os.tmpdir(), 'fused-rnn-ts-cache');
let swc = null;

function compile(source, filename) {
  const key = crypto.createHash('sha256').update(filename).update('\0').update(source).digest('hex').slice(0, 32);
  const cached = path.join(cacheDir, `${key}.js`);
  try {
    return fs.readFileSync(cached, 'utf8');
  } catch {
    // not cached yet
  }
  swc ??= require('@swc/core');
  const { code } = swc.transformSync(source, {
    filename,
    sourceMaps: 'inline',
    jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
    module: { type: 'commonjs' },
  });
  try {
    fs.mkdirSync(cacheDir, { recursive: true });
    const tmp = `${cached}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`;
    fs.writeFileSync(tmp, code);
    fs.renameSync(tmp, cached);
  } catch {
    // a cache that cannot be written only costs time
  }
  return code;
}

require.extensions['.ts'] = function compileTs(module, filename) {
  module._compile(compile(fs.readFileSync(filename, 'utf8'), filename), filename);
};
