import {
  ArchPrctl,
  E,
  Prctl,
  RLIM_INFINITY,
  SaFlag,
  Signal,
  WaitOption,
  isError,
  utsname,
} from '@tsvisor/abi';
import {
  ERESTARTNOHAND,
  ERESTART_RESTARTBLOCK,
  SparseMemory,
  TASK_GONE,
  deliverSignals,
  type Task,
} from '@tsvisor/kernel';
import { describe, expect, it } from 'vitest';
import { BUF, harness } from './harness.test-util.js';
import { createSyscallTable } from './index.js';

const dec = new TextDecoder();
const enc = new TextEncoder();

function fork(h: ReturnType<typeof harness>, exitSignal = 17): Task {
  const c = h.kernel.clone(h.task, {
    flags: 0,
    exitSignal,
    regs: h.task.regs.clone(),
    mm: h.kernel.newAddressSpace(new SparseMemory(), undefined),
  });
  if (isError(c)) throw new Error(String(c));
  return c as Task;
}

describe('table and dispatcher', () => {
  it('names every number from abi and answers ENOSYS once-logged for unimplemented ones', async () => {
    const table = createSyscallTable();
    expect(table.get(39)?.name).toBe('getpid');
    expect(table.get(39)?.support.level).toBe('full');
    expect(table.get(206)?.handler).toBeUndefined();
    expect(table.get(206)?.support).toMatchObject({ level: 'errno', errno: E.ENOSYS });
    const h = harness();
    expect(await h.callNr(1000)).toBe(E.ENOSYS);
    expect(await h.callNr(1000)).toBe(E.ENOSYS);
    expect(await h.call('io_setup', 1, BUF)).toBe(E.ENOSYS);
    expect(h.logs).toEqual([
      'unknown syscall 1000: answered ENOSYS',
      'unsupported syscall io_setup(206): answered ENOSYS',
    ]);
  });

  it('lets an embedder override a handler', async () => {
    const table = createSyscallTable();
    table.override('getpid', () => 4242, { level: 'full' });
    expect(table.get(39)?.handler?.({} as Task, [0n, 0n, 0n, 0n, 0n, 0n])).toBe(4242);
    expect(() => table.override('no_such_call', () => 0, { level: 'full' })).toThrow();
  });
});

describe('identity', () => {
  it('reports pids, ids and changes credentials', async () => {
    const h = harness();
    expect(await h.call('getpid')).toBe(1);
    expect(await h.call('getppid')).toBe(0);
    expect(await h.call('gettid')).toBe(1);
    const c = fork(h);
    expect(h.kernel.task(c.tid)?.group.parent?.tgid).toBe(1);
    expect(await h.call('getuid')).toBe(0);
    expect(await h.call('setresuid', 1000, 1001, -1)).toBe(0);
    expect([await h.call('getuid'), await h.call('geteuid')]).toEqual([1000, 1001]);
    expect(await h.call('getresuid', BUF, BUF + 4, BUF + 8)).toBe(0);
    expect([h.mem.readU32(BUF), h.mem.readU32(BUF + 4), h.mem.readU32(BUF + 8)]).toEqual([1000, 1001, 0]);
    expect(await h.call('setuid', 0)).toBe(0); // saved uid 0 allows it
    expect(await h.call('geteuid')).toBe(0);
  });

  it('gets and sets supplementary groups', async () => {
    const h = harness();
    h.mem.writeU32(BUF, 5);
    h.mem.writeU32(BUF + 4, 3);
    expect(await h.call('setgroups', 2, BUF)).toBe(0);
    expect(await h.call('getgroups', 0, 0)).toBe(2);
    expect(await h.call('getgroups', 1, BUF)).toBe(E.EINVAL);
    expect(await h.call('getgroups', 2, BUF + 100)).toBe(2);
    expect([h.mem.readU32(BUF + 100), h.mem.readU32(BUF + 104)]).toEqual([3, 5]);
  });
});

