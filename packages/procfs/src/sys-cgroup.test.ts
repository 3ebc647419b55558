// /sys/class/net, the cgroup v2 view, /proc/<pid>/attr and mountstats over the fixture source,
// compared with this machine's files where the host has the same thing.
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmdirSync,
} from 'node:fs';
import { join } from 'node:path';
import { E, OpenFlag, isError } from '@tsvisor/abi';
import { userCreds } from '@tsvisor/vfs';
import { describe, expect, it } from 'vitest';
import { FixtureProcSource } from './fixture.js';
import { list, mounted, readAll } from './mount.test-util.js';

const text = (v: string | { name: string }): string => {
  if (typeof v !== 'string') throw new Error(`expected text, got ${v.name}`);
  return v;
};

/** The errno code node:fs reports for a host operation, or 'ok'. */
function hostErrno(f: () => unknown): string {
  try {
    f();
    return 'ok';
  } catch (e) {
    return (e as NodeJS.ErrnoException).code ?? 'unknown';
  }
}

const LO_ATTRS = [
  'addr_assign_type',
  'addr_len',
  'address',
  'broadcast',
  'carrier',
  'dev_id',
  'flags',
  'ifindex',
  'iflink',
  'mtu',
  'operstate',
  'tx_queue_len',
  'type',
];

describe('/sys/class/net', () => {
  it('lists the namespace devices as symlinks into devices/virtual/net, as the host shows lo', () => {
    const { p } = mounted();
    expect(list(p, '/sys/class/net')).toEqual(['lo', 'eth0']);
    expect(p.readlinkat(-100, '/sys/class/net/lo')).toBe(readlinkSync('/sys/class/net/lo'));
    expect(p.readlinkat(-100, '/sys/class/net/eth0')).toBe('../../devices/virtual/net/eth0');
    expect(list(p, '/sys/devices/virtual/net')).toEqual(['lo', 'eth0']);
    expect(readAll(p, '/sys/class/net/nope/mtu')).toBe(E.ENOENT);
  });

  it("lo's attributes read as the host's lo (defaults of a loopback device)", () => {
    const { p } = mounted();
    for (const a of LO_ATTRS)
      expect([a, readAll(p, `/sys/class/net/lo/${a}`)]).toEqual([
        a,
        readFileSync(`/sys/class/net/lo/${a}`, 'latin1'),
      ]);
    // The same statistics files as the host's, each a decimal counter.
    const stats = list(p, '/sys/class/net/lo/statistics');
    if (isError(stats)) throw new Error(stats.name);
    expect(stats.sort()).toEqual(readdirSync('/sys/class/net/lo/statistics').sort());
    expect(readAll(p, '/sys/class/net/lo/statistics/rx_bytes')).toBe('3193\n');
    expect(readAll(p, '/sys/class/net/lo/statistics/tx_packets')).toBe('29\n');
    expect(readAll(p, '/sys/class/net/lo/statistics/rx_crc_errors')).toBe('0\n');
  });

  it('an Ethernet device shows its address, broadcast, flags and type in the host formats', () => {
    const { p } = mounted();
    expect(readAll(p, '/sys/class/net/eth0/address')).toBe('02:42:ac:11:00:02\n');
    expect(readAll(p, '/sys/class/net/eth0/broadcast')).toBe('ff:ff:ff:ff:ff:ff\n');
    expect(readAll(p, '/sys/class/net/eth0/flags')).toBe('0x1003\n');
    expect(readAll(p, '/sys/class/net/eth0/type')).toBe('1\n');
    expect(readAll(p, '/sys/class/net/eth0/mtu')).toBe('1500\n');
    expect(readAll(p, '/sys/class/net/eth0/operstate')).toBe('up\n');
    expect(readAll(p, '/sys/class/net/eth0/ifindex')).toBe('2\n');
    // The host's Ethernet devices print the same shapes.
    const eth = readdirSync('/sys/class/net').find(
      (n) => readFileSync(`/sys/class/net/${n}/type`, 'latin1') === '1\n',
    );
    if (eth !== undefined) {
      expect(readFileSync(`/sys/class/net/${eth}/address`, 'latin1')).toMatch(
        /^([0-9a-f]{2}:){5}[0-9a-f]{2}\n$/,
      );
      expect(readFileSync(`/sys/class/net/${eth}/flags`, 'latin1')).toMatch(/^0x[0-9a-f]+\n$/);
    }
  });

  it('attributes are read-only (EACCES for writing) and follow devices that come and go', () => {
    const { p, src } = mounted();
    expect(p.open('/sys/class/net/lo/mtu', OpenFlag.O_WRONLY)).toBe(E.EACCES);
    const st = p.stat('/sys/class/net/lo/mtu');
    if (isError(st)) throw new Error(st.name);
    expect(st.mode & 0o777).toBe(lstatSync('/sys/class/net/lo/mtu').mode & 0o777 & ~0o200);
    src.netValue = null;
    expect(list(p, '/sys/class/net')).toEqual([]);
    expect(readAll(p, '/sys/class/net/lo/mtu')).toBe(E.ENOENT);
  });
});

