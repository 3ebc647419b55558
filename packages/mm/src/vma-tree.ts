/**
 * The VMA store: a B+-tree of non-overlapping `[start, end)` spans in address order, augmented,
 * like Linux's maple tree, so that every query the address space asks is O(log n): lookup by
 * address, the i-th span, insertion and removal anywhere, and the highest or lowest hole of at
 * least a given size.
 *
 * Leaves hold up to 32 spans in an array; inner nodes up to 32 children. Every
 * node summarises its subtree: its size (for positions), its first start and last end, and the
 * largest hole between two consecutive spans inside it. The summary depends only on the
 * subtree's own spans, so a span whose `start` or `end` is edited in place (a VMA that grows or
 * merges) needs only its own path refreshed ({@link VmaTree.touch}). A process with fewer than
 * 32 VMAs is a single sorted array. The leaf of the last lookup is remembered (a finger), since
 * the address space mostly asks about a VMA and its neighbours.
 *
 * @module
 */

/** What the tree stores: a half-open address range. Spans never overlap. */
export interface Span {
  readonly start: number;
  readonly end: number;
}

/** Children (or spans) per node by default: a node that grows past it splits in two. */
const MAX = 32;

interface Summary {
  size: number;
  /** The first span's start and the last span's end in this subtree. */
  lo: number;
  hi: number;
  /** The largest `next.start - prev.end` between consecutive spans of this subtree (0 if none). */
  maxGap: number;
}
interface Leaf<T> extends Summary {
  readonly leaf: true;
  items: T[];
}
interface Inner<T> extends Summary {
  readonly leaf: false;
  kids: Node<T>[];
}
type Node<T> = Leaf<T> | Inner<T>;

function newLeaf<T extends Span>(items: T[]): Leaf<T> {
  const l: Leaf<T> = { leaf: true, items, size: 0, lo: 0, hi: 0, maxGap: 0 };
  pull(l);
  return l;
}
function newInner<T extends Span>(kids: Node<T>[]): Inner<T> {
  const n: Inner<T> = { leaf: false, kids, size: 0, lo: 0, hi: 0, maxGap: 0 };
  pull(n);
  return n;
}

/** Recomputes a node's summary from its spans or children. */
function pull<T extends Span>(n: Node<T>): void {
  let gap = 0;
  if (n.leaf) {
    const items = n.items;
    const k = items.length;
    for (let i = 1; i < k; i++) {
      const g = (items[i] as T).start - (items[i - 1] as T).end;
      if (g > gap) gap = g;
    }
    n.size = k;
    n.lo = k ? (items[0] as T).start : 0;
    n.hi = k ? (items[k - 1] as T).end : 0;
  } else {
    const kids = n.kids;
    let size = 0;
    for (let i = 0; i < kids.length; i++) {
      const c = kids[i] as Node<T>;
      size += c.size;
      if (c.maxGap > gap) gap = c.maxGap;
      if (i > 0) {
        const g = c.lo - (kids[i - 1] as Node<T>).hi;
        if (g > gap) gap = g;
      }
    }
    n.size = size;
    n.lo = (kids[0] as Node<T>).lo;
    n.hi = (kids[kids.length - 1] as Node<T>).hi;
  }
  n.maxGap = gap;
}

/** Spans in address order with O(log n) positional and gap queries. */
export class VmaTree<T extends Span> {
  private root: Node<T> = newLeaf<T>([]);
  /** The finger: a leaf and the position of its first span, valid while `fingerOk`. */
  private fLeaf: Leaf<T> | null = null;
  private fBase = 0;
  /** A leaf below this many spans joins a sibling when they fit in one node. */
  private readonly min: number;

  /** `max`: spans per leaf and children per inner node (tests use small ones to grow deep trees). */
  constructor(private readonly max = MAX) {
    if (!(max >= 4)) throw new Error('VmaTree: nodes need room for 4 entries');
    this.min = max >> 2;
  }

  /** The number of spans. */
  get length(): number {
    return this.root.size;
  }

  /** The span at position `i` (0-based, address order), or undefined outside `[0, length)`. */
  at(i: number): T | undefined {
    if (i < 0 || i >= this.root.size) return undefined;
    const f = this.fLeaf;
    if (f && i >= this.fBase && i < this.fBase + f.items.length) return f.items[i - this.fBase];
    let n = this.root;
    let base = 0;
    while (!n.leaf) {
      for (const c of n.kids) {
        if (i < c.size) {
          n = c;
          break;
        }
        i -= c.size;
        base += c.size;
      }
    }
    this.fLeaf = n;
    this.fBase = base;
    return n.items[i];
  }

