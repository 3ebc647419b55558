/**
 * An IPC namespace: the System V shared memory segments, semaphore sets and message queues a
 * sandbox's processes share (each sandbox has its own, like `unshare -i`).
 *
 * @module
 */
import { AddressSpace as MmAddressSpace, type MapFile } from '@tsvisor/mm';
import { MsgNamespace } from './msg.js';
import { MqNamespace } from './mqueue.js';
import { SemNamespace } from './sem.js';
import { ShmNamespace } from './shm.js';

/** Something with an address space whose model may be an `@tsvisor/mm` AddressSpace (a task). */
interface HasModel {
  readonly mm: { readonly model: unknown };
}

/** The three object kinds of one IPC namespace. */
export class IpcNamespace {
  readonly shm: ShmNamespace;
  readonly sem = new SemNamespace();
  readonly msg = new MsgNamespace();
  /** POSIX message queues (the namespace's mqueue filesystem). */
  readonly mq = new MqNamespace();

  /** `tasks` lists the namespace's live tasks, whose address spaces shm attachments are counted in. */
  constructor(tasks: () => Iterable<HasModel>) {
    this.shm = new ShmNamespace((files: readonly MapFile[]) => {
      const seen = new Set<unknown>();
      let n = 0;
      for (const t of tasks()) {
        const model = t.mm.model;
        if (seen.has(model) || !(model instanceof MmAddressSpace)) continue;
        seen.add(model);
        for (const v of model.list()) if (v.file !== null && files.includes(v.file)) n++;
      }
      return n;
    });
  }

  /**
   * The namespace ends with its sandbox: every segment's memory is released now rather than when
   * it is collected (host mappings keep their own reference to the pages).
   */
  destroy(): void {
    for (const seg of this.shm.ids.all()) {
      this.shm.ids.remove(seg);
      seg.backing.release();
    }
    this.shm.totalPages = 0;
  }
}
