import { E, isError } from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import {
  AT_EMPTY_PATH,
  AT_FDCWD,
  F_GETFL,
  F_SETFL,
  O_APPEND,
  O_CREAT,
  O_DIRECTORY,
  O_EXCL,
  O_LARGEFILE,
  O_NONBLOCK,
  O_RDONLY,
  O_RDWR,
  O_TMPFILE,
  O_WRONLY,
  Posix,
  ROOT_CREDS,
  Tmpfs,
  TmpfsSymlink,
  Vfs,
  createPipe,
} from './index.js';
import type { Location } from './index.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

function posix(): Posix {
  return new Posix(new Vfs(new Tmpfs()), ROOT_CREDS);
}

describe('Vfs', () => {
  it('runs the README example', () => {
    const vfs = new Vfs(new Tmpfs());
    const ctx = vfs.rootContext(ROOT_CREDS);
    expect(vfs.mkdirat(ctx, ctx.cwd, '/etc', 0o755)).toBeUndefined();
    const f = vfs.openat(ctx, ctx.cwd, '/etc/hostname', O_CREAT | O_WRONLY, 0o644);
    if (isError(f)) throw new Error(f.name);
    expect(f.write(enc('sandbox\n'))).toBe(8);
    f.release();
    expect(vfs.statat(ctx, ctx.cwd, '/etc/hostname', 0)).toMatchObject({ size: 8, mode: 0o100644 });
  });

  it('links an O_TMPFILE file into the tree with AT_EMPTY_PATH, unless O_EXCL', () => {
    const p = posix();
    p.mkdir('/d', 0o755);
    const fd = p.open('/d', O_TMPFILE | O_RDWR, 0o600) as number;
    expect(p.write(fd, enc('unnamed'))).toBe(7);
    expect(p.fstat(fd)).toMatchObject({ nlink: 0, size: 7 });
    expect(p.linkat(fd, '', AT_FDCWD, '/d/named', AT_EMPTY_PATH)).toBe(0);
    expect(p.stat('/d/named')).toMatchObject({ nlink: 1, size: 7 });
    const ex = p.open('/d', O_TMPFILE | O_RDWR | O_EXCL, 0o600) as number;
    expect(p.linkat(ex, '', AT_FDCWD, '/d/never', AT_EMPTY_PATH)).toBe(E.ENOENT);
  });

  it('gets and sets O_APPEND and O_NONBLOCK with fcntl', () => {
    const p = posix();
    const fd = p.open('/f', O_CREAT | O_RDWR, 0o644) as number;
    expect(p.fcntl(fd, F_GETFL)).toBe(O_RDWR | O_LARGEFILE);
    expect(p.fcntl(fd, F_SETFL, O_APPEND | O_NONBLOCK | O_WRONLY)).toBe(0);
    expect(p.fcntl(fd, F_GETFL)).toBe(O_RDWR | O_LARGEFILE | O_APPEND | O_NONBLOCK);
    p.write(fd, enc('ab'));
    p.lseek(fd, 0, 0);
    p.write(fd, enc('cd'));
    const buf = new Uint8Array(8);
    expect(p.pread(fd, buf, 0)).toBe(4);
    expect(new TextDecoder().decode(buf.subarray(0, 4))).toBe('abcd');
  });

  it('names locations: deleted files, unreachable cwds, removed cwd', () => {
    const vfs = new Vfs(new Tmpfs());
    const p = new Posix(vfs, ROOT_CREDS);
    p.mkdir('/a', 0o755);
    p.mkdir('/jail', 0o755);
    const fd = p.open('/a/f', O_CREAT | O_RDWR, 0o644) as number;
    const f = p.file(fd);
    if (isError(f)) throw new Error();
    expect(vfs.pathOf(p.ctx, f.location)).toBe('/a/f');
    p.unlink('/a/f');
    expect(vfs.pathOf(p.ctx, f.location)).toBe('/a/f (deleted)');
    expect(p.chdir('/a')).toBe(0);
    const jail = vfs.lookupat(p.ctx, p.ctx.cwd, '/jail', 0);
    if (isError(jail)) throw new Error();
    const outside = { ...p.ctx, root: jail };
    expect(vfs.getcwd(outside)).toBe('(unreachable)/a');
    p.mkdir('/a/gone', 0o755);
    p.chdir('/a/gone');
    p.rmdir('/a/gone');
    expect(p.getcwd()).toBe(E.ENOENT);
    expect(p.open('x', O_CREAT | O_RDWR, 0o644)).toBe(E.ENOENT);
  });

  it('keeps getdents offsets valid while the directory changes', () => {
    const p = posix();
    p.mkdir('/d', 0o755);
    for (let i = 0; i < 100; i++) p.open(`/d/f${i}`, O_CREAT | O_RDONLY, 0o644);
    const dfd = p.open('/d', O_RDONLY | O_DIRECTORY) as number;
    const dir = p.file(dfd);
    if (isError(dir)) throw new Error();
    const seen: string[] = [];
    let taken = 0;
    dir.getdents((_ino, _off, _type, name) => {
      if (taken === 50) return false;
      taken++;
      seen.push(name);
      return true;
    });
    // Remove every file already listed and some not yet listed, add new ones.
    for (const n of seen) if (n.startsWith('f')) p.unlink(`/d/${n}`);
    for (let i = 60; i < 70; i++) p.unlink(`/d/f${i}`);
    p.open('/d/new', O_CREAT | O_RDONLY, 0o644);
    const rest = dir.readdirAll();
    if (isError(rest)) throw new Error();
    const names = [...seen, ...rest.map((e) => e.name)];
    const expected = [
      '.',
      '..',
      ...Array.from({ length: 100 }, (_, i) => `f${i}`).filter((n) => !/^f6\d$/.test(n)),
      'new',
    ];
    expect(names).toEqual(expected);
    // Seeking back to an entry's d_off resumes right after it.
    p.lseek(dfd, 0, 0);
    const all = p.getdents(dfd);
    if (isError(all)) throw new Error();
    const third = all[2];
    if (third === undefined) throw new Error();
    p.lseek(dfd, third.off, 0);
    const after = p.getdents(dfd);
    if (isError(after)) throw new Error();
    expect(after[0]?.name).toBe(all[3]?.name);
  });

  it('reads what it writes across chunk boundaries and sparse regions', () => {
    const p = posix();
    const fd = p.open('/big', O_CREAT | O_RDWR, 0o644) as number;
    const data = new Uint8Array(200_000).map((_, i) => i % 251);
    expect(p.pwrite(fd, data, 70_000)).toBe(200_000);
    const back = new Uint8Array(200_010);
    expect(p.pread(fd, back, 69_995)).toBe(200_005);
    expect([...back.subarray(0, 5)]).toEqual([0, 0, 0, 0, 0]);
    expect(Buffer.from(back.subarray(5, 200_005)).equals(Buffer.from(data))).toBe(true);
  });
});

