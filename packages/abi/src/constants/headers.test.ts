// Header-differential test: every constant of this package is compiled against the real C headers
// (glibc and the Linux uapi headers installed on the machine, Linux 6.1) and printed by a C program;
// its value must equal ours. Names the installed headers do not define must be listed in
// NOT_IN_HEADERS with the reason (too new for 6.1, or kernel-internal), and a listed name that the
// headers do define fails the test so the list cannot go stale.
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileC, makeTempDir } from '../c-compiler.test-util.js';
import { constantGroups } from './groups.js';

const GLIBC_TU_HEADERS = [
  'fcntl.h',
  'unistd.h',
  'sys/mount.h',
  'stdio.h',
  'sys/stat.h',
  'sys/file.h',
  'sched.h',
  'sys/socket.h',
  'netinet/in.h',
  'netinet/tcp.h',
  'netinet/udp.h',
  'sys/resource.h',
  'sys/eventfd.h',
  'sys/timerfd.h',
  'sys/signalfd.h',
  'signal.h',
];

const LINUX_TU_HEADERS = [
  'stdio.h',
  'linux/fcntl.h',
  'linux/stat.h',
  'linux/openat2.h',
  'linux/fs.h',
  'linux/mount.h',
  'linux/falloc.h',
  'linux/xattr.h',
  'linux/close_range.h',
  'linux/memfd.h',
  'linux/mman.h',
  'linux/sched.h',
  'linux/wait.h',
  'linux/pidfd.h',
  'linux/serial.h',
  'asm/ioctls.h',
  'asm/sockios.h',
  'asm/poll.h',
  'linux/eventpoll.h',
  'linux/futex.h',
  'linux/prctl.h',
  'asm/prctl.h',
  'linux/time.h',
  'asm/termbits.h',
  'linux/capability.h',
  'linux/random.h',
  'linux/inotify.h',
  'linux/signal.h',
];

/** Groups whose names are checked against glibc's headers; all others use the uapi headers. */
const GLIBC_GROUPS = new Set([
  'Mode',
  'AccessMode',
  'Flock',
  'Fadvise',
  'UmountFlag',
  'SpliceFlag',
  'Utime',
  'SchedPolicy',
  'AddressFamily',
  'SockType',
  'SocketLevel',
  'SocketOption',
  'Scm',
  'IpProto',
  'IpOption',
  'Ipv6Option',
  'TcpOption',
  'MsgFlag',
  'Shut',
  'Rlimit',
  'RusageWho',
  'Prio',
  'Efd',
  'Tfd',
  'Sfd',
  'Signal',
  'SignalAlias',
]);

/** Single names checked in another translation unit than their group's. */
const NAME_TU: Record<string, 'glibc' | 'linux' | 'linuxIn'> = {
  O_ASYNC: 'glibc',
  O_RSYNC: 'glibc',
  SIGUNUSED: 'linux',
  // glibc 2.36's netinet/in.h lacks it, and it conflicts with the uapi linux/in.h.
  IPPROTO_L2TP: 'linuxIn',
  IPV6_FLOWINFO: 'linuxIn',
  IPV6_FLOWLABEL_MGR: 'linuxIn',
  IPV6_FLOWINFO_SEND: 'linuxIn',
};