  /** The leaf holding the first span with `end > addr` and its base position (root.hi > addr). */
  private leafAfter(addr: number): Leaf<T> {
    const f = this.fLeaf;
    if (f) {
      const items = f.items;
      // The answer is in the finger's leaf when its first span ends at or below addr and its
      // last above, or when it is the first leaf and its first span already ends above.
      const first = items[0] as T;
      const last = items[items.length - 1] as T;
      if (last.end > addr && (first.end <= addr || this.fBase === 0)) return f;
    }
    let n = this.root;
    let base = 0;
    while (!n.leaf) {
      // Bisect the children by their last end; positions come from the sizes skipped.
      const kids = n.kids;
      let lo = 0;
      let hi = kids.length - 1;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if ((kids[mid] as Node<T>).hi > addr) hi = mid;
        else lo = mid + 1;
      }
      for (let j = 0; j < lo; j++) base += (kids[j] as Node<T>).size;
      n = kids[lo] as Node<T>;
    }
    this.fLeaf = n;
    this.fBase = base;
    return n;
  }

  /** The position of the first span with `end > addr` (Linux's `find_vma`), or `length`. */
  indexAfter(addr: number): number {
    if (this.root.hi <= addr) return this.root.size;
    const items = this.leafAfter(addr).items;
    const base = this.fBase;
    let lo = 0;
    let hi = items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((items[mid] as T).end > addr) hi = mid;
      else lo = mid + 1;
    }
    return base + lo;
  }

  /** The first span with `end > addr`: the one containing `addr`, or the next one. */
  after(addr: number): T | undefined {
    if (this.root.hi <= addr) return undefined;
    const items = this.leafAfter(addr).items;
    let lo = 0;
    let hi = items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((items[mid] as T).end > addr) hi = mid;
      else lo = mid + 1;
    }
    return items[lo];
  }

  /**
   * Replaces `deleteCount` spans from position `i` with `items` (in address order, fitting the
   * hole), as `Array.prototype.splice` does; returns the removed spans.
   */
  splice(i: number, deleteCount: number, ...items: T[]): T[] {
    const fast = this.spliceInLeaf(i, deleteCount, items);
    if (fast) return fast;
    const removed: T[] = [];
    for (let k = 0; k < deleteCount && i < this.root.size; k++) removed.push(this.removeAt(i));
    for (let k = 0; k < items.length; k++) this.insertAt(i + k, items[k] as T);
    return removed;
  }

  /**
   * {@link splice} when the whole edit falls inside one leaf that neither overflows nor empties
   * (the usual split or merge of a VMA): one array splice and one refresh of the path, or
   * undefined when it does not apply.
   */
  private spliceInLeaf(i: number, deleteCount: number, items: T[]): T[] | undefined {
    const path: Inner<T>[] = [];
    let n = this.root;
    let base = 0;
    while (!n.leaf) {
      path.push(n);
      const kids = n.kids;
      let j = 0;
      // The child holding positions [i, i + deleteCount), or the one an insertion appends to.
      while (j < kids.length - 1 && i - base >= (kids[j] as Node<T>).size + (deleteCount ? 0 : 1)) {
        base += (kids[j] as Node<T>).size;
        j++;
      }
      n = kids[j] as Node<T>;
    }
    const li = i - base;
    const len = n.items.length;
    const after = len - deleteCount + items.length;
    if (li < 0 || li + deleteCount > len || after > this.max || (after === 0 && n !== this.root))
      return undefined;
    const removed = n.items.splice(li, deleteCount, ...items);
    pull(n);
    for (let k = path.length - 1; k >= 0; k--) pull(path[k] as Node<T>);
    this.fLeaf = after ? n : null;
    this.fBase = base;
    return removed;
  }

  /** Appends a span after every other one. */
  push(item: T): void {
    this.insertAt(this.root.size, item);
  }

  /**
   * Refreshes the summaries above `item` after its `start` or `end` was edited in place. The
   * edit must keep the spans ordered and disjoint.
   */
  touch(item: T): void {
    const path: Node<T>[] = [];
    let n = this.root;
    // A stale summary still has `hi` beyond the edited span's start (see the module comment).
    while (!n.leaf) {
      path.push(n);
      const kids = n.kids;
      let next = kids[kids.length - 1] as Node<T>;
      for (const c of kids) {
        if (c.hi > item.start) {
          next = c;
          break;
        }
      }
      n = next;
    }
    if (!n.items.includes(item)) throw new Error('VmaTree.touch: span not in the tree');
    pull(n);
    for (let k = path.length - 1; k >= 0; k--) pull(path[k] as Node<T>);
  }

  /** All spans in address order. */
  toArray(): T[] {
    const out: T[] = [];
    const walk = (n: Node<T>): void => {
      if (n.leaf) for (const v of n.items) out.push(v);
      else for (const c of n.kids) walk(c);
    };
    walk(this.root);
    return out;
  }

  /**
   * The position of the span just above the highest hole that ends at or below `limit` and is at
   * least `len` long, counting the hole between address 0 and the first span; -1 if none.
   */
  lastGapBefore(limit: number, len: number): number {
    const search = (n: Node<T>, predEnd: number, base: number): number => {
      if (n.size === 0 || n.lo > limit || Math.max(n.maxGap, n.lo - predEnd) < len) return -1;
      if (n.leaf) {
        const items = n.items;
        for (let i = items.length - 1; i >= 0; i--) {
          const v = items[i] as T;
          if (v.start > limit) continue;
          if (v.start - (i > 0 ? (items[i - 1] as T).end : predEnd) >= len) return base + i;
        }
        return -1;
      }
      const kids = n.kids;
      let b = base + n.size;
      for (let j = kids.length - 1; j >= 0; j--) {
        const c = kids[j] as Node<T>;
        b -= c.size;
        const r = search(c, j > 0 ? (kids[j - 1] as Node<T>).hi : predEnd, b);
        if (r >= 0) return r;
      }
      return -1;
    };
    return search(this.root, 0, 0);
  }

  /**
   * The position of the span just above the lowest hole between two spans that starts at or
   * above `from` and is at least `len` long; -1 if none (the space above the last span is the
   * caller's to check).
   */
  firstGapAfter(from: number, len: number): number {
    const search = (n: Node<T>, predEnd: number, base: number): number => {
      if (n.size === 0 || n.hi <= from || Math.max(n.maxGap, n.lo - predEnd) < len) return -1;
      if (n.leaf) {
        const items = n.items;
        for (let i = 0; i < items.length; i++) {
          const gapStart = i > 0 ? (items[i - 1] as T).end : predEnd;
          if (gapStart >= from && (items[i] as T).start - gapStart >= len) return base + i;
        }
        return -1;
      }
      const kids = n.kids;
      let b = base;
      for (let j = 0; j < kids.length; j++) {
        const c = kids[j] as Node<T>;
        const r = search(c, j > 0 ? (kids[j - 1] as Node<T>).hi : predEnd, b);
        if (r >= 0) return r;
        b += c.size;
      }
      return -1;
    };
    return search(this.root, 0, 0);
  }

  /**
   * Checks the tree's invariants (order, disjointness, summaries, node sizes, equal leaf
   * depth); throws on a broken one. For tests.
   */
  check(): void {
    let leafDepth = -1;
    const walk = (n: Node<T>, depth: number): void => {
      const { size, lo, hi, maxGap } = n;
      if (n.leaf) {
        if (leafDepth < 0) leafDepth = depth;
        if (leafDepth !== depth) throw new Error('VmaTree: leaves at different depths');
        if (n.items.length > this.max || (n.items.length === 0 && n !== this.root))
          throw new Error('VmaTree: leaf size');
      } else {
        if (n.kids.length > this.max || n.kids.length === 0 || (n === this.root && n.kids.length < 2))
          throw new Error('VmaTree: inner size');
        for (const c of n.kids) walk(c, depth + 1);
      }
      pull(n);
      if (size !== n.size || lo !== n.lo || hi !== n.hi || maxGap !== n.maxGap)
        throw new Error(`VmaTree: stale summary at ${n.lo.toString(16)}`);
    };
    walk(this.root, 0);
    let prevEnd = -Infinity;
    for (const s of this.toArray()) {
      if (!(s.start < s.end) || s.start < prevEnd) throw new Error('VmaTree: spans out of order');
      prevEnd = s.end;
    }
  }

  /** Inserts `item` at position `i` (0 <= i <= length). */
  private insertAt(i: number, item: T): void {
    const split = this.insertIn(this.root, i, item, 0);
    if (split) this.root = newInner([this.root, split]);
  }

  /** Inserts into subtree `n`; returns the new right sibling when `n` had to split. */
  private insertIn(n: Node<T>, i: number, item: T, base: number): Node<T> | undefined {
    if (n.leaf) {
      const items = n.items;
      // Open a slot at i by hand: cheaper than splice, which builds a result array.
      items.push(item);
      for (let k = items.length - 1; k > i; k--) items[k] = items[k - 1] as T;
      items[i] = item;
      // The finger moves to this leaf: positions before it did not change, and after a split
      // this leaf keeps its first half.
      this.fLeaf = n;
      this.fBase = base;
      if (items.length > this.max) {
        const right = newLeaf(items.splice(this.max >> 1));
        pull(n);
        return right;
      }
      // The new span cuts one hole in two smaller ones, or adds one at an end of the leaf: a
      // full rescan is needed only when the hole it cut was the largest.
      const prev = items[i - 1];
      const next = items[i + 1];
      n.size = items.length;
      n.lo = (items[0] as T).start;
      n.hi = (items[items.length - 1] as T).end;
      if (prev && next) {
        if (next.start - prev.end >= n.maxGap) pull(n);
      } else if (prev) n.maxGap = Math.max(n.maxGap, item.start - prev.end);
      else if (next) n.maxGap = Math.max(n.maxGap, next.start - item.end);
      else n.maxGap = 0;
      return undefined;
    }
    const kids = n.kids;
    let j = 0;
    // Position i goes into the first child that reaches it (the last one for an append).
    while (j < kids.length - 1 && i > (kids[j] as Node<T>).size) {
      i -= (kids[j] as Node<T>).size;
      base += (kids[j] as Node<T>).size;
      j++;
    }
    const split = this.insertIn(kids[j] as Node<T>, i, item, base);
    if (split) kids.splice(j + 1, 0, split);
    if (kids.length > this.max) {
      const right = newInner(kids.splice(this.max >> 1));
      pull(n);
      return right;
    }
    pull(n);
    return undefined;
  }

  /** Removes and returns the span at position `i` (0 <= i < length). */
  private removeAt(i: number): T {
    const v = this.removeIn(this.root, i, 0);
    // A root with one child hands over to it.
    while (!this.root.leaf && this.root.kids.length === 1) this.root = this.root.kids[0] as Node<T>;
    if (!this.root.leaf && this.root.kids.length === 0) this.root = newLeaf<T>([]);
    return v;
  }

  private removeIn(n: Node<T>, i: number, base: number): T {
    if (n.leaf) {
      const items = n.items;
      const v = items[i] as T;
      // The finger moves to this leaf (the parent drops it again if the leaf goes or merges).
      this.fLeaf = items.length > 1 ? n : null;
      this.fBase = base;
      for (let k = i + 1; k < items.length; k++) items[k - 1] = items[k] as T;
      items.pop();
      // Two holes join into a larger one, or one at an end of the leaf goes: a full rescan is
      // needed only when the hole that went was the largest.
      const prev = items[i - 1];
      const next = items[i];
      n.size = items.length;
      if (prev && next) n.maxGap = Math.max(n.maxGap, next.start - prev.end);
      else if (prev ? v.start - prev.end >= n.maxGap : next ? next.start - v.end >= n.maxGap : true) pull(n);
      if (items.length) {
        n.lo = (items[0] as T).start;
        n.hi = (items[items.length - 1] as T).end;
      }
      return v;
    }
    const kids = n.kids;
    let j = 0;
    while (i >= (kids[j] as Node<T>).size) {
      i -= (kids[j] as Node<T>).size;
      base += (kids[j] as Node<T>).size;
      j++;
    }
    const c = kids[j] as Node<T>;
    const v = this.removeIn(c, i, base);
    if (c.size === 0) kids.splice(j, 1);
    else if (c.leaf && c.items.length < this.min) {
      // Keep leaves from thinning out: join a small leaf with its right (or left) sibling.
      const k = j + 1 < kids.length ? j : j - 1;
      const a = kids[k] as Node<T> | undefined;
      const b = kids[k + 1] as Node<T> | undefined;
      if (a && b && a.leaf && b.leaf && a.items.length + b.items.length <= this.max) {
        this.fLeaf = null;
        a.items.push(...b.items);
        pull(a);
        kids.splice(k + 1, 1);
      }
    }
    if (kids.length > 0) pull(n);
    else n.size = 0;
    return v;
  }
}
