/**
 * Format tests against the host kernel: a real process's /proc files are parsed into fixture
 * values, rendered by procfs, and must come out as the host printed them (field names, order,
 * tabs, padding and values).
 */

import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, readlinkSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FixtureProcSource, fixtureCreds } from './fixture.js';
import type { FixtureTask } from './fixture.js';
import { list, mounted, readAll } from './mount.test-util.js';
import {
  renderCpuinfo,
  renderFdinfo,
  renderLimits,
  renderMeminfo,
  renderMountinfo,
  renderMounts,
  renderProcStat,
  renderStat,
  renderStatm,
  renderStatus,
  renderUptime,
} from './render.js';
import type { ProcMount, TaskState } from './source.js';

const host = (path: string): string => readFileSync(path, 'latin1');

/** status as [key, value] pairs in order. */
function statusFields(text: string): [string, string][] {
  return text
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => {
      const i = l.indexOf(':');
      return [l.slice(0, i), l.slice(i + 1)];
    });
}

const kB = (v: string | undefined): number => Number((v ?? '0').trim().split(/\s+/)[0]) * 1024;
const hex = (v: string | undefined): bigint => BigInt('0x' + (v ?? '0').trim());

/** A fixture task holding the values of a host process's status and stat. */
function taskFromHost(status: string, stat: string): { src: FixtureProcSource; task: FixtureTask } {
  const f = new Map(statusFields(status));
  const get = (k: string): string => (f.get(k) ?? '').trim();
  const ids = (k: string): number[] => get(k).split(/\s+/).map(Number);
  const sf = stat
    .slice(stat.lastIndexOf(')') + 2)
    .trim()
    .split(' ');
  const n = (i: number): number => Number(sf[i - 3]); // field i (1-based) of the whole line
  const [ruid, euid, suid, fsuid] = ids('Uid') as [number, number, number, number];
  const [rgid, egid, sgid, fsgid] = ids('Gid') as [number, number, number, number];
  const groups = get('Groups') === '' ? [] : ids('Groups');
  const src = new FixtureProcSource();
  const pid = Number(get('Pid'));
  const tick = 1e7;
  const sq = get('SigQ').split('/').map(Number) as [number, number];
  const task = src.addTask({
    tid: pid,
    tgid: Number(get('Tgid')),
    comm: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')),
    state: get('State')[0] as TaskState,
    ppid: Number(get('PPid')),
    pgrp: n(5),
    session: n(6),
    umask: parseInt(get('Umask'), 8),
    creds: {
      ...fixtureCreds(0, 0),
      ruid,
      euid,
      suid,
      fsuid,
      rgid,
      egid,
      sgid,
      fsgid,
      groups,
      capInh: hex(get('CapInh')),
      capPrm: hex(get('CapPrm')),
      capEff: hex(get('CapEff')),
      capBnd: hex(get('CapBnd')),
      capAmb: hex(get('CapAmb')),
    },
    memory: {
      vmPeak: kB(get('VmPeak')),
      vmSize: kB(get('VmSize')),
      vmLck: kB(get('VmLck')),
      vmPin: kB(get('VmPin')),
      vmHWM: kB(get('VmHWM')),
      rssAnon: kB(get('RssAnon')),
      rssFile: kB(get('RssFile')),
      rssShmem: kB(get('RssShmem')),
      vmData: kB(get('VmData')),
      vmStk: kB(get('VmStk')),
      vmExe: kB(get('VmExe')),
      vmLib: kB(get('VmLib')),
      vmPTE: kB(get('VmPTE')),
      vmSwap: kB(get('VmSwap')),
    },
    layout: {
      startCode: n(26),
      endCode: n(27),
      startStack: n(28),
      startData: n(45),
      endData: n(46),
      startBrk: n(47),
      brk: n(47),
      argStart: n(48),
      argEnd: n(49),
      envStart: n(50),
      envEnd: n(51),
    },
    times: {
      utimeNs: n(14) * tick,
      stimeNs: n(15) * tick,
      cutimeNs: n(16) * tick,
      cstimeNs: n(17) * tick,
      startNs: n(22) * tick,
    },
    sched: {
      flags: n(9),
      minflt: n(10),
      cminflt: n(11),
      majflt: n(12),
      cmajflt: n(13),
      nice: n(19),
      processor: n(39),
      rtPriority: n(40),
      policy: n(41),
      voluntaryCtxtSwitches: Number(get('voluntary_ctxt_switches')),
      nonvoluntaryCtxtSwitches: Number(get('nonvoluntary_ctxt_switches')),
    },
    signals: {
      pending: hex(get('SigPnd')),
      shared: hex(get('ShdPnd')),
      blocked: hex(get('SigBlk')),
      ignored: hex(get('SigIgn')),
      caught: hex(get('SigCgt')),
      queued: sq[0],
      queueLimit: sq[1],
    },
    fds: new Map(
      Array.from(
        { length: 3 },
        (_, i) => [i, { path: '/dev/null', flags: 0, pos: 0, mntId: 1, ino: 1 }] as const,
      ),
    ),
  });
  const fdSize = Number(get('FDSize'));
  Object.assign(task, { fdTableSize: () => fdSize });
  return { src, task };
}

