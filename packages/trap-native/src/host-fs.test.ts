// The host filesystem calls on a temp dir of the host: each reaches exactly the named entry of
// the held directory, and names that would leave it (".." , "/", NUL, a symlink) do not.
import {
  closeSync,
  constants,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostFsCalls as host } from './index.js';

const EINVAL = 22;
const EPERM = 1;
const ENODATA = 61;
const EEXIST = 17;
const enc = new TextEncoder();

let root = '';
let dirFd = -1;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'tsvisor-hostfs-'));
  dirFd = openSync(root, constants.O_RDONLY | constants.O_DIRECTORY);
});
afterAll(() => {
  closeSync(dirFd);
  rmSync(root, { recursive: true, force: true });
});

describe('hostFsCalls', () => {
  it('mknodat makes fifos and sockets but no devices; names with / or .. are EINVAL', () => {
    expect(host.mknodat(dirFd, 'fifo', constants.S_IFIFO | 0o600, 0)).toBe(0);
    expect(lstatSync(join(root, 'fifo')).isFIFO()).toBe(true);
    expect(host.mknodat(dirFd, 'fifo', constants.S_IFIFO | 0o600, 0)).toBe(-EEXIST);
    // Device nodes stay out of host directories.
    expect(host.mknodat(dirFd, 'null', constants.S_IFCHR | 0o600, 0x103)).toBe(-EPERM);
    expect(host.mknodat(dirFd, 'blk', constants.S_IFBLK | 0o600, 0x700)).toBe(-EPERM);
    expect(host.mknodat(dirFd, 'sock', constants.S_IFSOCK | 0o600, 0)).toBe(0);
    for (const bad of ['..', '.', '', 'a/b', '../escape', 'x\0y'])
      expect(host.mknodat(dirFd, bad, constants.S_IFIFO | 0o600, 0)).toBe(-EINVAL);
  });

  it('renameat2 exchanges and refuses to replace with RENAME_NOREPLACE', () => {
    writeFileSync(join(root, 'a'), 'A');
    writeFileSync(join(root, 'b'), 'B');
    expect(host.renameat2(dirFd, 'a', dirFd, 'b', 2)).toBe(0);
    expect(readFileSync(join(root, 'a'), 'utf8')).toBe('B');
    expect(readFileSync(join(root, 'b'), 'utf8')).toBe('A');
    expect(host.renameat2(dirFd, 'a', dirFd, 'b', 1)).toBe(-EEXIST);
    expect(host.renameat2(dirFd, 'a', dirFd, '../a', 0)).toBe(-EINVAL);
  });

  it('sets, lists, reads and removes user.* attributes on an entry and on the directory', () => {
    writeFileSync(join(root, 'f'), '');
    expect(host.setxattr(dirFd, 'f', 'user.k', enc.encode('v1'), 0)).toBe(0);
    expect(host.setxattr(dirFd, 'f', 'user.k', enc.encode('v1'), 1)).toBe(-EEXIST);
    expect(Buffer.from(host.getxattr(dirFd, 'f', 'user.k') as Uint8Array).toString()).toBe('v1');
    expect(host.listxattr(dirFd, 'f')).toEqual(['user.k']);
    expect(host.removexattr(dirFd, 'f', 'user.k')).toBe(0);
    expect(host.getxattr(dirFd, 'f', 'user.k')).toBe(-ENODATA);
    expect(host.setxattr(dirFd, null, 'user.dir', enc.encode('D'), 0)).toBe(0);
    expect(host.listxattr(dirFd, null)).toEqual(['user.dir']);
    expect(Buffer.from(host.getxattr(dirFd, null, 'user.dir') as Uint8Array).toString()).toBe('D');
    expect(host.removexattr(dirFd, null, 'user.dir')).toBe(0);
  });

  it('never follows a symlink in the name, nor walks out of the directory', () => {
    mkdirSync(join(root, 'sub'));
    writeFileSync(join(root, 'target'), '');
    symlinkSync('target', join(root, 'sub', 'link'));
    const sub = openSync(join(root, 'sub'), constants.O_RDONLY | constants.O_DIRECTORY);
    try {
      // user.* on a symlink itself is EPERM: the call reached the link, not its target.
      expect(host.setxattr(sub, 'link', 'user.x', enc.encode('x'), 0)).toBe(-EPERM);
      expect(host.listxattr(dirFd, 'target')).toEqual([]);
      for (const bad of ['..', '../target', 'link/', ''])
        expect(host.setxattr(sub, bad, 'user.x', enc.encode('x'), 0)).toBe(-EINVAL);
      expect(host.getxattr(sub, '..', 'user.x')).toBe(-EINVAL);
      expect(host.listxattr(sub, '../target')).toBe(-EINVAL);
      expect(host.removexattr(sub, '..', 'user.x')).toBe(-EINVAL);
    } finally {
      closeSync(sub);
    }
  });

  it('fallocate extends a file; lseek answers SEEK_END and SEEK_DATA as the host does', () => {
    const fd = openSync(join(root, 'big'), constants.O_RDWR | constants.O_CREAT, 0o600);
    try {
      expect(host.fallocate(fd, 0, 0, 8192)).toBe(0);
      expect(statSync(join(root, 'big')).size).toBe(8192);
      expect(host.fallocate(fd, 1, 8192, 4096)).toBe(0); // KEEP_SIZE
      expect(statSync(join(root, 'big')).size).toBe(8192);
      expect(host.lseek(fd, 0, 2)).toBe(8192); // SEEK_END
      // Allocated but unwritten space reads as a hole: the data starts where the byte is.
      expect(writeSync(fd, 'x', 4096)).toBe(1);
      expect(host.lseek(fd, 0, 3)).toBe(4096); // SEEK_DATA
      expect(host.fallocate(fd, 0, -1, 10)).toBe(-EINVAL);
    } finally {
      closeSync(fd);
    }
  });
});
