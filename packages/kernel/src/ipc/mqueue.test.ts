import { E, isError } from '@tsvisor/abi';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { makeCredentials } from '../creds/credentials.js';
import { MqNamespace, checkMqAttr, type MqQueue } from './mqueue.js';

const root = makeCredentials(0, 0);
const user = makeCredentials(1000, 1000);
const RLIMIT = 819200;

function queue(ns: MqNamespace, name: string, attr = { maxmsg: 10, msgsize: 64 }): MqQueue {
  const q = ns.create(name, attr, 0o600, root, RLIMIT);
  if (isError(q)) throw new Error(`create ${name}: ${q.name}`);
  return q;
}

describe('MqQueue', () => {
  it('hands messages out highest priority first, FIFO within a priority (against a sorted model)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.integer({ min: 0, max: 5 }), fc.constant(-1)), { maxLength: 60 }),
        (ops) => {
          const q = queue(new MqNamespace(), 'p', { maxmsg: 100, msgsize: 8 });
          const model: { prio: number; seq: number }[] = [];
          let seq = 0;
          for (const op of ops) {
            if (op >= 0) {
              q.send({ prio: op, data: Uint8Array.of(seq & 0xff) }, 1, 0);
              model.push({ prio: op, seq: seq++ });
              continue;
            }
            // The model: the highest priority, and among those the earliest sent.
            model.sort((a, b) => b.prio - a.prio || a.seq - b.seq);
            const want = model.shift();
            const got = q.receive();
            expect(got?.prio).toBe(want?.prio);
            expect(got?.data[0]).toBe(want === undefined ? undefined : want.seq & 0xff);
          }
          expect(q.messages.length).toBe(model.length);
          expect(q.qsize).toBe(model.length);
        },
      ),
    );
  });

  it('fires the notification once, on the send that makes the queue non-empty with no receiver waiting', () => {
    const q = queue(new MqNamespace(), 'n');
    const fired: [number, number][] = [];
    const register = (): void => {
      q.notification = { owner: 7, notify: 0, signo: 10, fire: (pid, uid) => void fired.push([pid, uid]) };
    };
    register();
    expect(q.statusLine()).toBe('QSIZE:0          NOTIFY:0     SIGNO:10    NOTIFY_PID:7     \n');
    q.receiversWaiting = 1;
    q.send({ prio: 0, data: new Uint8Array(3) }, 5, 1000);
    expect(fired).toEqual([]);
    q.receiversWaiting = 0;
    q.send({ prio: 0, data: new Uint8Array(3) }, 5, 1000);
    expect(fired).toEqual([]); // not empty before this send
    q.receive();
    q.receive();
    q.send({ prio: 0, data: new Uint8Array(3) }, 5, 1000);
    expect(fired).toEqual([[5, 1000]]);
    expect(q.notification).toBeUndefined();
    q.receive();
    q.send({ prio: 0, data: new Uint8Array(3) }, 6, 0);
    expect(fired).toEqual([[5, 1000]]);
    expect(q.statusLine()).toBe('QSIZE:3          NOTIFY:0     SIGNO:0     NOTIFY_PID:0     \n');
  });

  it('checks open permissions by owner, group and other bits; root passes', () => {
    const q = queue(new MqNamespace(), 'm');
    expect(q.permits(root, 6)).toBe(true);
    expect(q.permits(user, 4)).toBe(false);
    const ns = new MqNamespace();
    const shared = ns.create('s', undefined, 0o640, user, RLIMIT);
    if (isError(shared)) throw new Error('create');
    expect(shared.permits(user, 6)).toBe(true);
    expect(shared.permits(makeCredentials(2000, 1000), 4)).toBe(true);
    expect(shared.permits(makeCredentials(2000, 1000), 2)).toBe(false);
    expect(shared.permits(makeCredentials(2000, 2000), 4)).toBe(false);
  });
});

