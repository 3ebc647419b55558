import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LinuxError, OpenFlag } from '@tsvisor/abi';
import { userCreds } from '@tsvisor/vfs';
import { mounted } from './mount.test-util.js';

const names = [
  'self',
  'thread-self',
  '1',
  '7',
  '8',
  '12',
  '13',
  '99',
  'task',
  'fd',
  'fdinfo',
  '0',
  '3',
  '4',
  'status',
  'stat',
  'comm',
  'environ',
  'exe',
  'cwd',
  'root',
  'mounts',
  'sys',
  'kernel',
  'hostname',
  '..',
  '.',
  '',
  '07',
  '-1',
  'x',
  'random',
  'uuid',
  'maps',
  'cmdline',
  'meminfo',
];

describe('procfs under arbitrary operations', () => {
  it('answers every path, flag and byte sequence with a value or an errno, never a throw', () => {
    // A result is a count, a string, a listing, a stat or an errno: never undefined, never a throw.
    const ok = (r: unknown): boolean =>
      typeof r === 'number' ||
      typeof r === 'string' ||
      Array.isArray(r) ||
      r instanceof LinuxError ||
      (typeof r === 'object' && r !== null && 'ino' in r);
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.constantFrom(...names), fc.string({ maxLength: 6 })), {
          minLength: 1,
          maxLength: 6,
        }),
        fc.constantFrom(OpenFlag.O_RDONLY, OpenFlag.O_WRONLY, OpenFlag.O_RDWR),
        fc.uint8Array({ maxLength: 80 }),
        fc.boolean(),
        fc.constantFrom<number | null>(null, 1, 7, 9, 12, 13, 99),
        (parts, flags, bytes, asUser, caller) => {
          const { p, src } = mounted(asUser ? userCreds(1000, 1000) : undefined);
          src.callerTid = caller;
          const path = '/proc/' + parts.join('/');
          expect(ok(p.stat(path))).toBe(true);
          expect(ok(p.readlink(path))).toBe(true);
          const fd = p.open(path, flags);
          if (typeof fd !== 'number') return;
          expect(ok(p.write(fd, bytes))).toBe(true);
          expect(ok(p.read(fd, new Uint8Array(64)))).toBe(true);
          expect(ok(p.getdents(fd))).toBe(true);
          p.close(fd);
        },
      ),
      { numRuns: 300 },
    );
  });
});