describe('info', () => {
  it('uname names tsvisor; sethostname changes the nodename', async () => {
    const h = harness();
    h.mem.write(BUF, enc.encode('sandbox'));
    expect(await h.call('sethostname', BUF, 7)).toBe(0);
    expect(await h.call('uname', BUF + 1024)).toBe(0);
    const u = utsname.parse(h.mem.peek(BUF + 1024, utsname.size));
    if (isError(u)) throw new Error();
    expect(u).toMatchObject({ sysname: 'Linux', nodename: 'sandbox', machine: 'x86_64' });
    expect(u.release).toMatch(/^6\./);
    expect(u.version).toContain('tsvisor');
    h.task.group.creds = { ...h.task.group.creds, euid: 1000, effective: 0n };
    expect(await h.call('sethostname', BUF, 7)).toBe(E.EPERM);
  });

  it('syslog reads the boot log', async () => {
    const h = harness();
    const n = await h.call('syslog', 3, BUF, 4096);
    expect(typeof n).toBe('number');
    const text = dec.decode(h.mem.peek(BUF, n as number));
    expect(text).toContain('<6>[');
    expect(text).toContain('Starting tsvisor');
    expect(await h.call('syslog', 10, 0, 0)).toBe(1 << 17);
    expect(await h.call('syslog', 5, 0, 0)).toBe(0);
    expect(await h.call('syslog', 3, BUF, 4096)).toBe(0);
  });
});

describe('time', () => {
  it('clock_gettime follows the kernel time source', async () => {
    const h = harness();
    expect(await h.call('clock_gettime', 1, BUF)).toBe(0);
    const ns = h.time.monotonicNs();
    expect(h.mem.readU64(BUF)).toBe(ns / 1_000_000_000n);
    expect(h.mem.readU64(BUF + 8)).toBe(ns % 1_000_000_000n);
    h.task.cpu.userNs = 5_000_000_000n;
    expect(await h.call('clock_gettime', 2, BUF)).toBe(0);
    expect(h.mem.readU64(BUF)).toBe(5n);
    // clock_getcpuclockid(0) == -6 (process, SCHED); pthread_getcpuclockid(self) == -2 (~0<<3 | 4 | 2)
    expect(await h.call('clock_gettime', -6, BUF)).toBe(0);
    expect(await h.call('clock_gettime', (~1 << 3) | 6, BUF)).toBe(0);
    expect(await h.call('clock_gettime', (~99 << 3) | 2, BUF)).toBe(E.EINVAL);
    expect(await h.call('time', 0)).toBe(h.time.realtimeNs() / 1_000_000_000n);
  });

  it('nanosleep sleeps on the clock; a signal interrupts with the remaining time and restart_syscall resumes', async () => {
    const h = harness();
    h.mem.writeU64(BUF, 2n);
    h.mem.writeU64(BUF + 8, 0n);
    const sleeping = h.call('nanosleep', BUF, BUF + 16);
    await Promise.resolve();
    h.time.advance(500_000_000n);
    h.task.group.actions.set(Signal.SIGUSR1, {
      handler: 0x401000n,
      flags: SaFlag.SA_RESTORER,
      restorer: 0n,
      mask: new (await import('@tsvisor/abi')).SigSet(),
    });
    h.kernel.sendToTask(h.task, { signo: Signal.SIGUSR1, code: 0 });
    expect(await sleeping).toBe(ERESTART_RESTARTBLOCK);
    expect(h.mem.readU64(BUF + 16)).toBe(1n);
    expect(h.mem.readU64(BUF + 24)).toBe(500_000_000n);
    h.task.pending.clear();
    const resumed = h.call('restart_syscall');
    await Promise.resolve();
    h.time.advance(1_499_999_999n);
    await Promise.resolve();
    let done = false;
    void resumed.then(() => (done = true));
    await Promise.resolve();
    expect(done).toBe(false);
    h.time.advance(1n);
    expect(await resumed).toBe(0);
  });

  it('clock_nanosleep TIMER_ABSTIME is interrupted with ERESTARTNOHAND', async () => {
    const h = harness();
    const deadline = h.time.monotonicNs() + 1_000_000_000n;
    h.mem.writeU64(BUF, deadline / 1_000_000_000n);
    h.mem.writeU64(BUF + 8, deadline % 1_000_000_000n);
    const p = h.call('clock_nanosleep', 1, 1, BUF, 0);
    await Promise.resolve();
    h.task.mask.add(Signal.SIGUSR2);
    h.kernel.sendToTask(h.task, { signo: Signal.SIGUSR1, code: 0 });
    // SIGUSR1's default action kills: the sleeper is woken by the group exit.
    expect(await p).toBe(ERESTARTNOHAND);
  });
});

