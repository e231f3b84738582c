# Cross build for AArch64 Linux with Debian's cross toolchain; tests run under qemu-user.
#
#   apt-get install g++-aarch64-linux-gnu qemu-user      (or qemu-user-static)
#   npm run test:neon
#     = cmake -S . -B build-aarch64 -DCMAKE_TOOLCHAIN_FILE=native/cmake/aarch64-linux-gnu.cmake
#         -DFRNN_BUILD_BENCH=OFF -DFRNN_BENCH_DNNL=OFF && cmake --build build-aarch64
#       && ctest --test-dir build-aarch64
#
# CMAKE_SYSTEM_PROCESSOR aarch64 makes CMakeLists.txt build the *_neon.cc files and leave out
# the x86 ones. ctest runs every test through CMAKE_CROSSCOMPILING_EMULATOR:
# `qemu-aarch64 -L <sysroot>` (-L: where the AArch64 dynamic loader and libstdc++ live).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(FRNN_CROSS_TRIPLE aarch64-linux-gnu)
set(FRNN_CROSS_SYSROOT "/usr/${FRNN_CROSS_TRIPLE}" CACHE PATH "AArch64 target libraries (Debian: /usr/aarch64-linux-gnu)")

set(CMAKE_C_COMPILER ${FRNN_CROSS_TRIPLE}-gcc)
set(CMAKE_CXX_COMPILER ${FRNN_CROSS_TRIPLE}-g++)

# Libraries and headers from the target tree only; programs (qemu, node) from the host.
set(CMAKE_FIND_ROOT_PATH "${FRNN_CROSS_SYSROOT}")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# qemu-user ships qemu-aarch64, qemu-user-static qemu-aarch64-static: either will do.
if(NOT CMAKE_CROSSCOMPILING_EMULATOR)
  find_program(FRNN_QEMU_AARCH64 NAMES qemu-aarch64 qemu-aarch64-static NO_CMAKE_FIND_ROOT_PATH)
  if(FRNN_QEMU_AARCH64)
    set(CMAKE_CROSSCOMPILING_EMULATOR "${FRNN_QEMU_AARCH64};-L;${FRNN_CROSS_SYSROOT}" CACHE STRING
        "Runs the AArch64 test programs on this host")
  endif()
endif()
