// The package layering from DESIGN.md, as data: each package lists the packages it may import.
// Arrows point down only. Used by the lint config, the layering check and the tsconfig check.
export const layering = {
  abi: [],
  mm: ['abi'],
  vfs: ['abi'],
  netstack: ['abi'],
  procfs: ['abi', 'vfs'],
  kernel: ['abi', 'mm', 'vfs', 'netstack', 'procfs'],
  syscalls: ['abi', 'mm', 'vfs', 'netstack', 'procfs', 'kernel'],
  'trap-native': ['abi'],
  runtime: ['abi', 'mm', 'vfs', 'netstack', 'procfs', 'kernel', 'syscalls', 'trap-native'],
  cli: ['abi', 'mm', 'vfs', 'netstack', 'procfs', 'kernel', 'syscalls', 'trap-native', 'runtime'],
};

/** Directory (relative to the repo root) of each package. */
export const packageDirs = {
  abi: 'packages/abi',
  mm: 'packages/mm',
  vfs: 'packages/vfs',
  netstack: 'packages/netstack',
  procfs: 'packages/procfs',
  kernel: 'packages/kernel',
  syscalls: 'packages/syscalls',
  'trap-native': 'packages/trap-native',
  runtime: 'packages/runtime',
  cli: 'apps/cli',
};
