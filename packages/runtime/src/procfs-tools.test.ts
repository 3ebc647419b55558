// Issue 7's end-to-end proof: the tools people run read tsvisor's /proc and /sys and print the
// sandbox (its pids, parent chain, memory limit, CPUs and mounts), not the host. Each output is
// parsed and checked against what the sandbox is, not only the exit status.
import { spawnSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { describe, expect, it } from 'vitest';
import { testbed, type SandboxRun } from './c-programs.test-util.js';
import type { SandboxConfig } from './sandbox.js';

const bed = testbed();
const ENV = ['PATH=/usr/local/bin:/usr/bin:/bin', 'HOME=/root', 'LC_ALL=C', 'COLUMNS=200'];
const MiB = 1024 * 1024;
/** The sandbox's cgroup: 256 MiB of memory, 1.5 CPUs of quota, 16 tasks. */
const LIMITS = { memoryMax: 256 * MiB, cpuQuotaUs: 150000, cpuPeriodUs: 100000, pidsMax: 16 } as const;

async function sh(script: string, extra: Partial<SandboxConfig> = {}): Promise<SandboxRun> {
  const got = await bed.run(['/bin/sh', '-c', script], { env: ENV, limits: LIMITS, ...extra });
  expect(got.stderr).toBe('');
  expect(got.status).toBe(0);
  return got;
}

/** The whitespace-separated rows of a table, the header row first. */
function table(text: string): string[][] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => l.trim().split(/\s+/));
}

/** `bg=<pid>` printed by the script: the pid of the background `sleep`. */
function bgPid(stdout: string): number {
  const m = /^bg=(\d+)$/m.exec(stdout);
  if (m === null) throw new Error(`no bg= line in ${stdout}`);
  return Number(m[1]);
}

describe('ps, top and pgrep see the sandbox processes', () => {
  it('ps -ef: sh is pid 1 (ppid 0); the background sleep and ps are its children', async () => {
    const got = await sh('sleep 30 & echo bg=$!; ps -ef; kill $!');
    const sleep = bgPid(got.stdout);
    const rows = table(got.stdout.slice(got.stdout.indexOf('UID')));
    expect(rows[0]?.slice(0, 3)).toEqual(['UID', 'PID', 'PPID']);
    const procs = rows
      .slice(1)
      .map((r) => ({ pid: Number(r[1]), ppid: Number(r[2]), cmd: r.slice(7).join(' ') }));
    expect(procs).toHaveLength(3);
    expect(procs[0]).toEqual({ pid: 1, ppid: 0, cmd: '/bin/sh -c sleep 30 & echo bg=$!; ps -ef; kill $!' });
    expect(procs.find((p) => p.pid === sleep)).toEqual({ pid: sleep, ppid: 1, cmd: 'sleep 30' });
    const ps = procs.find((p) => p.cmd === 'ps -ef');
    expect(ps?.ppid).toBe(1);
    expect(ps?.pid).toBeGreaterThan(sleep);
  });

  it('ps aux: RSS is resident memory, %MEM is RSS over the 256 MiB memory.max, STAT as the tasks are', async () => {
    const got = await sh('ps aux');
    const rows = table(got.stdout);
    expect(rows[0]?.slice(0, 6)).toEqual(['USER', 'PID', '%CPU', '%MEM', 'VSZ', 'RSS']);
    const ps = rows.find((r) => r[10] === 'ps');
    const shRow = rows.find((r) => r[1] === '1');
    if (ps === undefined || shRow === undefined) throw new Error(got.stdout);
    const [vsz, rss, mem] = [Number(ps[4]), Number(ps[5]), Number(ps[3])];
    expect(rss).toBeGreaterThan(1000); // KiB: a dynamic procps binary has a few MiB resident
    expect(vsz).toBeGreaterThan(rss);
    // procps: %MEM = RSS * 100 / MemTotal (KiB), one decimal.
    expect(Math.abs(mem - (rss * 100) / (LIMITS.memoryMax / 1024))).toBeLessThan(0.11);
    expect(ps[7]).toBe('R'); // running: it is the reader
    expect(shRow[7]).toMatch(/^S/); // waiting for ps
    expect(rows.slice(1).every((r) => r[0] === 'root')).toBe(true);
  });

  it('top -b -n 1: task counts, memory total and the process table describe the sandbox', async () => {
    const got = await sh('top -b -n 1');
    const tasks = /^Tasks:\s+(\d+) total,\s+(\d+) running,\s+(\d+) sleeping/m.exec(got.stdout);
    expect(tasks?.slice(1).map(Number)).toEqual([2, 1, 1]);
    const mem = /^MiB Mem :\s+([\d.]+) total,\s+([\d.]+) free,\s+([\d.]+) used/m.exec(got.stdout);
    expect(Number(mem?.[1])).toBe(256);
    expect(Number(mem?.[3])).toBeGreaterThan(0);
    expect(got.stdout).toMatch(/load average: \d+\.\d\d, \d+\.\d\d, \d+\.\d\d/);
    const procs = table(got.stdout.slice(got.stdout.indexOf('    PID')));
    // top sorts by %CPU: top itself comes first when it used CPU in its interval, so by PID here.
    const byPid = procs.slice(1).sort((a, b) => Number(a[0]) - Number(b[0]));
    expect(byPid.map((r) => [r[0], r[11]])).toEqual([
      ['1', 'sh'],
      [expect.stringMatching(/^\d+$/), 'top'],
    ]);
  });

  it('pgrep -a sh finds pid 1 with its whole command line; pidof sh says 1', async () => {
    const got = await sh('pgrep -a sh; pidof sh');
    expect(got.stdout).toBe('1 /bin/sh -c pgrep -a sh; pidof sh\n1\n');
  });
});

