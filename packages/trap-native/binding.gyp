# Native parts of @tsvisor/trap-native, built from source at install time (no prebuilt binaries):
#   trap_native.node  the node-addon-api addon (native/addon.cc)
#   tsvisor-stub      the static stub process the platform runs sandboxed code in (native/stub.S,
#                     linked at a fixed high address by native/stub.ld)
{
  'targets': [
    {
      'target_name': 'trap_native',
      'sources': ['native/addon.cc', 'native/host-socket.cc', 'native/host-fs.cc'],
      'dependencies': ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"],
      'defines': ['NAPI_VERSION=8', '_GNU_SOURCE', '_FORTIFY_SOURCE=2'],
      'cflags!': ['-fno-exceptions'],
      'cflags_cc!': ['-fno-exceptions', '-std=gnu++17'],
      'cflags': ['-O2', '-Wall', '-Wextra', '-Wno-missing-field-initializers', '-fstack-protector-strong', '-fcf-protection=full'],
      'cflags_cc': ['-std=gnu++20'],
      'ldflags': ['-Wl,-z,relro', '-Wl,-z,now', '-Wl,-z,noexecstack'],
    },
    {
      'target_name': 'tsvisor_stub',
      'type': 'none',
      'actions': [
        {
          'action_name': 'link_stub',
          'inputs': ['native/stub.S', 'native/stub.ld'],
          'outputs': ['<(PRODUCT_DIR)/tsvisor-stub'],
          'action': [
            'gcc', '-nostdlib', '-static', '-Wl,-T,native/stub.ld', '-Wl,-z,noexecstack',
            '-Wl,--build-id=none', '-o', '<(PRODUCT_DIR)/tsvisor-stub', 'native/stub.S'
          ],
        },
      ],
    },
  ],
}
