/**
 * Random bytes for the kernel (AT_RANDOM, getrandom(2), boot_id), from the host's `/dev/urandom`:
 * the same cryptographically secure pool as getrandom(2). Not from node:crypto, whose first load
 * (with webcrypto) cost several milliseconds of every sandbox's start for 16 bytes.
 *
 * @module
 */
import { openSync, readSync } from 'node:fs';

/** The open `/dev/urandom` (close-on-exec, as Node opens every file), once first needed. */
let urandom: number | undefined;

/**
 * Fills `buf` with random bytes and returns it.
 *
 * @example
 * ```ts
 * const canary = fillRandom(new Uint8Array(16));
 * ```
 */
export function fillRandom(buf: Uint8Array): Uint8Array {
  urandom ??= openSync('/dev/urandom', 'r');
  for (let done = 0; done < buf.length;) {
    const n = readSync(urandom, buf, done, buf.length - done, null);
    if (n <= 0) throw new Error('/dev/urandom gave no bytes');
    done += n;
  }
  return buf;
}

/** A random (version 4, RFC 9562) UUID in its 36-character text form, as /proc's boot_id. */
export function randomUuid(): string {
  const b = fillRandom(new Uint8Array(16));
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const hex = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