describe('kernel hooks', () => {
  it('follows magic links to the location itself, and reopens the same pipe through them', () => {
    const creds = ROOT_CREDS;
    const wr = O_WRONLY;
    const fs = new Tmpfs();
    const vfs = new Vfs(fs);
    const ctx = vfs.rootContext(creds);
    vfs.mkdirat(ctx, ctx.cwd, '/hidden', 0o700);
    const f = vfs.openat(ctx, ctx.cwd, '/hidden/file', O_CREAT | O_RDWR, 0o600);
    const pipe = createPipe(creds);
    if (isError(f) || isError(pipe)) throw new Error();
    vfs.unlinkat(ctx, ctx.cwd, '/hidden/file', 0);
    class Magic extends TmpfsSymlink {
      constructor(private readonly to: Location) {
        super(fs, { mode: 0o120777, uid: 0, gid: 0, rdev: 0 }, 'pretend:[0]');
      }
      override magicLink(): Location {
        return this.to;
      }
    }
    fs.root.entries.add('fd3', new Magic(f.location));
    fs.root.entries.add('fd4', new Magic(pipe[1].location));
    const again = vfs.openat(ctx, ctx.cwd, '/fd3', O_RDWR);
    if (isError(again)) throw new Error(again.name);
    expect(again.write(enc('via magic'))).toBe(9);
    expect(f.pread(new Uint8Array(9), 0)).toBe(9);
    expect(vfs.readlinkat(ctx, ctx.cwd, '/fd3')).toBe('pretend:[0]');
    const w2 = vfs.openat(ctx, ctx.cwd, '/fd4', wr);
    if (isError(w2)) throw new Error(w2.name);
    expect(w2.write(enc('xy'))).toBe(2);
    const buf = new Uint8Array(4);
    expect(pipe[0].read(buf)).toBe(2);
    expect(vfs.openat(ctx, ctx.cwd, '/fd3', O_RDWR | O_CREAT, 0o600)).toBeInstanceOf(Object);
  });

  it('checks execve permissions', () => {
    const vfs = new Vfs(new Tmpfs());
    const ctx = vfs.rootContext(ROOT_CREDS);
    vfs.openat(ctx, ctx.cwd, '/noexec', O_CREAT | O_RDWR, 0o644);
    vfs.openat(ctx, ctx.cwd, '/exec', O_CREAT | O_RDWR, 0o700);
    const loc = (p: string) => vfs.lookupat(ctx, ctx.cwd, p, 0) as Location;
    expect(vfs.mayExec(ctx, loc('/noexec'))).toBe(E.EACCES);
    expect(vfs.mayExec(ctx, loc('/exec'))).toBeUndefined();
    expect(vfs.mayExec(ctx, loc('/'))).toBe(E.EACCES);
  });
});
