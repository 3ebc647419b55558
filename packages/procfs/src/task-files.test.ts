/**
 * The second round of files (smaps_rollup, io, sched, schedstat, syscall, oom_score,
 * timerslack_ns, loginuid, sessionid, /proc/cmdline, /proc/devices, /proc/kmsg,
 * /proc/net/{snmp,netstat}, writable /proc/sys tunables) and stable getdents offsets. Formats
 * are checked against this machine's /proc: a quiescent `sleep` child's files are parsed into
 * source values and must render back as the host printed them.
 */

import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { E, isError, OpenFlag } from '@tsvisor/abi';
import { userCreds } from '@tsvisor/vfs';
import type { FileDescription, Stat } from '@tsvisor/vfs';
import { FixtureProcSource, fixtureMemory } from './fixture.js';
import type { FixtureTask } from './fixture.js';
import { list, mounted, readAll } from './mount.test-util.js';
import { renderMib } from './net.js';
import { NETSTAT_GROUPS, SNMP_GROUPS } from './net-mib.js';
import { renderIo, renderOomScore, renderSched, renderSmapsRollup, renderSyscall } from './render-task.js';

const host = (path: string): string => readFileSync(path, 'latin1');
const enc = new TextEncoder();

let child: ChildProcess;
let pid: number;
beforeAll(async () => {
  child = spawn('sleep', ['30'], { stdio: 'ignore' });
  pid = child.pid as number;
  // Wait until the child runs sleep (its exe is no longer node's) and sits in its syscall.
  for (let i = 0; i < 200; i++) {
    if (host(`/proc/${pid}/comm`) === 'sleep\n' && host(`/proc/${pid}/syscall`) !== 'running\n') break;
    await new Promise((r) => setTimeout(r, 10));
  }
});
afterAll(() => {
  child.kill();
});

/** `Name: value kB` lines of an smaps block as a map. */
function kbFields(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z_]+):\s+(\d+) kB$/.exec(line);
    if (m !== null) out.set(m[1] as string, (out.get(m[1] as string) ?? 0) + Number(m[2]));
  }
  return out;
}

