import { E } from '@tsvisor/abi';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BUF, harness } from './harness.test-util.js';

const OTHER = 0;
const FIFO = 1;
const RR = 2;
const BATCH = 3;
const IDLE = 5;
const RESET_ON_FORK = 0x40000000;

type H = ReturnType<typeof harness>;

async function setsched(h: H, pid: number, policy: number, prio: number): Promise<unknown> {
  h.mem.writeI32(BUF, prio);
  return h.call('sched_setscheduler', pid, policy, BUF);
}

async function getparam(h: H, pid = 0): Promise<number> {
  expect(await h.call('sched_getparam', pid, BUF + 64)).toBe(0);
  return h.mem.readI32(BUF + 64) as number;
}

/** Writes a struct sched_attr (56 bytes) at BUF + 128. */
function attr(
  h: H,
  a: { size?: number; policy: number; flags?: bigint; nice?: number; prio?: number },
): number {
  const b = new Uint8Array(56);
  const v = new DataView(b.buffer);
  v.setUint32(0, a.size ?? 56, true);
  v.setUint32(4, a.policy, true);
  v.setBigUint64(8, a.flags ?? 0n, true);
  v.setInt32(16, a.nice ?? 0, true);
  v.setUint32(20, a.prio ?? 0, true);
  h.mem.write(BUF + 128, b);
  return BUF + 128;
}

