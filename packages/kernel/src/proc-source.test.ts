import { E, isError, OpenFlag } from '@tsvisor/abi';
import { createCgroupfs, createProcfs, createSysfs, fixtureNet } from '@tsvisor/procfs';
import { ROOT_CREDS, Tmpfs, Vfs, createPipe, type FileDescription } from '@tsvisor/vfs';
import { AddressSpace as MmSpace } from '@tsvisor/mm';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { describe, expect, it } from 'vitest';
import { NR_OPEN } from './creds/rlimits.js';
import { Kernel } from './kernel.js';
import { CpuState } from './ports/cpu-state.js';
import { SparseMemory } from './ports/sparse-memory.js';
import {
  KernelProcSource,
  LoadAverage,
  parseCpuinfo,
  type KernelProcSourceOptions,
  type SandboxLimits,
} from './proc-source.js';
import { FsContext, type Task } from './task/task.js';
import { ManualTime } from './time/time-source.js';

const enc = new TextEncoder();
const dec = new TextDecoder();
const MiB = 1024 * 1024;

/** A kernel with a tmpfs root, procfs at /proc over the kernel's source, and pid 1 current. */
function boot() {
  const vfs = new Vfs(new Tmpfs());
  const ctx = vfs.rootContext(ROOT_CREDS);
  vfs.mkdirat(ctx, ctx.cwd, '/proc', 0o555);
  vfs.mkdirat(ctx, ctx.cwd, '/data', 0o755);
  const kernel = new Kernel<FileDescription>({ time: new ManualTime(), cpuCount: 2, vfs, log: () => {} });
  const init = kernel.spawnInit({
    mm: kernel.newAddressSpace(new SparseMemory(), undefined),
    regs: CpuState.fresh(0x401000, 0x7ff000000000 - 0x100),
    comm: 'init',
    fs: new FsContext(0o022, ctx.cwd, ctx.root),
  });
  kernel.current = init;
  const mounted = vfs.mount(ctx, ctx.cwd, '/proc', createProcfs(new KernelProcSource(kernel)));
  if (isError(mounted)) throw new Error(mounted.name);
  const open = (path: string, flags: number): FileDescription => {
    const f = vfs.openat(ctx, ctx.cwd, path, flags, 0o644);
    if (isError(f)) throw new Error(`${path}: ${f.name}`);
    return f;
  };
  const readAll = (f: FileDescription): string => {
    const buf = new Uint8Array(8192);
    const n = f.read(buf);
    if (typeof n !== 'number') throw new Error(`read: ${String(n)}`);
    return dec.decode(buf.subarray(0, n));
  };
  return { vfs, ctx, kernel, init, open, readAll };
}

describe('procfs over the kernel: magic links', () => {
  it('fd/N shows pipe:[ino] and reopens the pipe; a deleted file is reached through its fd', () => {
    const { vfs, ctx, init, open, readAll } = boot();
    const pipe = createPipe(ROOT_CREDS);
    if (isError(pipe)) throw new Error(pipe.name);
    const [r, w] = pipe;
    expect(init.files.install(r, { limit: 1024 })).toBe(0);
    expect(init.files.install(w, { limit: 1024 })).toBe(1);
    const f = open('/data/gone', OpenFlag.O_CREAT | OpenFlag.O_RDWR);
    expect(f.write(enc.encode('still here'))).toBe(10);
    expect(vfs.unlinkat(ctx, ctx.cwd, '/data/gone', 0)).toBeUndefined();
    expect(init.files.install(f, { limit: 1024 })).toBe(2);

    const ino = w.stat().ino;
    expect(vfs.readlinkat(ctx, ctx.cwd, '/proc/self/fd/1')).toBe(`pipe:[${ino}]`);
    expect(vfs.readlinkat(ctx, ctx.cwd, '/proc/1/fd/2')).toBe('/data/gone (deleted)');
    const w2 = open('/proc/self/fd/1', OpenFlag.O_WRONLY);
    expect(w2.write(enc.encode('via /proc'))).toBe(9);
    expect(readAll(r)).toBe('via /proc');
    expect(readAll(open('/proc/self/fd/2', OpenFlag.O_RDONLY))).toBe('still here');
    // cwd and root jump to the task's own directories.
    expect(isError(vfs.lookupat(ctx, ctx.cwd, '/proc/self/cwd/data', 0))).toBe(false);
    expect(isError(vfs.lookupat(ctx, ctx.cwd, '/proc/1/root/proc/1', 0))).toBe(false);
  });
});

