/**
 * The syscall table as data: for every x86-64 syscall number, its name (from `@tsvisor/abi`),
 * the handler if tsvisor implements it, and its support level. Numbers without a handler answer
 * ENOSYS. The table is built from the family files, so a handler is registered in exactly one
 * place; `docs/compatibility.md` is generated from {@link SyscallTable.entries}.
 *
 * @module
 */
import { E, syscallByName, syscallTable as abiTable } from '@tsvisor/abi';
import type { SyscallFamily, SyscallHandler, Support } from './types.js';

/** One row of the table. */
export interface SyscallEntry {
  readonly nr: number;
  readonly name: string;
  /** Undefined: not implemented (ENOSYS). */
  readonly handler: SyscallHandler | undefined;
  readonly support: Support;
}

const NOT_IMPLEMENTED: Support = Object.freeze({
  level: 'errno',
  errno: E.ENOSYS,
  reason: 'not implemented yet',
});

const REMOVED = 'removed from Linux, which answers ENOSYS too';

/**
 * Why some syscalls without a handler answer ENOSYS, where there is more to say than "not
 * implemented yet" (the compatibility page shows it).
 */
export const ENOSYS_REASONS: Readonly<Record<string, string>> = {
  rseq: 'restartable sequences are not emulated; glibc runs without them when it gets ENOSYS',
  create_module: REMOVED,
  get_kernel_syms: REMOVED,
  query_module: REMOVED,
  nfsservctl: REMOVED,
  getpmsg: REMOVED,
  putpmsg: REMOVED,
  afs_syscall: REMOVED,
  tuxcall: REMOVED,
  security: REMOVED,
  vserver: REMOVED,
  _sysctl: REMOVED,
  epoll_ctl_old: REMOVED,
  epoll_wait_old: REMOVED,
};

function unimplemented(name: string): Support {
  const reason = ENOSYS_REASONS[name];
  return reason === undefined ? NOT_IMPLEMENTED : Object.freeze({ level: 'errno', errno: E.ENOSYS, reason });
}

/** A syscall table. Replace or add handlers with {@link SyscallTable.override}. */
export class SyscallTable {
  private readonly rows: SyscallEntry[] = [];

  /** A table with every Linux x86-64 syscall, and the handlers of `families`. */
  constructor(families: readonly SyscallFamily[]) {
    for (const info of abiTable) {
      this.rows[info.nr] = {
        nr: info.nr,
        name: info.name,
        handler: undefined,
        support: unimplemented(info.name),
      };
    }
    for (const fam of families) {
      for (const [name, def] of Object.entries(fam)) this.override(name, def.handler, def.support);
    }
  }

  /**
   * Installs `handler` for the syscall `name` (an embedder may replace a built-in one). Throws for
   * a name Linux does not have: that is a bug in the caller, not input from an app.
   */
  override(name: string, handler: SyscallHandler, support: Support): void {
    const info = syscallByName(name);
    if (!info) throw new Error(`unknown syscall name: ${name}`);
    this.rows[info.nr] = { nr: info.nr, name: info.name, handler, support };
  }

  /** The row for a number, or undefined for a number Linux does not define. */
  get(nr: number): SyscallEntry | undefined {
    // Any number that is not a row's index (negative, fractional, NaN, past the end) finds no
    // element: no separate check, as this runs for every syscall.
    return this.rows[nr];
  }

  /** Every row, by number. */
  entries(): SyscallEntry[] {
    return this.rows.filter((r): r is SyscallEntry => r !== undefined);
  }
}
