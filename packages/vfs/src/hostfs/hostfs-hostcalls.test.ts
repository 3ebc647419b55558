// hostfs with HostCalls (mknodat, renameat2, user.* xattrs) against the host kernel, and still
// confined to its directory.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync, lstatSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { E, isError } from '@tsvisor/abi';
import { afterAll, describe, expect, it } from 'vitest';
import {
  Hostfs,
  O_CREAT,
  O_WRONLY,
  Posix,
  RENAME_EXCHANGE,
  RENAME_NOREPLACE,
  ROOT_CREDS,
  S_IFIFO,
  S_IFSOCK,
  Vfs,
} from '../index.js';
import { normalize, runHost, runVfs } from '../testing/differential.test-util.js';
import { helperHostCalls } from '../testing/host-calls.test-util.js';
import { opArbHostCalls } from '../testing/model.test-util.js';
import type { Op } from '../testing/differential.test-util.js';

const base = mkdtempSync(join(tmpdir(), 'tsvisor-hostcalls-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));
const fresh = (): string => mkdtempSync(join(base, 'd-'));
const calls = helperHostCalls();

function posixOn(dir: string, withCalls = true): Posix {
  return new Posix(new Vfs(new Hostfs(dir, withCalls ? { hostCalls: calls } : {})), ROOT_CREDS);
}

/** setxattr(path, "user.x", [1]) (lsetxattr without `follow`). */
function xset(p: Posix, path: string, follow: boolean): unknown {
  const loc = p.vfs.lookupat(p.ctx, p.ctx.cwd, path, follow ? 0 : 0x100);
  return isError(loc) ? loc : (p.vfs.setxattr(p.ctx, loc, 'user.x', new Uint8Array([1]), 0) ?? 0);
}

function compare(ops: Op[]): void {
  const host = normalize(runHost(ops, { tmpfs: false }), ops);
  const p = posixOn(fresh());
  const mine = normalize(runVfs(p, ops), ops);
  p.closeAll();
  const diffs = ops
    .map((op, i) => ({ i, op: JSON.stringify(op).slice(0, 100), host: host[i], mine: mine[i] }))
    .filter((d) => d.host !== d.mine);
  expect(diffs).toEqual([]);
}

describe('hostfs HostCalls against the host kernel', () => {
  it('mknod makes FIFOs, sockets and devices with the sandbox owner and mode', () => {
    compare([
      ['umask', 0o022],
      ['mknod', '/fifo', 0o10640, 0],
      ['mknod', '/sock', 0o140755, 0],
      ['mknod', '/null', 0o20666, 0x103],
      ['mknod', '/blk', 0o60600, 0x700],
      ['mknod', '/fifo', 0o10640, 0],
      ['mknod', '/none/x', 0o10640, 0],
      ['stat', '/fifo', 0x100],
      ['stat', '/sock', 0x100],
      ['stat', '/null', 0x100],
      ['stat', '/blk', 0x100],
      ['as', 1000, 1000],
      ['mknod', '/dev2', 0o20666, 0x103],
      ['mkdir', '/mine', 0o777],
      ['as', 0, 0],
      ['chmod', '/', 0o777],
      ['as', 1000, 1000],
      ['mknod', '/fifo2', 0o10600, 0],
      ['stat', '/fifo2', 0x100],
      ['as', 0, 0],
    ]);
  });

  it('renameat2 RENAME_EXCHANGE and RENAME_NOREPLACE go to the host', () => {
    compare([
      ['mkdir', '/d', 0o755],
      ['open', '/d/f', O_CREAT | O_WRONLY, 0o600],
      ['write', 0, 'file'],
      ['symlink', 'target', '/l'],
      ['rename', '/d', '/l', RENAME_EXCHANGE],
      ['stat', '/d', 0x100],
      ['stat', '/l', 0x100],
      ['readlink', '/d'],
      ['stat', '/l/f', 0],
      ['rename', '/l', '/d', RENAME_NOREPLACE],
      ['rename', '/l', '/e', RENAME_NOREPLACE],
      ['rename', '/e', '/missing', RENAME_EXCHANGE],
      ['rename', '/e', '/d', RENAME_EXCHANGE | RENAME_NOREPLACE],
      ['stat', '/e/f', 0],
    ]);
  });

  it('user.* extended attributes pass through; other namespaces do not', () => {
    compare([
      ['open', '/f', O_CREAT | O_WRONLY, 0o644],
      ['mkdir', '/d', 0o755],
      ['symlink', 'f', '/l'],
      ['xset', '/f', 'user.a', 'one', 0, true],
      ['xset', '/f', 'user.a', 'two', 1, true],
      ['xset', '/f', 'user.b', 'x', 2, true],
      ['xget', '/f', 'user.a', true],
      ['xget', '/l', 'user.a', true],
      ['xget', '/l', 'user.a', false],
      ['xset', '/l', 'user.c', 'v', 0, false],
      ['xset', '/d', 'user.d', 'dir', 0, true],
      ['xlist', '/d', true],
      ['xlist', '/f', true],
      ['xrm', '/f', 'user.a', true],
      ['xrm', '/f', 'user.a', true],
      ['xget', '/f', 'user.zz', true],
      ['as', 1000, 1000],
      ['xset', '/f', 'user.a', 'other', 0, true],
      ['as', 0, 0],
    ]);
  });

  it('random sequences with mknod, xattrs and renameat2 match the host', () => {
    fc.assert(
      fc.property(fc.array(opArbHostCalls, { minLength: 1, maxLength: 25 }), (ops) => compare(ops)),
      { numRuns: Number(process.env['VFS_FUZZ_RUNS'] ?? 20) },
    );
  });
});

describe('hostfs HostCalls stay confined', () => {
  it('a host symlink to an outside file is neither followed by mknod, rename nor xattrs', () => {
    const outside = fresh();
    writeFileSync(join(outside, 'secret'), 's');
    mkdirSync(join(outside, 'dir'));
    const served = fresh();
    symlinkSync(join(outside, 'secret'), join(served, 'esc'));
    symlinkSync(join(outside, 'dir'), join(served, 'escdir'));
    const p = posixOn(served);
    expect(p.mknodat(-100, '/esc', S_IFIFO | 0o644, 0)).toBe(E.EEXIST);
    expect(p.mknodat(-100, '/escdir/fifo', S_IFIFO | 0o644, 0)).toBe(E.ENOENT);
    // The sandbox's /esc resolves in the sandbox (to a missing absolute path there); the link
    // itself takes no user.* attribute.
    expect(xset(p, '/esc', true)).toBe(E.ENOENT);
    expect(xset(p, '/esc', false)).toBe(E.EPERM);
    expect(p.renameat2(-100, '/esc', -100, '/escdir', RENAME_EXCHANGE)).toBe(0);
    expect(readdirSync(outside).sort()).toEqual(['dir', 'secret']);
    expect(readdirSync(join(outside, 'dir'))).toEqual([]);
    expect(lstatSync(join(served, 'esc')).isSymbolicLink()).toBe(true);
    p.closeAll();
  });

  it('without HostCalls: mknod EPERM, RENAME_EXCHANGE EINVAL, xattrs EOPNOTSUPP', () => {
    const p = posixOn(fresh(), false);
    expect(p.mknodat(-100, '/fifo', S_IFIFO | 0o644, 0)).toBe(E.EPERM);
    expect(p.mknodat(-100, '/sock', S_IFSOCK | 0o644, 0)).toBe(E.EPERM);
    expect(isError(p.open('/f', O_CREAT | O_WRONLY, 0o644))).toBe(false);
    expect(p.mkdir('/d', 0o755)).toBe(0);
    expect(p.renameat2(-100, '/f', -100, '/d', RENAME_EXCHANGE)).toBe(E.EINVAL);
    expect(xset(p, '/f', true)).toBe(E.EOPNOTSUPP);
    p.closeAll();
  });
});
