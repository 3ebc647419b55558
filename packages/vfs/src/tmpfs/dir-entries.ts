/**
 * The entries of an in-memory directory, with directory offsets that stay valid while the
 * directory changes (what telldir/seekdir and a getdents loop racing with unlink rely on).
 *
 * Every entry gets a key from a counter that only grows; getdents at offset `p` continues with
 * the first entry whose key is >= `p`. Entries are kept in key order in an array (removals leave
 * holes that are compacted now and then), so a getdents call is a binary search plus a scan.
 *
 * @module
 */

/** One directory entry. */
export interface Entry<T> {
  readonly name: string;
  value: T;
  readonly key: number;
}

/** The entries of a directory, by name and in offset order. */
export class DirEntries<T> {
  private readonly byName = new Map<string, Entry<T>>();
  private slots: (Entry<T> | null)[] = [];
  private keys: number[] = [];
  private holes = 0;
  /** Keys start at 2: offsets 0 and 1 are `.` and `..`. */
  private nextKey = 2;

  get size(): number {
    return this.byName.size;
  }

  get(name: string): T | undefined {
    return this.byName.get(name)?.value;
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  /** Add a new name (the caller made sure it is free). */
  add(name: string, value: T): void {
    const e: Entry<T> = { name, value, key: this.nextKey++ };
    this.byName.set(name, e);
    this.slots.push(e);
    this.keys.push(e.key);
  }

  /** Point an existing name at a new value, keeping its offset (rename exchange). */
  replace(name: string, value: T): void {
    const e = this.byName.get(name);
    if (e !== undefined) e.value = value;
  }

  /** Remove a name; returns its value. */
  remove(name: string): T | undefined {
    const e = this.byName.get(name);
    if (e === undefined) return undefined;
    this.byName.delete(name);
    const i = this.indexOf(e.key);
    this.slots[i] = null;
    this.holes++;
    if (this.holes > 32 && this.holes * 2 > this.slots.length) this.compact();
    return e.value;
  }

  private compact(): void {
    const slots: (Entry<T> | null)[] = [];
    const keys: number[] = [];
    for (const s of this.slots) {
      if (s !== null) {
        slots.push(s);
        keys.push(s.key);
      }
    }
    this.slots = slots;
    this.keys = keys;
    this.holes = 0;
  }

  /** The index of the first slot whose key is >= `key`. */
  private indexOf(key: number): number {
    const keys = this.keys;
    let lo = 0;
    let hi = keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((keys[mid] as number) < key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * Visit entries with key >= `pos` in offset order until `visit` returns false; returns the
   * offset to continue from (the refused entry's key, or past the last entry).
   */
  iterate(pos: number, visit: (e: Entry<T>) => boolean): number {
    const slots = this.slots;
    for (let i = this.indexOf(pos); i < slots.length; i++) {
      const e = slots[i];
      if (e === null || e === undefined) continue;
      if (!visit(e)) return e.key;
    }
    return this.nextKey;
  }

  /** All names, in offset order. */
  names(): string[] {
    const out: string[] = [];
    for (const s of this.slots) if (s !== null) out.push(s.name);
    return out;
  }

  /** All entries, in offset order. */
  *entries(): IterableIterator<[string, T]> {
    for (const s of this.slots) if (s !== null) yield [s.name, s.value];
  }
}