describe('sched policy family', () => {
  it('accepts exactly the valid policy/priority pairs (as root) and reports them back', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: -2, max: 8 }),
        fc.integer({ min: -2, max: 101 }),
        async (policy, prio) => {
          const h = harness();
          const realtime = policy === FIFO || policy === RR;
          const fair = [OTHER, BATCH, IDLE, 7].includes(policy);
          const valid = (realtime && prio >= 1 && prio <= 99) || (fair && prio === 0);
          const r = await setsched(h, 0, policy, prio);
          expect(r).toBe(valid ? 0 : E.EINVAL);
          expect(await h.call('sched_getscheduler', 0)).toBe(valid ? policy : OTHER);
          expect(await getparam(h)).toBe(valid && realtime ? prio : 0);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('priority ranges, rr interval, and argument errors', async () => {
    const h = harness();
    expect(await h.call('sched_get_priority_max', FIFO)).toBe(99);
    expect(await h.call('sched_get_priority_min', RR)).toBe(1);
    expect(await h.call('sched_get_priority_max', BATCH)).toBe(0);
    expect(await h.call('sched_get_priority_min', 4)).toBe(E.EINVAL);
    expect(await h.call('sched_getscheduler', -1)).toBe(E.EINVAL);
    expect(await h.call('sched_getscheduler', 4242)).toBe(E.ESRCH);
    expect(await h.call('sched_setscheduler', 0, OTHER, 0)).toBe(E.EINVAL);
    expect(await h.call('sched_setscheduler', 0, OTHER, 1)).toBe(E.EFAULT);
    expect(await setsched(h, 0, RR, 7)).toBe(0);
    expect(await h.call('sched_rr_get_interval', 0, BUF + 32)).toBe(0);
    expect(h.mem.readU64(BUF + 32)).toBe(0n);
    expect(h.mem.readU64(BUF + 40)).toBe(100_000_000n);
    h.mem.writeI32(BUF, 0);
    expect(await h.call('sched_setparam', 0, BUF)).toBe(E.EINVAL);
    h.mem.writeI32(BUF, 9);
    expect(await h.call('sched_setparam', 0, BUF)).toBe(0);
    expect(await getparam(h)).toBe(9);
    expect(await h.call('sched_getscheduler', 0)).toBe(RR);
  });

  it('SCHED_RESET_ON_FORK: the child gets SCHED_OTHER and nice 0; without it, the policy is inherited', async () => {
    const h = harness();
    expect(await setsched(h, 0, FIFO | RESET_ON_FORK, 3)).toBe(0);
    expect(await h.call('sched_getscheduler', 0)).toBe(FIFO | RESET_ON_FORK);
    expect(await h.call('setpriority', 0, 0, -3)).toBe(0);
    const c1 = (await h.call('fork')) as number;
    expect(await h.call('sched_getscheduler', c1)).toBe(OTHER);
    expect(await h.call('getpriority', 0, c1)).toBe(20);
    expect(await setsched(h, 0, FIFO, 3)).toBe(0);
    const c2 = (await h.call('fork')) as number;
    expect(await h.call('sched_getscheduler', c2)).toBe(FIFO);
    expect(await getparam(h, c2)).toBe(3);
    expect(await h.call('getpriority', 0, c2)).toBe(23);
  });

  it('an unprivileged user needs RLIMIT_RTPRIO, cannot leave SCHED_IDLE or drop reset-on-fork', async () => {
    const h = harness();
    h.mem.write(BUF + 256, new Uint8Array(16));
    expect(await h.call('setrlimit', 13, BUF + 256)).toBe(0); // RLIMIT_NICE 0
    expect(await h.call('setresuid', 1000, 1000, 1000)).toBe(0);
    expect(await setsched(h, 0, FIFO, 1)).toBe(E.EPERM);
    expect(await setsched(h, 0, BATCH | RESET_ON_FORK, 0)).toBe(0);
    expect(await setsched(h, 0, BATCH, 0)).toBe(E.EPERM);
    expect(await setsched(h, 0, IDLE | RESET_ON_FORK, 0)).toBe(0);
    expect(await setsched(h, 0, OTHER | RESET_ON_FORK, 0)).toBe(E.EPERM);
    expect(await setsched(h, 1, IDLE | RESET_ON_FORK, 0)).toBe(0); // pid 1 is this task
  });

  it('sched_setattr and sched_getattr agree with setpriority; size rules (E2BIG writes the size back)', async () => {
    const h = harness();
    expect(await h.call('sched_setattr', 0, attr(h, { policy: OTHER, nice: 5 }), 0)).toBe(0);
    expect(await h.call('getpriority', 0, 0)).toBe(15);
    expect(await h.call('sched_getattr', 0, BUF + 512, 56, 0)).toBe(0);
    const v = new DataView(h.mem.peek(BUF + 512, 56).slice().buffer);
    expect([v.getUint32(0, true), v.getUint32(4, true), v.getInt32(16, true)]).toEqual([56, OTHER, 5]);
    expect(await h.call('sched_setattr', 0, attr(h, { size: 20, policy: OTHER }), 0)).toBe(E.E2BIG);
    expect(h.mem.readU32(BUF + 128)).toBe(56);
    expect(await h.call('sched_setattr', 0, attr(h, { policy: OTHER }), 1)).toBe(E.EINVAL);
    expect(await h.call('sched_getattr', 0, BUF + 512, 40, 0)).toBe(E.EINVAL);
    expect(await h.call('sched_setattr', 0, attr(h, { policy: RR, prio: 4, flags: 1n }), 0)).toBe(0);
    expect(await h.call('sched_getscheduler', 0)).toBe(RR | RESET_ON_FORK);
    // KEEP_PARAMS: neither policy nor priority change, only the reset-on-fork bit.
    expect(await h.call('sched_setattr', 0, attr(h, { policy: FIFO, prio: 50, flags: 0x10n }), 0)).toBe(0);
    expect(await h.call('sched_getscheduler', 0)).toBe(RR);
    expect(await getparam(h)).toBe(4);
    // KEEP_POLICY: the priority changes under the kept policy.
    expect(await h.call('sched_setattr', 0, attr(h, { policy: OTHER, prio: 20, flags: 0x08n }), 0)).toBe(0);
    expect(await h.call('sched_getscheduler', 0)).toBe(RR);
    expect(await getparam(h)).toBe(20);
  });

  it('sched_setaffinity is what sched_getaffinity reports, and fork inherits it', async () => {
    const h = harness(); // 2 CPUs
    h.mem.write(BUF, new Uint8Array([2, 0, 0, 0, 0, 0, 0, 0]));
    expect(await h.call('sched_setaffinity', 0, 8, BUF)).toBe(0);
    expect(await h.call('sched_getaffinity', 0, 8, BUF + 16)).toBe(8);
    expect(h.mem.peek(BUF + 16, 1)[0]).toBe(2);
    const c = (await h.call('fork')) as number;
    expect(await h.call('sched_getaffinity', c, 8, BUF + 16)).toBe(8);
    expect(h.mem.peek(BUF + 16, 1)[0]).toBe(2);
    h.mem.write(BUF, new Uint8Array([4, 0, 0, 0, 0, 0, 0, 0]));
    expect(await h.call('sched_setaffinity', 0, 8, BUF)).toBe(E.EINVAL);
  });

  it('RLIMIT_NICE lets an unprivileged user lower nice down to 20 - limit (setpriority and sched_setattr)', async () => {
    const h = harness();
    const lim = new DataView(new ArrayBuffer(16));
    lim.setBigUint64(0, 25n, true);
    lim.setBigUint64(8, 25n, true);
    h.mem.write(BUF + 256, new Uint8Array(lim.buffer));
    expect(await h.call('setrlimit', 13, BUF + 256)).toBe(0);
    expect(await h.call('setpriority', 0, 0, 5)).toBe(0);
    expect(await h.call('setresuid', 1000, 1000, 1000)).toBe(0);
    expect(await h.call('setpriority', 0, 0, -5)).toBe(0);
    expect(await h.call('setpriority', 0, 0, -6)).toBe(E.EACCES);
    expect(await h.call('sched_setattr', 0, attr(h, { policy: OTHER, nice: -6 }), 0)).toBe(E.EPERM);
    expect(await h.call('sched_setattr', 0, attr(h, { policy: OTHER, nice: 0 }), 0)).toBe(0);
    expect(await h.call('getpriority', 0, 0)).toBe(20);
  });
});
