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

/** A syscall table. Replace or add handlers with {@link SyscallTable.override}. */
export class SyscallTable {
  private readonly rows: SyscallEntry[] = [];

  /** A table with every Linux x86-64 syscall, and the handlers of `families`. */
  constructor(families: readonly SyscallFamily[]) {
    for (const info of abiTable) {
      this.rows[info.nr] = { nr: info.nr, name: info.name, handler: undefined, support: NOT_IMPLEMENTED };
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
    return Number.isInteger(nr) && nr >= 0 ? this.rows[nr] : undefined;
  }

  /** Every row, by number. */
  entries(): SyscallEntry[] {
    return this.rows.filter((r): r is SyscallEntry => r !== undefined);
  }
}