let child: ChildProcess;
let hostStatus = '';
let hostStat = '';
let hostStatm = '';

beforeAll(async () => {
  child = spawn('sleep', ['60'], { stdio: 'ignore' });
  const pid = child.pid as number;
  // Wait until the exec is done and the process sleeps, so its figures are stable.
  for (let i = 0; i < 200; i++) {
    const s = host(`/proc/${pid}/status`);
    if (s.startsWith('Name:\tsleep\n') && s.includes('State:\tS')) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  hostStatus = host(`/proc/${pid}/status`);
  hostStat = host(`/proc/${pid}/stat`);
  hostStatm = host(`/proc/${pid}/statm`);
});

afterAll(() => {
  child.kill('SIGKILL');
});

const cpus = (): number =>
  host('/sys/devices/system/cpu/online').trim() === '0'
    ? 1
    : Number(host('/sys/devices/system/cpu/online').trim().split('-')[1]) + 1;

describe('per-process files against the host', () => {
  it('status: same fields in the same order with the same values', () => {
    const { task } = taskFromHost(hostStatus, hostStat);
    const ours = statusFields(renderStatus(task, cpus()));
    const theirs = statusFields(hostStatus);
    expect(ours.map(([k]) => k)).toEqual(theirs.map(([k]) => k));
    // Values the host decides by its configuration, not by the process.
    const hostConfig = new Set([
      'Mems_allowed',
      'Speculation_Store_Bypass',
      'SpeculationIndirectBranch',
      'THP_enabled',
    ]);
    for (let i = 0; i < theirs.length; i++) {
      const [k, v] = theirs[i] as [string, string];
      if (hostConfig.has(k)) continue;
      expect(`${k}:${(ours[i] as [string, string])[1]}`).toBe(`${k}:${v}`);
    }
  });

  it('stat: 52 fields equal to the host for the same values', () => {
    const { task } = taskFromHost(hostStatus, hostStat);
    const ours = renderStat(task, true);
    expect(ours.endsWith('\n')).toBe(true);
    const mine = ours.trim().split(' ');
    const theirs = hostStat.trim().split(' ');
    expect(mine).toHaveLength(52);
    // Field 24 (rss) is left out: Linux's stat reads the approximate per-CPU rss counters while
    // status (where the fixture's figures come from) sums them, so the host disagrees with itself.
    const RSS = 23;
    expect(mine.filter((_, i) => i !== RSS)).toEqual(theirs.filter((_, i) => i !== RSS));
    const statusRss = Number(/VmRSS:\s+(\d+) kB/.exec(hostStatus)?.[1]) / 4;
    expect(Number(mine[RSS])).toBe(statusRss);
  });

  it('statm: derived from the same figures as the host', () => {
    const { task } = taskFromHost(hostStatus, hostStat);
    expect(renderStatm(task)).toBe(hostStatm);
  });

  it('limits: the host table comes out the same from its parsed values', () => {
    const text = host('/proc/self/limits');
    const rows = text.split('\n').slice(1, -1);
    expect(rows).toHaveLength(16);
    const val = (s: string): number | null => (s.trim() === 'unlimited' ? null : Number(s.trim()));
    const limits = rows.map((r) => ({ soft: val(r.slice(26, 46)), hard: val(r.slice(47, 67)) }));
    expect(renderLimits(limits)).toBe(text);
  });

  it('fdinfo of a regular file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'procfs-'));
    const fd = openSync(join(dir, 'f'), 'a+');
    try {
      writeSync(fd, 'hello');
      const text = host(`/proc/self/fdinfo/${fd}`);
      const m = /^pos:\t(\d+)\nflags:\t0([0-7]+)\nmnt_id:\t(\d+)\nino:\t(\d+)\n$/.exec(text);
      expect(m, text).not.toBeNull();
      const [, pos, flags, mnt, ino] = m as unknown as [string, string, string, string, string];
      expect(
        renderFdinfo({
          path: '',
          pos: Number(pos),
          flags: parseInt(flags, 8),
          mntId: Number(mnt),
          ino: Number(ino),
        }),
      ).toBe(text);
    } finally {
      closeSync(fd);
      rmSync(dir, { recursive: true });
    }
  });

  it('mountinfo and mounts: every host line comes out the same from its parsed record', () => {
    const unmangle = (s: string): string =>
      s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
    const info = host('/proc/self/mountinfo')
      .split('\n')
      .filter((l) => l.length > 0);
    const mounts = host('/proc/self/mounts')
      .split('\n')
      .filter((l) => l.length > 0);
    expect(info.length).toBe(mounts.length);
    const records: ProcMount[] = info.map((line) => {
      const [left, right] = line.split(' - ') as [string, string];
      const l = left.split(' ');
      const r = right.split(' ');
      const [maj, min] = (l[2] as string).split(':').map(Number) as [number, number];
      return {
        mountId: Number(l[0]),
        parentId: Number(l[1]),
        major: maj,
        minor: min,
        root: unmangle(l[3] as string),
        mountPoint: unmangle(l[4] as string),
        mountOptions: l[5] as string,
        optional: l.slice(6),
        fsType: r[0] as string,
        source: unmangle(r[1] as string),
        superOptions: r.slice(2).join(' '),
      };
    });
    expect(renderMountinfo(records)).toBe(info.join('\n') + '\n');
    expect(renderMounts(records)).toBe(mounts.join('\n') + '\n');
  });
});

