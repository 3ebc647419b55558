/**
 * Memory files of the supervisor (memfd_create(2), which Node cannot call): the backing of
 * in-memory files that the sandbox maps shared. A memfd rather than an O_TMPFILE in /dev/shm:
 * it exists on every host (containers often have a tiny or missing /dev/shm, which may also be
 * mounted noexec, and then a PROT_EXEC mapping of it fails), has no size cap but memory, and
 * takes seals, so F_ADD_SEALS of the sandbox can be mirrored on the host where the mappings are.
 *
 * @module
 */
import { errorOf, type LinuxError } from '@tsvisor/abi';
import { native } from './native.native.js';

/**
 * A new memfd of this process (close-on-exec, sealing allowed), for node:fs I/O and for mapping
 * into stubs with `Task.passFd`. `name` shows in the host's /proc only.
 *
 * @example
 * ```ts
 * const fd = memfdCreate('tsvisor:data');
 * if (typeof fd === 'number') fs.writeSync(fd, bytes, 0, bytes.length, 0);
 * ```
 */
export function memfdCreate(name: string): number | LinuxError {
  const r = native().addon.memfdCreate(name);
  return r < 0 ? errorOf(-r) : r;
}

/**
 * Adds `seals` (F_SEAL_* bits) to a memfd made by {@link memfdCreate}: `EBUSY` for F_SEAL_WRITE
 * while a writable shared mapping of it exists, `EPERM` once F_SEAL_SEAL is set.
 */
export function memfdAddSeals(fd: number, seals: number): LinuxError | undefined {
  const r = native().addon.memfdAddSeals(fd, seals);
  return r < 0 ? errorOf(-r) : undefined;
}
