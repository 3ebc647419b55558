import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { E, isError } from '@tsvisor/abi';
import { afterEach, describe, expect, it } from 'vitest';
import {
  Hostfs,
  MS_RDONLY,
  O_CREAT,
  O_DIRECTORY,
  O_RDONLY,
  O_RDWR,
  O_TRUNC,
  O_WRONLY,
  Posix,
  ROOT_CREDS,
  Tmpfs,
  Vfs,
} from '../index.js';
import { normalize, runHost, runVfs } from '../testing/differential.test-util.js';
import { opArb } from '../testing/model.test-util.js';
import { chain, walkProbes, walkSetup } from '../testing/walk-cases.test-util.js';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'tsvisor-hostfs-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  while (dirs.length) rmSync(dirs.pop() as string, { recursive: true, force: true });
});

function hostfsPosix(dir: string, readOnly = false): Posix {
  const vfs = new Vfs(new Hostfs(dir, { readOnly }), readOnly ? MS_RDONLY : 0);
  return new Posix(vfs, ROOT_CREDS);
}

describe('hostfs against the host kernel', () => {
  it('walks paths like Linux', () => {
    const ops = [...walkSetup, ...chain(42), ...walkProbes];
    const host = normalize(runHost(ops, { tmpfs: false }), ops);
    const mine = normalize(runVfs(hostfsPosix(tempDir()), ops), ops);
    const diffs = ops
      .map((op, i) => ({ i, op: JSON.stringify(op).slice(0, 100), host: host[i], mine: mine[i] }))
      .filter((d) => d.host !== d.mine);
    expect(diffs).toEqual([]);
  });

  it('random operation sequences match the host directory', () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 30 }), (ops) => {
        const host = normalize(runHost(ops, { tmpfs: false }), ops);
        const dir = tempDir();
        const p = hostfsPosix(dir);
        const mine = normalize(runVfs(p, ops), ops);
        p.closeAll();
        expect(mine).toEqual(host);
      }),
      { numRuns: Number(process.env['VFS_FUZZ_RUNS'] ?? 40) },
    );
  });
});

