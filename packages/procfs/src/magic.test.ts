import {
  closeSync,
  linkSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readlinkSync,
  rmSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { E, isError, At, Mode, OpenFlag } from '@tsvisor/abi';
import { userCreds } from '@tsvisor/vfs';
import type { FileDescription, Location, Stat } from '@tsvisor/vfs';
import type { FixtureTask } from './fixture.js';
import { list, mounted, readAll } from './mount.test-util.js';
import type { ProcFd } from './source.js';

const enc = new TextEncoder();
const dec = new TextDecoder();
/** RESOLVE_NO_MAGICLINKS of openat2(2). */
const RESOLVE_NO_MAGICLINKS = 0x02;

/** Put description `f` of the test's own fd table into task 7's fd table as fd `n`. */
function expose(task: FixtureTask, n: number, f: FileDescription, path: string): void {
  const fd: ProcFd = {
    path,
    flags: f.getFlags(),
    pos: f.offset,
    mntId: f.location.mount.id,
    ino: f.location.inode.ino,
    location: f.location,
  };
  task.data.fds.set(n, fd);
}

function setup() {
  const m = mounted();
  const { p, src } = m;
  expect(p.mkdir('/data', 0o755)).toBe(0);
  const task = src.tasks.get(7) as FixtureTask;
  const desc = (fd: number): FileDescription => p.file(fd) as FileDescription;
  return { ...m, task, desc };
}

describe('magic links: /proc/<pid>/fd/N, cwd, root, exe jump to the real file', () => {
  it('reopens a deleted file through fd/N, and readlink still shows the text', () => {
    const { p, task, desc } = setup();
    const fd = p.open('/data/log', OpenFlag.O_CREAT | OpenFlag.O_RDWR, 0o600) as number;
    expect(p.write(fd, enc.encode('hello'))).toBe(5);
    expect(p.unlink('/data/log')).toBe(0);
    expose(task, 5, desc(fd), '/data/log (deleted)');
    expect(p.readlink('/proc/self/fd/5')).toBe('/data/log (deleted)');
    // Following the text as a path would give ENOENT; the magic link reaches the file.
    expect(readAll(p, '/proc/self/fd/5')).toBe('hello');
    const again = p.open('/proc/7/fd/5', OpenFlag.O_WRONLY) as number;
    expect(p.write(again, enc.encode('J'))).toBe(1);
    const buf = new Uint8Array(5);
    expect(p.pread(fd, buf, 0)).toBe(5);
    expect(dec.decode(buf)).toBe('Jello');
    expect(((p.stat('/proc/self/fd/5') as Stat).mode & Mode.S_IFMT) >>> 0).toBe(0o100000);
  });

  it('reopens a pipe through fd/N and shows pipe:[ino] with the access mode', () => {
    const { p, task, desc } = setup();
    const [r, w] = p.pipe2() as [number, number];
    const ino = (p.fstat(w) as Stat).ino;
    expose(task, 3, desc(r), `pipe:[${ino}]`);
    expose(task, 4, desc(w), `pipe:[${ino}]`);
    expect(list(p, '/proc/self/fd')).toContain('4');
    expect(p.readlink('/proc/self/fd/4')).toBe(`pipe:[${ino}]`);
    const l = p.lstat('/proc/self/fd/4') as Stat;
    expect(l.mode & Mode.S_IFMT).toBe(Mode.S_IFLNK);
    expect(l.mode & 0o777).toBe(0o300); // l-wx------
    expect((p.lstat('/proc/self/fd/3') as Stat).mode & 0o777).toBe(0o500); // lr-x------
    const w2 = p.open('/proc/self/fd/4', OpenFlag.O_WRONLY) as number;
    expect(w2).toBeGreaterThanOrEqual(0);
    expect(p.write(w2, enc.encode('through proc'))).toBe(12);
    const buf = new Uint8Array(32);
    const n = p.read(r, buf) as number;
    expect(dec.decode(buf.subarray(0, n))).toBe('through proc');
    // `cat /proc/self/fd/3`: the read end reopened.
    expect(p.write(w, enc.encode('again'))).toBe(5);
    const r2 = p.open('/proc/self/fd/3', OpenFlag.O_RDONLY) as number;
    const m = p.read(r2, buf) as number;
    expect(dec.decode(buf.subarray(0, m))).toBe('again');
  });

  it('links an OpenFlag.O_TMPFILE file into the tree with linkat(At.AT_SYMLINK_FOLLOW) from fd/N', () => {
    const { p, task, desc } = setup();
    const fd = p.open('/data', OpenFlag.O_TMPFILE | OpenFlag.O_RDWR, 0o644) as number;
    expect(fd).toBeGreaterThanOrEqual(0);
    expect(p.write(fd, enc.encode('anon'))).toBe(4);
    expose(task, 9, desc(fd), '/data/#1234 (deleted)');
    // Without AT_SYMLINK_FOLLOW the procfs link itself would be linked: EXDEV, as on Linux.
    expect(p.linkat(-100, '/proc/self/fd/9', -100, '/data/named', 0)).toBe(E.EXDEV);
    expect(p.linkat(-100, '/proc/self/fd/9', -100, '/data/named', At.AT_SYMLINK_FOLLOW)).toBe(0);
    expect(readAll(p, '/data/named')).toBe('anon');
  });

  it('jumps through cwd, root and exe to their locations, not their path text', () => {
    const { p, task, vfs } = setup();
    expect(p.mkdir('/data/sub', 0o755)).toBe(0);
    const fd = p.open('/data/sub/f', OpenFlag.O_CREAT | OpenFlag.O_WRONLY, 0o644) as number;
    expect(p.write(fd, enc.encode('x'))).toBe(1);
    const ctx = vfs.rootContext(userCreds(0, 0));
    const sub = vfs.lookupat(ctx, ctx.cwd, '/data/sub', 0) as Location;
    const exe = vfs.lookupat(ctx, ctx.cwd, '/data/sub/f', 0) as Location;
    task.data.cwd = '/elsewhere';
    task.data.cwdLocation = sub;
    task.data.rootLocation = sub;
    task.data.exeLocation = exe;
    expect(p.readlink('/proc/self/cwd')).toBe('/elsewhere');
    expect(readAll(p, '/proc/self/cwd/f')).toBe('x');
    expect(list(p, '/proc/self/root')).toEqual(['f']);
    expect(readAll(p, '/proc/self/exe')).toBe('x');
    // `..` from the jumped-to directory is the real parent, as after nd_jump_link.
    expect(list(p, '/proc/self/cwd/..')).toEqual(['sub']);
  });

  it('refuses the jump without ptrace access (EACCES) and under RESOLVE_NO_MAGICLINKS (ELOOP)', () => {
    const { p, src, task, vfs } = setup();
    const ctx = vfs.rootContext(userCreds(0, 0));
    task.data.cwdLocation = vfs.lookupat(ctx, ctx.cwd, '/data', 0) as Location;
    const fd = p.open('/data/f', OpenFlag.O_CREAT | OpenFlag.O_RDWR, 0o644) as number;
    expose(task, 5, p.file(fd) as FileDescription, '/data/f');
    expect(
      p.openat2(-100, '/proc/7/fd/5', { flags: OpenFlag.O_RDONLY, mode: 0, resolve: RESOLVE_NO_MAGICLINKS }),
    ).toBe(E.ELOOP);
    // The readlink text stays readable without following (lstat of the link itself).
    expect(isError(p.fstatat(-100, '/proc/7/cwd', At.AT_SYMLINK_NOFOLLOW))).toBe(false);
    // Another user (uid 1000, task 12) has no ptrace access to root's task 7.
    src.callerTid = 12;
    p.setCreds(userCreds(1000, 1000));
    expect(p.stat('/proc/7/cwd')).toBe(E.EACCES);
    expect(p.open('/proc/7/cwd/f', OpenFlag.O_RDONLY)).toBe(E.EACCES);
    // ...but does to its own: task 12's cwd has no location, so its path is followed.
    expect(isError(p.stat('/proc/self/cwd'))).toBe(false);
    // A task that has gone: ENOENT.
    src.callerTid = 7;
    p.setCreds(userCreds(0, 0));
    const dirfd = p.open('/proc/13', OpenFlag.O_RDONLY) as number;
    src.removeTask(13);
    expect(p.openat(dirfd, 'cwd', OpenFlag.O_RDONLY)).toBe(E.ENOENT);
  });
});

describe('the same sequences on the host kernel', () => {
  /** The errno code of a node:fs call, or 'ok'. */
  const code = (f: () => unknown): string => {
    try {
      f();
      return 'ok';
    } catch (e) {
      return (e as NodeJS.ErrnoException).code ?? 'unknown';
    }
  };

  it('a deleted file reopens through /proc/self/fd; link(2) of the fd link is EXDEV', () => {
    const dir = mkdtempSync(join(tmpdir(), 'procfs-magic-'));
    try {
      const file = join(dir, 'log');
      const fd = openSync(file, 'w+');
      writeSync(fd, 'hello');
      unlinkSync(file);
      const link = `/proc/self/fd/${fd}`;
      const text = readlinkSync(link);
      expect(text).toBe(`${file} (deleted)`);
      expect(readFileSync(link, 'latin1')).toBe('hello');
      expect(code(() => linkSync(link, join(dir, 'named')))).toBe('EXDEV');
      closeSync(fd);
      // tsvisor: the same steps give the same answers.
      const { p, task, desc } = setup();
      const ours = p.open('/data/log', OpenFlag.O_CREAT | OpenFlag.O_RDWR, 0o600) as number;
      p.write(ours, enc.encode('hello'));
      p.unlink('/data/log');
      expose(task, 5, desc(ours), '/data/log (deleted)');
      expect(p.readlink('/proc/self/fd/5')).toBe('/data/log (deleted)');
      expect(readAll(p, '/proc/self/fd/5')).toBe('hello');
      expect(p.link('/proc/self/fd/5', '/data/named')).toBe(E.EXDEV);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
