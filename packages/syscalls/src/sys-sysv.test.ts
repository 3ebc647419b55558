// System V IPC handlers over fake memory: the paths the conformance program
// (packages/runtime/src/testdata/sysv-ipc.c) cannot reach cheaply: faults, timeouts on a manual
// clock, signals, and the model's view of an attachment.
import { E } from '@tsvisor/abi';
import { ERESTARTNOHAND } from '@tsvisor/kernel';
import { describe, expect, it } from 'vitest';
import { BAD, BUF, harness, type Harness } from './harness.test-util.js';
import { modelOf } from './sys-mm.js';
import { ShmMapFile } from './sys-sysv-shm.js';

const IPC_PRIVATE = 0;
const IPC_CREAT = 0o1000;
const IPC_NOWAIT = 0o4000;
const IPC_RMID = 0;
const IPC_STAT = 2;
const SETVAL = 16;
const GETNCNT = 14;

/** Lets a handler that awaits run up to its wait. */
const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

function sembuf(h: Harness, at: number, ...ops: [number, number, number][]): number {
  const dv = new DataView(new ArrayBuffer(ops.length * 6));
  ops.forEach(([num, op, flg], i) => {
    dv.setUint16(i * 6, num, true);
    dv.setInt16(i * 6 + 2, op, true);
    dv.setInt16(i * 6 + 4, flg, true);
  });
  h.mem.write(at, new Uint8Array(dv.buffer));
  return at;
}

describe('shmat / shmdt in the address-space model', () => {
  it('maps the segment shared as /SYSV<key> (deleted) with the id as inode, and frees it at the last detach', async () => {
    const h = harness();
    const id = (await h.call('shmget', 0x2a, 10000, IPC_CREAT | 0o600)) as number;
    const addr = (await h.call('shmat', id, 0, 0)) as number;
    expect(addr % 4096).toBe(0);
    const vma = modelOf(h.task).findVma(addr);
    expect(vma?.file).toBeInstanceOf(ShmMapFile);
    expect(vma?.end).toBe(addr + 12288);
    expect(vma?.file?.mapPath()).toBe('/SYSV0000002a (deleted)');
    expect(vma?.file?.mapInode).toBe(id);
    expect(await h.call('shmctl', id, IPC_STAT, BUF)).toBe(0);
    expect(new DataView(h.mem.peek(BUF + 88, 8).buffer).getBigUint64(0, true)).toBe(1n);
    expect(await h.call('shmctl', id, IPC_RMID, 0)).toBe(0);
    expect(await h.call('shmctl', id, IPC_STAT, BUF)).toBe(0);
    expect(await h.call('shmdt', addr)).toBe(0);
    expect(modelOf(h.task).findVma(addr)).toBeUndefined();
    expect(await h.call('shmctl', id, IPC_STAT, BUF)).toBe(E.EINVAL);
  });

  it('refuses sizes above SHMMAX (EINVAL) and beyond the memory there is (ENOMEM)', async () => {
    const h = harness();
    expect(await h.call('shmget', IPC_PRIVATE, (1n << 64n) - 1n, 0o600)).toBe(E.EINVAL);
    expect(await h.call('shmget', IPC_PRIVATE, 0, 0o600)).toBe(E.EINVAL);
    expect(await h.call('shmget', IPC_PRIVATE, 1n << 60n, 0o600)).toBe(E.ENOMEM);
  });

  it('answers EFAULT for a bad buffer and EINVAL for a detach where nothing is attached', async () => {
    const h = harness();
    const id = (await h.call('shmget', IPC_PRIVATE, 4096, 0o600)) as number;
    expect(await h.call('shmctl', id, IPC_STAT, BAD)).toBe(E.EFAULT);
    expect(await h.call('shmdt', BUF)).toBe(E.EINVAL);
  });
});

