import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { E } from '../errno.js';
import { syscallTable } from '../syscalls/table.js';
import { bufferReader, formatReturn, formatSyscall, formatSyscallEntry, quoteBytes } from './format.js';
import type { MemoryReader, StructDecoder } from './format.js';

const enc = new TextEncoder();
const BASE = 0x10000;

/** A task memory of one page at BASE with these bytes at its start. */
function memoryWith(...pieces: (string | Uint8Array)[]): { read: MemoryReader; at: number[] } {
  const mem = new Uint8Array(4096);
  const at: number[] = [];
  let off = 0;
  for (const p of pieces) {
    const b = typeof p === 'string' ? enc.encode(p + '\0') : p;
    mem.set(b, off);
    at.push(BASE + off);
    off += b.length;
  }
  return { read: bufferReader(BASE, mem), at };
}

const fail: MemoryReader = () => E.EFAULT;

describe('quoteBytes', () => {
  it('escapes like strace', () => {
    expect(quoteBytes(enc.encode('a"b\\c\n\t\r\v\f'))).toBe('"a\\"b\\\\c\\n\\t\\r\\v\\f"');
    expect(quoteBytes(Uint8Array.of(0, 0x37, 0, 0x38, 1, 0x7f, 0x80, 0xff))).toBe(
      '"\\0007\\08\\1\\177\\200\\377"',
    );
  });
});

describe('formatSyscall', () => {
  it('renders the brief’s examples', () => {
    const m = memoryWith('/etc/passwd');
    expect(formatSyscall(257, [-100, m.at[0]!, 0o2000000, 0, 0, 0], 3, m.read)).toBe(
      'openat(AT_FDCWD, "/etc/passwd", O_RDONLY|O_CLOEXEC) = 3',
    );
    const line = 'root:x:0:0:root:/root:/bin/bash\nbin:x:1:1';
    const r = memoryWith(enc.encode(line));
    expect(formatSyscall(0, [3, r.at[0]!, 4096], 1024, r.read)).toBe(
      'read(3, "root:x:0:0:root:/root:/bin/bash\\n"..., 4096) = 1024',
    );
    expect(formatSyscall(0, [3n, 0x7ffd12345678n, 4096n], -2n, fail)).toBe(
      'read(3, 0x7ffd12345678, 4096) = -1 ENOENT (No such file or directory)',
    );
    expect(formatSyscall(231, [0], 0, fail)).toBe('exit_group(0) = ?');
    expect(formatSyscall(9, [0, 8192, 3, 0x22, -1, 0], 0x7f0000001000n, fail)).toBe(
      'mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f0000001000',
    );
    expect(formatSyscall(0x1d8, [1, 2, 3, 4, 5, 6], -38, fail)).toBe(
      'syscall_0x1d8(0x1, 0x2, 0x3, 0x4, 0x5, 0x6) = -1 ENOSYS (Function not implemented)',
    );
  });

  it('takes ints and fds from the low 32 bits, signed', () => {
    expect(formatSyscall(3, [0xffffffff00000005n], 0, fail)).toBe('close(5) = 0');
    expect(formatSyscall(3, [0xffffffffn], -9, fail)).toBe('close(-1) = -1 EBADF (Bad file descriptor)');
  });

  it('shows paths in full but strings and buffers cut at the limit', () => {
    const long = '/' + 'x'.repeat(100);
    const m = memoryWith(long, 'y'.repeat(40));
    expect(formatSyscall(87, [m.at[0]!], 0, m.read)).toBe(`unlink("${long}") = 0`);
    expect(formatSyscall(1, [1, m.at[1]!, 40], 40, m.read, { stringLimit: 8 })).toBe(
      'write(1, "yyyyyyyy"..., 40) = 40',
    );
    expect(formatSyscall(241, [m.at[1]!], 0, m.read, { stringLimit: 4 })).toBe('mq_unlink("yyyy"...) = 0');
  });

  it('shows output only after success', () => {
    const m = memoryWith(Uint8Array.of(3, 0, 0, 0, 4, 0, 0, 0));
    expect(formatSyscall(293, [m.at[0]!, 0o2000000], 0, m.read)).toBe('pipe2([3, 4], O_CLOEXEC) = 0');
    expect(formatSyscall(293, [m.at[0]!, 0], -24, m.read)).toBe(
      `pipe2(0x${m.at[0]!.toString(16)}, 0) = -1 EMFILE (Too many open files)`,
    );
  });

  it('decodes argv and summarizes envp', () => {
    const mem = new Uint8Array(4096);
    const dv = new DataView(mem.buffer);
    mem.set(enc.encode('ls\0-l\0'), 0x100);
    dv.setBigUint64(0x200, BigInt(BASE + 0x100), true);
    dv.setBigUint64(0x208, BigInt(BASE + 0x103), true);
    dv.setBigUint64(0x210, 0n, true);
    const read = bufferReader(BASE, mem);
    expect(formatSyscall(59, [BASE + 0x100, BASE + 0x200, BASE + 0x200], 0, read)).toBe(
      `execve("ls", ["ls", "-l"], 0x${(BASE + 0x200).toString(16)} /* 2 vars */) = 0`,
    );
  });

  it('uses struct decoders given by the caller, and falls back to the address', () => {
    const m = memoryWith(new Uint8Array(120));
    expect(formatSyscall(138, [3, m.at[0]!], 0, m.read)).toBe(`fstatfs(3, 0x${BASE.toString(16)}) = 0`);
    const statfs: StructDecoder = { size: 120, format: () => '{f_type=TMPFS_MAGIC, ...}' };
    expect(formatSyscall(138, [3, m.at[0]!], 0, m.read, { structs: { statfs } })).toBe(
      'fstatfs(3, {f_type=TMPFS_MAGIC, ...}) = 0',
    );
    const throwing: StructDecoder = {
      size: 120,
      format: () => {
        throw new Error('bug');
      },
    };
    expect(formatSyscall(138, [3, m.at[0]!], 0, m.read, { structs: { statfs: throwing } })).toBe(
      `fstatfs(3, 0x${BASE.toString(16)}) = 0`,
    );
    // Built in: strace's abbreviated stat.
    const st = new Uint8Array(144);
    const dv = new DataView(st.buffer);
    dv.setUint32(24, 0o100644, true);
    dv.setBigInt64(48, 832n, true);
    const s = memoryWith(st);
    expect(formatSyscall(5, [3, s.at[0]!], 0, s.read)).toBe(
      'fstat(3, {st_mode=S_IFREG|0644, st_size=832, ...}) = 0',
    );
    dv.setUint32(24, 0o20666, true);
    dv.setBigUint64(40, 0x103n, true);
    expect(formatSyscall(5, [3, s.at[0]!], 0, memoryWith(st).read)).toBe(
      'fstat(3, {st_mode=S_IFCHR|0666, st_rdev=makedev(0x1, 0x3), ...}) = 0',
    );
  });

  it('shows fcntl and futex arguments by command', () => {
    expect(formatSyscall(72, [3, 1, 0x1234], 1, fail)).toBe('fcntl(3, F_GETFD) = 1');
    expect(formatSyscall(72, [3, 4, 0o4002], 0, fail)).toBe('fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0');
    expect(formatSyscall(202, [0x1000, 0x81, 1, 0, 0, 0], 0, fail)).toBe(
      'futex(0x1000, FUTEX_WAKE_PRIVATE, 1) = 0',
    );
    expect(formatSyscall(202, [0x1000, 0x80, 2, 0, 0, 0], 0, fail)).toBe(
      'futex(0x1000, FUTEX_WAIT_PRIVATE, 2, NULL) = 0',
    );
  });

  it('names clone arguments like strace and reads parent_tid after success', () => {
    const m = memoryWith(Uint8Array.of(0xd3, 0x04, 0, 0));
    const threadFlags = 0x3d0f00; // CLONE_VM|FS|FILES|SIGHAND|THREAD|SYSVSEM|SETTLS|PARENT_SETTID|CHILD_CLEARTID
    expect(
      formatSyscall(
        56,
        [threadFlags, 0x7f0000100000, m.at[0]!, 0x7f0000200000, 0x7f0000300000],
        1235,
        m.read,
      ),
    ).toBe(
      'clone(child_stack=0x7f0000100000, flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|' +
        'CLONE_SYSVSEM|CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID, parent_tid=[1235], ' +
        'tls=0x7f0000300000, child_tidptr=0x7f0000200000) = 1235',
    );
    expect(formatSyscall(56, [17, 0, 0, 0, 0], 4321, fail)).toBe(
      'clone(child_stack=NULL, flags=SIGCHLD) = 4321',
    );
    expect(formatSyscallEntry(56, [17, 0, 0, 0, 0], fail)).toBe(
      'clone(child_stack=NULL, flags=SIGCHLD, <unfinished ...>',
    );
  });

  it('pads to a column and prefixes like strace -a / -f', () => {
    expect(formatSyscall(3, [3], 0, fail, { column: 40, prefix: '7 ' })).toBe(
      '7 close(3)' + ' '.repeat(29) + ' = 0',
    );
  });

  it('renders the entry of a blocking call', () => {
    expect(formatSyscallEntry(0, [0, 0x1000, 10], fail)).toBe('read(0, <unfinished ...>');
    expect(formatSyscallEntry(61, [-1, 0x1000, 0, 0], fail)).toBe('wait4(-1, <unfinished ...>');
  });

  it('formats return kinds', () => {
    expect(formatReturn('signal', 10)).toBe('10 (SIGUSR1)');
    expect(formatReturn('mode', 0o22)).toBe('022');
    expect(formatReturn('address', -12n)).toBe('-1 ENOMEM (Cannot allocate memory)');
    expect(formatReturn('int', -4096)).toBe('-4096');
  });
});

