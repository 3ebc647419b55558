/**
 * getrandom(2), from the host's random pool (the kernel's `fillRandom`: /dev/urandom).
 *
 * @module
 */
import { E, Grnd, isError } from '@tsvisor/abi';
import { MAX_RW_COUNT, fillRandom, type Task } from '@tsvisor/kernel';
import { FULL, ptr, size, uint, type SyscallArgs, type SyscallFamily, type SyscallResult } from './types.js';

const CHUNK = 65536;

/**
 * implements getrandom(2): `EINVAL` for unknown flags or GRND_INSECURE with GRND_RANDOM; copies
 * at most MAX_RW_COUNT bytes; a buffer that faults part way returns the bytes copied (EFAULT if
 * none were).
 */
function getrandom(t: Task, a: SyscallArgs): SyscallResult {
  const flags = uint(a[2]);
  if (a[2] >> 32n !== 0n) return E.EINVAL;
  if (flags & ~(Grnd.GRND_NONBLOCK | Grnd.GRND_RANDOM | Grnd.GRND_INSECURE)) return E.EINVAL;
  if (flags & Grnd.GRND_INSECURE && flags & Grnd.GRND_RANDOM) return E.EINVAL;
  const total = Math.min(size(a[1]), MAX_RW_COUNT);
  const base = ptr(a[0]);
  let done = 0;
  while (done < total) {
    const chunk = fillRandom(new Uint8Array(Math.min(CHUNK, total - done)));
    const n = t.memory.write(base + done, chunk);
    if (isError(n)) return done > 0 ? done : n;
    done += n;
    if (n < chunk.length) break;
  }
  return done;
}

/** Randomness syscalls. */
export const randomSyscalls: SyscallFamily = {
  getrandom: { handler: getrandom, support: FULL },
};
