/**
 * What the System V IPC handlers share: the `struct ipc64_perm` at the head of every `*id64_ds`,
 * the IPC_SET input, and the clock the `*_time` fields read.
 *
 * @module
 */
import { E, type LinuxError } from '@tsvisor/abi';
import type { IpcObject, Task } from '@tsvisor/kernel';

/** Size of `struct ipc64_perm` on x86-64. */
export const IPC64_PERM_SIZE = 48;

/** Seconds since the epoch, as the `*_time` fields hold them. */
export function ipcNow(t: Task): number {
  return Number(t.kernel.time.realtimeNs() / 1_000_000_000n);
}

/** Writes `ipc64_perm` at the start of `dv`. */
export function emitPerm(dv: DataView, obj: IpcObject): void {
  dv.setInt32(0, obj.key, true);
  dv.setUint32(4, obj.uid, true);
  dv.setUint32(8, obj.gid, true);
  dv.setUint32(12, obj.cuid, true);
  dv.setUint32(16, obj.cgid, true);
  dv.setUint32(20, obj.mode, true);
  dv.setUint16(24, obj.seq, true);
}

/** The fields IPC_SET takes from `ipc64_perm`. */
export interface PermSet {
  readonly uid: number;
  readonly gid: number;
  readonly mode: number;
}

/**
 * Reads a whole `*id64_ds` of `size` bytes for IPC_SET (EFAULT), as Linux copies it before the
 * lookup. An id of -1 is not a valid uid/gid (EINVAL, checked later by {@link checkPermSet}).
 */
export function readDs(t: Task, addr: number, size: number): { perm: PermSet; dv: DataView } | LinuxError {
  const bytes = t.memory.read(addr, size);
  if (bytes instanceof Uint8Array) {
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return {
      perm: { uid: dv.getUint32(4, true), gid: dv.getUint32(8, true), mode: dv.getUint32(20, true) },
      dv,
    };
  }
  return bytes;
}

/** `ipc_update_perm`'s check: uid and gid must be valid ids (not -1). */
export function checkPermSet(p: PermSet): LinuxError | undefined {
  return p.uid === 0xffffffff || p.gid === 0xffffffff ? E.EINVAL : undefined;
}

/** Writes `bytes` to the app (EFAULT). */
export function copyOut(t: Task, addr: number, bytes: Uint8Array): LinuxError | undefined {
  return t.memory.writeExact(addr, bytes);
}

/** A zeroed buffer and its view. */
export function buffer(size: number): { bytes: Uint8Array; dv: DataView } {
  const bytes = new Uint8Array(size);
  return { bytes, dv: new DataView(bytes.buffer) };
}
