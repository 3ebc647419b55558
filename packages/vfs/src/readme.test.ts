// The README's examples for the node:fs/promises facade, userfs and tmpfs limits, run as written.
import { E } from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import {
  IN_CREATE,
  IN_ISDIR,
  IN_MOVED_TO,
  InotifyInstance,
  FsPromises,
  O_CREAT,
  O_WRONLY,
  Posix,
  ROOT_CREDS,
  S_IFDIR,
  S_IFREG,
  Tmpfs,
  Userfs,
  Vfs,
  parseTmpfsMountData,
} from './index.js';
import type { Location, TmpfsOptions } from './index.js';

describe('README examples', () => {
  it('node:fs/promises-shaped use', async () => {
    const fs = new FsPromises(new Vfs(new Tmpfs()));
    await fs.mkdir('/app/data', { recursive: true });
    await fs.writeFile('/app/data/config.json', '{"debug":true}');
    expect(await fs.readFile('/app/data/config.json', 'utf8')).toBe('{"debug":true}');
    expect(await fs.readdir('/app/data')).toEqual(['config.json']);
    expect((await fs.stat('/app/data/config.json')).size).toBe(14);
    await expect(fs.rmdir('/app')).rejects.toMatchObject({
      code: 'ENOTEMPTY',
      syscall: 'rmdir',
      path: '/app',
    });
  });

  it('a key-value store mounted as a directory', async () => {
    const kv = new Map<string, string>([['greeting', 'hello\n']]);
    const enc = new TextEncoder();
    const key = (path: string): string => path.slice(1); // '/greeting' -> 'greeting'
    const store = new Userfs({
      getattr: (path) => {
        if (path === '/') return { mode: S_IFDIR | 0o755 };
        const v = kv.get(key(path));
        return v === undefined ? E.ENOENT : { mode: S_IFREG | 0o644, size: enc.encode(v).length };
      },
      readdir: () => [...kv.keys()],
      // Async callbacks are fine: a remote store would await its client here.
      read: async (path, offset, length) =>
        enc.encode(kv.get(key(path)) ?? '').subarray(offset, offset + length),
      create: (path) => void kv.set(key(path), ''),
      write: (path, data, offset) => {
        const old = kv.get(key(path)) ?? '';
        kv.set(key(path), old.slice(0, offset) + new TextDecoder().decode(data));
        return data.length;
      },
      unlink: (path) => void kv.delete(key(path)),
      // O_TRUNC and truncate(2) arrive as a size change.
      setattr: (path, { size }) => {
        if (size !== undefined) kv.set(key(path), (kv.get(key(path)) ?? '').slice(0, size));
        return undefined;
      },
    });

    const vfs = new Vfs(new Tmpfs({ mode: 0o755 }));
    const ctx = vfs.rootContext(ROOT_CREDS);
    vfs.mkdirat(ctx, ctx.cwd, '/kv', 0o755);
    vfs.mount(ctx, ctx.cwd, '/kv', store);

    const fs = new FsPromises(vfs);
    expect(await fs.readFile('/kv/greeting', 'utf8')).toBe('hello\n');
    await fs.writeFile('/kv/answer', '42');
    expect(kv.get('answer')).toBe('42');
    await fs.writeFile('/kv/answer', '7');
    expect(kv.get('answer')).toBe('7');
    expect((await fs.readdir('/kv')).sort()).toEqual(['answer', 'greeting']);
    await fs.unlink('/kv/greeting');
    expect([...kv.keys()]).toEqual(['answer']);
    await expect(fs.mkdir('/kv/dir')).rejects.toMatchObject({ code: 'EPERM' }); // no mkdir callback
  });

  it('tmpfs size and inode limits', () => {
    const options: TmpfsOptions = { size: 64 * 1024, nrInodes: 100, mode: 0o1777 };
    const p = new Posix(new Vfs(new Tmpfs(options)), ROOT_CREDS);
    const fd = p.open('/big', O_CREAT | O_WRONLY, 0o644) as number;
    expect(p.write(fd, new Uint8Array(100_000))).toBe(65536); // a short write at the limit
    expect(p.write(fd, new Uint8Array(1))).toBe(E.ENOSPC);
    expect(p.statfs('/')).toMatchObject({ blocks: 16, bfree: 0, files: 100, ffree: 98 });
    // The same options from a mount(2) data string:
    expect(parseTmpfsMountData('size=64k,nr_inodes=100,mode=1777')).toEqual(options);
  });

  it('inotify', () => {
    const vfs = new Vfs(new Tmpfs());
    const ctx = vfs.rootContext(ROOT_CREDS);
    vfs.mkdirat(ctx, ctx.cwd, '/inbox', 0o755);
    const ino = new InotifyInstance({ maxQueuedEvents: 16384, maxWatches: 8192 });
    const inbox = vfs.lookupat(ctx, ctx.cwd, '/inbox', 0) as Location;
    expect(ino.addWatch(inbox.inode, IN_CREATE | IN_MOVED_TO)).toBe(1);
    vfs.mkdirat(ctx, ctx.cwd, '/inbox/job', 0o755);
    const buf = new Uint8Array(4096);
    expect(ino.read(buf)).toBe(32);
    const v = new DataView(buf.buffer);
    expect([v.getInt32(0, true), v.getUint32(4, true), v.getUint32(8, true), v.getUint32(12, true)]).toEqual([
      1,
      IN_CREATE | IN_ISDIR,
      0,
      16,
    ]);
    expect(Buffer.from(buf.subarray(16, 19)).toString()).toBe('job');
  });
});
