/**
 * `--strace`: one line per syscall in strace's format, rendered by `@tsvisor/abi`'s formatter
 * from the registers and the task's memory, after the call (so output buffers are filled in).
 *
 * A call that waits (its handler returned a promise) is announced as strace does: only if some
 * other line must be printed before it completes does it get an entry line (`read(0,
 * <unfinished ...>`) and later a `<... read resumed>` line; otherwise it prints as one complete
 * line. With more than one task, lines carry `[pid N] `.
 *
 * @module
 */
import {
  formatSyscall,
  formatSyscallEntry,
  signalName,
  syscallByNumber,
  type MemoryReader,
  type RawValue,
} from '@tsvisor/abi';
import {
  ERESTARTNOHAND,
  ERESTARTNOINTR,
  ERESTARTSYS,
  ERESTART_RESTARTBLOCK,
  type ControlResult,
} from '@tsvisor/kernel';

/** Where trace lines go (one line per call, without the newline). */
export type TraceSink = (line: string) => void;

const RESTART_TEXT = new Map<ControlResult, string>([
  [ERESTARTSYS, 'ERESTARTSYS (To be restarted if SA_RESTART is set)'],
  [ERESTARTNOINTR, 'ERESTARTNOINTR (To be restarted)'],
  [ERESTARTNOHAND, 'ERESTARTNOHAND (To be restarted if no handler)'],
  [ERESTART_RESTARTBLOCK, 'ERESTART_RESTARTBLOCK (Interrupted by signal)'],
]);

/** A call in progress that has not printed yet. */
interface Pending {
  /** The entry line, printed if another line comes first. */
  readonly line: string;
  announced: boolean;
}

/** Renders syscall lines for one sandbox. */
export class Strace {
  /** Set once a second task exists: from then on lines carry the tid. */
  multi = false;
  readonly #pending = new Map<number, Pending>();

  constructor(private readonly sink: TraceSink) {}

  #prefix(tid: number): string {
    return this.multi ? `[pid ${String(tid).padStart(5)}] ` : '';
  }

  /** Prints `line` for `tid`, announcing first the calls other tasks have in progress. */
  #out(tid: number, line: string): void {
    for (const [other, p] of this.#pending) {
      if (other === tid || p.announced) continue;
      p.announced = true;
      this.sink(p.line);
    }
    this.sink(line);
  }

  /** Writes a line rendered earlier (for `tid`). */
  emit(tid: number, line: string): void {
    this.#out(tid, line);
  }

  /** The line of a call that returned `ret`, without printing it. */
  render(tid: number, nr: number, args: readonly RawValue[], ret: RawValue, read: MemoryReader): string {
    return formatSyscall(nr, args, ret, read, { prefix: this.#prefix(tid) });
  }

  /** A call of `tid` starts waiting. */
  begin(tid: number, nr: number, args: readonly RawValue[], read: MemoryReader): void {
    this.#pending.set(tid, {
      line: formatSyscallEntry(nr, args, read, { prefix: this.#prefix(tid) }),
      announced: false,
    });
  }

  /** The line of a call that returned `ret` (the value now in rax). */
  complete(tid: number, nr: number, args: readonly RawValue[], ret: RawValue, read: MemoryReader): void {
    this.#finish(tid, nr, this.render(tid, nr, args, ret, read));
  }

  /** The line of a call that ended in a restart control value (no value reaches the app). */
  restarted(
    tid: number,
    nr: number,
    args: readonly RawValue[],
    why: ControlResult,
    read: MemoryReader,
  ): void {
    this.#finish(tid, nr, `${this.#callText(tid, nr, args, read)} = ? ${RESTART_TEXT.get(why) ?? why.kind}`);
  }

  /** The line of a call that did not return (exit, exit_group). */
  noReturn(tid: number, nr: number, args: readonly RawValue[], read: MemoryReader): void {
    this.#finish(tid, nr, `${this.#callText(tid, nr, args, read)} = ?`);
  }

  /**
   * Prints the full line of a finished call, or, if its entry line was printed, the rest of it
   * as `<... name resumed>...`.
   */
  #finish(tid: number, nr: number, full: string): void {
    const p = this.#pending.get(tid);
    this.#pending.delete(tid);
    if (!p?.announced) return this.#out(tid, full);
    const entry = p.line.endsWith('<unfinished ...>') ? p.line.slice(0, -'<unfinished ...>'.length) : '';
    const prefix = this.#prefix(tid);
    const name = syscallByNumber(nr)?.name ?? `syscall_${nr}`;
    // The arguments print again only if they still render as at entry (the memory of a task that
    // died meanwhile cannot be read): otherwise just the result, as strace does.
    const rest =
      entry && full.startsWith(entry) ? full.slice(entry.length) : `)${full.slice(full.lastIndexOf(' = '))}`;
    this.#out(tid, `${prefix}<... ${name} resumed>${rest}`);
  }

  #callText(tid: number, nr: number, args: readonly RawValue[], read: MemoryReader): string {
    const line = this.render(tid, nr, args, 0, read);
    const at = line.lastIndexOf(' = ');
    return at >= 0 ? line.slice(0, at) : line;
  }

  /** `+++ exited with N +++` or `+++ killed by SIGX +++` for a process's wait status. */
  processEnd(tid: number, waitStatus: number): void {
    this.#pending.delete(tid);
    const sig = waitStatus & 0x7f;
    const core = waitStatus & 0x80 ? ' (core dumped)' : '';
    this.#out(
      tid,
      sig === 0
        ? `${this.#prefix(tid)}+++ exited with ${(waitStatus >> 8) & 0xff} +++`
        : `${this.#prefix(tid)}+++ killed by ${signalName(sig)}${core} +++`,
    );
  }
}