describe('signals', () => {
  it('rt_sigaction stores and reports actions, dropping unknown flags', async () => {
    const h = harness();
    h.mem.writeU64(BUF, 0x401000n);
    h.mem.writeU64(BUF + 8, BigInt(SaFlag.SA_SIGINFO | SaFlag.SA_RESTORER | 0x200));
    h.mem.writeU64(BUF + 16, 0x401500n);
    h.mem.writeU64(BUF + 24, (1n << 8n) | (1n << 9n));
    expect(await h.call('rt_sigaction', Signal.SIGUSR1, BUF, 0, 8)).toBe(0);
    expect(await h.call('rt_sigaction', Signal.SIGUSR1, 0, BUF + 64, 8)).toBe(0);
    expect(h.mem.readU64(BUF + 64)).toBe(0x401000n);
    expect(h.mem.readU64(BUF + 72)).toBe(BigInt(SaFlag.SA_SIGINFO | SaFlag.SA_RESTORER));
    expect(h.mem.readU64(BUF + 80)).toBe(0x401500n);
    expect(h.mem.readU64(BUF + 88)).toBe(1n << 9n); // SIGKILL (bit 8) removed
  });

  it('rt_sigprocmask blocks, unblocks and reports the old mask', async () => {
    const h = harness();
    h.mem.writeU64(BUF, (1n << 9n) | (1n << 8n));
    expect(await h.call('rt_sigprocmask', 0, BUF, 0, 8)).toBe(0);
    expect(h.task.mask.has(Signal.SIGUSR1)).toBe(true);
    expect(h.task.mask.has(Signal.SIGKILL)).toBe(false);
    expect(await h.call('rt_sigprocmask', 1, BUF, BUF + 8, 8)).toBe(0);
    expect(h.mem.readU64(BUF + 8)).toBe(1n << 9n);
    expect(h.task.mask.isEmpty()).toBe(true);
  });

  it('kill delivers through the kernel; sigsuspend waits for it', async () => {
    const h = harness();
    h.mem.writeU64(BUF, 0x401000n);
    h.mem.writeU64(BUF + 8, BigInt(SaFlag.SA_RESTORER));
    expect(await h.call('rt_sigaction', Signal.SIGUSR1, BUF, 0, 8)).toBe(0);
    h.mem.writeU64(BUF + 64, 0n);
    const suspended = h.call('rt_sigsuspend', BUF + 64, 8);
    await Promise.resolve();
    expect(await h.call('kill', 1, Signal.SIGUSR1)).toBe(0);
    const r = await suspended;
    expect(r).toBe(ERESTARTNOHAND);
    expect(deliverSignals(h.kernel, h.task, r)).toBe('run');
    expect(h.task.regs.get('rip')).toBe(0x401000n);
  });

  it('sigaltstack installs, reports and disables', async () => {
    const h = harness();
    h.mem.writeU64(BUF, 0x20000n);
    h.mem.writeU64(BUF + 16, 0x4000n);
    expect(await h.call('sigaltstack', BUF, 0)).toBe(0);
    expect(await h.call('sigaltstack', 0, BUF + 32)).toBe(0);
    expect(h.mem.readU64(BUF + 32)).toBe(0x20000n);
    expect(h.mem.readI32(BUF + 40)).toBe(0);
    expect(h.mem.readU64(BUF + 48)).toBe(0x4000n);
    h.mem.writeI32(BUF + 8, 2);
    expect(await h.call('sigaltstack', BUF, 0)).toBe(0);
    expect(await h.call('sigaltstack', 0, BUF + 32)).toBe(0);
    expect(h.mem.readI32(BUF + 40)).toBe(2);
  });
});

