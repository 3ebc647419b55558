import { E } from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import { beginPendingIo, collectPendingIo, endPendingIo, notePendingIo, settleVfs } from './index.js';

function later(): { work: Promise<void>; finish: () => void; done: () => boolean } {
  let finish = (): void => undefined;
  let settled = false;
  const work = new Promise<void>((resolve) => {
    finish = resolve;
  }).then(() => {
    settled = true;
  });
  return { work, finish, done: () => settled };
}

describe('pending filesystem callbacks', () => {
  it('reports no pending work for a call that noted none', () => {
    const mark = beginPendingIo();
    expect(endPendingIo(mark)).toBeNull();
    expect(collectPendingIo(() => 7)).toEqual({ result: 7, pending: null });
  });

  it('waits for every promise a call noted', async () => {
    const a = later();
    const b = later();
    const mark = beginPendingIo();
    notePendingIo(a.work);
    notePendingIo(b.work);
    const pending = endPendingIo(mark);
    expect(pending).not.toBeNull();
    let over = false;
    void pending?.then(() => (over = true));
    a.finish();
    await a.work;
    await Promise.resolve();
    expect(over).toBe(false);
    b.finish();
    await pending;
    expect(b.done()).toBe(true);
  });

  it('hands what a nested call noted to the enclosing one too', async () => {
    const inner = later();
    const outerMark = beginPendingIo();
    const r = collectPendingIo(() => {
      notePendingIo(inner.work);
      return E.EAGAIN;
    });
    expect(r.result).toBe(E.EAGAIN);
    expect(r.pending).not.toBeNull();
    const outer = endPendingIo(outerMark);
    expect(outer).not.toBeNull();
    inner.finish();
    await outer;
    expect(inner.done()).toBe(true);
    // Nothing is left over for the next call.
    expect(collectPendingIo(() => 0).pending).toBeNull();
  });

  it('leaves later collections working after a call throws', async () => {
    const noted = later();
    expect(() =>
      collectPendingIo(() => {
        notePendingIo(noted.work);
        throw new Error('bug');
      }),
    ).toThrow('bug');
    expect(collectPendingIo(() => 1).pending).toBeNull();
    const next = later();
    const r = collectPendingIo(() => notePendingIo(next.work));
    expect(r.pending).not.toBeNull();
    next.finish();
    await r.pending;
    expect(next.done()).toBe(true);
  });

  it('settleVfs repeats a call until it stops waiting', async () => {
    const gate = later();
    let calls = 0;
    const p = settleVfs(() => {
      calls++;
      if (gate.done()) return 42;
      notePendingIo(gate.work);
      return E.EAGAIN;
    });
    gate.finish();
    expect(await p).toBe(42);
    expect(calls).toBe(2);
  });
});
