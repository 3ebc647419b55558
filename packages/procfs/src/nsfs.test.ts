import { closeSync, openSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CloneFlag, E, Mode, OpenFlag, Seek } from '@tsvisor/abi';
import { userCreds } from '@tsvisor/vfs';
import type { FileDescription, FileDescriptionImpl, Stat, Statfs } from '@tsvisor/vfs';
import { mounted } from './mount.test-util.js';
import {
  NS_GET_NSTYPE,
  NS_GET_OWNER_UID,
  NS_GET_PARENT,
  nsAllocInum,
  nsForget,
  nsLocation,
  nsOf,
  nsfsName,
} from './nsfs.js';

/** NSFS_MAGIC. */
const NSFS_MAGIC = 0x6e736673;

/** The number in a `net:[4026531840]` link text. */
const linkInum = (text: string): number => Number(/:\[(\d+)\]$/.exec(text)?.[1]);

describe('/proc/<pid>/ns links lead to nsfs files', () => {
  it('nsLocation: one inode per namespace number (the doc example)', () => {
    const loc = nsLocation('net', 4026531840);
    expect(loc.inode.ino).toBe(4026531840);
    expect(nsOf(loc)).toEqual({ type: 'net', inum: 4026531840 });
    expect(nsLocation('net', 4026531840).inode).toBe(loc.inode);
    expect(nsOf({ ...loc, inode: loc.mount.root })).toBeNull();
  });

  it('a namespace made inside a sandbox: a fresh number, held by each open of its inode until nsForget', () => {
    const a = nsAllocInum();
    expect(nsAllocInum()).toBe(a + 1);
    expect(a).toBeGreaterThan(0xf0000001); // past the initial namespaces' numbers
    const held = { n: 0, get: () => void held.n++, put: () => void held.n-- };
    const loc = nsLocation('net', a, held);
    // The ns/ link's jump, which passes no holder, reaches the same inode.
    expect(nsLocation('net', a).inode).toBe(loc.inode);
    const file = {} as FileDescription;
    const one = loc.inode.open(0) as FileDescriptionImpl;
    const two = loc.inode.open(0) as FileDescriptionImpl;
    expect(held.n).toBe(2);
    expect(one.ioctl(NS_GET_NSTYPE, 0n, file)).toBe(CloneFlag.CLONE_NEWNET);
    one.release(file);
    two.release(file);
    expect(held.n).toBe(0);
    nsForget(a);
    expect(nsLocation('net', a).inode).not.toBe(loc.inode);
  });

  it('stat follows the link to an inode numbered as the link text, S_IFREG 0444', () => {
    const { p } = mounted();
    const st = p.stat('/proc/self/ns/net') as Stat;
    expect(st.ino).toBe(linkInum(p.readlink('/proc/self/ns/net') as string));
    expect(st.mode).toBe(Mode.S_IFREG | 0o444);
    expect(st.nlink).toBe(1);
    expect(st.size).toBe(0);
    expect(st.dev).not.toBe((p.stat('/proc/self') as Stat).dev);
    // lstat still sees the link itself.
    expect((p.lstat('/proc/self/ns/net') as Stat).mode & Mode.S_IFMT).toBe(Mode.S_IFLNK);
    expect((p.statfs('/proc/self/ns/uts') as Statfs).type).toBe(NSFS_MAGIC);
  });

  it('gives one inode per namespace: self and another process, and across types', () => {
    const { p } = mounted();
    const self = p.stat('/proc/self/ns/net') as Stat;
    const other = p.stat('/proc/8/ns/net') as Stat;
    expect([other.dev, other.ino]).toEqual([self.dev, self.ino]);
    const uts = p.stat('/proc/self/ns/uts') as Stat;
    expect(uts.dev).toBe(self.dev);
    expect(uts.ino).not.toBe(self.ino);
  });

  it('opens (also O_PATH), reads EINVAL, seeks ESPIPE, and answers NS_GET_NSTYPE', () => {
    const { p } = mounted();
    const fd = p.open('/proc/self/ns/net', OpenFlag.O_RDONLY) as number;
    expect(fd).toBeGreaterThanOrEqual(0);
    expect(p.read(fd, new Uint8Array(16))).toBe(E.EINVAL);
    expect(p.lseek(fd, 0, Seek.SEEK_SET)).toBe(E.ESPIPE);
    expect((p.fstat(fd) as Stat).ino).toBe((p.stat('/proc/self/ns/net') as Stat).ino);
    const file = p.file(fd) as FileDescription;
    expect(nsOf(file.location)).toEqual({ type: 'net', inum: 4026531833 });
    expect(nsfsName(file.location)).toBe('net:[4026531833]');
    expect(file.ioctl(NS_GET_NSTYPE, 0n)).toBe(CloneFlag.CLONE_NEWNET);
    expect(file.ioctl(NS_GET_PARENT, 0n)).toBe(E.EINVAL);
    expect(file.ioctl(0x5401, 0n)).toBe(E.ENOTTY); // TCGETS
    const pid = p.file(p.open('/proc/self/ns/pid', OpenFlag.O_RDONLY) as number) as FileDescription;
    expect(pid.ioctl(NS_GET_NSTYPE, 0n)).toBe(CloneFlag.CLONE_NEWPID);
    // The initial pid namespace has no parent to show.
    expect(pid.ioctl(NS_GET_PARENT, 0n)).toBe(E.EPERM);
    const user = p.file(p.open('/proc/self/ns/user', OpenFlag.O_RDONLY) as number) as FileDescription;
    expect(user.ioctl(NS_GET_NSTYPE, 0n)).toBe(CloneFlag.CLONE_NEWUSER);
    expect(user.ioctl(NS_GET_PARENT, 0n)).toBe(E.EPERM);
    // NS_GET_OWNER_UID needs the caller's memory: the syscall layer answers it.
    expect(user.ioctl(NS_GET_OWNER_UID, 0n)).toBe(E.ENOTTY);
    const path = p.open('/proc/self/ns/uts', OpenFlag.O_PATH) as number;
    expect((p.fstat(path) as Stat).ino).toBe(4026531838);
    expect(nsOf((p.file(path) as FileDescription).location)?.type).toBe('uts');
  });

  it('refuses the jump without ptrace access (EACCES) as readlink does', () => {
    const { p, src } = mounted();
    src.callerTid = 12;
    p.setCreds(userCreds(1000, 1000));
    expect(p.readlink('/proc/7/ns/net')).toBe(E.EACCES);
    expect(p.stat('/proc/7/ns/net')).toBe(E.EACCES);
    expect(p.open('/proc/7/ns/net', OpenFlag.O_RDONLY)).toBe(E.EACCES);
    expect((p.stat('/proc/self/ns/net') as Stat).ino).toBe(4026531833);
  });

  it('matches the host kernel: inode of the link text, S_IFREG 0444, read EINVAL', () => {
    const text = readlinkSync('/proc/self/ns/net');
    const st = statSync('/proc/self/ns/net');
    expect(st.ino).toBe(linkInum(text));
    expect(st.mode).toBe(Mode.S_IFREG | 0o444);
    expect(st.nlink).toBe(1);
    expect(statSync(`/proc/${process.ppid}/ns/net`).ino).toBe(st.ino);
    const fd = openSync('/proc/self/ns/net', 'r');
    closeSync(fd);
    expect(() => readFileSync('/proc/self/ns/net')).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    const { p } = mounted();
    const ours = p.open('/proc/self/ns/net', OpenFlag.O_RDONLY) as number;
    expect(p.read(ours, new Uint8Array(4096))).toBe(E.EINVAL);
  });
});
