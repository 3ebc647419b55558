/** Random operation sequences for the model-based differential tests. */
import fc from 'fast-check';
import {
  AT_REMOVEDIR,
  AT_SYMLINK_FOLLOW,
  AT_SYMLINK_NOFOLLOW,
  O_APPEND,
  O_CREAT,
  O_DIRECTORY,
  O_EXCL,
  O_NOFOLLOW,
  O_RDONLY,
  O_RDWR,
  O_TRUNC,
  O_WRONLY,
  UTIME_NOW,
  UTIME_OMIT,
} from '../constants.js';
import type { Op } from './differential.test-util.js';

const name = fc.constantFrom('a', 'b', 'c', '.', '..');
const relPath = fc.array(name, { minLength: 1, maxLength: 3 }).map((c) => c.join('/'));
const path = fc
  .tuple(fc.boolean(), relPath, fc.boolean())
  .map(([abs, p, slash]) => (abs ? '/' : '') + p + (slash ? '/' : ''));
const handle = fc.integer({ min: 0, max: 5 });
const data = fc.constantFrom('', 'x', 'hello', 'z'.repeat(5000));
const openFlags = fc
  .tuple(
    fc.constantFrom(O_RDONLY, O_WRONLY, O_RDWR),
    fc.subarray([O_CREAT, O_EXCL, O_TRUNC, O_DIRECTORY, O_NOFOLLOW, O_APPEND]),
  )
  .map(([acc, fl]) => fl.reduce((a, b) => a | b, acc));
const mode = fc.constantFrom(0o755, 0o644, 0o700, 0o1777, 0o000, 0o2775, 0o4755, 0o777, 0o070);
const id = fc.constantFrom(-1, 0, 100, 1000, 2000);
const time = fc.tuple(
  fc.integer({ min: 0, max: 2e9 }),
  fc.constantFrom(0, 1, 999_999_999, UTIME_NOW, UTIME_OMIT),
);

const common: fc.Arbitrary<Op>[] = [
  fc.tuple(fc.constant('open' as const), path, openFlags, mode),
  fc.tuple(fc.constant('mkdir' as const), path, mode),
  fc.tuple(fc.constant('unlinkat' as const), path, fc.constantFrom(0, AT_REMOVEDIR)),
  fc.tuple(fc.constant('rename' as const), path, path, fc.constantFrom(0, 1, 2)),
  fc.tuple(fc.constant('symlink' as const), path, path),
  fc.tuple(fc.constant('link' as const), path, path, fc.constantFrom(0, AT_SYMLINK_FOLLOW)),
  fc.tuple(fc.constant('stat' as const), path, fc.constantFrom(0, AT_SYMLINK_NOFOLLOW)),
  fc.tuple(fc.constant('readlink' as const), path),
  fc.tuple(fc.constant('truncate' as const), path, fc.constantFrom(0, 3, 70000)),
  fc.tuple(fc.constant('chmod' as const), path, mode),
  fc.tuple(fc.constant('chdir' as const), path),
  fc.tuple(fc.constant('access' as const), path, fc.integer({ min: 0, max: 7 }), fc.constant(0x200)),
  fc.tuple(fc.constant('write' as const), handle, data),
  fc.tuple(fc.constant('read' as const), handle, fc.constantFrom(0, 3, 100)),
  fc.tuple(fc.constant('pwrite' as const), handle, data, fc.constantFrom(0, 10, 100000)),
  fc.tuple(fc.constant('ftruncate' as const), handle, fc.constantFrom(0, 7)),
  fc.tuple(fc.constant('fstat' as const), handle),
  fc.tuple(fc.constant('getdents' as const), handle),
  fc.tuple(fc.constant('close' as const), handle),
  fc.tuple(fc.constant('fchdir' as const), handle),
  fc.constant<Op>(['getcwd']),
  fc.constantFrom<Op>(['as', 1000, 1000], ['as', 0, 0], ['as', 2000, 2000, 100], ['as', 1000, 100]),
  fc.tuple(fc.constant('chown' as const), path, id, id, fc.constantFrom(0, AT_SYMLINK_NOFOLLOW)),
  fc.tuple(fc.constant('fchmod' as const), handle, mode),
  fc.tuple(
    fc.constant('lseek' as const),
    handle,
    fc.constantFrom(-1, 0, 5, 70000),
    fc.integer({ min: 0, max: 4 }),
  ),
  fc.tuple(fc.constant('pread' as const), handle, fc.constantFrom(1, 100), fc.constantFrom(0, 4, 65536)),
  fc
    .tuple(path, time, time, fc.boolean(), fc.constantFrom(0, AT_SYMLINK_NOFOLLOW))
    .map(([p, a, m, nul, fl]): Op => ['utimens', p, a[0], a[1], m[0], m[1], nul, fl]),
];

/** A random filesystem operation over a small name space (so operations collide). */
export const opArb: fc.Arbitrary<Op> = fc.oneof(...common);

const xname = fc.constantFrom('user.a', 'user.b', 'trusted.t', 'security.s', 'bogus.x');

/**
 * {@link opArb} plus mknod of FIFOs and device nodes, extended attributes and fallocate (for
 * filesystems that support them, like tmpfs).
 */
export const opArbWithMknod: fc.Arbitrary<Op> = fc.oneof(
  ...common,
  fc.tuple(
    fc.constant('xset' as const),
    path,
    xname,
    fc.constantFrom('', 'v', 'value'),
    fc.integer({ min: 0, max: 3 }),
    fc.boolean(),
  ),
  fc.tuple(fc.constant('xget' as const), path, xname, fc.boolean()),
  fc.tuple(fc.constant('xrm' as const), path, xname, fc.boolean()),
  fc.tuple(fc.constant('xlist' as const), path, fc.boolean()),
  fc.constant<Op>(['capdrop', 21]),
  fc.tuple(
    fc.constant('falloc' as const),
    handle,
    fc.constantFrom(0, 1, 2, 3, 8),
    fc.constantFrom(0, 100, 5000, 70000),
    fc.constantFrom(1, 4096, 10000),
  ),
  fc.tuple(
    fc.constant('mknod' as const),
    path,
    fc.constantFrom(0o10644, 0o20666, 0o140755, 0o100600),
    fc.constantFrom(0, 0x103),
  ),
);

const userXname = fc.constantFrom('user.a', 'user.b');

/**
 * {@link opArb} plus what hostfs passes to the host through its HostCalls: mknod of FIFOs,
 * sockets and device nodes, user.* extended attributes (the only namespace it passes).
 */
export const opArbHostCalls: fc.Arbitrary<Op> = fc.oneof(
  ...common,
  fc.tuple(
    fc.constant('xset' as const),
    path,
    userXname,
    fc.constantFrom('', 'v', 'value'),
    fc.integer({ min: 0, max: 3 }),
    fc.boolean(),
  ),
  fc.tuple(fc.constant('xget' as const), path, userXname, fc.boolean()),
  fc.tuple(fc.constant('xrm' as const), path, userXname, fc.boolean()),
  fc.tuple(fc.constant('xlist' as const), path, fc.boolean()),
  fc.tuple(
    fc.constant('mknod' as const),
    path,
    fc.constantFrom(0o10644, 0o20666, 0o140755, 0o100600, 0o60600),
    fc.constantFrom(0, 0x103),
  ),
);