describe('MqNamespace', () => {
  it('uses msg_default and msgsize_default without attributes, and checks given ones', () => {
    const ns = new MqNamespace();
    const q = ns.create('d', undefined, 0o600, user, RLIMIT);
    expect(isError(q) ? q : q.attr).toEqual({ maxmsg: 10, msgsize: 8192 });
    expect(ns.create('e', { maxmsg: 0, msgsize: 1 }, 0o600, root, RLIMIT)).toBe(E.EINVAL);
    expect(ns.create('e', { maxmsg: 11, msgsize: 1 }, 0o600, user, RLIMIT)).toBe(E.EINVAL);
    expect(isError(ns.create('e', { maxmsg: 11, msgsize: 1 }, 0o600, root, RLIMIT))).toBe(false);
    expect(checkMqAttr(ns.limits, { maxmsg: 65537, msgsize: 1 }, true)).toBe(E.EINVAL);
    expect(checkMqAttr(ns.limits, { maxmsg: 1, msgsize: 16 * 1024 * 1024 + 1 }, true)).toBe(E.EINVAL);
  });

  it('answers ENOSPC past queues_max for the unprivileged only', () => {
    const ns = new MqNamespace();
    ns.limits.queuesMax = 2;
    const tiny = { maxmsg: 1, msgsize: 1 };
    expect(isError(ns.create('a', tiny, 0o600, user, RLIMIT))).toBe(false);
    expect(isError(ns.create('b', tiny, 0o600, user, RLIMIT))).toBe(false);
    expect(ns.create('c', tiny, 0o600, user, RLIMIT)).toBe(E.ENOSPC);
    expect(isError(ns.create('c', tiny, 0o600, root, RLIMIT))).toBe(false);
    // An unlinked queue still counts while a description holds it.
    const a = ns.lookup('a');
    if (!a) throw new Error('a');
    ns.opened(a);
    expect(ns.unlink('a')).toBeUndefined();
    expect(ns.unlink('a')).toBe(E.ENOENT);
    expect(ns.lookup('a')).toBeUndefined();
    ns.unlink('c');
    expect(ns.create('d', tiny, 0o600, user, RLIMIT)).toBe(E.ENOSPC);
    ns.closed(a);
    expect(isError(ns.create('d', tiny, 0o600, user, RLIMIT))).toBe(false);
  });

  it('charges queues to the creator against RLIMIT_MSGQUEUE (EMFILE) and refunds destroyed ones', () => {
    const ns = new MqNamespace();
    // Default attributes cost 10 * (8 + 48) + 10 * 48 + 10 * 8192 bytes.
    const cost = 10 * 56 + 10 * 48 + 10 * 8192;
    expect(isError(ns.create('a', undefined, 0o600, user, cost))).toBe(false);
    expect(ns.create('b', undefined, 0o600, user, cost)).toBe(E.EMFILE);
    expect(isError(ns.create('b', undefined, 0o600, root, cost))).toBe(false);
    ns.unlink('a');
    expect(isError(ns.create('b2', undefined, 0o600, user, cost))).toBe(false);
    expect(ns.list().sort()).toEqual(['b', 'b2']);
  });
});

describe('README example', () => {
  it('runs the POSIX message queue example as written', async () => {
    const { Kernel } = await import('../kernel.js');
    const mq = new Kernel({ log: () => {} }).ipc.mq;
    const q = mq.create('jobs', { maxmsg: 4, msgsize: 64 }, 0o600, makeCredentials(0, 0), 819200);
    if (isError(q)) throw new Error('create');
    q.send({ prio: 1, data: new TextEncoder().encode('low') }, 1, 0);
    q.send({ prio: 7, data: new TextEncoder().encode('high') }, 1, 0);
    expect(q.receive()?.prio).toBe(7);
    expect(q.statusLine()).toBe('QSIZE:3          NOTIFY:0     SIGNO:0     NOTIFY_PID:0     \n');
  });
});