describe('memory, CPUs, load and uptime', () => {
  it('free -m: the total is memory.max, used is what the sandbox has resident', async () => {
    const got = await sh('free -m');
    const mem = table(got.stdout).find((r) => r[0] === 'Mem:');
    const [total, used, free] = [Number(mem?.[1]), Number(mem?.[2]), Number(mem?.[3])];
    expect(total).toBe(256);
    expect(used).toBeGreaterThan(0);
    expect(used).toBeLessThan(64);
    expect(Math.abs(total - used - free)).toBeLessThanOrEqual(1);
  });

  it('without limits the host memory shows, as `free` on the host does', async () => {
    const got = await sh('free -b', { limits: {} });
    const total = Number(table(got.stdout).find((r) => r[0] === 'Mem:')?.[1]);
    expect(Math.abs(total - totalmem())).toBeLessThan(1024 * 1024);
  });

  it('nproc, python os.cpu_count() and /proc/cpuinfo count the host CPUs with the host model', async () => {
    const got = await sh(
      "nproc; python3.11 -c 'import os; print(os.cpu_count(), len(os.listdir(\"/proc/self/fd\")))'; grep -c ^processor /proc/cpuinfo; grep -m1 '^model name' /proc/cpuinfo",
    );
    const [nproc, py, count, model] = got.stdout.split('\n');
    const n = cpus().length;
    expect(Number(nproc)).toBe(n);
    // python: the CPUs, and fds 0-2 plus the one listdir has open.
    expect(py).toBe(`${n} 4`);
    expect(Number(count)).toBe(n);
    expect(model).toBe(`model name\t: ${cpus()[0]?.model ?? ''}`);
  });

  it('uptime: up less than a minute, three load averages between 0 and the task count', async () => {
    const got = await sh('uptime; cat /proc/uptime /proc/loadavg');
    const [up, procUptime, loadavg] = got.stdout.split('\n');
    expect(up).toMatch(/ up 0 min,\s+0 users?,\s+load average: \d+\.\d\d, \d+\.\d\d, \d+\.\d\d$/);
    const [secs, idle] = (procUptime ?? '').split(' ').map(Number);
    expect(secs).toBeGreaterThanOrEqual(0);
    expect(secs).toBeLessThan(60);
    // Both are truncated to hundredths, so idle may pass uptime × CPUs by up to 0.01 per CPU.
    expect(idle).toBeLessThanOrEqual(((secs ?? 0) + 0.01) * cpus().length + 1e-9);
    const f = (loadavg ?? '').split(' ');
    for (const v of f.slice(0, 3)) expect(Number(v)).toBeGreaterThanOrEqual(0);
    // running/threads: cat runs; sh waits; the last pid is cat's.
    expect(f[3]).toBe('1/2');
  });

  it("node: os.totalmem() is memory.max and os.loadavg() three numbers, read from the sandbox's /proc", async () => {
    const got = await bed.run(
      [
        '/usr/bin/node',
        '-e',
        'console.log(JSON.stringify([require("os").totalmem(), require("os").loadavg()]))',
      ],
      {
        env: ENV,
        limits: LIMITS,
      },
    );
    expect(got.status).toBe(0);
    const [total, load] = JSON.parse(got.stdout) as [number, number[]];
    expect(total).toBe(LIMITS.memoryMax);
    expect(load).toHaveLength(3);
    for (const v of load) expect(v).toBeGreaterThanOrEqual(0);
  });
});