describe('process', () => {
  it('wait4 reports a child exit status and rusage; waitid fills siginfo', async () => {
    const h = harness();
    const a = fork(h);
    const waiting = h.call('wait4', -1, BUF, 0, BUF + 64);
    await Promise.resolve();
    a.cpu.userNs = 1_500_000_000n;
    h.kernel.exitGroup(a, 3);
    expect(await waiting).toBe(a.tgid);
    expect(h.mem.readI32(BUF)).toBe(3 << 8);
    expect(h.mem.readU64(BUF + 64)).toBe(1n);
    expect(h.mem.readU64(BUF + 72)).toBe(500_000n);
    const b = fork(h);
    h.kernel.sendToGroup(b.group, { signo: Signal.SIGTERM, code: 0 });
    expect(await h.call('waitid', 1, b.tgid, BUF, WaitOption.WEXITED, 0)).toBe(0);
    expect([
      h.mem.readI32(BUF),
      h.mem.readI32(BUF + 8),
      h.mem.readI32(BUF + 16),
      h.mem.readI32(BUF + 24),
    ]).toEqual([Signal.SIGCHLD, 2, b.tgid, Signal.SIGTERM]);
    expect(await h.call('wait4', -1, 0, 0, 0)).toBe(E.ECHILD);
  });

  it('exit_group ends the task', async () => {
    const h = harness();
    expect(await h.call('exit_group', 5)).toBe(TASK_GONE);
    expect(await h.kernel.initExited).toBe(5 << 8);
  });

  it('umask, setsid, getpgrp', async () => {
    const h = harness();
    expect(await h.call('umask', 0o7777)).toBe(0o22);
    expect(await h.call('umask', 0)).toBe(0o777);
    expect(await h.call('getpgrp')).toBe(1);
    expect(await h.call('setsid')).toBe(E.EPERM);
  });
});

describe('thread setup', () => {
  it('arch_prctl sets and reads the FS base', async () => {
    const h = harness();
    expect(await h.call('arch_prctl', ArchPrctl.ARCH_SET_FS, 0x7f0000001000)).toBe(0);
    expect(h.task.regs.get('fs_base')).toBe(0x7f0000001000n);
    expect(await h.call('arch_prctl', ArchPrctl.ARCH_GET_FS, BUF)).toBe(0);
    expect(h.mem.readU64(BUF)).toBe(0x7f0000001000n);
  });

  it('set_tid_address returns the tid; robust list round-trips', async () => {
    const h = harness();
    expect(await h.call('set_tid_address', BUF)).toBe(1);
    expect(h.task.clearChildTid).toBe(BUF);
    expect(await h.call('set_robust_list', BUF + 8, 24)).toBe(0);
    expect(await h.call('get_robust_list', 0, BUF + 64, BUF + 72)).toBe(0);
    expect(h.mem.readU64(BUF + 64)).toBe(BigInt(BUF + 8));
    expect(h.mem.readU64(BUF + 72)).toBe(24n);
  });

  it('prctl sets and gets the name (15 bytes), the death signal and no_new_privs', async () => {
    const h = harness();
    h.mem.write(BUF, enc.encode('a-very-long-thread-name\0'));
    expect(await h.call('prctl', Prctl.PR_SET_NAME, BUF)).toBe(0);
    expect(h.task.comm).toBe('a-very-long-thr');
    expect(await h.call('prctl', Prctl.PR_GET_NAME, BUF + 64)).toBe(0);
    expect(h.mem.readCString(BUF + 64, 16)).toBe('a-very-long-thr');
    expect(await h.call('prctl', Prctl.PR_SET_PDEATHSIG, Signal.SIGTERM)).toBe(0);
    expect(await h.call('prctl', Prctl.PR_GET_PDEATHSIG, BUF)).toBe(0);
    expect(h.mem.readI32(BUF)).toBe(Signal.SIGTERM);
    expect(await h.call('prctl', Prctl.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)).toBe(0);
    expect(await h.call('prctl', Prctl.PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0)).toBe(1);
  });
});

