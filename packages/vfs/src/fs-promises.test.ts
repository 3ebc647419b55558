// The same script runs against node:fs/promises on a fresh host directory and against the
// FsPromises facade (over tmpfs, and over a userfs with async callbacks); results and errors
// (code, errno, syscall, path, dest) must match.
import { mkdtempSync, rmSync } from 'node:fs';
import * as nodefs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FsPromises, Hostfs, Overlayfs, Tmpfs, Userfs, Vfs, ROOT_CREDS } from './index.js';
import { jsonStore } from './userfs/json-store.test-util.js';

/** The part of node:fs/promises the script uses (the facade must accept the same calls). */
type FsLike = Pick<
  typeof nodefs,
  | 'readFile'
  | 'writeFile'
  | 'appendFile'
  | 'mkdir'
  | 'readdir'
  | 'stat'
  | 'lstat'
  | 'rename'
  | 'rm'
  | 'rmdir'
  | 'unlink'
  | 'symlink'
  | 'readlink'
  | 'realpath'
  | 'open'
  | 'access'
  | 'chmod'
  | 'utimes'
  | 'copyFile'
  | 'link'
  | 'truncate'
>;

interface StatLike {
  mode: number;
  size: number;
  nlink: number;
  mtimeMs: number;
  isFile(): boolean;
  isDirectory(): boolean;
  isSymbolicLink(): boolean;
}

async function script(fs: FsLike, root: string): Promise<unknown[]> {
  const out: unknown[] = [];
  const strip = (s: unknown): unknown =>
    typeof s === 'string' && s.startsWith(root) ? s.slice(root.length) || '/' : s;
  const at = (p: string): string => root + p;
  const step = async (f: () => Promise<unknown>): Promise<void> => {
    try {
      out.push(['ok', await f()]);
    } catch (e) {
      const err = e as { code?: string; errno?: number; syscall?: string; path?: string; dest?: string };
      out.push(['err', err.code, err.errno, err.syscall, strip(err.path), strip(err.dest)]);
    }
  };
  const st = (s: StatLike): unknown => [
    s.mode.toString(8),
    s.isDirectory() ? 'dir' : s.size,
    s.nlink,
    s.isFile(),
    s.isDirectory(),
    s.isSymbolicLink(),
  ];
  await step(async () => strip(await fs.mkdir(at('/a/b/c'), { recursive: true })));
  await step(() => fs.mkdir(at('/a'), { recursive: true }));
  await step(() => fs.mkdir(at('/a')));
  await step(() => fs.mkdir(at('/none/x')));
  await step(() => fs.writeFile(at('/a/f.txt'), 'hello'));
  await step(() => fs.readFile(at('/a/f.txt'), 'utf8'));
  await step(() => fs.appendFile(at('/a/f.txt'), ' world'));
  await step(async () => (await fs.readFile(at('/a/f.txt'))).toString('hex'));
  await step(() => fs.readFile(at('/a')));
  await step(() => fs.readFile(at('/nope')));
  await step(() => fs.writeFile(at('/nope/x'), 'x'));
  await step(() => fs.writeFile(at('/a/f.txt'), 'x', { flag: 'wx' }));
  await step(async () => (await fs.readdir(at('/a'))).sort());
  await step(async () =>
    (await fs.readdir(at('/a'), { withFileTypes: true }))
      .map((d) => [d.name, d.isFile(), d.isDirectory(), d.isSymbolicLink()])
      .sort(),
  );
  await step(() => fs.readdir(at('/a/f.txt')));
  await step(() => fs.readdir(at('/nope')));
  await step(async () => st(await fs.stat(at('/a/f.txt'))));
  await step(async () => st(await fs.stat(at('/a/b'))));
  await step(() => fs.stat(at('/a/f.txt/x')));
  await step(() => fs.symlink('f.txt', at('/a/l')));
  await step(() => fs.symlink('f.txt', at('/a/l')));
  await step(() => fs.readlink(at('/a/l')));
  await step(() => fs.readlink(at('/a/f.txt')));
  await step(async () => st(await fs.lstat(at('/a/l'))));
  await step(async () => st(await fs.stat(at('/a/l'))));
  await step(async () => strip(await fs.realpath(at('/a/b/../l'))));
  await step(async () => strip(await fs.realpath(at('/a/./b/c'))));
  await step(() => fs.realpath(at('/a/missing')));
  await step(() => fs.rename(at('/a/f.txt'), at('/a/g.txt')));
  await step(() => fs.rename(at('/nope'), at('/a/x')));
  await step(() => fs.rename(at('/a'), at('/a/b/inside')));
  await step(() => fs.link(at('/a/g.txt'), at('/a/hard')));
  await step(async () => st(await fs.stat(at('/a/hard'))));
  await step(() => fs.copyFile(at('/a/g.txt'), at('/a/h.txt')));
  await step(() => fs.copyFile(at('/a/g.txt'), at('/a/h.txt'), 1));
  await step(() => fs.copyFile(at('/nope'), at('/a/h.txt')));
  await step(() => fs.readFile(at('/a/h.txt'), 'utf8'));
  await step(() => fs.chmod(at('/a/h.txt'), 0o600));
  await step(async () => st(await fs.stat(at('/a/h.txt'))));
  await step(() => fs.chmod(at('/nope'), 0o600));
  await step(() => fs.utimes(at('/a/h.txt'), 1000, 2000.5));
  await step(async () => (await fs.stat(at('/a/h.txt'))).mtimeMs);
  await step(() => fs.utimes(at('/a/h.txt'), new Date(5000), new Date(6000)));
  await step(async () => (await fs.stat(at('/a/h.txt'))).mtimeMs);
  await step(() => fs.access(at('/a/h.txt')));
  await step(() => fs.access(at('/nope')));
  await step(() => fs.truncate(at('/a/h.txt'), 3));
  await step(() => fs.readFile(at('/a/h.txt'), 'utf8'));
  await step(async () => {
    const h = await fs.open(at('/a/h.txt'), 'r+');
    try {
      const w = await h.write('J', 0);
      const buf = Buffer.alloc(8);
      const r = await h.read(buf, 0, 8, 0);
      const w2 = await h.write(Buffer.from('xyz'), 1, 2);
      const s = await h.stat();
      await h.truncate(2);
      return [w.bytesWritten, r.bytesRead, buf.subarray(0, r.bytesRead).toString(), w2.bytesWritten, s.size];
    } finally {
      await h.close();
    }
  });
  await step(() => fs.readFile(at('/a/h.txt'), 'utf8'));
  await step(() => fs.open(at('/nope'), 'r'));
  await step(() => fs.open(at('/a/g.txt'), 'wx'));
  await step(() => fs.unlink(at('/a/b')));
  await step(() => fs.unlink(at('/nope')));
  await step(() => fs.rmdir(at('/a')));
  await step(() => fs.rmdir(at('/a/g.txt')));
  await step(() => fs.rm(at('/a')));
  await step(() => fs.rm(at('/nope')));
  await step(() => fs.rm(at('/nope'), { force: true }));
  await step(() => fs.rm(at('/a/hard')));
  await step(() => fs.mkdir(at('/a/g.txt/sub'), { recursive: true }));
  await step(() => fs.mkdir(at('/a/g.txt'), { recursive: true }));
  await step(() => fs.rm(at('/a'), { recursive: true }));
  await step(async () => (await fs.readdir(at('/'))).sort());
  return out;
}

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function reference(): Promise<unknown[]> {
  const dir = mkdtempSync(join(tmpdir(), 'tsvisor-fsp-'));
  dirs.push(dir);
  return script(nodefs, dir);
}