describe('procfs over the kernel: the new files', () => {
  it('/proc/kmsg consumes the syslog ring; syscall reads running for the caller', () => {
    const { kernel, open, readAll } = boot();
    kernel.syslog.append(6, 'hello from the test');
    const f = open('/proc/kmsg', OpenFlag.O_RDONLY | OpenFlag.O_NONBLOCK);
    const text = readAll(f);
    expect(text).toMatch(/^<\d>\[ *\d+\.\d{6}\] /);
    expect(text).toContain('] hello from the test\n');
    expect(kernel.syslog.sizeUnread()).toBe(0);
    expect(f.read(new Uint8Array(100))).toBe(E.EAGAIN);
    expect(readAll(open('/proc/self/syscall', OpenFlag.O_RDONLY))).toBe('running\n');
    expect(readAll(open('/proc/1/smaps_rollup', OpenFlag.O_RDONLY))).toBe('');
  });
});

/** A kernel with limits, procfs at /proc and the cgroup view at /sys/fs/cgroup, pid 1 current. */
function bootWith(limits: SandboxLimits, options: KernelProcSourceOptions = {}) {
  const vfs = new Vfs(new Tmpfs());
  const ctx = vfs.rootContext(ROOT_CREDS);
  for (const d of ['/proc', '/cg']) vfs.mkdirat(ctx, ctx.cwd, d, 0o555);
  const time = new ManualTime();
  const kernel = new Kernel<FileDescription>({ time, cpuCount: 2, vfs, log: () => {}, limits });
  const init = kernel.spawnInit({
    mm: kernel.newAddressSpace(new SparseMemory(), new MmSpace()),
    regs: CpuState.fresh(0x401000, 0x7ff000000000 - 0x100),
    comm: 'init',
    fs: new FsContext(0o022, ctx.cwd, ctx.root),
  });
  kernel.current = init;
  const source = new KernelProcSource(kernel, options);
  for (const [at, fs] of [
    ['/proc', createProcfs(source)],
    ['/cg', createCgroupfs(source)],
  ] as const) {
    const m = vfs.mount(ctx, ctx.cwd, at, fs);
    if (isError(m)) throw new Error(m.name);
  }
  const cat = (path: string): string => {
    const f = vfs.openat(ctx, ctx.cwd, path, OpenFlag.O_RDONLY, 0);
    if (isError(f)) throw new Error(`${path}: ${f.name}`);
    const buf = new Uint8Array(8192);
    const n = f.read(buf);
    if (typeof n !== 'number') throw new Error(`read ${path}: ${String(n)}`);
    return dec.decode(buf.subarray(0, n));
  };
  const fork = (): Task<FileDescription> => {
    const c = kernel.clone(init, {
      flags: 0,
      exitSignal: 17,
      regs: init.regs.clone(),
      mm: kernel.newAddressSpace(new SparseMemory(), new MmSpace()),
    });
    if (isError(c)) throw new Error(c.name);
    return c;
  };
  return { kernel, init, time, source, cat, fork, vfs, ctx };
}

describe('/proc/sys/fs/mqueue', () => {
  it("shows the limits the kernel's POSIX message queues apply, as they change", () => {
    const { kernel, open, readAll } = boot();
    const read = (name: string): string => readAll(open(`/proc/sys/fs/mqueue/${name}`, OpenFlag.O_RDONLY));
    expect(['queues_max', 'msg_max', 'msgsize_max', 'msg_default', 'msgsize_default'].map(read)).toEqual([
      '256\n',
      '10\n',
      '8192\n',
      '10\n',
      '8192\n',
    ]);
    kernel.ipc.mq.limits.msgMax = 20;
    expect(read('msg_max')).toBe('20\n');
  });
});