describe('system files against the host', () => {
  it('meminfo: the host rows in the same order and column layout', () => {
    const rows = (t: string): [string, number][] =>
      t
        .split('\n')
        .filter((l) => l.length > 0)
        .map((l) => [l.slice(0, l.indexOf(':')), l.length] as [string, number]);
    const theirs = rows(host('/proc/meminfo'));
    // DirectMap1G is there only on a CPU with 1 GiB pages.
    const gigabytePages = /^flags\s*:.* pdpe1gb( |$)/m.test(host('/proc/cpuinfo'));
    const ours = rows(
      renderMeminfo({ memTotal: 2 ** 30, memFree: 2 ** 29, memAvailable: 2 ** 29, gigabytePages }),
    );
    expect(ours.some(([k]) => k === 'DirectMap1G')).toBe(gigabytePages);
    // Rows that exist only with some kernel configurations (CMA, unaccepted memory...).
    const optional = new Set([
      'Unaccepted',
      'CmaTotal',
      'CmaFree',
      'HardwareCorrupted',
      'Balloon',
      'ZswapCompressed',
    ]);
    expect(ours.map(([k]) => k)).toEqual(
      theirs.map(([k]) => k).filter((k) => !optional.has(k) || ours.some(([o]) => o === k)),
    );
    // Values up to 8 digits end at column 24 (a 16-wide label, an 8-wide number).
    const ourText = renderMeminfo({ memTotal: 2 ** 30, memFree: 2 ** 29, memAvailable: 2 ** 29 });
    for (const line of ourText.split('\n').filter((l) => l.length > 0)) {
      const num = /^(.*?)(\d+)( kB)?$/.exec(line) as RegExpExecArray;
      if ((num[2] as string).length <= 8)
        expect((num[1] as string).length + (num[2] as string).length, line).toBe(24);
    }
    for (const line of host('/proc/meminfo')
      .split('\n')
      .filter((l) => l.length > 0)) {
      const num = /^(.*?)(\d+)( kB)?$/.exec(line) as RegExpExecArray;
      if ((num[2] as string).length <= 8)
        expect((num[1] as string).length + (num[2] as string).length, line).toBe(24);
    }
  });

  it('cpuinfo: the host keys in order, with the same separators', () => {
    const keys = (t: string): string[] =>
      (t.split('\n\n')[0] as string)
        .split('\n')
        .map((l) => (l.includes(':') ? l.slice(0, l.indexOf(':')) : l).trim());
    const src = FixtureProcSource.sample();
    const theirs = keys(host('/proc/cpuinfo'));
    const ours = keys(renderCpuinfo(src.cpus()));
    // Keys the host shows for its CPU model that a virtual CPU leaves out.
    const vendorOnly = new Set(['microcode', 'TLB size']);
    expect(ours).toEqual(theirs.filter((k) => !vendorOnly.has(k)));
    expect(renderCpuinfo(src.cpus()).split('\n\n').length).toBe(src.cpus().length + 1);
  });

  it('uptime and stat: the same shapes as the host', () => {
    const up = /^\d+\.\d\d \d+\.\d\d\n$/;
    expect(host('/proc/uptime')).toMatch(up);
    expect(renderUptime(123_456_789_000, 5_000_000)).toBe('123.45 0.00\n');
    expect(renderUptime(123_456_789_000, 5_000_000)).toMatch(up);
    const src = FixtureProcSource.sample();
    const ours = renderProcStat({
      cpus: src.cpus().map(() => ({
        userNs: 1e9,
        niceNs: 0,
        systemNs: 5e8,
        idleNs: 1e10,
        iowaitNs: 0,
        irqNs: 0,
        softirqNs: 0,
      })),
      ctxt: 5,
      btime: 1,
      processes: 3,
      running: 1,
      blocked: 0,
    });
    const shape = (t: string): string[] =>
      t
        .split('\n')
        .filter((l) => l.length > 0)
        .map((l) => l.replace(/^cpu\d+/, 'cpuN').split(' ')[0] as string)
        .filter((k, i, a) => a.indexOf(k) === i);
    expect(shape(ours)).toEqual(shape(host('/proc/stat')));
    const cpuCols = (t: string): number => (t.split('\n')[0] as string).split(/ +/).length;
    expect(cpuCols(ours)).toBe(cpuCols(host('/proc/stat')));
    expect(ours.split('\n')[0]).toBe('cpu  200 0 100 2000 0 0 0 0 0 0');
  });

  it('cap_last_cap, threads and ns link shapes match the host', () => {
    const { p } = mounted();
    expect(readAll(p, '/proc/sys/kernel/cap_last_cap')).toBe(host('/proc/sys/kernel/cap_last_cap'));
    expect(readAll(p, '/proc/self/cgroup')).toMatch(/^0::\/\n$/);
    expect(host('/proc/self/cgroup')).toMatch(/^0::\/.*\n$/m);
    const nsLink = /^(pid|mnt|net|ipc|uts|user|cgroup|time):\[\d+\]$/;
    expect(readlinkSync('/proc/self/ns/pid')).toMatch(nsLink);
    expect(p.readlink('/proc/self/ns/pid')).toMatch(nsLink);
    expect(readAll(p, '/proc/self/personality')).toBe(host('/proc/self/personality'));
    expect(readAll(p, '/proc/self/wchan')).toBe('0');
  });

  it('swaps, partitions headers and the identity uid_map are the host bytes', () => {
    const { p } = mounted();
    expect(readAll(p, '/proc/swaps')).toBe(host('/proc/swaps').split('\n')[0] + '\n');
    expect(readAll(p, '/proc/partitions')).toBe(
      host('/proc/partitions').split('\n').slice(0, 2).join('\n') + '\n',
    );
    // This test runs in the initial user namespace, like the default sandbox view.
    expect(readAll(p, '/proc/self/uid_map')).toBe(host('/proc/self/uid_map'));
    expect(readAll(p, '/proc/self/gid_map')).toBe(host('/proc/self/gid_map'));
    expect(readAll(p, '/proc/self/setgroups')).toBe(host('/proc/self/setgroups'));
  });

  it('cpu topology files equal the host for the same CPU count (one package, one thread per core)', () => {
    const { p, src } = mounted();
    const n = cpus();
    const one = src.cpuList[0];
    if (one === undefined) throw new Error('fixture without CPUs');
    src.cpuList = Array.from({ length: n }, () => one);
    const hostSmt = host('/sys/devices/system/cpu/cpu0/topology/thread_siblings_list').trim() !== '0';
    const hostSockets = new Set(
      Array.from({ length: n }, (_, i) =>
        host(`/sys/devices/system/cpu/cpu${i}/topology/physical_package_id`),
      ),
    ).size;
    expect(hostSmt || hostSockets !== 1, 'the host has the simple topology this test compares with').toBe(
      false,
    );
    for (let i = 0; i < n; i++) {
      const dirPath = `/sys/devices/system/cpu/cpu${i}/topology`;
      const names = list(p, dirPath) as string[];
      expect(names.length).toBe(13);
      for (const f of names)
        expect(`${f}=${readAll(p, `${dirPath}/${f}`) as string}`).toBe(`${f}=${host(`${dirPath}/${f}`)}`);
    }
    for (const f of ['online', 'possible', 'present']) {
      expect(readAll(p, `/sys/devices/system/cpu/${f}`)).toBe(host(`/sys/devices/system/cpu/${f}`));
    }
  });

  it('loadavg and version through the mounted tree have the host shapes', () => {
    const { p } = mounted();
    const load = /^\d+\.\d\d \d+\.\d\d \d+\.\d\d \d+\/\d+ \d+\n$/;
    expect(host('/proc/loadavg')).toMatch(load);
    expect(readAll(p, '/proc/loadavg')).toMatch(load);
    expect(readAll(p, '/proc/loadavg')).toBe('0.25 0.10 0.05 1/6 13\n');
    const version = /^Linux version \S+ \(.+\) .+\n$/;
    expect(host('/proc/version')).toMatch(version);
    expect(readAll(p, '/proc/version')).toMatch(version);
    expect(readAll(p, '/proc/filesystems')).toMatch(/^nodev\tsysfs\n/);
    expect(host('/proc/filesystems')).toMatch(/^nodev\tsysfs\n/);
  });
});
