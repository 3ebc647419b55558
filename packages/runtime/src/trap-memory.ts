/**
 * The kernel's {@link TaskMemory} port over the ptrace platform: one object per sandboxed address
 * space, reaching its bytes with `process_vm_readv`/`writev` through any host thread that lives in
 * it. Those calls work whether the thread is stopped or running, honour page protections (writing
 * read-only memory is EFAULT, as `copy_to_user`), and report short counts at the first
 * inaccessible page, which is exactly the contract of `readInto`/`write`.
 *
 * Hot path: `readInto` and `write` allocate nothing; they range-check and make one native call.
 *
 * @module
 */
import { E, type LinuxError } from '@tsvisor/abi';
import { TASK_SIZE, TaskMemoryBase, accessOk } from '@tsvisor/kernel';
import { TrapError, type Task as HostTask } from '@tsvisor/trap-native';

/**
 * Memory of one host address space. Threads that share it are added with {@link attach}; when the
 * thread in use exits, another one is used. With no live thread left, every access is EFAULT.
 *
 * @example
 * ```ts
 * const mem = new TrapMemory(stub.task);
 * mem.write(0x10000, new TextEncoder().encode('hi')); // 2, or E.EFAULT if unmapped
 * ```
 */
export class TrapMemory extends TaskMemoryBase {
  #host: HostTask | undefined;
  readonly #threads = new Set<HostTask>();

  constructor(host?: HostTask) {
    super();
    if (host) this.attach(host);
  }

  /** Adds a host thread of this address space (a new thread, or the first task after a fork). */
  attach(host: HostTask): void {
    this.#threads.add(host);
    if (!this.#host?.alive) this.#host = host;
  }

  /** Forgets a host thread (it exited). */
  detach(host: HostTask): void {
    this.#threads.delete(host);
    if (this.#host === host) this.#host = this.#pick();
  }

  /** The host thread used for accesses, if any is alive. */
  get host(): HostTask | undefined {
    return this.#current();
  }

  #pick(): HostTask | undefined {
    for (const t of this.#threads) if (t.alive) return t;
    return undefined;
  }

  #current(): HostTask | undefined {
    const h = this.#host;
    if (h?.alive) return h;
    this.#host = this.#pick();
    return this.#host;
  }

  readInto(addr: number, dst: Uint8Array): number | LinuxError {
    if (dst.length === 0) return 0;
    if (!accessOk(addr, dst.length)) return inUserSpace(addr) ? this.#partial(addr, dst, false) : E.EFAULT;
    return this.#access(addr, dst, false);
  }

  write(addr: number, bytes: Uint8Array): number | LinuxError {
    if (bytes.length === 0) return 0;
    if (!accessOk(addr, bytes.length)) return inUserSpace(addr) ? this.#partial(addr, bytes, true) : E.EFAULT;
    return this.#access(addr, bytes, true);
  }

  /**
   * One native access through a live host thread. A thread the platform no longer knows (its
   * process was just killed, the platform learns it at the next switch) throws; it is dropped and
   * the next one tried, and with none left the answer is EFAULT, never an exception.
   */
  #access(addr: number, buf: Uint8Array, write: boolean): number | LinuxError {
    for (;;) {
      const h = this.#current();
      if (!h) return E.EFAULT;
      try {
        return write ? h.writeMemory(addr, buf) : h.readMemory(addr, buf);
      } catch (e) {
        if (!(e instanceof TrapError)) throw e;
        this.detach(h);
      }
    }
  }

  /** A range that starts in user space but runs past its end: move what lies below the end. */
  #partial(addr: number, buf: Uint8Array, write: boolean): number | LinuxError {
    return this.#access(addr, buf.subarray(0, TASK_SIZE - addr), write);
  }
}

function inUserSpace(addr: number): boolean {
  return Number.isInteger(addr) && addr >= 0 && addr < TASK_SIZE;
}