describe('the load average (kernel/sched/loadavg.c)', () => {
  it('one runnable task for one period gives 0.08, and decays as Linux computes in fixed point', () => {
    const l = new LoadAverage();
    expect(l.sample(4_000_000_000, 1)).toEqual([0, 0, 0]); // before the first LOAD_FREQ
    const [a1, a5, a15] = l.sample(5_100_000_000, 1);
    // calc_load(0, EXP_1, FIXED_1) = (2048 * (2048 - 1884) + 2047) / 2048 = 164 -> 164/2048.
    expect([a1, a5, a15]).toEqual([164 / 2048, 34 / 2048, 11 / 2048]);
    // Eleven more periods at once (a tickless catch-up, fixed_power_int) land where eleven single
    // steps do, within the rounding of the fixed-point power.
    const step = new LoadAverage();
    let iter: number[] = [];
    for (let i = 1; i <= 12; i++) iter = step.sample(i * 5_010_000_000, 1);
    const caught = l.sample(12 * 5_010_000_000, 1);
    for (let i = 0; i < 3; i++) expect(Math.abs((caught[i] ?? 0) - (iter[i] ?? 0))).toBeLessThan(8 / 2048);
    // One minute of one task: 1 - 1/e for the 1-minute average.
    expect(caught[0]).toBeGreaterThan(0.62);
    expect(caught[0]).toBeLessThan(0.64);
    // Then idle: it decays back towards 0.
    expect(l.sample(24 * 5_010_000_000, 0)[0]).toBeLessThan(0.25);
  });

  it('/proc/loadavg follows the runnable tasks of the sandbox over time', () => {
    const { time, cat, fork } = bootWith({});
    fork();
    fork(); // three runnable tasks
    expect(cat('/proc/loadavg')).toMatch(/^0\.00 0\.00 0\.00 3\/3 3\n$/);
    time.advance(60_200_000_000n);
    const [one, five, fifteen] = cat('/proc/loadavg').split(' ').map(Number);
    expect(one).toBeGreaterThan(1.85); // 3 * (1 - 1/e)
    expect(one).toBeLessThan(1.95);
    expect(five).toBeLessThan(one ?? 0);
    expect(fifteen).toBeLessThan(five ?? 0);
  });
});

describe('host CPUs, uptime and idle time', () => {
  it("parseCpuinfo reads the host's /proc/cpuinfo; /proc/cpuinfo shows the host model, MHz, cache and flags", () => {
    const host = readFileSync('/proc/cpuinfo', 'latin1');
    const parsed = parseCpuinfo(host);
    expect(parsed.length).toBe(cpus().length);
    const { cat } = bootWith({});
    const ours = cat('/proc/cpuinfo');
    const field = (text: string, key: string): string[] =>
      text
        .split('\n')
        .filter((l) => l.slice(0, l.indexOf(':')).trim() === key)
        .map((l) => l.slice(l.indexOf(':') + 1).trim());
    for (const key of [
      'vendor_id',
      'cpu family',
      'model',
      'model name',
      'stepping',
      'cache size',
      'flags',
      'cpuid level',
      'address sizes',
      'bogomips',
    ])
      expect([key, field(ours, key)]).toEqual([key, field(host, key).slice(0, 2)]);
    // cpu MHz: the host's figures (they move with frequency scaling; same order of magnitude).
    const mhz = field(ours, 'cpu MHz').map(Number);
    const hostMhz = field(host, 'cpu MHz').map(Number);
    expect(mhz.every((m) => m > 0 && Math.abs(m - (hostMhz[0] ?? 0)) < (hostMhz[0] ?? 0))).toBe(true);
  });

  it('a kernel without cpuCount reports the host CPUs, whatever the affinity of the supervisor', () => {
    expect(new Kernel({ time: new ManualTime(), log: () => {} }).cpuCount).toBe(cpus().length);
  });

  it('uptime counts from boot; idle is the CPUs time not spent by sandbox tasks', () => {
    const { time, cat, init } = bootWith({});
    time.advance(10_000_000_000n);
    init.cpu.userNs = 3_000_000_000n;
    init.cpu.sysNs = 1_000_000_000n;
    expect(cat('/proc/uptime')).toBe('10.00 16.00\n'); // 2 CPUs * 10 s - 4 s busy
    const cpu = cat('/proc/stat').split('\n')[0]?.split(/\s+/).map(Number);
    // user, nice, system, idle in clock ticks.
    expect(cpu?.slice(1, 5)).toEqual([300, 0, 100, 1600]);
  });
});

