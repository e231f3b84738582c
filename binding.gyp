# The addon build used by `npm install` (node-gyp-build -> node-gyp) and by prebuildify.
#
# Sources come from native/sources.json, the ONE list that CMakeLists.txt reads too
# (test/sources/sources.test.ts checks that both builds keep reading it).
#
# ISA flags (STYLE 2) go only on *_avx2.cc / *_avx512.cc / *_neon.cc. gyp has no per-file
# flags, so each ISA's files form a static library with its own cflags; everything else
# is compiled for the baseline ISA, so one binary runs on any x86-64 / arm64 and picks
# its kernels at run time. No -march=native: prebuilds must be portable.
# Every file is compiled with -ffp-contract=off (no silent a*b+c fusion) and -fno-math-errno
# (nothing reads errno; sqrt and division may then vectorise).
{
  'variables': {
    # `node -p` runs with the cwd set to this file's directory (the repo root).
    'frnn_list': "require('./native/sources.json')",
    'frnn_isa_re': "/_(avx2|avx512|neon)[.]cc$/",
  },
  'target_defaults': {
    # NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS: an error thrown while the environment shuts down (worker.terminate()) is
    # dropped instead of ending the process (node-addon-api would otherwise rethrow it from its own handler).
    'defines': ['NAPI_VERSION=8', 'NAPI_CPP_EXCEPTIONS', 'NODE_ADDON_API_CPP_EXCEPTIONS_ALL', 'NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS'],
    'include_dirs': [
      '<!@(node -p "<(frnn_list).include.join(\' \')")',
      '<!(node -p "require(\'node-addon-api\').include_dir")',
    ],
    'cflags': ['-O3', '-ffp-contract=off', '-fno-math-errno', '-fexceptions', '-fvisibility=hidden'],
    'cflags_cc': ['-std=c++17', '-fexceptions'],
    'cflags!': ['-fno-exceptions'],
    'cflags_cc!': ['-fno-exceptions', '-std=gnu++17', '-std=gnu++20'],
    'xcode_settings': {
      'GCC_ENABLE_CPP_EXCEPTIONS': 'YES',
      'CLANG_CXX_LANGUAGE_STANDARD': 'c++17',
      'GCC_OPTIMIZATION_LEVEL': '3',
      'GCC_SYMBOLS_PRIVATE_EXTERN': 'YES',
      'MACOSX_DEPLOYMENT_TARGET': '11.0',
      'OTHER_CFLAGS': ['-ffp-contract=off', '-fno-math-errno'],
    },
    'msvs_settings': {
      'VCCLCompilerTool': {
        'ExceptionHandling': 1,
        'AdditionalOptions': ['/std:c++17', '/fp:precise'],
      },
    },
  },
  'targets': [
    {
      'target_name': 'fused_rnn',
      'sources': [
        # Generic kernel files (baseline ISA) + the N-API bindings.
        '<!@(node -p "<(frnn_list).kernel.filter(f => !<(frnn_isa_re).test(f)).join(\' \')")',
        '<!@(node -p "<(frnn_list).addon.join(\' \')")',
      ],
      'conditions': [
        ['target_arch=="x64"', {'dependencies': ['frnn_avx2', 'frnn_avx512']}],
        ['target_arch=="arm64"', {'dependencies': ['frnn_neon']}],
      ],
    },
  ],
  'conditions': [
    ['target_arch=="x64"', {
      'targets': [
        {
          'target_name': 'frnn_avx2',
          'type': 'static_library',
          'sources': ['<!@(node -p "<(frnn_list).kernel.filter(f => f.endsWith(\'_avx2.cc\')).join(\' \')")'],
          'cflags': ['-mavx2', '-mfma', '-fPIC'],
          'xcode_settings': {'OTHER_CFLAGS': ['-ffp-contract=off', '-mavx2', '-mfma']},
          'msvs_settings': {'VCCLCompilerTool': {'AdditionalOptions': ['/arch:AVX2']}},
        },
        {
          'target_name': 'frnn_avx512',
          'type': 'static_library',
          'sources': ['<!@(node -p "<(frnn_list).kernel.filter(f => f.endsWith(\'_avx512.cc\')).join(\' \')")'],
          'cflags': ['-mavx512f', '-mavx2', '-mfma', '-fPIC'],
          'xcode_settings': {'OTHER_CFLAGS': ['-ffp-contract=off', '-mavx512f', '-mavx2', '-mfma']},
          'msvs_settings': {'VCCLCompilerTool': {'AdditionalOptions': ['/arch:AVX512']}},
        },
      ],
    }],
    ['target_arch=="arm64"', {
      'targets': [
        {
          # NEON is baseline on arm64: no extra flag, the split only keeps the tree uniform.
          'target_name': 'frnn_neon',
          'type': 'static_library',
          'sources': ['<!@(node -p "<(frnn_list).kernel.filter(f => f.endsWith(\'_neon.cc\')).join(\' \')")'],
          'cflags': ['-fPIC'],
        },
      ],
    }],
  ],
}
