#!/usr/bin/env bash
# The N-API prebuilds `npm pack` ships (run by `prepack`): prebuilds/linux-x64 with the host's
# g++ and prebuilds/linux-arm64 cross-built with Debian's aarch64 toolchain (as `npm run
# test:neon`: apt-get install g++-aarch64-linux-gnu). One build per arch serves every Node
# version with N-API 8; node-gyp-build (the install script) and lib/native.ts load them, and
# building from source stays the fallback for every other platform.
#
# prebuildify runs node-gyp in the package folder and leaves no build/ behind: a developer's
# build/ is moved aside meanwhile and put back (postpack then deletes prebuilds/, so a stale
# prebuild never shadows a later source build).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
  echo "prebuild.sh: prebuilds are made on linux-x64 (this is $(uname -s)-$(uname -m))" >&2
  exit 1
fi
for tool in aarch64-linux-gnu-gcc aarch64-linux-gnu-g++ aarch64-linux-gnu-strip; do
  command -v "$tool" >/dev/null || { echo "prebuild.sh: $tool missing (apt-get install -y g++-aarch64-linux-gnu)" >&2; exit 1; }
done
export JOBS=${JOBS:-2}  # node-gyp's make -j
rm -rf prebuilds
if [ -d build ]; then
  SAVED=$(mktemp -d)
  mv build "$SAVED/"
  trap 'rm -rf build; mv "$SAVED/build" build; rmdir "$SAVED"' EXIT
fi
CC=aarch64-linux-gnu-gcc CXX=aarch64-linux-gnu-g++ PREBUILD_STRIP_BIN=aarch64-linux-gnu-strip \
  npx prebuildify --napi --strip --tag-libc --arch arm64
npx prebuildify --napi --strip --tag-libc --arch x64
ls -l prebuilds/*/