describe('FsPromises', () => {
  it('matches node:fs/promises on a host directory (tmpfs underneath)', async () => {
    const expected = await reference();
    const fs = new FsPromises(new Vfs(new Tmpfs()));
    expect(await script(fs as unknown as FsLike, '')).toEqual(expected);
  });

  it('matches node:fs/promises over hostfs and overlay too', async () => {
    const expected = await reference();
    const host = mkdtempSync(join(tmpdir(), 'tsvisor-fsp-host-'));
    dirs.push(host);
    const overHost = new FsPromises(new Vfs(new Hostfs(host)));
    expect(await script(overHost as unknown as FsLike, '')).toEqual(expected);
    const overlay = new FsPromises(
      new Vfs(new Overlayfs(new Tmpfs({ mode: 0o755 }), new Tmpfs({ mode: 0o755 }))),
    );
    expect(await script(overlay as unknown as FsLike, '')).toEqual(expected);
  });

  it('works over a userfs whose callbacks answer asynchronously', async () => {
    const vfs = new Vfs(new Tmpfs());
    const ctx = vfs.rootContext(ROOT_CREDS);
    vfs.mkdirat(ctx, ctx.cwd, '/u', 0o755);
    // The JSON store keeps no modes, links or times: the calls it can hold.
    vfs.mount(ctx, ctx.cwd, '/u', new Userfs(jsonStore({}, { async: true })));
    const fs = new FsPromises(vfs);
    await fs.mkdir('/u/a/b', { recursive: true });
    await fs.writeFile('/u/a/f.txt', 'hello');
    await fs.appendFile('/u/a/f.txt', ' world');
    expect(await fs.readFile('/u/a/f.txt', 'utf8')).toBe('hello world');
    expect((await fs.readdir('/u/a')).sort()).toEqual(['b', 'f.txt']);
    expect((await fs.stat('/u/a/f.txt')).size).toBe(11);
    await fs.rename('/u/a/f.txt', '/u/a/g.txt');
    await fs.copyFile('/u/a/g.txt', '/u/a/h.txt');
    expect(await fs.readFile('/u/a/h.txt', 'utf8')).toBe('hello world');
    await expect(fs.readFile('/u/nope')).rejects.toMatchObject({
      code: 'ENOENT',
      syscall: 'open',
      path: '/u/nope',
    });
    await fs.rm('/u/a', { recursive: true });
    expect(await fs.readdir('/u')).toEqual([]);
  });

  it('gives Node-shaped errors', async () => {
    const fs = new FsPromises(new Vfs(new Tmpfs()));
    const err = await fs.readFile('/missing').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err).toMatchObject({
      code: 'ENOENT',
      errno: -2,
      syscall: 'open',
      path: '/missing',
      message: "ENOENT: no such file or directory, open '/missing'",
    });
    const real = await nodefs.readFile('/definitely/missing/file').catch((e: unknown) => e);
    expect((real as Error).message).toBe(
      "ENOENT: no such file or directory, open '/definitely/missing/file'",
    );
  });
});
