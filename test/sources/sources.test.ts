// native/sources.json is the one list of native sources and compile flags; binding.gyp (npm
// install, prebuildify) and CMakeLists.txt (C++ tests, sanitizers, bench, cmake-js) both read
// it. These checks keep the two builds from drifting: the list is complete, every entry
// exists, every ISA file belongs to a family, both builds read the lists and the flags and
// write no flag of their own.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.join(__dirname, '..', '..');
const read = (rel: string): string => fs.readFileSync(path.join(root, rel), 'utf8');

interface Flags {
  gcc: string[];
  msvc: string[];
}
interface IsaFamily extends Flags {
  suffix: string;
  arch: string;
}
interface Sources {
  kernel: string[];
  addon: string[];
  include: string[];
  flags: Flags;
  isa: Record<string, IsaFamily>;
}
const sources = JSON.parse(read('native/sources.json')) as Sources & Record<string, unknown>;
const families = Object.entries(sources.isa);

/** Repo-relative paths (forward slashes) of the files under `dir` whose names end with `ext`. */
function walk(dir: string, ext: string): string[] {
  const abs = path.join(root, dir);
  if (!fs.existsSync(abs)) return [];
  const out: string[] = [];
  for (const entry of fs.readdirSync(abs, { withFileTypes: true })) {
    const rel = `${dir}/${entry.name}`;
    if (entry.isDirectory()) out.push(...walk(rel, ext));
    else if (entry.name.endsWith(ext)) out.push(rel);
  }
  return out.sort();
}

/** The ISA family whose suffix ends `file`, if any. */
const familyOf = (file: string): string | undefined => families.find(([, f]) => file.endsWith(f.suffix))?.[0];
/** Any `_<word>.cc` file name looks like an ISA file (generic names use no such suffix for an ISA). */
const looksIsa = (file: string): boolean => /_(avx\w*|sse\w*|neon|sve\w*|amx\w*|vnni\w*)\.cc$/.test(file);
/** Literal ISA flags a build must not write itself (they come from sources.json "isa"). */
const isaFlagRe = /-m(avx|fma|sse|arch=)|\/arch:/;

/** The file without its `#` comment lines (both binding.gyp and CMake use `#`). */
const code = (text: string): string => text.split('\n').filter((l) => !l.trim().startsWith('#')).join('\n');

describe('native/sources.json', () => {
  it('has exactly the keys kernel, addon, include, flags, isa (plus a "//" comment)', () => {
    expect(Object.keys(sources).filter((k) => k !== '//').sort()).toEqual(['addon', 'flags', 'include', 'isa', 'kernel']);
    for (const key of ['kernel', 'addon', 'include'] as const) {
      expect(Array.isArray(sources[key]), key).toBe(true);
      for (const p of sources[key]) expect(typeof p, `${key} entry`).toBe('string');
    }
  });

  it('gives flags for gcc/clang and msvc, every file and every ISA family (suffix, arch x64 | arm64)', () => {
    const isStrings = (v: unknown): boolean => Array.isArray(v) && v.every((x) => typeof x === 'string');
    expect(Object.keys(sources.flags).sort()).toEqual(['gcc', 'msvc']);
    expect(isStrings(sources.flags.gcc) && isStrings(sources.flags.msvc)).toBe(true);
    expect(sources.flags.gcc, 'no silent a*b+c contraction').toContain('-ffp-contract=off');
    expect(families.length).toBeGreaterThan(0);
    for (const [name, f] of families) {
      expect(Object.keys(f).sort(), name).toEqual(['arch', 'gcc', 'msvc', 'suffix']);
      expect(f.suffix, name).toBe(`_${name}.cc`);
      expect(['x64', 'arm64'], name).toContain(f.arch);
      expect(isStrings(f.gcc) && isStrings(f.msvc), name).toBe(true);
    }
    expect([...sources.flags.gcc, ...sources.flags.msvc].filter((x) => isaFlagRe.test(x)), 'ISA flags on every file').toEqual([]);
  });

  it('puts every ISA-looking kernel file in a family', () => {
    expect(sources.kernel.filter((p) => looksIsa(p) && !familyOf(p))).toEqual([]);
  });

  it('lists every file once, with repo-relative forward-slash paths', () => {
    const all = [...sources.kernel, ...sources.addon, ...sources.include];
    expect(all.filter((p, i) => all.indexOf(p) !== i), 'duplicates').toEqual([]);
    expect(all.filter((p) => path.isAbsolute(p) || p.includes('\\') || p.startsWith('.')), 'bad paths').toEqual([]);
  });

  it('names only files and folders that exist', () => {
    const missing = [...sources.kernel, ...sources.addon].filter((p) => !fs.statSync(path.join(root, p), { throwIfNoEntry: false })?.isFile());
    expect(missing, 'missing source files').toEqual([]);
    const missingDirs = sources.include.filter((p) => !fs.statSync(path.join(root, p), { throwIfNoEntry: false })?.isDirectory());
    expect(missingDirs, 'missing include folders').toEqual([]);
  });

  it('keeps kernel sources in native/src and addon sources in native/addon', () => {
    expect(sources.kernel.filter((p) => !p.startsWith('native/src/') || !p.endsWith('.cc'))).toEqual([]);
    expect(sources.addon.filter((p) => !p.startsWith('native/addon/') || !p.endsWith('.cc'))).toEqual([]);
  });

  it('lists every native/src/**/*.cc as a kernel source', () => {
    const unlisted = walk('native/src', '.cc').filter((p) => !sources.kernel.includes(p));
    expect(unlisted, 'add these to "kernel" in native/sources.json').toEqual([]);
  });

  it('lists every native/addon/**/*.cc as an addon source', () => {
    const unlisted = walk('native/addon', '.cc').filter((p) => !sources.addon.includes(p));
    expect(unlisted, 'add these to "addon" in native/sources.json').toEqual([]);
  });

  it('keeps ISA intrinsics headers out of generic .cc files (ISA flags go only on an ISA family\'s files)', () => {
    const offenders = walk('native/src', '.cc').filter(
      (p) => !familyOf(p) && /#\s*include\s*<(immintrin|arm_neon)\.h>/.test(read(p)),
    );
    expect(offenders).toEqual([]);
  });
});