describe('hostfs directory fds', () => {
  it('keeps at most maxOpenDirs directory fds and reopens evicted ones', () => {
    const root = tempDir();
    for (let i = 0; i < 60; i++) {
      mkdirSync(join(root, `d${i}`, 'sub'), { recursive: true });
      writeFileSync(join(root, `d${i}`, 'sub', 'f'), `file ${i}`);
    }
    const fsys = new Hostfs(root, { maxOpenDirs: 16 });
    const p = new Posix(new Vfs(fsys), ROOT_CREDS);
    const fdsBefore = readdirSync('/proc/self/fd').length;
    expect(p.chdir('/d0/sub')).toBe(0);
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 60; i++) {
        const fd = p.open(`/d${i}/sub/f`, O_RDONLY);
        expect(typeof fd).toBe('number');
        const buf = new Uint8Array(20);
        const n = p.read(fd as number, buf) as number;
        expect(new TextDecoder().decode(buf.subarray(0, n))).toBe(`file ${i}`);
        p.close(fd as number);
      }
    }
    expect(fsys.openDirCount).toBeLessThanOrEqual(17);
    expect(readdirSync('/proc/self/fd').length - fdsBefore).toBeLessThanOrEqual(17);
    // The cwd's fd was evicted long ago; it is reopened from its parent.
    expect(p.open('f', O_RDONLY)).toBeTypeOf('number');
    expect(p.getcwd()).toBe('/d0/sub');
    expect(p.mkdir('/d59/sub/new', 0o755)).toBe(0);
    expect(p.rename('/d1/sub/f', '/d58/sub/g')).toBe(0);
    expect(readFileSync(join(root, 'd58', 'sub', 'g'), 'utf8')).toBe('file 1');
  });

  it('gives its directory fds back: evictAll keeps it usable, close releases the root too', () => {
    const root = tempDir();
    for (let i = 0; i < 30; i++) {
      mkdirSync(join(root, `d${i}`, 'sub'), { recursive: true });
      writeFileSync(join(root, `d${i}`, 'sub', 'f'), `file ${i}`);
    }
    const fdsBefore = readdirSync('/proc/self/fd').length;
    const fsys = new Hostfs(root);
    const p = new Posix(new Vfs(fsys), ROOT_CREDS);
    for (let i = 0; i < 30; i++) expect(p.stat(`/d${i}/sub/f`)).not.toSatisfy(isError);
    expect(readdirSync('/proc/self/fd').length - fdsBefore).toBeGreaterThanOrEqual(60);
    fsys.evictAll();
    expect(fsys.openDirCount).toBe(1);
    expect(readdirSync('/proc/self/fd').length - fdsBefore).toBe(1);
    // Still usable: directories reopen on demand.
    const fd = p.open('/d7/sub/f', O_RDONLY);
    expect(fd).toBeTypeOf('number');
    p.close(fd as number);
    fsys.close();
    expect(fsys.openDirCount).toBe(0);
    expect(readdirSync('/proc/self/fd').length).toBe(fdsBefore);
    expect(p.open('/d8/sub/f', O_RDONLY)).toSatisfy(isError);
    fsys.close();
  });

  it('does not reopen an evicted directory that the host replaced', () => {
    const root = tempDir();
    mkdirSync(join(root, 'keep'));
    writeFileSync(join(root, 'keep', 'old'), 'old');
    for (let i = 0; i < 40; i++) mkdirSync(join(root, `x${i}`));
    const fsys = new Hostfs(root, { maxOpenDirs: 16 });
    const p = new Posix(new Vfs(fsys), ROOT_CREDS);
    expect(p.chdir('/keep')).toBe(0);
    for (let i = 0; i < 40; i++) expect(p.stat(`/x${i}/.`)).toMatchObject({ nlink: 2 });
    renameSync(join(root, 'keep'), join(root, 'gone'));
    mkdirSync(join(root, 'keep'));
    writeFileSync(join(root, 'keep', 'new'), 'new');
    expect(p.open('old', O_RDONLY)).toBe(E.ENOENT);
    expect(p.open('new', O_RDONLY)).toBe(E.ENOENT);
    expect(p.open('/keep/new', O_RDONLY)).toBeTypeOf('number');
  });
});

