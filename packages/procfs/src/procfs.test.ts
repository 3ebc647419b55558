import { describe, expect, it } from 'vitest';
import { E, isError, At, Mode, OpenFlag, Seek } from '@tsvisor/abi';
import { ROOT_CREDS, userCreds } from '@tsvisor/vfs';
import type { Stat } from '@tsvisor/vfs';
import { list, mounted, readAll } from './mount.test-util.js';
import { PROC_SUPER_MAGIC, SYSFS_MAGIC } from './procfs.js';

const enc = new TextEncoder();

describe('procfs through the VFS', () => {
  it('lists the root: static entries, self, thread-self, then the pids (threads hidden)', () => {
    const { p } = mounted();
    const names = list(p, '/proc') as string[];
    expect(names).toContain('meminfo');
    expect(names).toContain('sys');
    expect(names.slice(-6)).toEqual(['self', 'thread-self', '1', '7', '12', '13']);
    expect(names).not.toContain('8');
    // A thread id still resolves, as on Linux.
    expect(readAll(p, '/proc/8/comm')).toBe('worker\n');
  });

  it('resolves self and thread-self from the caller', () => {
    const { p, src } = mounted();
    expect(p.readlink('/proc/self')).toBe('7');
    expect(p.readlink('/proc/thread-self')).toBe('7/task/7');
    src.callerTid = 9;
    expect(p.readlink('/proc/self')).toBe('7');
    expect(p.readlink('/proc/thread-self')).toBe('7/task/9');
    expect(readAll(p, '/proc/thread-self/comm')).toBe('worker\n');
    src.callerTid = null;
    expect(p.readlink('/proc/self')).toBe(E.ENOENT);
    expect(p.stat('/proc/self/status')).toBe(E.ENOENT);
    expect(p.readlink('/proc/mounts')).toBe('self/mounts');
  });

  it('reads cmdline and environ as NUL-separated bytes', () => {
    const { p } = mounted();
    expect(readAll(p, '/proc/self/cmdline')).toBe('python3\0app.py\0');
    expect(readAll(p, '/proc/7/environ')).toBe('PATH=/usr/bin:/bin\0HOME=/root\0LANG=C.UTF-8\0');
    expect(readAll(p, '/proc/13/cmdline')).toBe('');
  });

  it('passes memory errors of cmdline through as the read result', () => {
    const { p, src } = mounted();
    src.tasks.get(7)!.data.memoryError = E.EFAULT;
    expect(readAll(p, '/proc/7/cmdline')).toBe(E.EFAULT);
  });

  it('shows the fd table as symlinks with the access-mode permissions and fdinfo', () => {
    const { p } = mounted();
    expect(list(p, '/proc/self/fd')).toEqual(['0', '1', '2', '3', '4']);
    expect(p.readlink('/proc/self/fd/3')).toBe('/srv/app/data.db');
    expect(p.readlink('/proc/self/fd/4')).toBe('anon_inode:[eventfd]');
    const mode = (fd: number): number => ((p.lstat(`/proc/self/fd/${fd}`) as Stat).mode & 0o7777) >>> 0;
    expect(mode(0)).toBe(0o500);
    expect(mode(1)).toBe(0o300);
    expect(mode(3)).toBe(0o700);
    expect((p.lstat('/proc/self/fd/0') as Stat).size).toBe(64);
    expect(readAll(p, '/proc/self/fdinfo/3')).toBe('pos:\t4096\nflags:\t02100002\nmnt_id:\t1\nino:\t41\n');
    expect(readAll(p, '/proc/self/fdinfo/4')).toBe(
      'pos:\t0\nflags:\t02004002\nmnt_id:\t9\nino:\t1\neventfd-count:                0\neventfd-id: 1\n',
    );
    expect(p.readlink('/proc/self/fd/5')).toBe(E.ENOENT);
    expect(p.readlink('/proc/self/fd/03')).toBe(E.ENOENT);
    expect(p.readlink('/proc/self/fd/x')).toBe(E.ENOENT);
  });

  it('follows fd, cwd and exe links as paths', () => {
    const { p } = mounted();
    expect(p.readlink('/proc/7/cwd')).toBe('/srv/app');
    expect(p.readlink('/proc/7/exe')).toBe('/usr/bin/python3.11');
    expect(p.readlink('/proc/7/root')).toBe('/');
    // cwd is a link to "/", a directory of the tmpfs root.
    expect(((p.stat('/proc/1/cwd') as Stat).mode & Mode.S_IFMT) >>> 0).toBe(Mode.S_IFDIR);
    expect(p.readlink('/proc/13/exe')).toBe(E.ENOENT);
  });

  it('lists threads under task/ with per-thread status', () => {
    const { p } = mounted();
    expect(list(p, '/proc/7/task')).toEqual(['7', '8', '9']);
    const st = readAll(p, '/proc/7/task/8/status') as string;
    expect(st).toMatch(/^Name:\tworker\n/);
    expect(st).toContain('\nTgid:\t7\n');
    expect(st).toContain('\nPid:\t8\n');
    expect(st).toContain('\nThreads:\t3\n');
    expect(list(p, '/proc/7/task/8')).not.toContain('task');
    expect(p.stat('/proc/7/task/12')).toBe(E.ENOENT);
    expect(p.stat('/proc/1/task/8')).toBe(E.ENOENT);
  });

  it('gives ENOENT for unknown and non-canonical names and never throws', () => {
    const { p } = mounted();
    for (const path of [
      '/proc/99',
      '/proc/abc',
      '/proc/-1',
      '/proc/0',
      '/proc/07',
      '/proc/+7',
      '/proc/7 ',
      '/proc/99999999999999999999',
      '/proc/7/nonexistent',
      '/proc/self/fd/-1',
      '/proc/sys/kernel/nope',
      '/sys/devices/system/cpu/cpu99',
    ]) {
      expect(p.stat(path), path).toBe(E.ENOENT);
    }
    expect(p.open('/proc/7/status/x', OpenFlag.O_RDONLY)).toBe(E.ENOTDIR);
  });

  it('refuses to create, remove or chmod anything as Linux does', () => {
    const { p } = mounted();
    expect(p.mkdir('/proc/x', 0o755)).toBe(E.ENOENT);
    expect(p.open('/proc/newfile', OpenFlag.O_CREAT | OpenFlag.O_WRONLY, 0o644)).toBe(E.ENOENT);
    expect(p.unlink('/proc/7/status')).toBe(E.EPERM);
    expect(p.rmdir('/proc/7')).toBe(E.EPERM);
    expect(p.chmod('/proc/meminfo', 0o777)).toBe(E.EPERM);
    expect(p.symlink('/x', '/proc/7/link')).toBe(E.ENOENT);
  });

  it('answers writes to read-only files with the errno Linux gives', () => {
    const { p } = mounted();
    const writeTo = (path: string): unknown => {
      const fd = p.open(path, OpenFlag.O_WRONLY);
      if (isError(fd)) return fd;
      const r = p.write(fd, enc.encode('x'));
      p.close(fd);
      return r;
    };
    expect(writeTo('/proc/self/status')).toBe(E.EINVAL);
    expect(writeTo('/proc/self/maps')).toBe(E.EINVAL);
    expect(writeTo('/proc/meminfo')).toBe(E.EIO);
    expect(writeTo('/proc/uptime')).toBe(E.EIO);
    expect(writeTo('/proc/sys/kernel/ostype')).toBe(E.EACCES);
    expect(writeTo('/sys/devices/system/cpu/online')).toBe(E.EACCES);
    expect(p.open('/proc/7', OpenFlag.O_RDWR)).toBe(E.EISDIR);
  });

  it('renames a task by writing comm (15 bytes kept, count returned)', () => {
    const { p, src } = mounted();
    const fd = p.open('/proc/self/comm', OpenFlag.O_RDWR) as number;
    expect(p.write(fd, enc.encode('abcdefghijklmnopqrstuv\n'))).toBe(23);
    expect(src.tasks.get(7)!.data.comm).toBe('abcdefghijklmno');
    expect(p.lseek(fd, 0, Seek.SEEK_SET)).toBe(0);
    const buf = new Uint8Array(64);
    const n = p.read(fd, buf) as number;
    expect(Buffer.from(buf.subarray(0, n)).toString()).toBe('abcdefghijklmno\n');
    p.close(fd);
    // A newline written is kept, and status escapes it.
    const fd2 = p.open('/proc/self/comm', OpenFlag.O_WRONLY) as number;
    expect(p.write(fd2, enc.encode('foo\n'))).toBe(4);
    expect(readAll(p, '/proc/self/comm')).toBe('foo\n\n');
    expect((readAll(p, '/proc/self/status') as string).split('\n')[0]).toBe('Name:\tfoo\\n');
    // Another process may not rename it.
    const fd3 = p.open('/proc/1/comm', OpenFlag.O_WRONLY) as number;
    expect(p.write(fd3, enc.encode('x'))).toBe(E.EINVAL);
  });

  it('sets the hostname through /proc/sys/kernel/hostname', () => {
    const { p, src } = mounted();
    expect(readAll(p, '/proc/sys/kernel/hostname')).toBe('tsvisor\n');
    const fd = p.open('/proc/sys/kernel/hostname', OpenFlag.O_WRONLY) as number;
    expect(p.write(fd, enc.encode('sandbox\n'))).toBe(8);
    expect(src.hostnameValue).toBe('sandbox');
    const user = mounted(userCreds(1000, 1000), src);
    expect(user.p.open('/proc/sys/kernel/hostname', OpenFlag.O_WRONLY)).toBe(E.EACCES);
  });

  it('reads one snapshot per open with offsets, and regenerates from offset 0', () => {
    const { p, src } = mounted();
    const fd = p.open('/proc/uptime', OpenFlag.O_RDONLY) as number;
    const buf = new Uint8Array(3);
    expect(p.read(fd, buf)).toBe(3);
    expect(Buffer.from(buf).toString()).toBe('123');
    src.uptime = 99_000_000_000;
    const rest = new Uint8Array(64);
    const n = p.read(fd, rest) as number;
    expect(Buffer.from(rest.subarray(0, n)).toString()).toBe('45.67 20000.00\n');
    expect(p.lseek(fd, 0, Seek.SEEK_SET)).toBe(0);
    const m = p.read(fd, rest) as number;
    expect(Buffer.from(rest.subarray(0, m)).toString()).toBe('99.00 20000.00\n');
    expect(p.lseek(fd, 0, Seek.SEEK_END)).toBe(E.EINVAL);
    expect(p.lseek(fd, -1000, Seek.SEEK_CUR)).toBe(E.EINVAL);
    expect(p.lseek(fd, 100000, Seek.SEEK_SET)).toBe(100000);
    expect(p.read(fd, rest)).toBe(0);
  });

  it('stats files, dirs and links with procfs types, owners and modes', () => {
    const { p } = mounted();
    const st = (path: string): Stat => p.lstat(path) as Stat;
    expect(st('/proc/12').uid).toBe(1000);
    expect(st('/proc/12/status').gid).toBe(1000);
    expect(st('/proc/12/status').mode).toBe(Mode.S_IFREG | 0o444);
    expect(st('/proc/12/environ').mode).toBe(Mode.S_IFREG | 0o400);
    expect(st('/proc/12/comm').mode).toBe(Mode.S_IFREG | 0o644);
    expect(st('/proc/12/fd').mode).toBe(Mode.S_IFDIR | 0o500);
    expect(st('/proc/12/exe').mode).toBe(Mode.S_IFLNK | 0o777);
    expect(st('/proc/12/status').size).toBe(0);
    expect(st('/sys/devices/system/cpu/online').size).toBe(4096);
    // Directories are stable objects: the same inode number on every lookup.
    expect(st('/proc/7').ino).toBe(st('/proc/7').ino);
    expect(st('/proc/7/fd').ino).toBe(st('/proc/self/fd').ino);
    expect((p.statfs('/proc/7') as { type: number }).type).toBe(PROC_SUPER_MAGIC);
    expect((p.statfs('/sys') as { type: number }).type).toBe(SYSFS_MAGIC);
    expect(p.fstatat(-100, '/proc/self', At.AT_SYMLINK_NOFOLLOW)).toMatchObject({
      mode: Mode.S_IFLNK | 0o777,
    });
  });

  it('forgets an exited process: lookups fail, an open directory reads ENOENT', () => {
    const { p, src } = mounted();
    const dirFd = p.open('/proc/12', OpenFlag.O_RDONLY | OpenFlag.O_DIRECTORY) as number;
    const fd = p.open('/proc/12/status', OpenFlag.O_RDONLY) as number;
    src.removeTask(12);
    expect(p.stat('/proc/12')).toBe(E.ENOENT);
    expect(list(p, '/proc')).not.toContain('12');
    expect(p.getdents(dirFd)).toBe(E.ENOENT);
    expect(p.read(fd, new Uint8Array(10))).toBe(E.ESRCH);
    // A new process with the same pid is a new directory.
    src.addTask({ tid: 12, comm: 'again' });
    expect(readAll(p, '/proc/12/comm')).toBe('again\n');
  });

  it('keeps getdents offsets: a listing read one entry at a time is the whole listing', () => {
    const { p } = mounted();
    const fd = p.open('/proc/7', OpenFlag.O_RDONLY | OpenFlag.O_DIRECTORY) as number;
    const file = p.file(fd);
    if (isError(file)) throw new Error('no file');
    const names: string[] = [];
    for (;;) {
      let got = false;
      file.getdents((_ino, _off, _type, name) => {
        if (got) return false;
        got = true;
        names.push(name);
        return true;
      });
      if (!got) break;
    }
    expect(names).toEqual(['.', '..', ...(list(p, '/proc/7') as string[])]);
    expect(names).toContain('task');
  });

  it('serves /sys/devices/system/cpu', () => {
    const { p, src } = mounted();
    expect(readAll(p, '/sys/devices/system/cpu/online')).toBe('0-1\n');
    expect(readAll(p, '/sys/devices/system/cpu/possible')).toBe('0-1\n');
    src.cpuList = src.cpuList.slice(0, 1);
    expect(readAll(p, '/sys/devices/system/cpu/present')).toBe('0\n');
    expect(list(p, '/sys/devices/system/cpu')).toEqual(['online', 'possible', 'present', 'cpu0']);
    expect(p.stat('/sys/devices/system/cpu/cpu1')).toBe(E.ENOENT);
    expect(p.stat('/sys/devices/system/cpu/cpu00')).toBe(E.ENOENT);
    expect(p.stat('/sys/devices/system/cpu/cpu0/online')).toBe(E.ENOENT);
  });

  it('serves /proc/sys values and a new uuid on each read', () => {
    const { p } = mounted();
    expect(readAll(p, '/proc/sys/kernel/ostype')).toBe('Linux\n');
    expect(readAll(p, '/proc/sys/kernel/osrelease')).toBe('6.18.0-tsvisor\n');
    expect(readAll(p, '/proc/sys/kernel/pid_max')).toBe('4194304\n');
    expect(readAll(p, '/proc/sys/kernel/ngroups_max')).toBe('65536\n');
    expect(readAll(p, '/proc/sys/kernel/random/boot_id')).toBe('2b6e6a0c-7d4f-4a43-9f3c-0d1c7a6e5b11\n');
    const u1 = readAll(p, '/proc/sys/kernel/random/uuid');
    const u2 = readAll(p, '/proc/sys/kernel/random/uuid');
    expect(u1).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\n$/);
    expect(u1).not.toBe(u2);
    expect(readAll(p, '/proc/sys/vm/overcommit_memory')).toBe('0\n');
    expect(readAll(p, '/proc/sys/vm/max_map_count')).toBe('65530\n');
    expect(readAll(p, '/proc/sys/fs/file-max')).toBe('9223372036854775807\n');
    expect(readAll(p, '/proc/sys/fs/nr_open')).toBe('1048576\n');
    expect(readAll(p, '/proc/sys/fs/pipe-max-size')).toBe('1048576\n');
  });
});

