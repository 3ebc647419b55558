import { E, isError, type LinuxError } from '@tsvisor/abi';
import { SparseMemory, type PlatformPort, type PlatformTask, type TaskMemory } from '@tsvisor/kernel';
import type { HostOp } from '@tsvisor/mm';
import { FileDescription } from '@tsvisor/vfs';

/**
 * A platform whose "host" address spaces are SparseMemory objects: it applies mm's journal for
 * real (file mappings are copied from the VFS file), so exec can be tested end to end in Node.
 */
export class FakePlatform implements PlatformPort {
  readonly spaces = new Map<number, SparseMemory>();
  readonly created: { child: number; kind: string }[] = [];

  memoryOf(t: PlatformTask): SparseMemory {
    let m = this.spaces.get(t.tid);
    if (!m) {
      m = new SparseMemory();
      this.spaces.set(t.tid, m);
    }
    return m;
  }

  applyMemoryOps(t: PlatformTask, ops: readonly unknown[]): undefined {
    const mem = this.memoryOf(t);
    for (const op of ops as HostOp[]) {
      if (op.op === 'mmap') {
        mem.unmap(op.addr, op.length);
        mem.map(op.addr, op.length, { read: true, write: true });
        // The syscall layer's and the exec loader's map files both carry their VFS open file.
        const description = (op.file as { description?: unknown } | null)?.description;
        if (description instanceof FileDescription) {
          const buf = new Uint8Array(op.length);
          const n = description.pread(buf, op.offset);
          if (typeof n === 'number' && !isError(n)) mem.write(op.addr, buf.subarray(0, n));
        }
        mem.protect(op.addr, op.length, { read: (op.prot & 1) !== 0, write: (op.prot & 2) !== 0 });
      } else if (op.op === 'munmap') mem.unmap(op.addr, op.length);
      else if (op.op === 'mprotect')
        mem.protect(op.addr, op.length, { read: (op.prot & 1) !== 0, write: (op.prot & 2) !== 0 });
    }
    return undefined;
  }

  /** Every page the fake host maps counts as resident; a page it lacks is the host's ENOMEM. */
  mincore(t: PlatformTask, start: number, pages: number): Uint8Array | LinuxError {
    const mem = this.memoryOf(t);
    const vec = new Uint8Array(pages);
    for (let i = 0; i < pages; i++) {
      try {
        mem.peek(start + i * 4096, 1); // throws for a page the fake host does not map
      } catch {
        return E.ENOMEM;
      }
      vec[i] = 1;
    }
    return vec;
  }

  createTask(parent: PlatformTask, child: PlatformTask, kind: 'thread' | 'fork'): TaskMemory | undefined {
    this.created.push({ child: child.tid, kind });
    if (kind === 'thread') return undefined;
    const m = new SparseMemory();
    this.spaces.set(child.tid, m);
    void parent;
    return m;
  }

  execAddressSpace(t: PlatformTask): TaskMemory {
    const m = new SparseMemory();
    this.spaces.set(t.tid, m);
    return m;
  }

  destroyTask(t: PlatformTask): void {
    this.spaces.delete(t.tid);
  }
}
