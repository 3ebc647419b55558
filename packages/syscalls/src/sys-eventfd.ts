/**
 * eventfd(2) and eventfd2(2): a 64-bit counter as a file, for wake-ups between threads and
 * processes (libuv, glib and many event loops use it).
 *
 * @module
 */
import { E, isError, type LinuxError, OpenFlag } from '@tsvisor/abi';
import type { Task } from '@tsvisor/kernel';
import {
  FileDescription,
  FileDescriptionImpl,
  WOULD_BLOCK,
  WaitQueue,
  anonInode,
  type WouldBlock,
} from '@tsvisor/vfs';
import { filesOf, nofile, vfsCreds } from './vfs-context.js';
import { FULL, int, uint, type SyscallArgs, type SyscallFamily, type SyscallResult } from './types.js';

const EFD_SEMAPHORE = 1;
const EFD_CLOEXEC = 0o2000000;
const EFD_NONBLOCK = 0o4000;
const MAX = 0xffff_ffff_ffff_fffen;
const POLLIN = 0x1;
const POLLOUT = 0x4;

/** The counter behind an eventfd. */
export class EventfdImpl extends FileDescriptionImpl {
  private readonly queue = new WaitQueue();

  constructor(
    private count: bigint,
    private readonly semaphore: boolean,
  ) {
    super();
  }

  override read(dst: Uint8Array): number | LinuxError | WouldBlock {
    if (dst.length < 8) return E.EINVAL;
    if (this.count === 0n) return WOULD_BLOCK;
    const v = this.semaphore ? 1n : this.count;
    this.count -= v;
    new DataView(dst.buffer, dst.byteOffset, 8).setBigUint64(0, v, true);
    this.queue.notify(POLLOUT);
    return 8;
  }

  override write(src: Uint8Array): number | LinuxError | WouldBlock {
    if (src.length < 8) return E.EINVAL;
    const v = new DataView(src.buffer, src.byteOffset, 8).getBigUint64(0, true);
    if (v === 0xffff_ffff_ffff_ffffn) return E.EINVAL;
    if (this.count + v > MAX) return WOULD_BLOCK;
    this.count += v;
    if (v > 0n) this.queue.notify(POLLIN);
    return 8;
  }

  override readiness(mask: number): number {
    let ev = 0;
    if (this.count > 0n) ev |= POLLIN;
    if (this.count < MAX) ev |= POLLOUT;
    return ev & mask;
  }

  override get waitQueue(): WaitQueue {
    return this.queue;
  }

  override get stream(): boolean {
    return true;
  }
}

function create(t: Task, initval: number, flags: number): SyscallResult {
  if (flags & ~(EFD_SEMAPHORE | EFD_CLOEXEC | EFD_NONBLOCK)) return E.EINVAL;
  const file = new FileDescription(
    new EventfdImpl(BigInt(initval), (flags & EFD_SEMAPHORE) !== 0),
    anonInode('[eventfd]'),
    OpenFlag.O_RDWR | (flags & EFD_NONBLOCK ? OpenFlag.O_NONBLOCK : 0),
    vfsCreds(t),
  );
  const fd = filesOf(t).install(file, { limit: nofile(t), cloexec: (flags & EFD_CLOEXEC) !== 0 });
  if (isError(fd)) file.release();
  return fd;
}

/** implements eventfd2(2): `EINVAL` for unknown flags. */
function eventfd2(t: Task, a: SyscallArgs): SyscallResult {
  return create(t, uint(a[0]), int(a[1]));
}

/** implements eventfd(2). */
function eventfd(t: Task, a: SyscallArgs): SyscallResult {
  return create(t, uint(a[0]), 0);
}

/** eventfd syscalls. */
export const eventfdSyscalls: SyscallFamily = {
  eventfd2: { handler: eventfd2, support: FULL },
  eventfd: { handler: eventfd, support: FULL },
};
