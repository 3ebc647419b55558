/**
 * Reading and writing abi struct values in a task's memory, with Linux's EFAULT rules.
 *
 * @module
 */
import { E, isError, timespec, type FixedStruct, type LinuxError } from '@tsvisor/abi';
import type { Task } from '@tsvisor/kernel';

/** Reads a struct from app memory (`EFAULT` if any byte is unreachable). */
export function readStruct<V>(t: Task, addr: number, s: FixedStruct<V>): V | LinuxError {
  const raw = t.memory.read(addr, s.size);
  if (isError(raw)) return raw;
  return s.parse(raw, 0);
}

/** Writes a struct to app memory (`EFAULT` if any byte is unreachable). */
export function writeStruct<V>(t: Task, addr: number, s: FixedStruct<V>, value: V): LinuxError | undefined {
  return t.memory.writeExact(addr, s.encode(value));
}

/** Reads a `struct timespec` as nanoseconds: `EFAULT`, or `EINVAL` when negative or unnormalized. */
export function readTimespecNs(t: Task, addr: number): bigint | LinuxError {
  const ts = readStruct(t, addr, timespec);
  if (isError(ts)) return ts;
  if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= 1e9) return E.EINVAL;
  return BigInt(ts.tv_sec) * 1_000_000_000n + BigInt(ts.tv_nsec);
}