/** Names the installed headers (Linux 6.1 uapi, glibc 2.36) do not define, and why. */
const NOT_IN_HEADERS: Record<string, string> = {
  F_DUPFD_QUERY: 'Linux 6.10',
  F_CREATED_QUERY: 'Linux 6.12',
  F_SEAL_EXEC: 'Linux 6.3',
  AT_HANDLE_FID: 'Linux 6.5',
  FALLOC_FL_WRITE_ZEROES: 'Linux 6.17',
  MFD_NOEXEC_SEAL: 'Linux 6.3',
  MFD_EXEC: 'Linux 6.3',
  STATX_MNT_ID_UNIQUE: 'Linux 6.8',
  STATX_SUBVOL: 'Linux 6.10',
  STATX_WRITE_ATOMIC: 'Linux 6.11',
  STATX_DIO_READ_ALIGN: 'Linux 6.14',
  STATX_ATTR_WRITE_ATOMIC: 'Linux 6.11',
  MAP_DROPPABLE: 'Linux 6.11',
  MAP_ABOVE4G: 'Linux 6.4',
  MAP_ANON: 'glibc spelling of MAP_ANONYMOUS; the uapi headers have only MAP_ANONYMOUS',
  MADV_GUARD_INSTALL: 'Linux 6.13',
  MADV_GUARD_REMOVE: 'Linux 6.13',
  SCHED_EXT: 'Linux 6.12',
  SOCK_TYPE_MASK: 'kernel-internal (include/linux/net.h), not uapi',
  SO_PASSPIDFD: 'Linux 6.5',
  SO_PEERPIDFD: 'Linux 6.5',
  SCM_PIDFD: 'Linux 6.5',
  IP_LOCAL_PORT_RANGE: 'Linux 6.3',
  IP_PROTOCOL: 'Linux 6.6',
  PR_SET_MDWE: 'Linux 6.3',
  PR_MDWE_REFUSE_EXEC_GAIN: 'Linux 6.3',
  PR_GET_MDWE: 'Linux 6.3',
  PR_SET_MEMORY_MERGE: 'Linux 6.4',
  PR_GET_MEMORY_MERGE: 'Linux 6.4',
  PR_RISCV_V_SET_CONTROL: 'Linux 6.5',
  PR_RISCV_V_GET_CONTROL: 'Linux 6.5',
  PR_RISCV_SET_ICACHE_FLUSH_CTX: 'Linux 6.9',
  PR_PPC_GET_DEXCR: 'Linux 6.9',
  PR_PPC_SET_DEXCR: 'Linux 6.9',
  PR_GET_SHADOW_STACK_STATUS: 'Linux 6.13',
  PR_SET_SHADOW_STACK_STATUS: 'Linux 6.13',
  PR_LOCK_SHADOW_STACK_STATUS: 'Linux 6.13',
  PR_TIMER_CREATE_RESTORE_IDS: 'Linux 6.17',
  PR_FUTEX_HASH: 'Linux 6.17',
  ARCH_GET_UNTAG_MASK: 'Linux 6.4',
  ARCH_ENABLE_TAGGED_ADDR: 'Linux 6.4',
  ARCH_GET_MAX_TAG_BITS: 'Linux 6.4',
  ARCH_FORCE_TAGGED_SVA: 'Linux 6.4',
  ARCH_SHSTK_ENABLE: 'Linux 6.6',
  ARCH_SHSTK_DISABLE: 'Linux 6.6',
  ARCH_SHSTK_LOCK: 'Linux 6.6',
  ARCH_SHSTK_UNLOCK: 'Linux 6.6',
  ARCH_SHSTK_STATUS: 'Linux 6.6',
  SEGV_CPERR: 'Linux 6.6',
  RWF_NOAPPEND: 'Linux 6.9',
  RWF_ATOMIC: 'Linux 6.11',
  RWF_DONTCACHE: 'Linux 6.14',
  SOL_SCTP: "kernel's include/linux/socket.h, not uapi",
  SOL_UDPLITE: "kernel's include/linux/socket.h, not uapi",
  SOL_IPX: "kernel's include/linux/socket.h, not uapi",
  SOL_AX25: "kernel's include/linux/socket.h, not uapi",
  SOL_ATALK: "kernel's include/linux/socket.h, not uapi",
  SOL_NETROM: "kernel's include/linux/socket.h, not uapi",
  SOL_ROSE: "kernel's include/linux/socket.h, not uapi",
  SCM_SECURITY: "kernel's include/linux/socket.h, not uapi",
  MSG_PROBE: "kernel's include/linux/socket.h, not uapi",
  FUTEX2_SIZE_U8: 'Linux 6.7',
  FUTEX2_SIZE_U16: 'Linux 6.7',
  FUTEX2_SIZE_U32: 'Linux 6.7',
  FUTEX2_SIZE_U64: 'Linux 6.7',
  FUTEX2_NUMA: 'Linux 6.7',
  FUTEX2_MPOL: 'Linux 6.15',
  FUTEX2_PRIVATE: 'Linux 6.7',
  FUTEX2_SIZE_MASK: 'Linux 6.7',
};

function cProgram(headers: string[], names: string[], prelude = ''): string {
  const lines = [prelude, ...headers.map((h) => `#include <${h}>`), 'int main(void) {'];
  for (const n of names) {
    lines.push(
      `#ifdef ${n}`,
      `  printf("%s %lld\\n", "${n}", (long long)(${n}));`,
      '#else',
      `  printf("%s ?\\n", "${n}");`,
      '#endif',
    );
  }
  lines.push('  return 0;', '}');
  return lines.join('\n');
}

const tmp = makeTempDir();
afterAll(() => tmp.dispose());

function run(name: string, source: string): Map<string, bigint | undefined> {
  const bin = compileC(tmp.path, name, { [`${name}.c`]: source });
  const out = execFileSync(bin, { timeout: 60_000 }).toString();
  const values = new Map<string, bigint | undefined>();
  for (const line of out.trim().split('\n')) {
    const [n, v] = line.split(' ') as [string, string];
    values.set(n, v === '?' ? undefined : BigInt(v));
  }
  return values;
}

describe('constants agree with the C headers', () => {
  const names: Record<'glibc' | 'linux' | 'linuxIn', string[]> = { glibc: [], linux: [], linuxIn: [] };
  const ours = new Map<string, bigint>();
  for (const [group, values] of Object.entries(constantGroups)) {
    for (const [name, value] of Object.entries(values)) {
      ours.set(name, BigInt.asIntN(64, BigInt(value)));
      names[NAME_TU[name] ?? (GLIBC_GROUPS.has(group) ? 'glibc' : 'linux')].push(name);
    }
  }
  let header = new Map<string, bigint | undefined>();
  beforeAll(() => {
    header = new Map([
      ...run('glibc', cProgram(GLIBC_TU_HEADERS, names.glibc, '#define _GNU_SOURCE')),
      ...run('linux', cProgram(LINUX_TU_HEADERS, names.linux)),
      ...run('linuxIn', cProgram(['stdio.h', 'linux/in.h', 'linux/in6.h'], names.linuxIn)),
    ]);
  });

  it('covers a meaningful number of constants', () => {
    expect(ours.size).toBeGreaterThan(900);
  });

  it('every value defined by the headers equals ours', () => {
    const mismatches: string[] = [];
    for (const [name, value] of ours) {
      const h = header.get(name);
      if (h !== undefined && h !== value) mismatches.push(`${name}: ours ${value}, header ${h}`);
    }
    expect(mismatches).toEqual([]);
  });

  it('every name the headers lack is documented as newer or internal, and only those', () => {
    const undocumented: string[] = [];
    for (const name of ours.keys()) {
      if (header.get(name) === undefined && !(name in NOT_IN_HEADERS)) undocumented.push(name);
    }
    expect(undocumented).toEqual([]);
    const stale = Object.keys(NOT_IN_HEADERS).filter((n) => header.get(n) !== undefined);
    expect(stale).toEqual([]);
  });
});
