// WaitQueue: notification by mask, and the activity callback an object uses to follow its
// readiness only while someone waits.
import { describe, expect, it } from 'vitest';
import { WaitQueue, waitForEvents, type Waiter } from './wait.js';

const POLLIN = 0x1;
const POLLOUT = 0x4;

describe('WaitQueue', () => {
  it('wakes the waiters whose mask the events meet', () => {
    const q = new WaitQueue();
    const got: string[] = [];
    q.add({ mask: POLLIN, notify: (ev) => got.push(`in ${ev}`) });
    q.add({ mask: POLLOUT, notify: (ev) => got.push(`out ${ev}`) });
    q.notify(POLLOUT);
    expect(got).toEqual([`out ${POLLOUT}`]);
  });

  it('says when the first waiter comes and when the last one goes', () => {
    const seen: boolean[] = [];
    const q = new WaitQueue((active) => seen.push(active));
    const a: Waiter = { mask: POLLIN, notify: () => undefined };
    const b: Waiter = { mask: POLLOUT, notify: () => undefined };
    q.add(a);
    q.add(b);
    q.add(a); // already there
    expect(seen).toEqual([true]);
    q.remove(a);
    q.remove(a); // no longer there
    expect(seen).toEqual([true]);
    q.remove(b);
    expect(seen).toEqual([true, false]);
    expect(q.active).toBe(false);
    q.add(b);
    expect(seen).toEqual([true, false, true]);
  });

  it('goes idle when its only waiter leaves from inside a notification', async () => {
    const seen: boolean[] = [];
    const q = new WaitQueue((active) => seen.push(active));
    let ready = 0;
    const target = { readiness: (mask: number) => ready & mask, waitQueue: q };
    const woken = waitForEvents(target, POLLIN);
    expect(seen).toEqual([true]);
    ready = POLLIN;
    q.notify(POLLIN);
    expect(await woken).toBe(POLLIN);
    expect(seen).toEqual([true, false]);
  });
});
