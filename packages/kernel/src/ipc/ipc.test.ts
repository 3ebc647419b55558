import { E, isError } from '@tsvisor/abi';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { makeCredentials } from '../creds/credentials.js';
import { Kernel } from '../kernel.js';
import { IpcNamespace } from './ipc-namespace.js';
import { IPC_CREAT, IPC_EXCL, IPC_NOWAIT, IpcIds, IpcObject, ipcPermitted } from './ipc-ids.js';
import { MSG_EXCEPT, MsgQueue } from './msg.js';
import { SEMVMX, SEM_UNDO, SemNamespace, type SemSet, type SemSleeper, type SemopOutcome } from './sem.js';
import { SHM_DEST, ShmNamespace, type ShmBacking, type ShmSegment } from './shm.js';

const root = makeCredentials(0, 0);
const user = makeCredentials(1000, 1000);

describe('IpcIds', () => {
  it('allocates indexes cyclically and moves the sequence number on when they wrap', () => {
    const ids = new IpcIds<IpcObject>(3);
    const objs = [0, 1, 2].map(() => new IpcObject(0, root, 0o600));
    expect(objs.map((o) => ids.add(o))).toEqual([0, 1, 2]);
    expect(ids.add(new IpcObject(0, root, 0o600))).toBe(E.ENOSPC);
    ids.remove(objs[1]!);
    // The freed index 1 is taken again only after a wrap, with the next sequence number.
    expect(ids.add(new IpcObject(0, root, 0o600))).toBe((1 << 15) + 1);
    expect(ids.find(1)).toBe(E.EINVAL);
    expect(ids.find((1 << 15) + 1)).toBeInstanceOf(IpcObject);
    expect(ids.maxIndex()).toBe(2);
  });

  it('checks owner, group and other bits, and lets root through', () => {
    const obj = new IpcObject(0, makeCredentials(1000, 1000), 0o640);
    expect(ipcPermitted(obj, makeCredentials(1000, 5), 0o600)).toBe(true);
    expect(ipcPermitted(obj, makeCredentials(2000, 1000), 0o400)).toBe(true);
    expect(ipcPermitted(obj, makeCredentials(2000, 1000), 0o200)).toBe(false);
    expect(ipcPermitted(obj, makeCredentials(2000, 7, [1000]), 0o040)).toBe(true);
    expect(ipcPermitted(obj, makeCredentials(2000, 2000), 0o004)).toBe(false);
    expect(ipcPermitted(obj, makeCredentials(2000, 2000), 0)).toBe(true);
    expect(ipcPermitted(obj, root, 0o777)).toBe(true);
  });
});