describe('formatSyscall on random input', () => {
  const raw = fc.oneof(
    fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
    fc.integer(),
    fc.constantFrom(0, -1, -100, BASE, BASE + 4095, 2 ** 47, Number.MAX_SAFE_INTEGER),
  );
  const randomMemory: fc.Arbitrary<MemoryReader> = fc.oneof(
    fc.constant(fail),
    fc.uint8Array({ minLength: 0, maxLength: 256 }).map((bytes) => {
      const reader: MemoryReader = (_addr, len) =>
        len <= bytes.length
          ? bytes.subarray(0, len)
          : Uint8Array.from({ length: len }, (_, i) => bytes[i % Math.max(1, bytes.length)] ?? 0);
      return reader;
    }),
    fc.constant<MemoryReader>(() => {
      throw new Error('broken reader');
    }),
    fc.constant<MemoryReader>((_a, len) => new Uint8Array(Math.max(0, len - 1))),
  );
  const numbers = [...syscallTable.map((s) => s.nr), 400, 512, -1, 2 ** 31];

  it('never throws, for any syscall, arguments, return value and memory', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...numbers),
        fc.array(raw, { minLength: 0, maxLength: 7 }),
        raw,
        randomMemory,
        fc.integer({ min: 0, max: 64 }),
        (nr, args, ret, read, limit) => {
          const line = formatSyscall(nr, args, ret, read, { stringLimit: limit });
          expect(line).toMatch(/^[\w]+\(.*\) = /s);
          expect(typeof formatSyscallEntry(nr, args, read)).toBe('string');
        },
      ),
      { numRuns: 3000 },
    );
  });
});