describe('per-process files against the host', () => {
  it('smaps_rollup: the host header and field order, with sums of the smaps figures', () => {
    // The vsyscall page is a gate area, not a VMA: Linux's rollup leaves it out.
    const smaps = host(`/proc/${pid}/smaps`).replace(/ffffffffff600000-[^]*$/, '');
    const theirs = host(`/proc/${pid}/smaps_rollup`);
    const ours = renderSmapsRollup(smaps);
    const names = (t: string): string[] => t.split('\n').map((l) => l.split(':')[0] as string);
    expect(names(ours)).toEqual(names(theirs).map((n, i) => (i === 0 ? (names(ours)[0] as string) : n)));
    expect(ours.split('\n')[0]).toBe(theirs.split('\n')[0]);
    const o = kbFields(ours);
    const h = kbFields(theirs);
    for (const k of [
      'Rss',
      'Shared_Clean',
      'Shared_Dirty',
      'Private_Clean',
      'Private_Dirty',
      'Anonymous',
      'Swap',
    ])
      expect([k, o.get(k)]).toEqual([k, h.get(k)]);
    // Linux sums Pss in fractions of a kB; per-mapping kB figures lose under 1 kB each.
    const vmas = smaps.split('\n').filter((l) => /^[0-9a-f]+-/.test(l)).length;
    expect(Math.abs((o.get('Pss') ?? 0) - (h.get('Pss') ?? 0))).toBeLessThanOrEqual(vmas);
    expect((o.get('Pss_Anon') ?? 0) + (o.get('Pss_File') ?? 0) + (o.get('Pss_Shmem') ?? 0)).toBe(
      o.get('Pss'),
    );
    expect(renderSmapsRollup('')).toBe('');
  });

  it('io: the host file comes out byte for byte from its values', () => {
    const text = host('/proc/self/io');
    const v = new Map(
      text
        .trim()
        .split('\n')
        .map((l) => l.split(': ') as [string, string]),
    );
    const n = (k: string): number => Number(v.get(k));
    const io = {
      rchar: n('rchar'),
      wchar: n('wchar'),
      syscr: n('syscr'),
      syscw: n('syscw'),
      readBytes: n('read_bytes'),
      writeBytes: n('write_bytes'),
      cancelledWriteBytes: n('cancelled_write_bytes'),
    };
    expect(renderIo(io)).toBe(text);
  });

  it('syscall: the sleeping child and a running task print as the host does', () => {
    const text = host(`/proc/${pid}/syscall`);
    const f = text.trim().split(' ');
    const big = (i: number): bigint => BigInt(f[i] as string);
    expect(f.length).toBe(9);
    const s = {
      nr: Number(f[0]),
      args: [big(1), big(2), big(3), big(4), big(5), big(6)] as const,
      sp: big(7),
      pc: big(8),
    };
    expect(renderSyscall(s)).toBe(text);
    expect(renderSyscall({ ...s, nr: -1 })).toBe(`-1 ${f[7]} ${f[8]}\n`);
    expect(renderSyscall('running')).toBe('running\n');
  });

  it('sched: header and the column layout of the host lines of the same names', () => {
    const theirs = host(`/proc/${pid}/sched`).split('\n');
    const src = FixtureProcSource.sample();
    const t = src.tasks.get(7) as FixtureTask;
    t.data.times = { ...t.data.times, utimeNs: 1_234_567_891, stimeNs: 0 };
    t.data.sched = { voluntaryCtxtSwitches: 3, nonvoluntaryCtxtSwitches: 2 };
    const ours = renderSched(t).split('\n');
    expect(ours[0]).toBe('python3 (7, #threads: 3)');
    expect(theirs[0]).toMatch(/^sleep \(\d+, #threads: 1\)$/);
    expect(ours[1]).toBe(theirs[1]);
    const byName = new Map(theirs.map((l) => [l.split(':')[0]?.trimEnd(), l]));
    for (const line of ours.slice(2).filter((l) => l !== '')) {
      const name = line.split(':')[0]?.trimEnd() as string;
      const hostLine = byName.get(name);
      expect([name, hostLine?.length]).toEqual([name, line.length]);
      expect(hostLine?.indexOf(':')).toBe(line.indexOf(':'));
    }
    expect(ours).toContain(`${'se.sum_exec_runtime'.padEnd(45)}:${'1234.567891'.padStart(21)}`);
    expect(ours).toContain(`${'nr_switches'.padEnd(45)}:${'5'.padStart(21)}`);
    // Same nice-0 weight and priority as the host's sleep.
    for (const name of ['se.load.weight', 'prio', 'policy'])
      expect(ours.find((l) => l.startsWith(name + ' '))).toBe(byName.get(name));
  });

  it('oom_score: the host score from the host figures', () => {
    const status = new Map(
      host(`/proc/${pid}/status`)
        .split('\n')
        .map((l) => [l.split(':')[0], (l.split(':')[1] ?? '').trim()]),
    );
    const kb = (k: string): number => Number((status.get(k) ?? '0').split(' ')[0]) * 1024;
    const meminfo = new Map(
      host('/proc/meminfo')
        .split('\n')
        .map((l) => [l.split(':')[0], Number((l.split(':')[1] ?? '0').trim().split(' ')[0]) * 1024]),
    );
    const src = FixtureProcSource.sample();
    const t = src.tasks.get(7) as FixtureTask;
    t.data.memory = {
      ...fixtureMemory(kb('VmSize'), 0),
      rssAnon: kb('RssAnon'),
      rssFile: kb('RssFile'),
      rssShmem: kb('RssShmem'),
      vmPTE: kb('VmPTE'),
      vmSwap: kb('VmSwap'),
    };
    t.data.oomScoreAdj = Number(host(`/proc/${pid}/oom_score_adj`));
    const mem = {
      memTotal: meminfo.get('MemTotal') ?? 0,
      memFree: 0,
      memAvailable: 0,
      swapTotal: meminfo.get('SwapTotal') ?? 0,
    };
    expect(renderOomScore(t, mem)).toBe(host(`/proc/${pid}/oom_score`));
    t.data.oomScoreAdj = -1000;
    expect(renderOomScore(t, mem)).toBe('0\n');
    t.data.oomScoreAdj = 1000;
    // adj 1000 adds 1000 * floor(totalpages / 1000) pages, up to 999 short of totalpages: a small
    // task on a machine whose page count is not a multiple of 1000 scores (1000 + 999) * 2 / 3.
    expect(Number(renderOomScore(t, mem))).toBeGreaterThanOrEqual(1332);
    const pages = Math.floor(mem.memTotal / 4096) + Math.floor(mem.swapTotal / 4096);
    t.data.memory = { ...fixtureMemory(kb('VmSize'), 0), rssAnon: (pages % 1000) * 4096 };
    expect(renderOomScore(t, mem)).toBe('1333\n');
  });

  it('timerslack_ns, loginuid, sessionid, schedstat: the host values and shapes by default', () => {
    const { p } = mounted();
    expect(readAll(p, '/proc/self/timerslack_ns')).toBe(host(`/proc/${pid}/timerslack_ns`));
    expect(readAll(p, '/proc/self/loginuid')).toBe(host('/proc/self/loginuid'));
    expect(readAll(p, '/proc/self/sessionid')).toBe(host('/proc/self/sessionid'));
    const shape = (t: string): string => t.replace(/\d+/g, 'N');
    expect(shape(readAll(p, '/proc/self/schedstat') as string)).toBe(shape(host(`/proc/${pid}/schedstat`)));
    const names = ['io', 'loginuid', 'oom_score', 'sched', 'schedstat', 'sessionid', 'smaps'];
    for (const name of [...names, 'smaps_rollup', 'syscall', 'timerslack_ns']) {
      const ours = p.stat(`/proc/1/${name}`);
      // The sample's task 1 has no syscall hook: the file is left out rather than invented.
      if (name === 'syscall') {
        expect(ours).toBe(E.ENOENT);
        continue;
      }
      const mode = (ours as Stat).mode & 0o7777;
      expect([name, mode]).toEqual([name, statSync(`/proc/${pid}/${name}`).mode & 0o7777]);
    }
  });
});

describe('system files against the host', () => {
  it('/proc/cmdline and /proc/devices render the host bytes from their values', () => {
    const src = FixtureProcSource.sample();
    src.cmdlineValue = host('/proc/cmdline').replace(/\n$/, '');
    const text = host('/proc/devices');
    const [chars, blocks] = text.split('\n\n') as [string, string];
    const rows = (t: string): [number, string][] =>
      t
        .split('\n')
        .slice(1)
        .filter((l) => l !== '')
        .map((l) => {
          const m = /^\s*(\d+) (.*)$/.exec(l) as RegExpExecArray;
          return [Number(m[1]), m[2] as string];
        });
    const devs = { char: rows(chars), block: rows(blocks) };
    const withDevices = Object.assign(src, { devices: () => devs });
    const { p } = mounted(undefined, withDevices);
    expect(readAll(p, '/proc/cmdline')).toBe(host('/proc/cmdline'));
    expect(readAll(p, '/proc/devices')).toBe(text);
    // The default table has the devices Linux always registers.
    const { p: p2 } = mounted();
    expect(readAll(p2, '/proc/devices')).toBe(
      'Character devices:\n  1 mem\n  5 /dev/tty\n  5 /dev/console\n  5 /dev/ptmx\n\nBlock devices:\n',
    );
  });

  it('/proc/net/snmp and netstat: the host files from their counters', () => {
    const counters = (t: string): Record<string, number> => {
      const out: Record<string, number> = {};
      const lines = t.split('\n');
      for (let i = 0; i + 1 < lines.length; i += 2) {
        const names = (lines[i] as string).split(' ');
        const values = (lines[i + 1] as string).split(' ');
        const group = (names[0] as string).slice(0, -1);
        names.slice(1).forEach((n, j) => (out[`${group}.${n}`] = Number(values[j + 1])));
      }
      return out;
    };
    const drop = (t: string, group: string): string =>
      t
        .split('\n')
        .filter((l) => !l.startsWith(group + ':'))
        .join('\n');
    const snmp = drop(host('/proc/net/snmp'), 'IcmpMsg');
    expect(renderMib(SNMP_GROUPS, counters(snmp))).toBe(snmp);
    const netstat = drop(host('/proc/net/netstat'), 'MPTcpExt');
    expect(renderMib(NETSTAT_GROUPS, counters(netstat))).toBe(netstat);
    // Through the tree, with no counters: the constants Linux reports and zeros.
    const { p } = mounted();
    const ours = readAll(p, '/proc/net/snmp') as string;
    expect(ours.split('\n')[1]).toBe('Ip: 2 64 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0');
    expect(ours).toContain('\nTcp: 1 200 120000 -1 0 ');
    expect((readAll(p, '/proc/net/netstat') as string).startsWith('TcpExt: SyncookiesSent ')).toBe(true);
  });

  it('/proc/kmsg: root only (0400), reads consume the log, absent without a hook', () => {
    expect(list(mounted().p, '/proc')).not.toContain('kmsg');
    const src = FixtureProcSource.sample();
    src.kmsgLines = ['<6>[    0.000000] Linux version 6.18.0-tsvisor', '<5>[    0.000001] second'];
    const { p } = mounted(undefined, src);
    expect((p.stat('/proc/kmsg') as Stat).mode & 0o7777).toBe(0o400);
    const fd = p.open('/proc/kmsg', OpenFlag.O_RDONLY) as number;
    const buf = new Uint8Array(100);
    const n = p.read(fd, buf) as number;
    expect(new TextDecoder().decode(buf.subarray(0, n))).toBe(
      `<6>[    0.000000] Linux version 6.18.0-tsvisor\n<5>[    0.000001] second\n`,
    );
    expect(p.read(fd, buf)).toBe(E.EAGAIN);
    expect(p.write(fd, enc.encode('x'))).toBe(E.EBADF);
    p.setCreds(userCreds(1000, 1000));
    expect(p.open('/proc/kmsg', OpenFlag.O_RDONLY)).toBe(E.EACCES);
  });
});

describe('writable per-process files', () => {
  it('timerslack_ns: own task or CAP_SYS_NICE; 0 restores the default', () => {
    const { p, src } = mounted();
    const write = (path: string, s: string): number | Error => {
      const fd = p.open(path, OpenFlag.O_WRONLY);
      if (isError(fd)) return fd;
      const r = p.write(fd, enc.encode(s));
      p.close(fd);
      return r;
    };
    expect(write('/proc/self/timerslack_ns', '1000\n')).toBe(5);
    expect(readAll(p, '/proc/self/timerslack_ns')).toBe('1000\n');
    expect(write('/proc/self/timerslack_ns', '0')).toBe(1);
    expect(readAll(p, '/proc/self/timerslack_ns')).toBe('50000\n');
    expect(write('/proc/self/timerslack_ns', 'fast')).toBe(E.EINVAL);
    // uid 1000's task 12 writing root's task 7: no CAP_SYS_NICE, and no ptrace access to open.
    src.callerTid = 12;
    p.setCreds(userCreds(1000, 1000));
    expect(write('/proc/7/timerslack_ns', '1')).toBe(E.EACCES);
  });

  it('loginuid: set once by a privileged task for itself', () => {
    const { p, src } = mounted();
    const fd = p.open('/proc/self/loginuid', OpenFlag.O_WRONLY) as number;
    expect(p.write(fd, enc.encode('1000'))).toBe(4);
    expect(readAll(p, '/proc/self/loginuid')).toBe('1000');
    expect(p.pwrite(fd, enc.encode('abc'), 0)).toBe(E.EINVAL);
    const other = p.open('/proc/12/loginuid', OpenFlag.O_WRONLY) as number;
    expect(p.write(other, enc.encode('5'))).toBe(E.EPERM);
    const t12 = src.tasks.get(12) as FixtureTask;
    expect(t12.loginuid()).toBe(4294967295);
  });
});

describe('writable /proc/sys tunables', () => {
  const write = (p: ReturnType<typeof mounted>['p'], path: string, s: string): number | Error => {
    const fd = p.open(path, OpenFlag.O_WRONLY);
    if (isError(fd)) return fd;
    const r = p.write(fd, enc.encode(s));
    p.close(fd);
    return r;
  };

  it('vm/overcommit_memory takes 0..2', () => {
    const { p } = mounted();
    expect(write(p, '/proc/sys/vm/overcommit_memory', '2\n')).toBe(2);
    expect(readAll(p, '/proc/sys/vm/overcommit_memory')).toBe('2\n');
    expect(write(p, '/proc/sys/vm/overcommit_memory', '3')).toBe(E.EINVAL);
    expect(write(p, '/proc/sys/vm/overcommit_memory', 'x')).toBe(E.EINVAL);
    expect(readAll(p, '/proc/sys/vm/overcommit_memory')).toBe('2\n');
    // Mode 0644 root: another user may not open it for writing.
    p.setCreds(userCreds(1000, 1000));
    expect(p.open('/proc/sys/vm/overcommit_memory', OpenFlag.O_WRONLY)).toBe(E.EACCES);
  });

  it('fs/pipe-max-size rounds up to a power-of-two number of pages', () => {
    const { p } = mounted();
    expect(write(p, '/proc/sys/fs/pipe-max-size', '5000')).toBe(4);
    expect(readAll(p, '/proc/sys/fs/pipe-max-size')).toBe('8192\n');
    expect(write(p, '/proc/sys/fs/pipe-max-size', '0')).toBe(1);
    expect(readAll(p, '/proc/sys/fs/pipe-max-size')).toBe('4096\n');
    expect(write(p, '/proc/sys/fs/pipe-max-size', String(2 ** 31 + 1))).toBe(E.EINVAL);
  });

  it('kernel/core_pattern stores a string up to the first newline', () => {
    const { p } = mounted();
    expect(readAll(p, '/proc/sys/kernel/core_pattern')).toBe(host('/proc/sys/kernel/core_pattern'));
    expect(write(p, '/proc/sys/kernel/core_pattern', '|/bin/false %p\n')).toBe(15);
    expect(readAll(p, '/proc/sys/kernel/core_pattern')).toBe('|/bin/false %p\n');
  });

  it('a source with setTunable receives the parsed value', () => {
    const src = FixtureProcSource.sample();
    const seen: unknown[] = [];
    const withSet = Object.assign(src, {
      setTunable: (t: unknown) => {
        seen.push(t);
        return undefined;
      },
    });
    const { p } = mounted(undefined, withSet);
    expect(write(p, '/proc/sys/fs/pipe-max-size', '65537')).toBe(5);
    expect(seen).toEqual([{ key: 'pipeMaxSize', value: 131072 }]);
  });
});

describe('getdents offsets stay valid while entries come and go', () => {
  /** Read up to `max` entries from the description's current offset. */
  const readSome = (f: FileDescription, max: number): string[] => {
    const names: string[] = [];
    f.getdents((_ino, _off, _type, name) => {
      if (names.length >= max) return false;
      names.push(name);
      return true;
    });
    return names;
  };

  it('/proc: a reader resuming after pids exit and appear neither skips nor repeats', () => {
    const { p, src } = mounted();
    for (let pid = 100; pid < 110; pid++) src.addTask({ tid: pid, comm: `p${pid}` });
    const fd = p.open('/proc', OpenFlag.O_RDONLY | OpenFlag.O_DIRECTORY) as number;
    const f = p.file(fd) as FileDescription;
    const seen: string[] = [];
    let gone = -1;
    for (;;) {
      const batch = readSome(f, 5);
      if (batch.length === 0) break;
      seen.push(...batch);
      const last = Number(seen.at(-1));
      if (gone < 0 && last >= 102 && last <= 106) {
        // Pids behind and ahead of the position exit; new ones appear on both sides.
        gone = last + 2;
        src.removeTask(101);
        src.removeTask(last - 1);
        src.removeTask(gone);
        src.addTask({ tid: 50, comm: 'early' });
        src.addTask({ tid: 200, comm: 'late' });
      }
    }
    expect(gone).toBeGreaterThan(0);
    const pids = seen.filter((n) => /^\d+$/.test(n)).map(Number);
    expect(new Set(pids).size).toBe(pids.length);
    const expected = [1, 7, 12, 13, ...Array.from({ length: 10 }, (_, i) => 100 + i), 200].filter(
      (n) => n !== gone,
    );
    expect(pids).toEqual(expected);
  });

  it('fd/: removing an fd already listed does not skip the next one', () => {
    const { p, src } = mounted();
    const t = src.tasks.get(7) as FixtureTask;
    const fd = p.open('/proc/7/fd', OpenFlag.O_RDONLY | OpenFlag.O_DIRECTORY) as number;
    const f = p.file(fd) as FileDescription;
    const names = readSome(f, 3); // ., .., 0
    expect(names).toEqual(['.', '..', '0']);
    t.data.fds.delete(0);
    const rest = readSome(f, 100);
    expect(rest).toEqual(t.fds().map(String));
  });
});

describe('the new files through the tree', () => {
  it('smaps and smaps_rollup come from the source text and need ptrace access', () => {
    const { p, src } = mounted();
    const smaps = host(`/proc/${pid}/smaps`).replace(/ffffffffff600000-[^]*$/, '');
    (src.tasks.get(7) as FixtureTask).data.smaps = smaps;
    expect(readAll(p, '/proc/7/smaps', 4096)).toBe(smaps);
    expect(readAll(p, '/proc/7/smaps_rollup', 4096)).toBe(renderSmapsRollup(smaps));
    expect(readAll(p, '/proc/12/smaps')).toBe(''); // no smaps hook data: empty, like no mm
    src.callerTid = 12;
    p.setCreds(userCreds(1000, 1000));
    expect(p.open('/proc/7/smaps', OpenFlag.O_RDONLY)).toBe(E.EACCES);
    expect(p.open('/proc/7/smaps_rollup', OpenFlag.O_RDONLY)).toBe(E.EACCES);
    expect(p.open('/proc/7/io', OpenFlag.O_RDONLY)).toBe(E.EACCES);
  });

  it('syscall is listed when the source can tell, and oom_score follows oom_score_adj', () => {
    const { p, src } = mounted();
    const t = src.tasks.get(7) as FixtureTask;
    t.data.syscall = { nr: 7, args: [1n, 2n, 3n, 0n, 0n, 0n], sp: 0x7ffd0000n, pc: 0x401000n };
    expect(list(p, '/proc/7')).toContain('syscall');
    expect(readAll(p, '/proc/7/syscall')).toBe('7 0x1 0x2 0x3 0x0 0x0 0x0 0x7ffd0000 0x401000\n');
    expect(list(p, '/proc/1')).not.toContain('syscall');
    const before = Number(readAll(p, '/proc/7/oom_score'));
    t.data.oomScoreAdj = 500;
    expect(Number(readAll(p, '/proc/7/oom_score'))).toBeGreaterThan(before);
    expect(readAll(p, '/proc/7/oom_score')).toBe(renderOomScore(t, src.meminfo()));
  });
});
