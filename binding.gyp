# The addon build used by `npm install` (node-gyp-build -> node-gyp) and by prebuildify.
#
# Sources AND compile flags come from native/sources.json, which CMakeLists.txt reads too
# (test/sources/sources.test.ts checks that both builds keep reading it):
#   "flags"  every file (fp contraction off: results match the scalar reference and each
#            ISA; no errno from math functions: nothing reads it, sqrt and division may then
#            vectorise)
#   "isa"    per ISA family: the files named *<suffix> and their flags. ISA flags go on those
#            files only (ARCHITECTURE.md, "Invariants"). gyp has no per-file flags, so each
#            family's files form a static library with its own cflags (one stanza below per
#            family); everything else is compiled for the baseline ISA, so one binary runs on
#            any x86-64 / arm64 and picks its kernels at run time. No -march=native: prebuilds
#            must be portable.
# Lists in a target extend those of target_defaults (gyp merges them), so a family's stanza
# names only its own flags.
{
  'variables': {
    # `node -p` runs with the cwd set to this file's directory (the repo root).
    'frnn_list': "require('./native/sources.json')",
  },
  'target_defaults': {
    # NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS: an error thrown while the environment shuts down (worker.terminate()) is
    # dropped instead of ending the process (node-addon-api would otherwise rethrow it from its own handler).
    'defines': ['NAPI_VERSION=8', 'NAPI_CPP_EXCEPTIONS', 'NODE_ADDON_API_CPP_EXCEPTIONS_ALL', 'NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS'],
    'include_dirs': [
      '<!@(node -p "<(frnn_list).include.join(\' \')")',
      '<!(node -p "require(\'node-addon-api\').include_dir")',
    ],
    'cflags': ['-O3', '<!@(node -p "<(frnn_list).flags.gcc.join(\' \')")', '-fexceptions', '-fvisibility=hidden'],
    'cflags_cc': ['-std=c++17', '-fexceptions'],
    'cflags!': ['-fno-exceptions'],
    'cflags_cc!': ['-fno-exceptions', '-std=gnu++17', '-std=gnu++20'],
    'xcode_settings': {
      'GCC_ENABLE_CPP_EXCEPTIONS': 'YES',
      'CLANG_CXX_LANGUAGE_STANDARD': 'c++17',
      'GCC_OPTIMIZATION_LEVEL': '3',
      'GCC_SYMBOLS_PRIVATE_EXTERN': 'YES',
      'MACOSX_DEPLOYMENT_TARGET': '11.0',
      'OTHER_CFLAGS': ['<!@(node -p "<(frnn_list).flags.gcc.join(\' \')")'],
    },
    'msvs_settings': {
      'VCCLCompilerTool': {
        'ExceptionHandling': 1,
        'AdditionalOptions': ['/std:c++17', '<!@(node -p "<(frnn_list).flags.msvc.join(\' \')")'],
      },
    },
  },
  'targets': [
    {
      'target_name': 'fused_rnn',
      'sources': [
        # Generic kernel files (no ISA family's suffix: baseline ISA) + the N-API bindings.
        '<!@(node -p "<(frnn_list).kernel.filter(f => !Object.values(<(frnn_list).isa).some(i => f.endsWith(i.suffix))).join(\' \')")',
        '<!@(node -p "<(frnn_list).addon.join(\' \')")',
      ],
      'conditions': [
        ['target_arch=="x64"', {'dependencies': ['frnn_avx2', 'frnn_avx512', 'frnn_avx512bf16', 'frnn_avxvnni', 'frnn_avx512vnni']}],
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
          'sources': ['<!@(node -p "<(frnn_list).kernel.filter(f => f.endsWith(<(frnn_list).isa.avx2.suffix)).join(\' \')")'],
          'cflags': ['<!@(node -p "<(frnn_list).isa.avx2.gcc.join(\' \')")', '-fPIC'],
          'xcode_settings': {'OTHER_CFLAGS': ['<!@(node -p "<(frnn_list).isa.avx2.gcc.join(\' \')")']},
          'msvs_settings': {'VCCLCompilerTool': {'AdditionalOptions': ['<!@(node -p "<(frnn_list).isa.avx2.msvc.join(\' \')")']}},
        },
        {
          'target_name': 'frnn_avx512',
          'type': 'static_library',
          'sources': ['<!@(node -p "<(frnn_list).kernel.filter(f => f.endsWith(<(frnn_list).isa.avx512.suffix)).join(\' \')")'],
          'cflags': ['<!@(node -p "<(frnn_list).isa.avx512.gcc.join(\' \')")', '-fPIC'],
          'xcode_settings': {'OTHER_CFLAGS': ['<!@(node -p "<(frnn_list).isa.avx512.gcc.join(\' \')")']},
          'msvs_settings': {'VCCLCompilerTool': {'AdditionalOptions': ['<!@(node -p "<(frnn_list).isa.avx512.msvc.join(\' \')")']}},
        },
        {
          'target_name': 'frnn_avx512bf16',
          'type': 'static_library',
          'sources': ['<!@(node -p "<(frnn_list).kernel.filter(f => f.endsWith(<(frnn_list).isa.avx512bf16.suffix)).join(\' \')")'],
          'cflags': ['<!@(node -p "<(frnn_list).isa.avx512bf16.gcc.join(\' \')")', '-fPIC'],
          'xcode_settings': {'OTHER_CFLAGS': ['<!@(node -p "<(frnn_list).isa.avx512bf16.gcc.join(\' \')")']},
          'msvs_settings': {'VCCLCompilerTool': {'AdditionalOptions': ['<!@(node -p "<(frnn_list).isa.avx512bf16.msvc.join(\' \')")']}},
        },
        {
          'target_name': 'frnn_avxvnni',
          'type': 'static_library',
          'sources': ['<!@(node -p "<(frnn_list).kernel.filter(f => f.endsWith(<(frnn_list).isa.avxvnni.suffix)).join(\' \')")'],
          'cflags': ['<!@(node -p "<(frnn_list).isa.avxvnni.gcc.join(\' \')")', '-fPIC'],
          'xcode_settings': {'OTHER_CFLAGS': ['<!@(node -p "<(frnn_list).isa.avxvnni.gcc.join(\' \')")']},
          'msvs_settings': {'VCCLCompilerTool': {'AdditionalOptions': ['<!@(node -p "<(frnn_list).isa.avxvnni.msvc.join(\' \')")']}},
        },
        {
          'target_name': 'frnn_avx512vnni',
          'type': 'static_library',
          'sources': ['<!@(node -p "<(frnn_list).kernel.filter(f => f.endsWith(<(frnn_list).isa.avx512vnni.suffix)).join(\' \')")'],
          'cflags': ['<!@(node -p "<(frnn_list).isa.avx512vnni.gcc.join(\' \')")', '-fPIC'],
          'xcode_settings': {'OTHER_CFLAGS': ['<!@(node -p "<(frnn_list).isa.avx512vnni.gcc.join(\' \')")']},
          'msvs_settings': {'VCCLCompilerTool': {'AdditionalOptions': ['<!@(node -p "<(frnn_list).isa.avx512vnni.msvc.join(\' \')")']}},
        },
      ],
    }],
    ['target_arch=="arm64"', {
      'targets': [
        {
          # NEON is baseline on arm64 (its flag list is empty): the split keeps the tree uniform.
          'target_name': 'frnn_neon',
          'type': 'static_library',
          'sources': ['<!@(node -p "<(frnn_list).kernel.filter(f => f.endsWith(<(frnn_list).isa.neon.suffix)).join(\' \')")'],
          'cflags': ['<!@(node -p "<(frnn_list).isa.neon.gcc.join(\' \')")', '-fPIC'],
        },
      ],
    }],
  ],
}