describe('hostfs confinement', () => {
  function layout(): { base: string; root: string; secret: string } {
    const base = tempDir();
    const root = join(base, 'root');
    mkdirSync(join(base, 'outside'));
    const secret = join(base, 'outside', 'secret');
    writeFileSync(secret, 'TOP SECRET');
    mkdirSync(root);
    mkdirSync(join(root, 'sub'));
    writeFileSync(join(root, 'sub', 'inner'), 'inside');
    symlinkSync('../outside/secret', join(root, 'rel'));
    symlinkSync('../../outside', join(root, 'sub', 'up'));
    symlinkSync(secret, join(root, 'abs'));
    symlinkSync('/outside', join(root, 'absdir'));
    return { base, root, secret };
  }

  it('resolves .. and symlinks inside the sandbox, never reaching the host outside', () => {
    const { base, root, secret } = layout();
    const p = hostfsPosix(root);
    for (const path of [
      '/../outside/secret',
      '/rel',
      '/abs',
      '/absdir/secret',
      '/sub/up/secret',
      '/sub/../../outside/secret',
    ]) {
      const fd = p.open(path, O_RDONLY);
      expect([path, fd]).toEqual([path, E.ENOENT]);
      expect([path, p.open(path, O_CREAT | O_WRONLY | O_TRUNC, 0o644)]).toEqual([path, E.ENOENT]);
    }
    expect(p.mkdir('/absdir/x', 0o755)).toBe(E.ENOENT);
    expect(p.rename('/sub/inner', '/sub/up/stolen')).toBe(E.ENOENT);
    expect(p.link('/abs', '/sub/hl')).toBe(0); // links the symlink itself, inside root
    expect(p.readlink('/sub/hl')).toBe(secret);
    // In the sandbox /outside is the mount's own child: make it and see that it is not the host's.
    expect(p.mkdir('/outside', 0o755)).toBe(0);
    const fd = p.open('/absdir/secret', O_CREAT | O_RDWR, 0o600);
    expect(typeof fd).toBe('number');
    expect(p.write(fd as number, new TextEncoder().encode('sandbox'))).toBe(7);
    expect(readFileSync(secret, 'utf8')).toBe('TOP SECRET');
    expect(readFileSync(join(root, 'outside', 'secret'), 'utf8')).toBe('sandbox');
    expect(readdirSync(join(base, 'outside'))).toEqual(['secret']);
  });

  it('does not follow a directory swapped for a symlink on the host', () => {
    const { base, root } = layout();
    const p = hostfsPosix(root);
    const d = p.open('/sub', O_RDONLY | O_DIRECTORY);
    expect(typeof d).toBe('number');
    expect(p.chdir('/sub')).toBe(0);
    renameSync(join(root, 'sub'), join(root, 'moved'));
    symlinkSync(join(base, 'outside'), join(root, 'sub'));
    expect(p.open('/sub/secret', O_RDONLY)).toBe(E.ENOENT);
    expect(p.stat('/sub/secret')).toBe(E.ENOENT);
    // The cwd still names the directory it was (now /moved), by fd.
    expect(p.open('inner', O_RDONLY)).toBeTypeOf('number');
    expect(p.open('up/secret', O_RDONLY)).toBe(E.ENOENT);
  });

  it('read-only mounts never change the host and report EROFS', () => {
    const { root } = layout();
    const before = readFileSync(join(root, 'sub', 'inner'));
    const p = hostfsPosix(root, true);
    expect(p.open('/sub/inner', O_RDWR)).toBe(E.EROFS);
    expect(p.open('/sub/new', O_CREAT | O_WRONLY, 0o644)).toBe(E.EROFS);
    expect(p.unlink('/sub/inner')).toBe(E.EROFS);
    expect(p.chmod('/sub/inner', 0o777)).toBe(E.EROFS);
    expect(p.rename('/sub/inner', '/x')).toBe(E.EROFS);
    expect(p.mkdir('/newdir', 0o755)).toBe(E.EROFS);
    const fd = p.open('/sub/inner', O_RDONLY) as number;
    const buf = new Uint8Array(6);
    expect(p.read(fd, buf)).toBe(6);
    expect(new TextDecoder().decode(buf)).toBe('inside');
    expect(readFileSync(join(root, 'sub', 'inner'))).toEqual(before);
    // An fs-level read-only hostfs refuses even when mounted writable.
    const vfs = new Vfs(new Hostfs(root, { readOnly: true }));
    const q = new Posix(vfs, ROOT_CREDS);
    expect(q.open('/sub/inner', O_WRONLY)).toBe(E.EROFS);
    expect(q.unlink('/sub/inner')).toBe(E.EROFS);
  });

  it('exposes the host fd of regular files and maps host errnos', () => {
    const { root } = layout();
    const p = hostfsPosix(root);
    const fd = p.open('/sub/inner', O_RDONLY) as number;
    const f = p.file(fd);
    if (isError(f)) throw new Error();
    const hfd = f.hostFd();
    expect(typeof hfd).toBe('number');
    expect(readFileSync(`/proc/self/fd/${hfd}`, 'utf8')).toBe('inside');
    expect(p.rmdir('/sub')).toBe(E.ENOTEMPTY);
  });

  it('mounts a hostfs inside a tmpfs root', () => {
    const { root } = layout();
    const vfs = new Vfs(new Tmpfs());
    const p = new Posix(vfs, ROOT_CREDS);
    p.mkdir('/vol', 0o755);
    vfs.mount(p.ctx, p.ctx.cwd, '/vol', new Hostfs(root));
    expect(p.chdir('/vol/sub')).toBe(0);
    expect(p.getcwd()).toBe('/vol/sub');
    expect(p.open('../../vol/sub/inner', O_RDONLY)).toBeTypeOf('number');
    expect(p.open('/vol/rel', O_RDONLY)).toBe(E.ENOENT);
  });
});