describe('mounts', () => {
  it('mountinfo, mount and df agree on the sandbox mounts', async () => {
    const got = await sh('cat /proc/self/mountinfo; echo ---; mount; echo ---; df -h /');
    const [mi, mnt, df] = got.stdout.split('---\n');
    const info = table(mi ?? '').map((f) => {
      const dash = f.indexOf('-');
      return { id: f[0], parent: f[1], point: f[4], type: f[dash + 1] };
    });
    const ids = new Set(info.map((m) => m.id));
    expect(info[0]).toMatchObject({ point: '/', type: 'overlay' });
    expect(info.every((m) => ids.has(m.parent))).toBe(true);
    const points = info.map((m) => `${m.point} ${m.type}`);
    expect(points).toEqual(
      expect.arrayContaining([
        '/ overlay',
        '/proc proc',
        '/sys sysfs',
        '/sys/fs/cgroup cgroup2',
        '/tmp tmpfs',
      ]),
    );
    const fromMount = table(mnt ?? '').map((r) => `${r[2]} ${r[4]}`);
    expect(fromMount).toEqual(points);
    const dfRows = table(df ?? '');
    expect(dfRows[0]?.slice(0, 2)).toEqual(['Filesystem', 'Size']);
    expect(dfRows[1]?.[0]).toBe('overlay');
    expect(dfRows[1]?.at(-1)).toBe('/');
  });
});