describe('procfs details', () => {
  it('accepts a shell redirection (OpenFlag.O_CREAT|OpenFlag.O_TRUNC) and then answers the write', () => {
    const { p, src } = mounted();
    const redirect = (path: string, text: string): unknown => {
      const fd = p.open(path, OpenFlag.O_WRONLY | OpenFlag.O_CREAT | OpenFlag.O_TRUNC, 0o666);
      if (isError(fd)) return fd;
      const r = p.write(fd, enc.encode(text));
      p.close(fd);
      return r;
    };
    expect(redirect('/proc/sys/kernel/hostname', 'box\n')).toBe(4);
    expect(src.hostnameValue).toBe('box');
    expect(redirect('/proc/self/status', 'x')).toBe(E.EINVAL);
    expect(redirect('/proc/loadavg', 'x')).toBe(E.EIO);
  });

  it('shows group times in /proc/<pid>/stat and thread times in task/<tid>/stat', () => {
    const { p, src } = mounted();
    src.tasks.get(8)!.data.times = { utimeNs: 5e9, stimeNs: 1e9, cutimeNs: 0, cstimeNs: 0, startNs: 3e9 };
    const utime = (path: string): string => (readAll(p, path) as string).split(' ')[13] as string;
    expect(utime('/proc/7/task/8/stat')).toBe('500');
    expect(utime('/proc/7/task/7/stat')).toBe('123');
    expect(utime('/proc/7/stat')).toBe('623');
  });

  it('renders a zombie without memory lines and with an empty cmdline', () => {
    const { p } = mounted();
    const status = readAll(p, '/proc/13/status') as string;
    expect(status).toContain('\nState:\tZ (zombie)\n');
    expect(status).not.toContain('VmSize');
    const stat = (readAll(p, '/proc/13/stat') as string).trim().split(' ');
    expect(stat[2]).toBe('Z');
    expect(stat[22]).toBe('0');
    expect(readAll(p, '/proc/13/statm')).toBe('0 0 0 0 0 0 0\n');
    expect(readAll(p, '/proc/13/maps')).toBe('');
  });

  it('counts runnable threads and all threads in loadavg and /proc/stat', () => {
    const { p, src } = mounted();
    src.tasks.get(8)!.data.state = 'R';
    expect(readAll(p, '/proc/loadavg')).toBe('0.25 0.10 0.05 2/6 13\n');
    const stat = readAll(p, '/proc/stat') as string;
    expect(stat).toContain('\nprocs_running 2\n');
    expect(stat).toContain('\nbtime 1700000000\n');
    expect(stat.split('\n')[0]).toBe('cpu  0 0 0 2000000 0 0 0 0 0 0');
  });
});

