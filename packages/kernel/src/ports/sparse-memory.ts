/**
 * An in-process address space for tests and standalone use: sparse 4 KiB pages, each readable
 * and/or writable, with the exact {@link TaskMemory} fault rules. It is what "fake memory" means in
 * DESIGN.md: handlers run against it in plain Node.
 *
 * @module
 */
import { E, type LinuxError } from '@tsvisor/abi';
import { TASK_SIZE, TaskMemoryBase, accessOk } from './task-memory.js';

const PAGE = 4096;

/** Page protection bits, as `PROT_READ`/`PROT_WRITE`. */
export interface PageProt {
  readonly read: boolean;
  readonly write: boolean;
}

interface Page {
  readonly bytes: Uint8Array;
  prot: PageProt;
}

/**
 * A sparse address space. `map` makes pages reachable (zero-filled), `protect` changes their
 * permissions, `unmap` removes them.
 *
 * @example
 * ```ts
 * const mem = new SparseMemory();
 * mem.map(0x10000, 4096);
 * mem.write(0x10000, new TextEncoder().encode('hi\0'));
 * mem.readCString(0x10000, 64); // 'hi'
 * mem.read(0x20000, 1); // E.EFAULT
 * ```
 */
export class SparseMemory extends TaskMemoryBase {
  private readonly pages = new Map<number, Page>();

  /** Maps `[addr, addr+len)` rounded out to pages, zero-filled, readable and writable by default. */
  map(addr: number, len: number, prot: PageProt = { read: true, write: true }): void {
    if (!accessOk(addr, len)) throw new RangeError(`bad mapping ${addr}+${len}`);
    for (let p = Math.floor(addr / PAGE); p * PAGE < addr + len; p++) {
      if (!this.pages.has(p)) this.pages.set(p, { bytes: new Uint8Array(PAGE), prot });
      else (this.pages.get(p) as Page).prot = prot;
    }
  }

  /** Changes the permissions of the mapped pages in the range. */
  protect(addr: number, len: number, prot: PageProt): void {
    for (let p = Math.floor(addr / PAGE); p * PAGE < addr + len; p++) {
      const page = this.pages.get(p);
      if (page) page.prot = prot;
    }
  }

  /** Removes the pages in the range. */
  unmap(addr: number, len: number): void {
    for (let p = Math.floor(addr / PAGE); p * PAGE < addr + len; p++) this.pages.delete(p);
  }

  /** Reads bytes ignoring permissions (for test assertions, like a debugger's peek). */
  peek(addr: number, len: number): Uint8Array {
    const out = new Uint8Array(len);
    const n = this.copy(addr, out, 'peek');
    if (n !== len) throw new RangeError(`peek of unmapped memory at ${addr.toString(16)}`);
    return out;
  }

  readInto(addr: number, dst: Uint8Array): number | LinuxError {
    return this.transfer(addr, dst, 'read');
  }

  write(addr: number, bytes: Uint8Array): number | LinuxError {
    return this.transfer(addr, bytes, 'write');
  }

  private transfer(addr: number, buf: Uint8Array, dir: 'read' | 'write'): number | LinuxError {
    if (buf.length === 0) return 0;
    if (!accessOk(addr, buf.length) || addr >= TASK_SIZE) return E.EFAULT;
    const n = this.copy(addr, buf, dir);
    return n === 0 ? E.EFAULT : n;
  }

  private copy(addr: number, buf: Uint8Array, dir: 'read' | 'write' | 'peek'): number {
    let done = 0;
    while (done < buf.length) {
      const at = addr + done;
      const page = this.pages.get(Math.floor(at / PAGE));
      if (!page) break;
      if (dir === 'read' && !page.prot.read) break;
      if (dir === 'write' && !page.prot.write) break;
      const off = at % PAGE;
      const n = Math.min(PAGE - off, buf.length - done);
      if (dir === 'write') page.bytes.set(buf.subarray(done, done + n), off);
      else buf.set(page.bytes.subarray(off, off + n), done);
      done += n;
    }
    return done;
  }
}