describe('cgroup, io accounting and timer slack', () => {
  it('/sys/fs/cgroup shows the limits the config set; /proc/self/cgroup is its root', async () => {
    const got = await sh(
      'cd /sys/fs/cgroup && cat cgroup.controllers memory.max cpu.max pids.max pids.current /proc/self/cgroup',
    );
    expect(got.stdout).toBe(`cpu memory pids\n${256 * MiB}\n150000 100000\n16\n2\n0::/\n`);
  });

  it('pids.max is enforced: fork past it fails with EAGAIN', async () => {
    const script = [
      'import os, signal',
      'kids = []',
      'try:',
      '    while True:',
      '        pid = os.fork()',
      '        if pid == 0:',
      '            signal.pause()',
      '        kids.append(pid)',
      'except BlockingIOError as e:',
      '    print(len(kids), e.errno)',
      'for k in kids:',
      '    os.kill(k, signal.SIGKILL)',
      '    os.waitpid(k, 0)',
    ].join('\n');
    const got = await bed.run(['/usr/bin/python3.11', '-c', script], {
      env: ENV,
      limits: { pidsMax: 4 },
    });
    expect(got.stderr).toBe('');
    expect(got.stdout).toBe('3 11\n');
  });

  it('/proc/self/io counts the read and write syscalls of the process', async () => {
    const got = await sh('cat /proc/self/io');
    const io = Object.fromEntries(
      got.stdout
        .trim()
        .split('\n')
        .map((l) => l.split(': '))
        .map(([k, v]) => [k, Number(v)]),
    ) as Record<string, number>;
    // ld.so read the ELF headers of cat's libraries (832 bytes each) before cat read anything.
    expect(io['syscr']).toBeGreaterThanOrEqual(1);
    expect(io['rchar']).toBeGreaterThanOrEqual(832);
    // Nothing written yet when the file was generated.
    expect(io['syscw']).toBe(0);
    expect(io['wchar']).toBe(0);
  });

  it("another user's environ and io are EACCES; its stat, status and cmdline are readable (as natively)", async () => {
    const script = [
      'import os',
      'pid = os.fork()',
      'if pid == 0:',
      '    os.setgid(1000); os.setuid(1000)',
      '    for f in ("environ", "io", "mountstats", "stat", "status", "cmdline"):',
      '        try:',
      '            open(f"/proc/1/{f}", "rb").read(); print(f, "ok", flush=True)',
      '        except PermissionError:',
      '            print(f, "EACCES", flush=True)',
      '    os._exit(0)',
      'os.waitpid(pid, 0)',
    ].join('\n');
    const got = await bed.run(['/usr/bin/python3.11', '-c', script], { env: ENV });
    expect(got.stderr).toBe('');
    expect(got.stdout).toBe('environ EACCES\nio EACCES\nmountstats EACCES\nstat ok\nstatus ok\ncmdline ok\n');
    // The host answers the same (its pid 1 is root's too).
    expect(spawnSync('/usr/bin/python3.11', ['-c', script], { encoding: 'utf8' }).stdout).toBe(got.stdout);
  });

  it("smaps_rollup's Rss (the host's figures per mapping) agrees with status VmRSS", async () => {
    const script = [
      'import re',
      'roll = open("/proc/self/smaps_rollup").read()',
      'status = open("/proc/self/status").read()',
      'rss = int(re.search(r"^Rss:\\s+(\\d+) kB", roll, re.M).group(1))',
      'vm = int(re.search(r"^VmRSS:\\s+(\\d+) kB", status, re.M).group(1))',
      'anon = int(re.search(r"^Anonymous:\\s+(\\d+) kB", roll, re.M).group(1))',
      'print(rss, vm, anon)',
    ].join('\n');
    const got = await bed.run(['/usr/bin/python3.11', '-c', script], { env: ENV });
    expect(got.stderr).toBe('');
    const [rss, vm, anon] = got.stdout.trim().split(' ').map(Number) as [number, number, number];
    expect(rss).toBeGreaterThan(1000);
    expect(anon).toBeGreaterThan(0);
    expect(anon).toBeLessThanOrEqual(rss);
    // VmRSS also counts the supervisor's stub pages in the host process (a few dozen KiB).
    expect(Math.abs(vm - rss)).toBeLessThan(Math.max(512, rss / 10));
  });

  it('prctl(PR_SET_TIMERSLACK) shows in PR_GET_TIMERSLACK and /proc/self/timerslack_ns', async () => {
    const script =
      'import ctypes; l = ctypes.CDLL(None); l.prctl(29, 12345, 0, 0, 0); ' +
      'print(l.prctl(30, 0, 0, 0, 0), open("/proc/self/timerslack_ns").read().strip())';
    const got = await bed.run(['/usr/bin/python3.11', '-c', script], { env: ENV });
    expect(got.stderr).toBe('');
    expect(got.stdout).toBe('12345 12345\n');
  });
});
