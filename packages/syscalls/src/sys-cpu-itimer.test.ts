import { E, SiCode } from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import { BUF, harness } from './harness.test-util.js';

const MS = 1_000_000n;
const ITIMER_VIRTUAL = 1;
const ITIMER_PROF = 2;
const SIGVTALRM = 26;
const SIGPROF = 27;

describe('ITIMER_VIRTUAL and ITIMER_PROF', () => {
  it('fire at the first syscall after their CPU time is used, then reload', async () => {
    const h = harness();
    h.mem.writeU64(BUF, (1n << BigInt(SIGVTALRM - 1)) | (1n << BigInt(SIGPROF - 1)));
    await h.call('rt_sigprocmask', 0, BUF, 0, 8);
    // it_interval 20 ms, it_value 30 ms (struct itimerval: interval first).
    h.mem.writeU64(BUF + 0x10, 0n);
    h.mem.writeU64(BUF + 0x18, 20_000n);
    h.mem.writeU64(BUF + 0x20, 0n);
    h.mem.writeU64(BUF + 0x28, 30_000n);
    expect(await h.call('setitimer', ITIMER_VIRTUAL, BUF + 0x10, 0)).toBe(0);
    expect(await h.call('setitimer', ITIMER_PROF, BUF + 0x10, 0)).toBe(0);
    h.task.cpu.userNs += 20n * MS;
    h.task.cpu.sysNs += 15n * MS;
    await h.call('getpid');
    // PROF counts user + system time (35 ms): due; VIRTUAL only user time (20 ms): not yet.
    expect(h.task.group.sharedPending.has(SIGPROF)).toBe(true);
    expect(h.task.group.sharedPending.has(SIGVTALRM)).toBe(false);
    expect(await h.call('getitimer', ITIMER_VIRTUAL, BUF + 0x40)).toBe(0);
    expect(h.mem.readU64(BUF + 0x48)).toBe(20_000n); // interval
    expect(h.mem.readU64(BUF + 0x58)).toBe(10_000n); // 10 ms of user time left
    h.task.cpu.userNs += 10n * MS;
    await h.call('getpid');
    const info = h.task.group.sharedPending.take(SIGVTALRM);
    expect(info).toMatchObject({ signo: SIGVTALRM, code: SiCode.SI_KERNEL });
    // Reloaded: 20 ms more.
    await h.call('getitimer', ITIMER_VIRTUAL, BUF + 0x40);
    expect(h.mem.readU64(BUF + 0x58)).toBe(20_000n);
    // Disarm: the old value comes back, then zeros.
    h.mem.writeExact(BUF + 0x10, new Uint8Array(32));
    expect(await h.call('setitimer', ITIMER_VIRTUAL, BUF + 0x10, BUF + 0x60)).toBe(0);
    expect(h.mem.readU64(BUF + 0x78)).toBe(20_000n);
    await h.call('getitimer', ITIMER_VIRTUAL, BUF + 0x40);
    expect([h.mem.readU64(BUF + 0x48), h.mem.readU64(BUF + 0x58)]).toEqual([0n, 0n]);
  });
});

describe('clock_nanosleep on CPU-time clocks', () => {
  it('sleeps until the process has used the CPU time; its own thread clock is EINVAL', async () => {
    const h = harness();
    h.mem.writeU64(BUF, 0n);
    h.mem.writeU64(BUF + 8, 5n * MS);
    const p = h.call('clock_nanosleep', 2, 0, BUF, 0);
    await Promise.resolve();
    expect(h.task.blocked).toBe(true);
    h.time.advance(50n * MS); // wall time does not count
    await Promise.resolve();
    expect(h.task.blocked).toBe(true);
    h.task.cpu.userNs += 5n * MS;
    await h.call('getpid'); // the syscall where the runtime would have sampled that time
    expect(await p).toBe(0);
    expect(await h.call('clock_nanosleep', 3, 0, BUF, 0)).toBe(E.EOPNOTSUPP); // glibc says EINVAL itself
    expect(await h.call('clock_nanosleep', -2, 0, BUF, 0)).toBe(E.EINVAL); // own thread, by id
    expect(await h.call('clock_nanosleep', -5, 0, BUF, 0)).toBe(E.EOPNOTSUPP); // an fd clock
    expect(await h.call('clock_nanosleep', 4, 0, BUF, 0)).toBe(E.EOPNOTSUPP);
  });
});
