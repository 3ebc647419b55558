/**
 * The kernel log ring: what syslog(2) (`dmesg`) and /dev/kmsg read. A sandbox starts with
 * tsvisor's own boot log, so `dmesg` inside a sandbox tells you where you are.
 *
 * @module
 */

/** One log record. */
export interface LogRecord {
  /** Sequence number, from 0 (the /dev/kmsg sequence field). */
  readonly seq: number;
  /** Syslog level 0..7 (6 = KERN_INFO). */
  readonly level: number;
  /** Monotonic time since boot, in microseconds. */
  readonly usec: number;
  readonly text: string;
}

/** tsvisor's boot log: what it prints while it pretends to be a Linux booting. */
export const BOOT_MESSAGES: readonly string[] = [
  'Starting tsvisor...',
  'Transpiling the page tables...',
  'Teaching the event loop to say ENOSYS politely...',
  'Mounting overlayfs on a root that promised not to change...',
  'Inflating tmpfs with artisanal zero bytes...',
  'Counting file descriptors twice, just in case...',
  'Negotiating with SIGKILL (it does not negotiate)...',
  'Loading ELF segments, leaving the dwarves at home...',
  'Ready!',
];

/**
 * A bounded ring of log records, with the read position that syslog(2)'s destructive read
 * (`SYSLOG_ACTION_READ`) and `SYSLOG_ACTION_CLEAR` move.
 *
 * @example
 * ```ts
 * const log = new Syslog(() => 0);
 * log.append(6, 'hello');
 * log.renderSyslog(); // '<6>[    0.000000] hello\n'
 * ```
 */
export class Syslog {
  private records: LogRecord[] = [];
  /** Rendered size of `records`, kept as records come and go. */
  private size = 0;
  private readonly listeners = new Set<(r: LogRecord) => void>();
  private nextSeq = 0;
  private clearedBefore = 0;
  private readBefore = 0;

  constructor(
    /** Microseconds since boot, for timestamps. */
    private readonly nowUsec: () => number,
    /** The ring size in bytes (`SYSLOG_ACTION_SIZE_BUFFER`), 2^17 like a default kernel. */
    readonly capacity = 1 << 17,
  ) {}

  /** Appends a record and drops the oldest ones beyond {@link capacity} rendered bytes. */
  append(level: number, text: string): LogRecord {
    const rec: LogRecord = { seq: this.nextSeq++, level: level & 7, usec: this.nowUsec(), text };
    this.records.push(rec);
    this.size += renderLine(rec).length;
    while (this.size > this.capacity && this.records.length > 1) {
      this.size -= renderLine(this.records.shift() as LogRecord).length;
    }
    for (const l of this.listeners) l(rec);
    return rec;
  }

  /** Calls `listener` for every new record (/dev/kmsg readers wake up). Returns an unsubscribe. */
  onAppend(listener: (r: LogRecord) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The sequence number the next record will get. */
  get nextSequence(): number {
    return this.nextSeq;
  }

  /** The first sequence number SYSLOG_ACTION_CLEAR left visible (SEEK_DATA of /dev/kmsg). */
  get clearSequence(): number {
    return this.clearedBefore;
  }

  /** Appends {@link BOOT_MESSAGES} at KERN_INFO. */
  bootLog(): void {
    for (const m of BOOT_MESSAGES) this.append(6, m);
  }

  /** All records still in the ring (for /dev/kmsg readers, which keep their own position). */
  all(): readonly LogRecord[] {
    return this.records;
  }

  /** syslog(2)-format text of the records not cleared (SYSLOG_ACTION_READ_ALL). */
  renderSyslog(): string {
    return this.records
      .filter((r) => r.seq >= this.clearedBefore)
      .map(renderLine)
      .join('');
  }

  /** Text not yet consumed by SYSLOG_ACTION_READ. */
  unread(): string {
    return this.records
      .filter((r) => r.seq >= this.readBefore)
      .map(renderLine)
      .join('');
  }

  /** Marks `bytes` of {@link unread} text as consumed (whole records only, as Linux). */
  consume(bytes: number): string {
    let out = '';
    for (const r of this.records) {
      if (r.seq < this.readBefore) continue;
      const line = renderLine(r);
      if (out.length + line.length > bytes) break;
      out += line;
      this.readBefore = r.seq + 1;
    }
    return out;
  }

  /** SYSLOG_ACTION_CLEAR: later READ_ALL calls start after the current end. */
  clear(): void {
    this.clearedBefore = this.nextSeq;
    this.readBefore = Math.max(this.readBefore, this.nextSeq);
  }

  /** Bytes of unread text (SYSLOG_ACTION_SIZE_UNREAD). */
  sizeUnread(): number {
    return Buffer.byteLength(this.unread());
  }
}

/** One record in syslog(2) format: `<level>[seconds.micros] text\n`. */
export function renderLine(r: LogRecord): string {
  const sec = Math.floor(r.usec / 1e6);
  const us = String(r.usec % 1e6).padStart(6, '0');
  return `<${r.level}>[${String(sec).padStart(5, ' ')}.${us}] ${r.text}\n`;
}

/** One record in /dev/kmsg format: `level,seq,usec,-;text\n` (facility 0 = kernel). */
export function renderKmsg(r: LogRecord): string {
  return `${r.level},${r.seq},${r.usec},-;${r.text}\n`;
}
