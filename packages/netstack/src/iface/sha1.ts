/**
 * The SHA-1 compression function (FIPS 180-4 §6.1.2) on one 64-byte block from the standard
 * initial state, without padding or length: exactly what Linux's RFC 7217 interface
 * identifiers hash (`ipv6_generate_stable_address` runs one block and reads the state words
 * directly, skipping SHA-1's finalisation), so a standard SHA-1 library cannot stand in for it.
 *
 * @module
 */

/** FIPS 180-4 §5.3.1: H(0). */
const INITIAL_STATE = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0] as const;

function rotl(x: number, n: number): number {
  return ((x << n) | (x >>> (32 - n))) >>> 0;
}

/**
 * The five state words after compressing `block` (64 bytes, read as big-endian words) into
 * the initial state. For a message of at most 55 bytes padded as §5.1.1 pads it, the words
 * written big-endian are that message's SHA-1 digest.
 */
export function sha1Compress(block: Uint8Array): Uint32Array {
  if (block.length !== 64) throw new RangeError('sha1Compress: the block is 64 bytes');
  const w = new Uint32Array(80);
  for (let i = 0; i < 16; i++)
    w[i] =
      ((block[4 * i]! << 24) | (block[4 * i + 1]! << 16) | (block[4 * i + 2]! << 8) | block[4 * i + 3]!) >>>
      0;
  for (let i = 16; i < 80; i++) w[i] = rotl(w[i - 3]! ^ w[i - 8]! ^ w[i - 14]! ^ w[i - 16]!, 1);
  let [a, b, c, d, e] = INITIAL_STATE as readonly number[] as [number, number, number, number, number];
  for (let i = 0; i < 80; i++) {
    let f: number;
    let k: number;
    if (i < 20) {
      f = (b & c) | (~b & d);
      k = 0x5a827999;
    } else if (i < 40) {
      f = b ^ c ^ d;
      k = 0x6ed9eba1;
    } else if (i < 60) {
      f = (b & c) | (b & d) | (c & d);
      k = 0x8f1bbcdc;
    } else {
      f = b ^ c ^ d;
      k = 0xca62c1d6;
    }
    const t = (rotl(a, 5) + f + e + k + w[i]!) >>> 0;
    e = d;
    d = c;
    c = rotl(b, 30);
    b = a;
    a = t;
  }
  const out = new Uint32Array(5);
  out[0] = INITIAL_STATE[0] + a;
  out[1] = INITIAL_STATE[1] + b;
  out[2] = INITIAL_STATE[2] + c;
  out[3] = INITIAL_STATE[3] + d;
  out[4] = INITIAL_STATE[4] + e;
  return out;
}