describe('more per-process files', () => {
  it('lists ns/ links the source gives, in Linux order', () => {
    const { p } = mounted();
    expect(list(p, '/proc/self/ns')).toEqual(['ipc', 'mnt', 'net', 'pid', 'user', 'uts']);
    expect(p.readlink('/proc/self/ns/pid')).toBe('pid:[4026531836]');
    expect(p.readlink('/proc/self/ns/cgroup')).toBe(E.ENOENT);
    expect((p.stat('/proc/self/ns') as Stat).mode).toBe(Mode.S_IFDIR | 0o511);
  });

  it('reads and writes oom_score_adj with kstrtoint parsing and range checks', () => {
    const { p, src } = mounted();
    const put = (text: string): unknown => {
      const fd = p.open('/proc/self/oom_score_adj', OpenFlag.O_WRONLY) as number;
      const r = p.write(fd, enc.encode(text));
      p.close(fd);
      return r;
    };
    expect(readAll(p, '/proc/self/oom_score_adj')).toBe('0\n');
    expect(put('500\n')).toBe(4);
    expect(src.tasks.get(7)!.data.oomScoreAdj).toBe(500);
    expect(put('0x10')).toBe(4);
    expect(readAll(p, '/proc/self/oom_score_adj')).toBe('16\n');
    expect(put('1001')).toBe(E.EINVAL);
    expect(put('abc')).toBe(E.EINVAL);
    expect(put('')).toBe(E.EINVAL);
    expect(put('-1000')).toBe(5); // root has CAP_SYS_RESOURCE
    const user = mounted(userCreds(1000, 1000), src);
    src.callerTid = 12;
    const fd = user.p.open('/proc/12/oom_score_adj', OpenFlag.O_WRONLY) as number;
    expect(user.p.write(fd, enc.encode('-1'))).toBe(E.EACCES);
    expect(user.p.write(fd, enc.encode('100'))).toBe(3);
  });

  it('refuses to change the id maps and setgroups once set, as Linux does', () => {
    const { p } = mounted();
    const put = (path: string, text: string): unknown => {
      const fd = p.open(path, OpenFlag.O_WRONLY) as number;
      const r = p.write(fd, enc.encode(text));
      p.close(fd);
      return r;
    };
    expect(put('/proc/self/uid_map', '0 0 1\n')).toBe(E.EPERM);
    expect(put('/proc/self/gid_map', '0 0 1\n')).toBe(E.EPERM);
    expect(put('/proc/self/setgroups', 'deny\n')).toBe(E.EPERM);
    expect(put('/proc/self/setgroups', '0 0 1\n')).toBe(E.EINVAL);
    expect(readAll(p, '/proc/self/uid_map')).toBe('         0          0 4294967295\n');
  });

  it('serves the inotify limits and the THP switch (off)', () => {
    const { p } = mounted();
    expect(readAll(p, '/proc/sys/fs/inotify/max_user_watches')).toBe('8192\n');
    expect(readAll(p, '/proc/sys/fs/inotify/max_user_instances')).toBe('128\n');
    expect(readAll(p, '/proc/sys/fs/inotify/max_queued_events')).toBe('16384\n');
    expect(readAll(p, '/sys/kernel/mm/transparent_hugepage/enabled')).toBe('always madvise [never]\n');
    expect(readAll(p, '/proc/sys/net/core/somaxconn')).toBe('4096\n');
    expect(readAll(p, '/proc/sys/vm/mmap_min_addr')).toBe('65536\n');
  });

  it('renders limits from the source', () => {
    const { p } = mounted();
    const lines = (readAll(p, '/proc/self/limits') as string).split('\n');
    expect(lines[0]).toBe('Limit                     Soft Limit           Hard Limit           Units     ');
    expect(lines[8]).toBe('Max open files            1024                 1048576              files     ');
    expect(lines[14]).toBe('Max nice priority         0                    0                    ');
  });

  it('serves stack only to CAP_SYS_ADMIN, and auxv, personality, domainname', () => {
    const { p, src } = mounted();
    expect(readAll(p, '/proc/self/stack')).toBe('');
    expect(readAll(p, '/proc/self/auxv')).toBe('');
    expect(readAll(p, '/proc/self/personality')).toBe('00000000\n');
    src.callerTid = 12;
    const user = mounted(userCreds(1000, 1000), src);
    expect(readAll(user.p, '/proc/self/stack')).toBe(E.EACCES);
    expect(user.p.open('/proc/1/auxv', OpenFlag.O_RDONLY)).toBe(E.EACCES);
    expect(readAll(p, '/proc/sys/kernel/domainname')).toBe('(none)\n');
    const fd = p.open('/proc/sys/kernel/domainname', OpenFlag.O_WRONLY) as number;
    expect(p.write(fd, enc.encode('example.org\n'))).toBe(12);
    expect(src.domainnameValue).toBe('example.org');
  });
});

