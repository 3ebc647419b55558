// The README's examples, run through the public entry point.
import { describe, expect, it } from 'vitest';
import {
  E,
  errorOf,
  isError,
  Errno,
  syscallByName,
  syscallByNumber,
  decodeFlags,
  decodeEnum,
  openFlags,
  OpenFlag,
  mapFlags,
  protFlags,
  seekWhence,
  formatSyscall,
  bufferReader,
  Signal,
  SigSet,
  SIGRTMIN,
  signalDefault,
  quoteBytes,
} from './index.js';

describe('README examples', () => {
  it('look up a syscall', () => {
    const openat = syscallByName('openat')!;
    expect(openat.nr).toBe(257);
    expect(openat.args.map((a) => `${a.name}:${a.type.kind}`)).toEqual([
      'dfd:dirfd',
      'filename:path',
      'flags:flags',
      'mode:mode',
    ]);
    expect(openat.ret).toBe('fd');
    expect(syscallByNumber(0)?.name).toBe('read');
    expect(syscallByNumber(0)?.args[1]?.type).toEqual({ kind: 'outBuffer', len: 'ret' });
    expect(syscallByNumber(257)?.name).toBe('openat');
    expect(syscallByName('mmap')?.nr).toBe(9);
  });

  it('decode flags', () => {
    expect(decodeFlags(openFlags, OpenFlag.O_WRONLY | OpenFlag.O_CREAT | OpenFlag.O_TRUNC)).toBe(
      'O_WRONLY|O_CREAT|O_TRUNC',
    );
    expect(decodeFlags(mapFlags, 0x22)).toBe('MAP_PRIVATE|MAP_ANONYMOUS');
    expect(decodeFlags(openFlags, 0x80000002)).toBe('O_RDWR|0x80000000');
    expect(decodeFlags(mapFlags, 0x6)).toBe('0x6 /* MAP_??? */');
    expect(decodeFlags(protFlags, 0)).toBe('PROT_NONE');
    expect(decodeFlags(protFlags, 0x10n)).toBe('0x10 /* PROT_??? */');
    expect(decodeEnum(seekWhence, 2)).toBe('SEEK_END');
    expect(decodeEnum(seekWhence, 77)).toBe('0x4d /* SEEK_??? */');
  });

  it('format a trace line', () => {
    const page = new Uint8Array(4096);
    page.set(new TextEncoder().encode('/etc/passwd\0'));
    const read = bufferReader(0x10000, page);
    expect(formatSyscall(257, [-100, 0x10000, 0o2000000, 0, 0, 0], 3, read)).toBe(
      'openat(AT_FDCWD, "/etc/passwd", O_RDONLY|O_CLOEXEC) = 3',
    );
    expect(formatSyscall(3, [99], -9, read)).toBe('close(99) = -1 EBADF (Bad file descriptor)');
    expect(formatSyscall(3, [99n], -9n, () => E.EFAULT)).toBe('close(99) = -1 EBADF (Bad file descriptor)');
    expect(formatSyscall(231, [0], 0, read)).toBe('exit_group(0) = ?');
    expect(quoteBytes(new TextEncoder().encode('a\n\0' + '7'))).toBe('"a\\n\\0007"');
  });

  it('errno', () => {
    const lookup = (name: string) => (name === '' ? E.ENOENT : 42);
    const r = lookup('');
    expect(isError(r) && r.ret).toBe(-2);
    expect(errorOf(Errno.EBADF).message).toBe('Bad file descriptor');
  });

  it('signals', () => {
    expect(signalDefault(Signal.SIGCHLD)).toBe('ignore');
    expect(new SigSet().add(Signal.SIGINT).add(Signal.SIGTERM).toString()).toBe('[INT TERM]');
    const set = new SigSet().add(Signal.SIGINT).add(SIGRTMIN);
    expect(set.has(Signal.SIGINT)).toBe(true);
    expect(set.toBigInt()).toBe(0x80000002n);
  });
});
