// An overlay's statfs: the upper layer's free space, with the lower layer's used space and
// files counted in (a sandbox root over the host must not look empty to df or
// shutil.disk_usage).
import { isError } from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import { O_CREAT, O_WRONLY, Overlayfs, Posix, ROOT_CREDS, Tmpfs, Vfs } from '../index.js';

function fill(fs: Tmpfs, name: string, bytes: number): void {
  const p = new Posix(new Vfs(fs), ROOT_CREDS);
  const fd = p.open(`/${name}`, O_CREAT | O_WRONLY, 0o644);
  if (isError(fd)) throw new Error(`open: ${fd.name}`);
  expect(p.write(fd, new Uint8Array(bytes).fill(1))).toBe(bytes);
  p.close(fd);
}

describe('Overlayfs.statfs', () => {
  it('adds the lower layer used blocks and files to the upper layer counts', () => {
    const lower = new Tmpfs({ size: 1 << 20 });
    fill(lower, 'a', 3 * 4096);
    const upper = new Tmpfs({ size: 1 << 22 });
    fill(upper, 'b', 4096);
    const low = lower.statfs();
    const up = upper.statfs();
    expect(low.blocks - low.bfree).toBe(3);
    const s = new Overlayfs(lower, upper).statfs();
    expect(s.blocks).toBe(up.blocks + 3);
    expect(s.bfree).toBe(up.bfree);
    expect(s.bavail).toBe(up.bavail);
    expect(s.blocks - s.bfree).toBe(4);
    expect(s.files - s.ffree).toBe(up.files - up.ffree + (low.files - low.ffree));
    expect(s.type).toBe(up.type);
  });
});
