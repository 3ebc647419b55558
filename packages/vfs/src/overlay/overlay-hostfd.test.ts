import { mkdtempSync, openSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Hostfs, O_RDONLY, O_RDWR, Overlayfs, ROOT_CREDS, Tmpfs, Vfs } from '../index.js';
import type { FileDescription, HostMemoryProvider } from '../index.js';

const dir = mkdtempSync(join(tmpdir(), 'tsvisor-overlay-hostfd-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
writeFileSync(join(dir, 'lib.so'), 'lower bytes');

const tempFiles: HostMemoryProvider = {
  create: (name) => openSync(join(dir, `mem-${name}`), 'w+'),
  addSeals: () => undefined,
};

function overlay(upper: Tmpfs): { vfs: Vfs; open: (flags: number) => FileDescription } {
  const vfs = new Vfs(new Overlayfs(new Hostfs(dir, { readOnly: true }), upper));
  const ctx = vfs.rootContext(ROOT_CREDS);
  return { vfs, open: (flags) => vfs.openat(ctx, ctx.cwd, '/lib.so', flags) as FileDescription };
}

describe('overlay files for mmap', () => {
  it('map a lower host file through its own host fd, no copy', () => {
    const f = overlay(new Tmpfs()).open(O_RDONLY);
    const fd = f.hostFd();
    expect(fd).not.toBeNull();
    const buf = Buffer.alloc(11);
    readSync(fd as number, buf, 0, 11, 0);
    expect(buf.toString()).toBe('lower bytes');
  });

  it('map a copied-up file through the upper layer: host memory when it has some, else none', () => {
    expect(overlay(new Tmpfs()).open(O_RDWR).hostFd()).toBeNull();
    const upper = new Tmpfs();
    upper.hostMemory = tempFiles;
    const f = overlay(upper).open(O_RDWR);
    const fd = f.hostFd();
    expect(fd).not.toBeNull();
    const buf = Buffer.alloc(11);
    readSync(fd as number, buf, 0, 11, 0);
    expect(buf.toString()).toBe('lower bytes');
  });
});
