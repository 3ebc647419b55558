/**
 * A binary min-heap of sockets by the time they next need the stack (their `deadline`), each
 * socket knowing its own place (`heapPos`, -1 when absent), so that setting, moving and removing
 * one costs O(log n). The stack keeps its quiet connections here, so a poll looks at the few
 * whose time has come instead of asking every connection.
 *
 * @module
 */

/** What the heap orders: a deadline (ms) and the slot the heap keeps for it. */
export interface HeapEntry {
  deadline: number | undefined;
  heapPos: number;
}

/** A min-heap of {@link HeapEntry} by deadline. */
export class TimerHeap<T extends HeapEntry> {
  private readonly items: T[] = [];

  /** How many entries have a deadline. */
  get size(): number {
    return this.items.length;
  }

  /** The earliest deadline, or undefined when the heap is empty. */
  peek(): number | undefined {
    return this.items.length > 0 ? this.items[0]!.deadline : undefined;
  }

  /** Gives `e` the deadline `at` (undefined: none, which takes it out of the heap). */
  set(e: T, at: number | undefined): void {
    if (at === undefined) {
      this.remove(e);
      return;
    }
    const old = e.deadline;
    e.deadline = at;
    if (e.heapPos < 0) {
      e.heapPos = this.items.length;
      this.items.push(e);
      this.up(e.heapPos);
    } else if (old === undefined || at < old) this.up(e.heapPos);
    else if (at > old) this.down(e.heapPos);
  }

  /** Takes `e` out of the heap (nothing when it is not in it). */
  remove(e: T): void {
    const i = e.heapPos;
    e.deadline = undefined;
    if (i < 0) return;
    e.heapPos = -1;
    const last = this.items.pop()!;
    if (last === e) return;
    this.items[i] = last;
    last.heapPos = i;
    this.down(i);
    this.up(last.heapPos);
  }

  /** Takes out and returns the entry with the earliest deadline if that is at or before `now`. */
  popDue(now: number): T | undefined {
    const top = this.items[0];
    if (top === undefined || (top.deadline as number) > now) return undefined;
    this.remove(top);
    return top;
  }

  private up(i: number): void {
    const items = this.items;
    const e = items[i]!;
    const at = e.deadline as number;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = items[p]!;
      if ((parent.deadline as number) <= at) break;
      items[i] = parent;
      parent.heapPos = i;
      i = p;
    }
    items[i] = e;
    e.heapPos = i;
  }

  private down(i: number): void {
    const items = this.items;
    const n = items.length;
    const e = items[i]!;
    const at = e.deadline as number;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && (items[r]!.deadline as number) < (items[l]!.deadline as number) ? r : l;
      const child = items[c]!;
      if ((child.deadline as number) >= at) break;
      items[i] = child;
      child.heapPos = i;
      i = c;
    }
    items[i] = e;
    e.heapPos = i;
  }
}