describe('SemNamespace', () => {
  const sops = (...ops: [number, number, number?][]) =>
    ops.map(([num, op, flg]) => ({ num, op, flg: flg ?? 0 }));

  it('applies a group of operations all or none', () => {
    const ns = new SemNamespace();
    const id = ns.get(0, 2, IPC_CREAT | 0o600, root, 1) as number;
    const set = ns.ids.find(id) as SemSet;
    ns.setAll(set, [1, 0], 5, 1);
    expect(ns.semop(set, sops([0, -1, IPC_NOWAIT], [1, -1, IPC_NOWAIT]), 7, {}, 2)).toBe(E.EAGAIN);
    expect([...set.values]).toEqual([1, 0]);
    expect(ns.semop(set, sops([0, -1], [1, SEMVMX + 1]), 7, {}, 2)).toBe(E.ERANGE);
    expect([...set.values]).toEqual([1, 0]);
    expect(ns.semop(set, sops([0, -1], [1, 3]), 7, {}, 2)).toBe(0);
    expect([...set.values]).toEqual([0, 3]);
    expect([...set.pids]).toEqual([7, 7]);
  });

  it('completes sleepers in arrival order when the set changes, and counts them', () => {
    const ns = new SemNamespace();
    const set = ns.ids.find(ns.get(0, 1, 0o600, root, 1) as number) as SemSet;
    const sleeper = (r: SemopOutcome): SemSleeper => {
      if (r === 0 || isError(r)) throw new Error(`expected a sleeper, got ${String(r)}`);
      return r;
    };
    const a = sleeper(ns.semop(set, sops([0, -1]), 10, {}, 1));
    const b = sleeper(ns.semop(set, sops([0, -2]), 11, {}, 1));
    expect(set.ncnt(0)).toBe(2);
    expect(ns.semop(set, sops([0, 1]), 20, {}, 2)).toBe(0);
    expect(a.waiter.reason).toBe('notified');
    expect(a.finish()).toBe(0);
    expect(b.waiter.reason).toBeUndefined();
    expect(set.ncnt(0)).toBe(1);
    // b waits for 2: a later +1 +1 completes it, and the value ends at 0.
    expect(ns.semop(set, sops([0, 1]), 20, {}, 2)).toBe(0);
    expect(b.waiter.reason).toBeUndefined();
    expect(ns.semop(set, sops([0, 1]), 20, {}, 2)).toBe(0);
    expect(b.finish()).toBe(0);
    expect(set.values[0]).toBe(0);
    expect(set.pids[0]).toBe(11);
    ns.setVal(set, 0, 1, 30, 3);
    const z = sleeper(ns.semop(set, sops([0, 0]), 12, {}, 3));
    expect(set.zcnt(0)).toBe(1);
    expect(ns.semop(set, sops([0, -1]), 20, {}, 4)).toBe(0);
    expect(z.finish()).toBe(0);
    const c = sleeper(ns.semop(set, sops([0, -1]), 13, {}, 5));
    ns.remove(set);
    expect(c.waiter.reason).toBe('notified');
    expect(c.finish()).toBe(E.EIDRM);
  });

  it('undoes SEM_UNDO adjustments when the process exits, clamped at 0, and SETVAL forgets them', () => {
    const ns = new SemNamespace();
    const set = ns.ids.find(ns.get(0, 2, 0o600, root, 1) as number) as SemSet;
    const proc = {};
    expect(ns.semop(set, sops([0, 5, SEM_UNDO], [1, 2, SEM_UNDO]), 3, proc, 1)).toBe(0);
    ns.setVal(set, 1, 9, 4, 1);
    expect(ns.semop(set, sops([0, -4]), 4, {}, 1)).toBe(0);
    ns.exitUndo(proc, 3, 2);
    // Semaphore 0: 1 - 5 clamps to 0; semaphore 1's adjustment was reset by SETVAL.
    expect([...set.values]).toEqual([0, 9]);
    expect(set.pids[0]).toBe(3);
  });

  it('refuses an undo adjustment beyond SEMAEM', () => {
    const ns = new SemNamespace();
    const set = ns.ids.find(ns.get(0, 1, 0o600, root, 1) as number) as SemSet;
    ns.setVal(set, 0, SEMVMX, 1, 1);
    const proc = {};
    expect(ns.semop(set, sops([0, -SEMVMX, SEM_UNDO]), 1, proc, 1)).toBe(0);
    expect(ns.semop(set, sops([0, 1, 0]), 1, proc, 1)).toBe(0);
    expect(ns.semop(set, sops([0, -1, SEM_UNDO]), 1, proc, 1)).toBe(E.ERANGE);
  });

  it('looks keys up as semget does', () => {
    const ns = new SemNamespace();
    const id = ns.get(42, 3, IPC_CREAT | 0o600, root, 1);
    expect(ns.get(42, 0, 0, root, 1)).toBe(id);
    expect(ns.get(42, 4, 0, root, 1)).toBe(E.EINVAL);
    expect(ns.get(42, 3, IPC_CREAT | IPC_EXCL, root, 1)).toBe(E.EEXIST);
    expect(ns.get(42, 0, 0o400, user, 1)).toBe(E.EACCES);
    expect(ns.get(43, 1, 0, root, 1)).toBe(E.ENOENT);
    expect(ns.get(0, 0, 0, root, 1)).toBe(E.EINVAL);
  });
});

describe('MsgQueue.find', () => {
  it('picks the message msgrcv(2) describes for every msgtyp', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 5 }), { maxLength: 12 }),
        fc.integer({ min: -6, max: 6 }),
        fc.boolean(),
        (types, msgtyp, except) => {
          const q = new MsgQueue(0, root, 0o600, 0);
          types.forEach((ty) => q.push({ type: BigInt(ty), text: new Uint8Array(0) }, 1, 0));
          const got = q.find(BigInt(msgtyp), except ? MSG_EXCEPT : 0);
          let want: number;
          if (msgtyp === 0) want = types.length ? 0 : -1;
          else if (msgtyp > 0) want = types.findIndex((ty) => (ty === msgtyp) !== except);
          else {
            const ok = types.filter((ty) => ty <= -msgtyp);
            want = ok.length ? types.indexOf(Math.min(...ok)) : -1;
          }
          expect(got).toBe(want);
        },
      ),
    );
  });

  it('counts bytes and messages against msg_qbytes', () => {
    const q = new MsgQueue(0, root, 0o600, 0);
    q.qbytes = 3;
    expect(q.hasRoom(3)).toBe(true);
    q.push({ type: 1n, text: new Uint8Array(0) }, 1, 0);
    q.push({ type: 1n, text: new Uint8Array(0) }, 1, 0);
    q.push({ type: 1n, text: new Uint8Array(0) }, 1, 0);
    // Three empty messages fill a three-byte queue: Linux counts one byte per message too.
    expect(q.hasRoom(0)).toBe(false);
    q.take(0, 2, 0);
    expect(q.hasRoom(0)).toBe(true);
    expect(q.lrpid).toBe(2);
  });
});

