/**
 * Real tools read procfs: the fixture's /proc is copied into a host directory, bind-mounted over
 * /proc inside new user, mount and pid namespaces (`unshare -rmpf`), and procps / busybox run
 * there. The tool runs as pid 1 of its namespace, which is the fixture's pid 1, so tools that look
 * themselves up (ps) find an entry.
 */

import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { materialize, mounted } from './mount.test-util.js';
import type { ProcCpu } from './source.js';

let dir = '';

beforeAll(() => {
  const { p, src } = mounted();
  // Three CPUs, so that the counts below cannot come from this 2-CPU host.
  src.cpuList = [0, 1, 2].map(() => src.cpuList[0] as ProcCpu);
  dir = mkdtempSync(join(tmpdir(), 'procfs-tools-'));
  mkdirSync(join(dir, 'proc'));
  mkdirSync(join(dir, 'sys'));
  materialize(p, '/proc', join(dir, 'proc'));
  materialize(p, '/sys', join(dir, 'sys'));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Run `cmd` (argv) with the fixture's /proc and /sys. */
function run(...cmd: string[]): string {
  const script = `mount --bind "$1/proc" /proc && mount --bind "$1/sys" /sys && shift && exec "$@"`;
  return execFileSync('unshare', ['-rmpf', 'sh', '-c', script, 'sh', dir, ...cmd], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 10_000,
  });
}

describe('tools over the fixture /proc', () => {
  it('ps -ef lists the processes with parents and command lines', () => {
    const rows = run('ps', '-eo', 'pid=,ppid=,stat=,args=')
      .trim()
      .split('\n')
      .map((l) => l.trim().split(/\s+/))
      // ps lists in the order of the host directory it reads, which is not pid order.
      .sort((a, b) => Number(a[0]) - Number(b[0]));
    expect(rows.map((r) => r.slice(0, 3))).toEqual([
      ['1', '0', 'Ss'], // a session leader
      ['7', '1', 'Rl'], // multi-threaded
      ['12', '1', 'S'],
      ['13', '1', 'Z'],
    ]);
    expect(rows[1]?.slice(3).join(' ')).toBe('python3 app.py');
    expect(rows[3]?.slice(3).join(' ')).toBe('[true] <defunct>');
  });

  it('ps -eLf shows the threads of python3', () => {
    const lwps = run('ps', '-eLo', 'pid=,lwp=,nlwp=')
      .trim()
      .split('\n')
      .map((l) => l.trim().split(/\s+/).map(Number))
      .filter(([pid]) => pid === 7)
      .sort((a, b) => (a[1] ?? 0) - (b[1] ?? 0));
    expect(lwps).toEqual([
      [7, 7, 3],
      [7, 8, 3],
      [7, 9, 3],
    ]);
  });

  it('free, uptime, pgrep and pidof read the fixture values', () => {
    const mem = run('free', '-b').split('\n')[1]?.trim().split(/\s+/);
    expect(mem?.slice(0, 2)).toEqual(['Mem:', String(2048 * 1024 * 1024)]);
    expect(mem?.[3]).toBe(String(1536 * 1024 * 1024));
    expect(run('uptime')).toMatch(/ up {1,2}3:25, .*load average: 0\.25, 0\.10, 0\.05\n$/);
    expect(run('pgrep', '-a', 'python')).toBe('7 python3 app.py\n');
    expect(run('pidof', 'sleep')).toBe('12\n');
  });

  it('top counts tasks by state', () => {
    expect(run('top', '-b', '-n', '1')).toMatch(
      /Tasks: +4 total, +1 running, +2 sleeping, +0 stopped, +1 zombie/,
    );
  });

  it('busybox ps shows the command lines', () => {
    const out = run('busybox', 'ps');
    expect(out).toMatch(/^ +7 +\S+ +python3 app\.py$/m);
    expect(out).toMatch(/^ +13 +\S+ +\[true\]$/m);
  });

  it('getconf and lscpu count the 3 CPUs of the fixture from /sys and /proc/cpuinfo', () => {
    expect(run('getconf', '_NPROCESSORS_CONF')).toBe('3\n');
    expect(run('getconf', '_NPROCESSORS_ONLN')).toBe('3\n');
    const lscpu = run('lscpu');
    expect(lscpu).toMatch(/^CPU\(s\): +3$/m);
    expect(lscpu).toMatch(/^On-line CPU\(s\) list: +0-2$/m);
    expect(lscpu).toMatch(/^Model name: +tsvisor virtual CPU$/m);
    expect(lscpu).toMatch(/^Core\(s\) per socket: +3$/m);
    expect(lscpu).toMatch(/^Socket\(s\): +1$/m);
  });

  it('mount lists the mount table from /proc/self/mountinfo', () => {
    expect(run('mount').split('\n')).toEqual([
      'overlay on / type overlay (rw,relatime,lowerdir=/,upperdir=memory)',
      'proc on /proc type proc (rw,nosuid,nodev,noexec,relatime)',
      'tmpfs on /tmp type tmpfs (rw,nosuid,nodev,mode=1777)',
      '',
    ]);
  });
});