describe('/sys/fs/cgroup (cgroup v2, read-only)', () => {
  it('shows the limits of the source: cgroup.controllers, memory.max, cpu.max, pids.max', () => {
    const { p } = mounted();
    expect(readAll(p, '/sys/fs/cgroup/cgroup.controllers')).toBe('cpu memory pids\n');
    expect(readAll(p, '/sys/fs/cgroup/memory.max')).toBe(`${512 * 1024 * 1024}\n`);
    expect(readAll(p, '/sys/fs/cgroup/memory.current')).toBe(`${60 * 1024 * 1024}\n`);
    expect(readAll(p, '/sys/fs/cgroup/cpu.max')).toBe('150000 100000\n');
    expect(readAll(p, '/sys/fs/cgroup/pids.max')).toBe('64\n');
    expect(readAll(p, '/sys/fs/cgroup/cgroup.type')).toBe('domain\n');
    expect(readAll(p, '/sys/fs/cgroup/cgroup.events')).toBe('populated 1\nfrozen 0\n');
  });

  it('cgroup.procs lists the processes, cgroup.threads and pids.current count the threads', () => {
    const { p, src } = mounted();
    expect(readAll(p, '/sys/fs/cgroup/cgroup.procs')).toBe('1\n7\n12\n13\n');
    expect(readAll(p, '/sys/fs/cgroup/cgroup.threads')).toBe('1\n7\n8\n9\n12\n13\n');
    expect(readAll(p, '/sys/fs/cgroup/pids.current')).toBe('6\n');
    src.removeTask(9);
    expect(readAll(p, '/sys/fs/cgroup/pids.current')).toBe('5\n');
    // cpu.stat sums the processes' CPU time (python's 1.23 s user, 0.45 s system).
    expect(readAll(p, '/sys/fs/cgroup/cpu.stat')).toMatch(
      /^usage_usec 1680000\nuser_usec 1230000\nsystem_usec 450000\nnice_usec 0\nnr_periods 0\n/,
    );
  });

  it('/proc/<pid>/cgroup names the root of the cgroup namespace, the directory shown', () => {
    const { p } = mounted();
    expect(readAll(p, '/proc/7/cgroup')).toBe('0::/\n');
    // The line has the host's cgroup v2 shape (hierarchy 0, no controllers).
    expect(readFileSync('/proc/self/cgroup', 'latin1')).toMatch(/^0::\/.*$/m);
  });

  it('without limits: max everywhere; without controllers only the core files are listed', () => {
    const src = FixtureProcSource.sample();
    const limited = src.cgroupValue;
    if (limited === null) throw new Error('the sample has a cgroup');
    src.cgroupValue = { ...limited, memoryMax: null, cpuQuotaUs: null, pidsMax: null };
    const { p } = mounted(undefined, src);
    expect(readAll(p, '/sys/fs/cgroup/memory.max')).toBe('max\n');
    expect(readAll(p, '/sys/fs/cgroup/cpu.max')).toBe('max 100000\n');
    expect(readAll(p, '/sys/fs/cgroup/pids.max')).toBe('max\n');
    src.cgroupValue = null;
    const names = list(p, '/sys/fs/cgroup');
    expect(names).toContain('cgroup.procs');
    expect(names).toContain('cpu.stat');
    expect(names).not.toContain('memory.max');
    expect(readAll(p, '/sys/fs/cgroup/memory.max')).toBe(E.ENOENT);
    expect(readAll(p, '/sys/fs/cgroup/cgroup.controllers')).toBe('');
    expect(readAll(p, '/sys/fs/cgroup/cpu.stat.local')).toBe('');
  });

  it("has the files, modes and formats of a host cgroup v2 directory (a probe made in the host's cgroup2 mount)", () => {
    const mountLine = readFileSync('/proc/self/mountinfo', 'latin1')
      .split('\n')
      .find((l) => / - cgroup2 /.test(l));
    const hostRoot = mountLine?.split(' ')[4];
    let probe: string | undefined;
    try {
      if (hostRoot !== undefined) {
        probe = join(hostRoot, `tsvisor-probe-${process.pid}`);
        mkdirSync(probe);
      }
    } catch {
      probe = undefined; // no writable cgroup2 hierarchy here: nothing to compare with
    }
    if (probe === undefined) return;
    try {
      // A child without controllers (as the host's probe has none enabled from its parent).
      const src = FixtureProcSource.sample();
      src.cgroupValue = null;
      const { p } = mounted(undefined, src);
      const hostNames = readdirSync(probe).filter((n) => n !== 'cgroup.kill');
      const ours = list(p, '/sys/fs/cgroup');
      if (isError(ours)) throw new Error(ours.name);
      expect(ours.sort()).toEqual(hostNames.sort());
      /** Numbers as N; cgroup.stat keeps only its subsystem-independent lines. */
      const shape = (name: string, text: string): string => {
        const t = name === 'cgroup.stat' ? text.replace(/^nr_(dying_)?subsys_\S+ \d+\n/gm, '') : text;
        return t.replace(/\d+(\.\d+)?/g, 'N');
      };
      for (const n of hostNames) {
        const st = p.stat(`/sys/fs/cgroup/${n}`);
        if (isError(st)) throw new Error(st.name);
        expect([n, st.mode & 0o777]).toEqual([n, lstatSync(join(probe, n)).mode & 0o777]);
        // cgroup.procs/threads list the source's tasks (the probe has none); the rest match in shape.
        if (n === 'cgroup.procs' || n === 'cgroup.threads') continue;
        expect([n, shape(n, text(readAll(p, `/sys/fs/cgroup/${n}`)))]).toEqual([
          n,
          shape(n, readFileSync(join(probe, n), 'latin1')),
        ]);
      }
    } finally {
      rmdirSync(probe);
    }
  });

  it('is read-only: the writable interface files keep mode 0644 but opening for writing is EROFS', () => {
    const { p } = mounted();
    const st = p.stat('/sys/fs/cgroup/memory.max');
    if (isError(st)) throw new Error(st.name);
    expect(st.mode & 0o777).toBe(0o644);
    expect(p.open('/sys/fs/cgroup/memory.max', OpenFlag.O_WRONLY)).toBe(E.EROFS);
    expect(p.open('/sys/fs/cgroup/memory.current', OpenFlag.O_RDWR)).toBe(E.EROFS);
    expect(typeof readAll(p, '/sys/fs/cgroup/memory.max')).toBe('string');
  });
});