describe('procfs access rules for another user', () => {
  it('hides environ, maps, fd targets and exe of root processes from uid 1000', () => {
    const { p, src } = mounted(userCreds(1000, 1000));
    src.callerTid = 12; // the reader is uid 1000's sleep
    expect(readAll(p, '/proc/1/status')).toMatch(/^Name:\tsh\n/);
    expect(readAll(p, '/proc/1/cmdline')).toBe('/bin/sh\0-c\0python3 app.py & sleep 100\0');
    expect(p.open('/proc/1/environ', OpenFlag.O_RDONLY)).toBe(E.EACCES);
    expect(p.open('/proc/7/maps', OpenFlag.O_RDONLY)).toBe(E.EACCES);
    expect(p.readlink('/proc/1/exe')).toBe(E.EACCES);
    expect(p.readlink('/proc/1/cwd')).toBe(E.EACCES);
    expect(list(p, '/proc/1/fd')).toBe(E.EACCES);
    expect(p.open('/proc/7/fdinfo/3', OpenFlag.O_RDONLY)).toBe(E.EACCES);
    // Its own process is fine.
    expect(readAll(p, '/proc/self/environ')).toBe('PATH=/usr/bin:/bin\0HOME=/root\0');
    expect(p.readlink('/proc/self/exe')).toBe('/usr/bin/sleep');
    // stat hides the layout of others: start_code/end_code read 1, start_stack 0.
    const fields = (readAll(p, '/proc/7/stat') as string).trim().split(' ');
    expect(fields.slice(25, 28)).toEqual(['1', '1', '0']);
    const own = (readAll(p, '/proc/12/stat') as string).trim().split(' ');
    expect(Number(own[25])).toBeGreaterThan(1);
  });

  it('lets root read everything', () => {
    const { p, src } = mounted(ROOT_CREDS);
    src.callerTid = 1;
    expect(readAll(p, '/proc/12/environ')).toBe('PATH=/usr/bin:/bin\0HOME=/root\0');
    expect(p.readlink('/proc/12/exe')).toBe('/usr/bin/sleep');
  });
});
