// /proc/<pid>/ns files against Linux: each leads to an nsfs inode numbered as its link text
// (the same in another process), that opens, reads EINVAL, answers the NS_GET_* ioctls, joins
// with setns(2) and names its network namespace in RTM_GETNSID. testdata/nsfs.c runs in a fresh
// network namespace and under tsvisor --network none and must print the same.
import { describe, expect, it } from 'vitest';
import { compile, expectSameUnderTsvisor, runNativeInNetns, testbed } from './c-programs.test-util.js';

let native = '';
const bed = testbed((dir) => {
  const exe = compile(dir, 'nsfs', ['-O1', '-Wall', '-Werror', '-pthread']);
  native = runNativeInNetns(exe);
});

describe('nsfs.c', () => {
  it('namespace files are nsfs inodes that open, stat and answer (host kernel)', () => {
    const lines = native.split('\n');
    expect(lines[0]).toBe('nsfs device differs from procfs: yes');
    expect(lines.filter((l) => l.includes(': ino is the link')).length).toBe(10);
    expect(lines.filter((l) => l.endsWith(': ino is the link')).length).toBe(0);
    expect(native).toContain(
      "net: ino is the link's yes, mode 100444 nlink 1 size 0, nsfs device yes, link yes, child same\n" +
        '  open ok, fstat same, read EINVAL, lseek ESPIPE, write EBADF\n' +
        '  fd link as the ns link; NS_GET_NSTYPE=CLONE_NEWNET NS_GET_USERNS=own-user+cloexec ' +
        'NS_GET_PARENT=EINVAL NS_GET_OWNER_UID=EINVAL unknown=ENOTTY FIONREAD=ok(0)\n',
    );
    expect(native).toContain(
      'NS_GET_NSTYPE=CLONE_NEWUSER NS_GET_USERNS=EPERM NS_GET_PARENT=EPERM NS_GET_OWNER_UID=ok(0)',
    );
    expect(native).toContain('setns user: EINVAL\nsetns uts: ok\n');
    expect(native).toContain('in the chroot, /proc/self: unseen; setns mnt: ok; /proc/self: seen, cwd /\n');
    expect(native).toContain('semaphore with undo: 2, setns ipc ok, then 0\n');
    expect(native).toContain('RTM_GETNSID by the net file: type 88 attr 1 nsid -1\n');
    expect(native).toContain('threaded: setns time EUSERS, net ok\n');
    expect(native).toContain('unprivileged: setns net EPERM, uts EPERM, user EINVAL, NS_GET_USERNS ok\n');
  });

  it('prints the same under tsvisor', () => expectSameUnderTsvisor(bed, 'nsfs', native));
});