describe('binding.gyp', () => {
  const gyp = read('binding.gyp');

  it('reads native/sources.json and its kernel, addon and include lists', () => {
    expect(gyp).toContain("require('./native/sources.json')");
    for (const key of ['kernel', 'addon', 'include']) expect(gyp).toContain(`<(frnn_list).${key}`);
    expect(gyp).toContain("require(\\'node-addon-api\\').include_dir");
  });

  it('expands to every kernel + addon source exactly once across its targets', () => {
    // Evaluate the `<!@(node -p "...")` source expansions the way gyp does (cwd = repo root).
    const vars = Object.fromEntries(
      [...gyp.matchAll(/'(frnn_\w+)':\s*"([^"]*)"/g)].map((m) => [m[1] as string, m[2] as string]),
    );
    const expanded: string[] = [];
    for (const m of gyp.matchAll(/'sources':\s*\[([^\]]*)\]/g)) {
      for (const cmd of (m[1] as string).matchAll(/<!@\(node -p "(.*?)"\)/g)) {
        const js = (cmd[1] as string).replace(/\\'/g, "'").replace(/<\((\w+)\)/g, (_, v: string) => {
          if (!(v in vars)) throw new Error(`binding.gyp: unknown variable ${v}`);
          return vars[v] as string;
        });
        const out = execFileSync(process.execPath, ['-p', js], { cwd: root, encoding: 'utf8' }).trim();
        if (out) expanded.push(...out.split(/\s+/));
      }
    }
    const expected = [...sources.kernel, ...sources.addon];
    expect(expanded.filter((p, i) => expanded.indexOf(p) !== i), 'compiled twice').toEqual([]);
    expect([...expanded].sort()).toEqual([...expected].sort());
  });

  it('names no kernel or addon file itself (they all come from sources.json)', () => {
    expect(code(gyp)).not.toMatch(/native\/(src|addon)\//);
  });

  it('is portable: no -march=native', () => {
    expect(code(gyp)).not.toMatch(/-march=native|-mtune=native/);
  });

  it('takes every compile flag of sources.json from it and writes no ISA flag itself', () => {
    expect(code(gyp)).not.toMatch(isaFlagRe);
    expect(code(gyp)).not.toContain('-ffp-contract');
    for (const key of ['gcc', 'msvc']) expect(gyp).toContain(`<(frnn_list).flags.${key}`);
  });

  it('has a target per ISA family of each architecture, with that family\'s sources and flags', () => {
    for (const [name] of families) {
      const stanza = gyp.match(new RegExp(`'target_name': 'frnn_${name}'[^}]*`))?.[0];
      expect(stanza, `binding.gyp: no target frnn_${name}`).toBeDefined();
      expect(stanza).toContain(`<(frnn_list).isa.${name}.suffix`);
      expect(stanza).toContain(`<(frnn_list).isa.${name}.gcc`);
      expect(gyp).toMatch(new RegExp(`'dependencies': \\[[^\\]]*'frnn_${name}'`));
    }
  });
});

describe('CMakeLists.txt', () => {
  const cmake = read('CMakeLists.txt');

  it('reads native/sources.json and its kernel, addon and include lists', () => {
    expect(cmake).toContain('native/sources.json');
    expect(cmake).toMatch(/file\(READ\s+"\$\{FRNN_SOURCES_JSON\}"/);
    for (const key of ['kernel', 'addon', 'include']) expect(cmake).toMatch(new RegExp(`frnn_json_list\\(${key}\\s`));
  });

  it('names no kernel or addon file itself (they all come from sources.json)', () => {
    expect(code(cmake)).not.toMatch(/native\/(src|addon)\//);
  });

  it('is portable: no -march=native', () => {
    expect(code(cmake)).not.toMatch(/-march=native|-mtune=native/);
  });

  it('takes the common and per-ISA flags from sources.json and writes no ISA flag itself', () => {
    expect(code(cmake)).not.toMatch(isaFlagRe);
    expect(code(cmake)).not.toContain('-ffp-contract');
    expect(cmake).toMatch(/frnn_json_strings\(FRNN_COMMON_FLAGS flags /);
    expect(cmake).toMatch(/string\(JSON name MEMBER "\$\{FRNN_JSON\}" isa /);
    expect(cmake).toMatch(/frnn_json_strings\(FRNN_ISA_\$\{name\}_FLAGS isa /);
  });
});