describe('/proc/<pid>/attr (no LSM) and mountstats', () => {
  it('attr/ lists the host entries with the host modes; reads and writes give EINVAL as the host', () => {
    const { p } = mounted();
    const host = readdirSync('/proc/self/attr').filter((n) => lstatSync(`/proc/self/attr/${n}`).isFile());
    const names = list(p, '/proc/7/attr');
    if (isError(names)) throw new Error(names.name);
    expect(names.sort()).toEqual(host.sort());
    for (const n of host) {
      const st = p.stat(`/proc/7/attr/${n}`);
      if (isError(st)) throw new Error(st.name);
      expect([n, st.mode & 0o777]).toEqual([n, lstatSync(`/proc/self/attr/${n}`).mode & 0o777]);
    }
    const lsm = existsSync('/sys/kernel/security/lsm')
      ? readFileSync('/sys/kernel/security/lsm', 'latin1')
      : '';
    // The comparison is with a host that has no LSM attributes to show.
    if (lsm.trim() === '' || lsm.trim() === 'capability') {
      expect(hostErrno(() => readFileSync('/proc/self/attr/current'))).toBe('EINVAL');
      expect(readAll(p, '/proc/self/attr/current')).toBe(E.EINVAL);
      expect(readAll(p, '/proc/self/attr/prev')).toBe(E.EINVAL);
      const fd = p.open('/proc/self/attr/exec', OpenFlag.O_WRONLY);
      if (isError(fd)) throw new Error(fd.name);
      expect(p.write(fd, new Uint8Array([0x78]))).toBe(E.EINVAL);
    }
  });

  it('mountstats has one `device ... mounted on ... with fstype ...` line per mount, mode 0400', () => {
    const { p } = mounted();
    const line = /^(?:device (\S+)|no device) mounted on (\S+) with fstype (\S+)$/;
    const parse = (s: string): string[][] =>
      s
        .split('\n')
        .filter((l) => l.startsWith('device ') || l.startsWith('no device'))
        .map((l) => (line.exec(l) ?? []).slice(1, 4) as string[]);
    const host = parse(readFileSync('/proc/self/mountstats', 'latin1'));
    expect(host.length).toBeGreaterThan(0);
    expect(host.every((f) => f.length === 3 && f[1] !== undefined)).toBe(true);
    expect(parse(text(readAll(p, '/proc/7/mountstats')))).toEqual([
      ['overlay', '/', 'overlay'],
      ['proc', '/proc', 'proc'],
      ['tmpfs', '/tmp', 'tmpfs'],
    ]);
    const st = p.stat('/proc/7/mountstats');
    if (isError(st)) throw new Error(st.name);
    expect(st.mode & 0o777).toBe(lstatSync('/proc/self/mountstats').mode & 0o777);
  });

  it("another user's environ, maps and io are EACCES; its stat and cgroup stay readable", () => {
    const src = FixtureProcSource.sample();
    src.callerTid = 12; // uid 1000 reads
    const m = mounted(userCreds(1000, 1000), src);
    expect(readAll(m.p, '/proc/7/environ')).toBe(E.EACCES);
    expect(readAll(m.p, '/proc/7/maps')).toBe(E.EACCES);
    expect(readAll(m.p, '/proc/7/io')).toBe(E.EACCES);
    expect(typeof readAll(m.p, '/proc/7/stat')).toBe('string');
    expect(readAll(m.p, '/proc/7/cgroup')).toBe('0::/\n');
    expect(typeof readAll(m.p, '/proc/12/environ')).toBe('string');
  });
});