describe('semop waits', () => {
  it('semtimedop gives EAGAIN when its timeout passes', async () => {
    const h = harness();
    const id = (await h.call('semget', IPC_PRIVATE, 1, 0o600)) as number;
    const ts = BUF + 0x100;
    h.mem.write(ts, new Uint8Array(new BigUint64Array([0n, 5_000_000n]).buffer));
    const p = h.call('semtimedop', id, sembuf(h, BUF, [0, -1, 0]), 1, ts);
    await settle();
    expect(await h.call('semctl', id, 0, GETNCNT)).toBe(1);
    h.time.advance(5_000_000n);
    expect(await p).toBe(E.EAGAIN);
    expect(await h.call('semctl', id, 0, GETNCNT)).toBe(0);
  });

  it('a signal ends a semop with EINTR (never restarted) and a SETVAL that frees it completes it', async () => {
    const h = harness();
    const id = (await h.call('semget', IPC_PRIVATE, 1, 0o600)) as number;
    const p = h.call('semop', id, sembuf(h, BUF, [0, -1, 0]), 1);
    await settle();
    h.task.interrupt();
    expect(await p).toBe(E.EINTR);
    const q = h.call('semop', id, sembuf(h, BUF, [0, -1, 0]), 1);
    await settle();
    expect(await h.call('semctl', id, 0, SETVAL, 3)).toBe(0);
    expect(await q).toBe(0);
    expect(await h.call('semctl', id, 0, 12)).toBe(2);
  });

  it('checks the operations before the set: EINVAL, E2BIG, EFAULT', async () => {
    const h = harness();
    const id = (await h.call('semget', IPC_PRIVATE, 1, 0o600)) as number;
    expect(await h.call('semop', id, BUF, 0)).toBe(E.EINVAL);
    expect(await h.call('semop', id, BUF, 501)).toBe(E.E2BIG);
    expect(await h.call('semop', id, BAD, 1)).toBe(E.EFAULT);
    expect(await h.call('semop', 999, sembuf(h, BUF, [0, 1, 0]), 1)).toBe(E.EINVAL);
    expect(await h.call('semop', id, sembuf(h, BUF, [0, -1, IPC_NOWAIT]), 1)).toBe(E.EAGAIN);
  });
});

describe('msgsnd / msgrcv', () => {
  it('a blocked msgrcv is woken by a send, and a signal gives ERESTARTNOHAND', async () => {
    const h = harness();
    const id = (await h.call('msgget', IPC_PRIVATE, 0o600)) as number;
    const p = h.call('msgrcv', id, BUF + 0x200, 64, 0, 0);
    await settle();
    h.mem.write(BUF, new Uint8Array([4, 0, 0, 0, 0, 0, 0, 0, 104, 105]));
    expect(await h.call('msgsnd', id, BUF, 2, 0)).toBe(0);
    expect(await p).toBe(2);
    expect([...h.mem.peek(BUF + 0x200, 10)]).toEqual([4, 0, 0, 0, 0, 0, 0, 0, 104, 105]);
    const q = h.call('msgrcv', id, BUF + 0x200, 64, 0, 0);
    await settle();
    h.task.interrupt();
    expect(await q).toBe(ERESTARTNOHAND);
  });

  it('faults: the type (EFAULT before size checks), and a receive buffer that loses the message, as Linux', async () => {
    const h = harness();
    const id = (await h.call('msgget', IPC_PRIVATE, 0o600)) as number;
    expect(await h.call('msgsnd', id, BAD, 100000, 0)).toBe(E.EFAULT);
    h.mem.write(BUF, new Uint8Array([1, 0, 0, 0, 0, 0, 0, 0, 120]));
    expect(await h.call('msgsnd', id, BUF, 1, 0)).toBe(0);
    expect(await h.call('msgrcv', id, BAD, 8, 0, 0)).toBe(E.EFAULT);
    expect(await h.call('msgrcv', id, BUF, 8, 0, IPC_NOWAIT)).toBe(E.ENOMSG);
  });
});