describe('meminfo and the cgroup view from the sandbox limits', () => {
  it('MemTotal is memory.max; used memory is the resident memory of each address space once', () => {
    const rss = new Map([
      [1, { anon: 4 * MiB, file: 1 * MiB, shmem: 0 }],
      [2, { anon: 5 * MiB, file: 2 * MiB, shmem: 0 }],
    ]);
    const { cat, fork } = bootWith({ memoryMax: 64 * MiB }, { resident: (tid) => rss.get(tid) ?? null });
    fork();
    const mi = Object.fromEntries(
      cat('/proc/meminfo')
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => [l.split(':')[0], Number(/(\d+) kB/.exec(l)?.[1])]),
    );
    expect(mi['MemTotal']).toBe(64 * 1024);
    expect(mi['MemFree']).toBe(52 * 1024);
    expect(mi['AnonPages']).toBe(12 * 1024);
    expect(cat('/proc/2/status')).toMatch(/^VmRSS:\s+7168 kB\nRssAnon:\s+5120 kB\nRssFile:\s+2048 kB$/m);
    expect(cat('/cg/memory.max')).toBe(`${64 * MiB}\n`);
    expect(cat('/cg/memory.current')).toBe(`${12 * MiB}\n`);
  });

  it('without memory.max the host memory shows', () => {
    const { cat } = bootWith({}, { hostMemory: () => 2048 * MiB });
    expect(cat('/proc/meminfo')).toMatch(/^MemTotal:\s+2097152 kB$/m);
    expect(cat('/cg/memory.max')).toBe('max\n');
  });

  it('pids.max: clone past it fails with EAGAIN; pids.current and cgroup.procs list the tasks', () => {
    const { kernel, init, cat, fork } = bootWith({ pidsMax: 3, cpuQuotaUs: 50000 });
    fork();
    const zombie = fork();
    kernel.exitGroup(zombie, 0); // a zombie stays charged until it is reaped
    expect(kernel.clone(init, { flags: 0, exitSignal: 17, regs: init.regs.clone(), mm: init.mm })).toBe(
      E.EAGAIN,
    );
    expect(cat('/cg/pids.max')).toBe('3\n');
    expect(cat('/cg/pids.current')).toBe('3\n');
    expect(cat('/cg/cgroup.procs')).toBe('1\n2\n3\n');
    expect(cat('/cg/cpu.max')).toBe('50000 100000\n');
    expect(cat('/proc/self/cgroup')).toBe('0::/\n');
  });
});

describe('the network namespace the embedder gives', () => {
  it('feeds /proc/<pid>/net and /sys/class/net', () => {
    const net = fixtureNet();
    const { vfs, ctx, cat, source } = bootWith({}, { net: () => net });
    vfs.mkdirat(ctx, ctx.cwd, '/sys', 0o555);
    const m = vfs.mount(ctx, ctx.cwd, '/sys', createSysfs(source));
    expect(isError(m)).toBe(false);
    expect(cat('/proc/1/net/dev')).toMatch(/^\s+eth0:\s+123456\s+100 /m);
    expect(cat('/sys/class/net/eth0/address')).toBe('02:42:ac:11:00:02\n');
  });
});

describe('per-task counters and tunables', () => {
  it('io shows the task accounting; timerslack_ns writes reach the task and 0 restores the default', () => {
    const { init, cat, vfs, ctx } = bootWith({});
    init.ioac.rchar = 100;
    init.ioac.syscr = 2;
    init.group.ioac.rchar = 150;
    init.group.ioac.syscr = 3;
    expect(cat('/proc/1/io')).toMatch(/^rchar: 150\nwchar: 0\nsyscr: 3\nsyscw: 0\n/);
    expect(cat('/proc/1/task/1/io')).toMatch(/^rchar: 100\nwchar: 0\nsyscr: 2\n/);
    const f = vfs.openat(ctx, ctx.cwd, '/proc/self/timerslack_ns', OpenFlag.O_WRONLY, 0);
    if (isError(f)) throw new Error(f.name);
    expect(f.write(enc.encode('777'))).toBe(3);
    expect(init.timerSlackNs).toBe(777);
    expect(cat('/proc/1/timerslack_ns')).toBe('777\n');
    expect(f.write(enc.encode('0'))).toBe(1);
    expect(init.timerSlackNs).toBe(50_000);
  });

  it('a child inherits the timer slack, and its default is the parent slack at clone', () => {
    const { init, fork } = bootWith({});
    init.timerSlackNs = 1234;
    const child = fork();
    expect([child.timerSlackNs, child.defaultTimerSlackNs]).toEqual([1234, 1234]);
  });

  it('ns/ links name the same namespaces for every task; tunables are what the kernel applies', () => {
    const { cat, fork, vfs, ctx } = bootWith({});
    fork();
    for (const ns of ['mnt', 'pid', 'net', 'uts', 'ipc', 'user', 'cgroup'])
      expect(vfs.readlinkat(ctx, ctx.cwd, `/proc/2/ns/${ns}`)).toBe(
        vfs.readlinkat(ctx, ctx.cwd, `/proc/1/ns/${ns}`),
      );
    expect(vfs.readlinkat(ctx, ctx.cwd, '/proc/1/ns/pid')).toBe('pid:[4026531836]');
    expect(cat('/proc/sys/fs/nr_open')).toBe(`${NR_OPEN}\n`);
    expect(cat('/proc/sys/kernel/ngroups_max')).toBe('65536\n');
    expect(cat('/proc/sys/vm/max_map_count')).toBe('65530\n');
    expect(cat('/proc/sys/net/core/somaxconn')).toBe('4096\n');
    expect(Number(cat('/proc/sys/kernel/threads-max'))).toBeGreaterThan(20);
  });
});