describe('ShmNamespace', () => {
  function fake(): { ns: ShmNamespace; maps: Map<object, number>; released: number[] } {
    const maps = new Map<object, number>();
    const released: number[] = [];
    const ns = new ShmNamespace((files) => files.reduce((n, f) => n + (maps.get(f) ?? 0), 0));
    return { ns, maps, released };
  }
  const backing = (released: number[], n: number): ShmBacking => ({
    mapFiles: [
      {
        mapReadable: true,
        mapWritable: true,
        mapDevMajor: 0,
        mapDevMinor: 1,
        mapInode: 0,
        mapPath: () => '',
      },
    ],
    release: () => released.push(n),
  });

  it('keeps a removed segment while it is mapped, then frees it', () => {
    const { ns, maps, released } = fake();
    const id = ns.get(7, 5000, IPC_CREAT | 0o600, root, 1, 1, () => backing(released, 1)) as number;
    const seg = ns.find(id);
    if (!(seg instanceof IpcObject)) throw new Error('no segment');
    const file = (seg as ShmSegment).backing.mapFiles[0]!;
    expect(ns.totalPages).toBe(2);
    maps.set(file, 1);
    ns.remove(seg as ShmSegment);
    expect(seg.mode & SHM_DEST).toBe(SHM_DEST);
    expect(seg.key).toBe(0);
    expect(ns.find(id)).toBe(seg);
    expect(ns.get(7, 0, 0, root, 1, 1, () => E.ENOMEM)).toBe(E.ENOENT);
    maps.set(file, 0);
    expect(ns.find(id)).toBe(E.EINVAL);
    expect(released).toEqual([1]);
    expect(ns.totalPages).toBe(0);
  });

  it('checks sizes as shmget does', () => {
    const { ns, released } = fake();
    expect(ns.get(0, 0, 0o600, root, 1, 1, () => backing(released, 1))).toBe(E.EINVAL);
    const id = ns.get(9, 100, IPC_CREAT | 0o600, root, 1, 1, () => backing(released, 2));
    expect(ns.get(9, 101, 0, root, 1, 1, () => E.ENOMEM)).toBe(E.EINVAL);
    expect(ns.get(9, 100, 0, root, 1, 1, () => E.ENOMEM)).toBe(id);
    expect(ns.get(10, 100, IPC_CREAT, root, 1, 1, () => E.ENOMEM)).toBe(E.ENOMEM);
  });
});

describe('README example (System V IPC)', () => {
  it('runs as written', () => {
    const kernel = new Kernel({ log: () => {} });
    const sem = kernel.ipc.sem;
    const id = sem.get(0x5151, 2, IPC_CREAT | 0o600, makeCredentials(0, 0), 0);
    const set = isError(id) ? id : sem.ids.find(id);
    if (isError(set)) throw new Error('no set');
    const proc = {};
    const both = [
      { num: 0, op: 1, flg: 0 },
      { num: 1, op: -1, flg: IPC_NOWAIT },
    ];
    expect(sem.semop(set, both, 1, proc, 0)).toBe(E.EAGAIN);
    expect(sem.semop(set, [{ num: 0, op: 1, flg: 0 }], 1, proc, 0)).toBe(0);
    expect([...set.values]).toEqual([1, 0]);
  });
});

describe('IpcNamespace', () => {
  it('releases every segment when the sandbox ends', () => {
    const ns = new IpcNamespace(() => []);
    const released: number[] = [];
    const file = {
      mapReadable: true,
      mapWritable: true,
      mapDevMajor: 0,
      mapDevMinor: 1,
      mapInode: 0,
      mapPath: () => '',
    };
    for (const n of [1, 2]) {
      ns.shm.get(0, 4096, 0o600, root, 1, 1, () => ({ mapFiles: [file], release: () => released.push(n) }));
    }
    ns.destroy();
    expect(released).toEqual([1, 2]);
    expect(ns.shm.ids.inUse).toBe(0);
  });
});
