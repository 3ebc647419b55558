// Overlay marks kept in the upper layer (userxattr): a tree built through tsvisor's overlay on
// host directories is compared with what Linux overlayfs (-o userxattr) shows over the same
// directories and with a fresh tsvisor overlay (a remount); and the reverse, a tree Linux
// overlayfs wrote, read by tsvisor. The lower layer is never written.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { E, isError } from '@tsvisor/abi';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import {
  Hostfs,
  O_APPEND,
  O_CREAT,
  O_TRUNC,
  O_WRONLY,
  Overlayfs,
  Posix,
  ROOT_CREDS,
  S_IFBLK,
  S_IFCHR,
  S_IFMT,
  Tmpfs,
  Vfs,
} from '../index.js';
import type { HostCalls } from '../index.js';
import { runVfs } from '../testing/differential.test-util.js';
import { helperHostCalls } from '../testing/host-calls.test-util.js';
import { opArbHostCalls } from '../testing/model.test-util.js';
import {
  hostXattrs,
  inKernelOverlay,
  kernelListing,
  layers,
  treeHash,
  vfsListing,
} from './kernel-overlay.test-util.js';
import type { Layers } from './kernel-overlay.test-util.js';

const base = mkdtempSync(join(tmpdir(), 'tsvisor-overlay-persist-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));

const calls = helperHostCalls();
/** tsvisor's native host calls make no device nodes (trap-native's hostMknodat): the same here. */
const noDevices: HostCalls = {
  ...calls,
  mknodat: (dirFd, name, mode, dev) =>
    (mode & S_IFMT) === S_IFCHR || (mode & S_IFMT) === S_IFBLK
      ? -E.EPERM.errno
      : calls.mknodat(dirFd, name, mode, dev),
};

function makeLower(): string {
  const lower = mkdtempSync(join(base, 'lower-'));
  mkdirSync(join(lower, 'a', 'sub'), { recursive: true, mode: 0o755 });
  writeFileSync(join(lower, 'a', 'x'), 'lower a/x');
  writeFileSync(join(lower, 'a', 'y'), 'lower a/y');
  writeFileSync(join(lower, 'a', 'sub', 'z'), 'z');
  writeFileSync(join(lower, 'b'), 'lower b');
  mkdirSync(join(lower, 'c'), { mode: 0o750 });
  writeFileSync(join(lower, 'c', 'old'), 'old');
  mkdirSync(join(lower, 'd', 'deep'), { recursive: true, mode: 0o755 });
  writeFileSync(join(lower, 'd', 'k'), 'k');
  writeFileSync(join(lower, 'd', 'deep', 'm'), 'm');
  mkdirSync(join(lower, 'e'), { mode: 0o755 });
  writeFileSync(join(lower, 'e', 'keep'), 'keep');
  writeFileSync(join(lower, 'e', 'gone'), 'gone');
  writeFileSync(join(lower, 'f'), 'file f');
  symlinkSync('a/x', join(lower, 'link'));
  return lower;
}

function overlay(l: Layers, upperCalls: HostCalls, redirectDir = false): { p: Posix; fs: Overlayfs } {
  const fs = new Overlayfs(
    new Hostfs(l.lower, { readOnly: true, hostCalls: upperCalls }),
    new Hostfs(l.upper, { hostCalls: upperCalls }),
    { userxattr: true, redirectDir },
  );
  return { p: new Posix(new Vfs(fs), ROOT_CREDS), fs };
}

function put(p: Posix, path: string, text: string, flags = O_CREAT | O_TRUNC | O_WRONLY): void {
  const fd = p.open(path, flags, 0o644);
  if (isError(fd)) throw new Error(`open ${path}: ${fd.name}`);
  const n = p.write(fd, new TextEncoder().encode(text));
  p.close(fd);
  if (isError(n)) throw new Error(`write ${path}: ${n.name}`);
}

/** Deletes (files, a directory), an opaque replacement, copy-ups, renames of files and of an upper directory. */
function build(p: Posix): void {
  const ok = (r: unknown, what: string): void => {
    if (isError(r)) throw new Error(`${what}: ${r.name}`);
  };
  ok(p.unlink('/b'), 'unlink /b');
  ok(p.unlink('/e/gone'), 'unlink /e/gone');
  ok(p.unlink('/c/old'), 'unlink /c/old');
  ok(p.rmdir('/c'), 'rmdir /c');
  ok(p.mkdir('/c', 0o700), 'mkdir /c');
  put(p, '/c/new', 'new in an opaque c');
  put(p, '/a/x', ' and more', O_APPEND | O_WRONLY);
  ok(p.mkdir('/n', 0o755), 'mkdir /n');
  put(p, '/n/file', 'q');
  ok(p.rename('/n', '/m'), 'rename /n /m');
  ok(p.rename('/f', '/a/f2'), 'rename /f /a/f2');
  ok(p.unlink('/a/sub/z'), 'unlink /a/sub/z');
  ok(p.rmdir('/a/sub'), 'rmdir /a/sub');
  ok(p.symlink('a/y', '/s'), 'symlink /s');
}

describe('overlay with userxattr over host directories', () => {
  for (const [what, upperCalls] of [
    ['xattr whiteouts (no device nodes on the host)', noDevices],
    ['0/0 character device whiteouts', calls],
  ] as const) {
    it(`a tree it builds is the tree Linux overlayfs and a remount show: ${what}`, () => {
      const lower = makeLower();
      const before = treeHash(lower);
      const l = layers(base, lower, what.startsWith('xattr') ? 'xw' : 'cw');
      const first = overlay(l, upperCalls);
      expect(first.fs.xattrMarks).toBe(true);
      build(first.p);
      const mine = vfsListing(first.p);
      expect(mine).toContain('/c/new f 644 18 "new in an opaque c"');
      expect(mine.filter((e) => /^\/(b|f|c\/old|e\/gone|a\/sub|n) /.test(e))).toEqual([]);
      expect(mine).toContain('/a/x f 644 18 "lower a/x and more"');

      const linux = kernelListing(l);
      expect(linux).toEqual(mine);
      // A new overlay over the same upper layer (after Linux has added its own marks there).
      const again = overlay(l, upperCalls);
      expect(vfsListing(again.p)).toEqual(mine);
      expect(treeHash(lower)).toBe(before);

      const wh = hostXattrs(join(l.upper, 'e', 'gone'));
      if (upperCalls === noDevices) {
        expect(wh).toMatchObject({ 'user.overlay.whiteout': 'y' });
        expect(hostXattrs(join(l.upper, 'e'))).toMatchObject({ 'user.overlay.opaque': 'x' });
      } else expect(wh['user.overlay.whiteout']).toBeUndefined();
      expect(hostXattrs(join(l.upper, 'c'))).toMatchObject({ 'user.overlay.opaque': 'y' });
    });
  }

  it('a tree Linux overlayfs wrote reads the same through tsvisor, and back', () => {
    const lower = makeLower();
    const before = treeHash(lower);
    const l = layers(base, lower, 'kernel');
    inKernelOverlay(
      l,
      [
        'rm b e/gone',
        'rm -r c',
        'mkdir -m 700 c',
        'printf "new in an opaque c" > c/new',
        'printf " and more" >> a/x',
        'mkdir n && printf q > n/file && mv n m',
        'mv f a/f2',
        'rm -r a/sub',
        'ln -s a/y s',
        'mv d d2', // EXDEV under userxattr: mv copies the directory and removes the old one
      ].join(' && '),
    );
    const linux = kernelListing(l);
    expect(linux).toContain('/d2/deep/m f 644 1 "m"');
    const { p } = overlay(l, noDevices);
    expect(vfsListing(p)).toEqual(linux);
    // tsvisor changes the kernel's tree further; Linux sees the changes.
    expect(p.unlink('/e/keep')).toBe(0);
    expect(p.rmdir('/e')).toBe(0);
    expect(p.unlink('/d2/k')).toBe(0);
    expect(p.mkdir('/e', 0o755)).toBe(0);
    const mine = vfsListing(p);
    expect(mine).toContain('/e d 755 - ""');
    expect(mine.some((e) => e.startsWith('/e/'))).toBe(false);
    expect(kernelListing(l)).toEqual(mine);
    expect(treeHash(lower)).toBe(before);
  });

  it('keeps a redirected directory across a remount; Linux refuses to follow the redirect', () => {
    const lower = makeLower();
    const before = treeHash(lower);
    const l = layers(base, lower, 'redirect');
    const first = overlay(l, noDevices, true);
    expect(first.p.rename('/d', '/d2')).toBe(0);
    expect(first.p.rename('/d2/deep', '/a/deep2')).toBe(0);
    expect(first.p.unlink('/d2/k')).toBe(0);
    const mine = vfsListing(first.p);
    expect(
      mine.filter((e) => e.startsWith('/d2') || e.startsWith('/a/deep2') || e.startsWith('/d ')),
    ).toEqual(['/a/deep2 d 755 - ""', '/a/deep2/m f 644 1 "m"', '/d2 d 755 - ""']);
    expect(hostXattrs(join(l.upper, 'd2'))).toMatchObject({ 'user.overlay.redirect': '/d' });
    expect(hostXattrs(join(l.upper, 'a', 'deep2'))).toMatchObject({ 'user.overlay.redirect': '/d/deep' });
    const again = overlay(l, noDevices, true);
    expect(vfsListing(again.p)).toEqual(mine);
    // userxattr forces redirect_dir=nofollow in Linux: a directory with a redirect is EPERM.
    expect(inKernelOverlay(l, 'ls d2 2>&1; echo "status $?"').trim().replace(/\s+/g, ' ')).toBe(
      "ls: cannot access 'd2': Operation not permitted status 2",
    );
    expect(treeHash(lower)).toBe(before);
  });

  it("hides its own attributes and escapes the app's user.overlay.* ones, as overlayfs does", () => {
    const lower = makeLower();
    const l = layers(base, lower, 'escape');
    const { p } = overlay(l, noDevices);
    const { vfs, ctx } = p;
    const loc = vfs.lookupat(ctx, ctx.cwd, '/a/y', 0);
    if (isError(loc)) throw new Error(loc.name);
    expect(vfs.setxattr(ctx, loc, 'user.overlay.app', new TextEncoder().encode('mine'), 0)).toBeUndefined();
    expect(vfs.setxattr(ctx, loc, 'user.plain', new TextEncoder().encode('p'), 0)).toBeUndefined();
    expect(hostXattrs(join(l.upper, 'a', 'y'))).toEqual({
      'user.overlay.overlay.app': 'mine',
      'user.plain': 'p',
    });
    const again = overlay(l, noDevices);
    const loc2 = again.p.vfs.lookupat(again.p.ctx, again.p.ctx.cwd, '/a/y', 0);
    if (isError(loc2)) throw new Error(loc2.name);
    expect(again.p.vfs.listxattr(again.p.ctx, loc2)).toEqual(
      expect.arrayContaining(['user.overlay.app', 'user.plain']),
    );
    const got = again.p.vfs.getxattr(again.p.ctx, loc2, 'user.overlay.app');
    expect(isError(got) ? got.name : new TextDecoder().decode(got)).toBe('mine');
    // The marks on a directory are the overlay's: not listed, not readable.
    expect(p.unlink('/e/gone')).toBe(0);
    const dir = vfs.lookupat(ctx, ctx.cwd, '/e', 0);
    if (isError(dir)) throw new Error(dir.name);
    expect(vfs.listxattr(ctx, dir)).toEqual([]);
    expect(vfs.getxattr(ctx, dir, 'user.overlay.opaque')).toBe(E.ENODATA);
    // Linux shows the same: the escaped attribute under the app's name, its own marks hidden
    // (getfattr prints nothing for e, which has no attributes the app can see).
    expect(inKernelOverlay(l, 'getfattr -d -m - --absolute-names a/y e').trim().split('\n')).toEqual([
      '# file: a/y',
      'user.overlay.app="mine"',
      'user.plain="p"',
    ]);
  });

  it('keeps marks in memory only without userxattr or without upper xattrs', () => {
    const lower = makeLower();
    const l = layers(base, lower, 'plain');
    const noXattr = new Overlayfs(new Hostfs(l.lower, { readOnly: true }), new Hostfs(l.upper), {
      userxattr: true,
    });
    expect(noXattr.xattrMarks).toBe(false);
    const off = new Overlayfs(new Hostfs(l.lower, { readOnly: true }), new Tmpfs({ mode: 0o755 }));
    expect(off.xattrMarks).toBe(false);
    const tmpfs = new Overlayfs(new Hostfs(l.lower, { readOnly: true }), new Tmpfs({ mode: 0o755 }), {
      userxattr: true,
    });
    expect(tmpfs.xattrMarks).toBe(true);
  });

  it('random operation sequences leave a tree Linux overlayfs and a remount show alike', () => {
    // The names the random operations use (a, b, c below /), as in overlay.test.ts.
    const lower = mkdtempSync(join(base, 'lower-'));
    mkdirSync(join(lower, 'a', 'b', 'a'), { recursive: true, mode: 0o755 });
    writeFileSync(join(lower, 'a', 'c'), 'lower a/c');
    writeFileSync(join(lower, 'b'), 'lower b contents');
    writeFileSync(join(lower, 'a', 'b', 'c'), 'deep');
    symlinkSync('a/c', join(lower, 'c'));
    const before = treeHash(lower);
    let run = 0;
    fc.assert(
      fc.property(fc.array(opArbHostCalls, { minLength: 1, maxLength: 25 }), (ops) => {
        const l = layers(base, lower, `fuzz${run++}`);
        const { p } = overlay(l, noDevices);
        runVfs(p, ops);
        p.closeAll();
        const mine = vfsListing(new Posix(p.vfs, ROOT_CREDS));
        expect(kernelListing(l)).toEqual(mine);
        expect(vfsListing(overlay(l, noDevices).p)).toEqual(mine);
        // With redirect_dir the same operations also rename lower directories; Linux cannot
        // read that tree (userxattr), a remount must.
        const r = layers(base, lower, `fuzz-redirect${run}`);
        const withRedirects = overlay(r, noDevices, true).p;
        runVfs(withRedirects, ops);
        withRedirects.closeAll();
        const renamed = vfsListing(new Posix(withRedirects.vfs, ROOT_CREDS));
        expect(vfsListing(overlay(r, noDevices, true).p)).toEqual(renamed);
      }),
      { numRuns: Number(process.env['VFS_FUZZ_RUNS'] ?? 12) },
    );
    expect(treeHash(lower)).toBe(before);
  }, 600_000);

  it('README: a second overlay over the same upper directory sees the whiteout', () => {
    const srv = mkdtempSync(join(base, 'srv-'));
    mkdirSync(join(srv, 'image', 'etc'), { recursive: true });
    writeFileSync(join(srv, 'image', 'etc', 'motd'), 'hello');
    mkdirSync(join(srv, 'changes'));
    const hostCalls = noDevices;
    // As in the README.
    const image = new Hostfs(join(srv, 'image'), { readOnly: true });
    const mount = (): Posix =>
      new Posix(
        new Vfs(new Overlayfs(image, new Hostfs(join(srv, 'changes'), { hostCalls }), { userxattr: true })),
        ROOT_CREDS,
      );
    expect(mount().unlink('/etc/motd')).toBe(0);
    expect(mount().stat('/etc/motd')).toBe(E.ENOENT);
    expect(mount().stat('/etc')).toMatchObject({ nlink: 1 });
  });

  it('follows redirects in the forms overlayfs writes: absolute, and relative within a directory', () => {
    const lower = makeLower();
    const l = layers(base, lower, 'redirect-forms');
    // An upper layer as Linux with redirect_dir=on leaves it (with trusted.* there; user.* here).
    mkdirSync(join(l.upper, 'dd'));
    execFileSync('setfattr', ['-n', 'user.overlay.redirect', '-v', 'd', join(l.upper, 'dd')]);
    execFileSync('mknod', [join(l.upper, 'd'), 'c', '0', '0']);
    mkdirSync(join(l.upper, 'a', 'sub2'), { recursive: true });
    execFileSync('setfattr', ['-n', 'user.overlay.redirect', '-v', 'sub', join(l.upper, 'a', 'sub2')]);
    execFileSync('mknod', [join(l.upper, 'a', 'sub'), 'c', '0', '0']);
    mkdirSync(join(l.upper, 'e', 'deeper'), { recursive: true });
    execFileSync('setfattr', ['-n', 'user.overlay.redirect', '-v', '/d/deep', join(l.upper, 'e', 'deeper')]);
    const { p } = overlay(l, noDevices, true);
    const tree = vfsListing(p);
    expect(tree.filter((e) => /^\/(dd|d|a\/sub2?|e\/deeper)[/ ]/.test(e))).toEqual([
      '/a/sub2 d 755 - ""',
      '/a/sub2/z f 644 1 "z"',
      '/dd d 755 - ""',
      '/dd/deep d 755 - ""',
      '/dd/deep/m f 644 1 "m"',
      '/dd/k f 644 1 "k"',
      '/e/deeper d 755 - ""',
      '/e/deeper/m f 644 1 "m"',
    ]);
  });

  it('a tmpfs upper layer keeps the marks too: a second overlay over the same tmpfs sees the tree', () => {
    const lower = makeLower();
    const upper = new Tmpfs({ mode: 0o755 });
    const mount = (userxattr: boolean): Posix =>
      new Posix(
        new Vfs(new Overlayfs(new Hostfs(lower, { readOnly: true }), upper, { userxattr })),
        ROOT_CREDS,
      );
    const first = mount(true);
    build(first);
    const mine = vfsListing(first);
    expect(vfsListing(mount(true))).toEqual(mine);
    // Without the option the marks were never written, and a second overlay shows the lower /c.
    const upper2 = new Tmpfs({ mode: 0o755 });
    const plain = (): Posix =>
      new Posix(new Vfs(new Overlayfs(new Hostfs(lower, { readOnly: true }), upper2)), ROOT_CREDS);
    build(plain());
    expect(vfsListing(plain())).toContain('/c/old f 644 3 "old"');
  });
});
