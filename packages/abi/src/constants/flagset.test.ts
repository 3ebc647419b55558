import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeEnum, decodeFlags, defineFlags, splitRaw } from './flagset.js';
import { At, OpenFlag, atFlags, openFlags, seekWhence, statxAtFlags } from './open.js';
import { MapFlag, mapFlags, protFlags } from './mman.js';
import { CloneFlag, cloneFlags, unshareFlags, waitOptions } from './sched.js';
import { futexOps } from './futex.js';
import { sockTypes } from './socket.js';
import { accessModes } from './open.js';
import { constantGroups } from './groups.js';

describe('decodeFlags', () => {
  it('renders the open flags like strace', () => {
    expect(decodeFlags(openFlags, 0)).toBe('O_RDONLY');
    expect(decodeFlags(openFlags, OpenFlag.O_WRONLY | OpenFlag.O_CREAT | OpenFlag.O_TRUNC)).toBe(
      'O_WRONLY|O_CREAT|O_TRUNC',
    );
    // A negative JS int and a register with garbage in the upper half both mean the low 32 bits.
    expect(decodeFlags(openFlags, OpenFlag.O_RDWR | 0x80000000)).toBe('O_RDWR|0x80000000');
    expect(decodeFlags(openFlags, 0xdead000000000002n)).toBe('O_RDWR');
    expect(decodeFlags(openFlags, OpenFlag.O_SYNC)).toBe('O_RDONLY|O_SYNC');
    expect(decodeFlags(openFlags, OpenFlag.O_DSYNC)).toBe('O_RDONLY|O_DSYNC');
    expect(decodeFlags(openFlags, OpenFlag.O_TMPFILE | OpenFlag.O_RDWR)).toBe('O_RDWR|O_TMPFILE');
    expect(decodeFlags(openFlags, OpenFlag.O_DIRECTORY)).toBe('O_RDONLY|O_DIRECTORY');
  });

  it('prints the zero text, and unknown-only values with a comment', () => {
    expect(decodeFlags(protFlags, 0)).toBe('PROT_NONE');
    expect(decodeFlags(protFlags, 0x10)).toBe('0x10 /* PROT_??? */');
    expect(decodeFlags(atFlags, 0)).toBe('0');
    expect(decodeFlags(accessModes, 0)).toBe('F_OK');
    expect(decodeFlags(waitOptions, 0x10)).toBe('0x10 /* W??? */');
  });

  it('handles the enum parts of mmap, clone, futex and socket types', () => {
    expect(decodeFlags(mapFlags, MapFlag.MAP_PRIVATE | MapFlag.MAP_ANONYMOUS)).toBe(
      'MAP_PRIVATE|MAP_ANONYMOUS',
    );
    expect(decodeFlags(mapFlags, 0x6)).toBe('0x6 /* MAP_??? */');
    expect(decodeFlags(mapFlags, MapFlag.MAP_ANONYMOUS)).toBe('MAP_FILE|MAP_ANONYMOUS');
    const threadFlags =
      CloneFlag.CLONE_VM |
      CloneFlag.CLONE_FS |
      CloneFlag.CLONE_FILES |
      CloneFlag.CLONE_SIGHAND |
      CloneFlag.CLONE_THREAD |
      CloneFlag.CLONE_SYSVSEM |
      CloneFlag.CLONE_SETTLS |
      CloneFlag.CLONE_PARENT_SETTID |
      CloneFlag.CLONE_CHILD_CLEARTID;
    expect(decodeFlags(cloneFlags, threadFlags)).toBe(
      'CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID',
    );
    expect(decodeFlags(cloneFlags, CloneFlag.CLONE_CHILD_SETTID | CloneFlag.CLONE_CHILD_CLEARTID | 17)).toBe(
      'CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD',
    );
    expect(decodeFlags(unshareFlags, CloneFlag.CLONE_INTO_CGROUP + CloneFlag.CLONE_NEWTIME)).toBe(
      'CLONE_NEWTIME|CLONE_INTO_CGROUP',
    );
    expect(decodeFlags(unshareFlags, 2n ** 40n)).toBe('0x10000000000 /* CLONE_??? */');
    expect(decodeEnum(futexOps, 0x80 | 1)).toBe('FUTEX_WAKE_PRIVATE');
    expect(decodeEnum(futexOps, 0x80 | 9 | 256)).toBe('FUTEX_WAIT_BITSET_PRIVATE|FUTEX_CLOCK_REALTIME');
    expect(decodeEnum(futexOps, 0x80 | 3 | 256)).toBe('0x183 /* FUTEX_??? */');
    expect(decodeFlags(mapFlags, 0x5c040022)).toBe(
      'MAP_PRIVATE|MAP_ANONYMOUS|MAP_HUGETLB|23<<MAP_HUGE_SHIFT',
    );
    expect(decodeFlags(mapFlags, 0x125)).toBe('0x5 /* MAP_??? */|MAP_ANONYMOUS|MAP_GROWSDOWN');
    expect(decodeFlags(sockTypes, 0xc | 0o2000000)).toBe('SOCK_CLOEXEC|0xc');
    expect(decodeFlags(statxAtFlags, 0)).toBe('AT_STATX_SYNC_AS_STAT');
    expect(decodeFlags(sockTypes, 1 | 0o2000000 | 0o4000)).toBe('SOCK_STREAM|SOCK_CLOEXEC|SOCK_NONBLOCK');
    expect(decodeFlags(statxAtFlags, At.AT_EMPTY_PATH | At.AT_STATX_DONT_SYNC)).toBe(
      'AT_STATX_DONT_SYNC|AT_EMPTY_PATH',
    );
  });

  it('reads bigint registers as 64-bit two’s complement', () => {
    expect(splitRaw(-1n)).toEqual([0xffffffff, 0xffffffff]);
    expect(splitRaw(-1)).toEqual([0xffffffff, 0xffffffff]);
    expect(splitRaw(2 ** 33 + 5)).toEqual([5, 2]);
    expect(decodeFlags(protFlags, 0xffffffff00000000n)).toBe('0xffffffff00000000 /* PROT_??? */');
    expect(decodeFlags(mapFlags, 0x100000022n)).toBe('MAP_PRIVATE|MAP_ANONYMOUS|0x100000000');
  });

  it('never throws on any 64-bit value, and the names it prints belong to the set', () => {
    const sets = [openFlags, protFlags, mapFlags, cloneFlags, unshareFlags, sockTypes, statxAtFlags];
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.constantFrom(...sets), (v, set) => {
        const text = decodeFlags(set, v);
        const known = new Set([...set.bits, ...(set.mode?.values ?? [])].map((b) => b.name));
        for (const part of text.replace(/ \/\* .*? \*\//g, '').split('|')) {
          if (!/^0x|^0$|^\d+<</.test(part) && part !== set.zero && !part.startsWith('AT_STATX_')) {
            expect(known.has(part), part).toBe(true);
          }
        }
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.oneof(fc.integer(), fc.double()), (v) => {
        expect(typeof decodeFlags(mapFlags, v)).toBe('string');
      }),
    );
  });

  it('round-trips: the named bits OR back to the value when nothing is unknown', () => {
    fc.assert(
      fc.property(
        fc.subarray(openFlags.bits.map((b) => b.value)),
        fc.integer({ min: 0, max: 3 }),
        (bits, mode) => {
          const value = bits.reduce((a, b) => a | b, mode);
          const names = decodeFlags(openFlags, value).split('|');
          const back = names.reduce((acc, n) => acc | (OpenFlag[n as keyof typeof OpenFlag] ?? NaN), 0);
          expect(back).toBe(value);
        },
      ),
    );
  });

  it('builds sets with a derived prefix', () => {
    const set = defineFlags('x', { FOO_A: 1, FOO_B: 2 });
    expect(decodeFlags(set, 4)).toBe('0x4 /* FOO_??? */');
    expect(decodeFlags(set, 3)).toBe('FOO_A|FOO_B');
  });
});

describe('decodeEnum', () => {
  it('names values and shows unknown ones in hex with a comment', () => {
    expect(decodeEnum(seekWhence, 2)).toBe('SEEK_END');
    expect(decodeEnum(seekWhence, 77)).toBe('0x4d /* SEEK_??? */');
    expect(decodeEnum(seekWhence, -1)).toBe('0xffffffff /* SEEK_??? */');
    expect(decodeEnum(seekWhence, 0x100000002n)).toBe('SEEK_END');
  });
});

describe('constant groups', () => {
  it('hold only integers and unique names', () => {
    const seen = new Map<string, string>();
    for (const [group, values] of Object.entries(constantGroups)) {
      for (const [name, value] of Object.entries(values)) {
        expect(typeof value === 'bigint' || Number.isSafeInteger(value), `${group}.${name}`).toBe(true);
        const other = seen.get(name);
        expect(other, `${name} in ${group} and ${other}`).toBeUndefined();
        seen.set(name, group);
      }
    }
  });
});
