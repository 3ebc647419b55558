// permission(): generic_permission with the capability overrides, unless the inode brings its own
// check (Inode.checkPermission, as /proc/sys does).
import { E } from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import { MAY_EXEC, MAY_READ, MAY_WRITE, permission } from './permission.js';
import { Tmpfs } from './tmpfs/tmpfs.js';
import { ROOT_CREDS, userCreds } from './types.js';

describe('permission', () => {
  it('lets root write a 0444 file, and another user only read it', () => {
    const inode = new Tmpfs().root;
    inode.mode = (inode.mode & ~0o777) | 0o444;
    expect(permission(ROOT_CREDS, inode, MAY_WRITE)).toBeUndefined();
    expect(permission(userCreds(1000, 1000), inode, MAY_READ)).toBeUndefined();
    expect(permission(userCreds(1000, 1000), inode, MAY_WRITE)).toBe(E.EACCES);
  });

  it("an inode's own check decides instead, for root too", () => {
    const inode = new Tmpfs().root;
    const asked: number[] = [];
    inode.checkPermission = (_creds, mask) => {
      asked.push(mask);
      return mask & MAY_WRITE ? E.EACCES : undefined;
    };
    expect(permission(ROOT_CREDS, inode, MAY_WRITE)).toBe(E.EACCES);
    expect(permission(ROOT_CREDS, inode, MAY_READ | MAY_EXEC)).toBeUndefined();
    expect(asked).toEqual([MAY_WRITE, MAY_READ | MAY_EXEC]);
  });
});