describe('resources and randomness', () => {
  it('getrlimit/setrlimit/prlimit64 round-trip', async () => {
    const h = harness();
    expect(await h.call('getrlimit', 3, BUF)).toBe(0);
    expect(h.mem.readU64(BUF)).toBe(8n << 20n);
    expect(h.mem.readU64(BUF + 8)).toBe(RLIM_INFINITY);
    h.mem.writeU64(BUF, 64n);
    h.mem.writeU64(BUF + 8, 128n);
    expect(await h.call('prlimit64', 0, 7, BUF, BUF + 16)).toBe(0);
    expect(h.mem.readU64(BUF + 16)).toBe(1024n);
    expect(await h.call('getrlimit', 7, BUF + 32)).toBe(0);
    expect([h.mem.readU64(BUF + 32), h.mem.readU64(BUF + 40)]).toEqual([64n, 128n]);
  });

  it('getrandom fills the buffer and stops at a fault', async () => {
    const h = harness();
    expect(await h.call('getrandom', BUF, 64, 0)).toBe(64);
    expect(h.mem.peek(BUF, 64).some((b) => b !== 0)).toBe(true);
    expect(await h.call('getrandom', BUF + 0x10000 - 10, 100, 0)).toBe(10);
  });

  it('sched_getaffinity reports the configured CPUs', async () => {
    const h = harness();
    expect(await h.call('sched_getaffinity', 0, 128, BUF)).toBe(8);
    expect(h.mem.peek(BUF, 8)).toEqual(new Uint8Array([3, 0, 0, 0, 0, 0, 0, 0]));
  });
});

describe('timers', () => {
  it('alarm raises SIGALRM on the clock and reports the time left', async () => {
    const h = harness();
    h.task.mask.add(Signal.SIGALRM);
    expect(await h.call('alarm', 5)).toBe(0);
    h.time.advance(2_000_000_000n);
    expect(await h.call('alarm', 5)).toBe(3);
    h.time.advance(5_000_000_000n);
    expect(h.task.group.sharedPending.has(Signal.SIGALRM)).toBe(true);
    expect(await h.call('alarm', 0)).toBe(0);
  });

  it('setitimer reloads with its interval; getitimer reads it back', async () => {
    const h = harness();
    h.task.mask.add(Signal.SIGALRM);
    h.mem.write(BUF, new Uint8Array(32));
    h.mem.writeU64(BUF + 8, 100_000n); // interval 0.1 s
    h.mem.writeU64(BUF + 24, 100_000n); // value 0.1 s
    expect(await h.call('setitimer', 0, BUF, 0)).toBe(0);
    h.time.advance(100_000_000n);
    expect(h.task.group.sharedPending.has(Signal.SIGALRM)).toBe(true);
    h.task.group.sharedPending.clear();
    h.time.advance(100_000_000n);
    expect(h.task.group.sharedPending.has(Signal.SIGALRM)).toBe(true);
    expect(await h.call('getitimer', 0, BUF + 64)).toBe(0);
    expect(h.mem.readU64(BUF + 72)).toBe(100_000n);
  });
});

describe('compatibility page', () => {
  it('lists every syscall with its support level', async () => {
    const { compatibilityMarkdown } = await import('./compatibility.js');
    const md = compatibilityMarkdown(createSyscallTable());
    expect(md).toContain('| 39 | getpid | full |  |');
    expect(md).toContain('| 206 | io_setup | ENOSYS | not implemented yet |');
    expect(md).toMatch(/\d+ full, \d+ partial/);
  });
});

describe('refused syscalls', () => {
  it('answer their fixed errno and say why in the table', async () => {
    const h = harness();
    expect(await h.call('settimeofday', 0, 0)).toBe(E.EPERM);
    expect(await h.call('ptrace', 16, 0, 0, 0)).toBe(E.EPERM);
    expect(createSyscallTable().get(169)?.support).toMatchObject({ level: 'errno', errno: E.EPERM });
  });
});
