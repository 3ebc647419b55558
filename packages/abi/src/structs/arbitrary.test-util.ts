/**
 * Test helper: fast-check arbitraries for struct values, derived from the codec tables so every
 * struct defined with defineStruct gets one without hand-written code.
 */

import fc from 'fast-check';
import type { Codec, FixedStruct } from './layout.js';
import { siginfo, sigset, type Siginfo } from './signal.js';

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/** Arbitrary valid values for one codec. */
export function codecArb(codec: Codec<unknown>): fc.Arbitrary<unknown> {
  switch (codec.kind) {
    case 'u8':
      return fc.integer({ min: 0, max: 0xff });
    case 'u16':
    case 'be16':
      return fc.integer({ min: 0, max: 0xffff });
    case 'i16':
      return fc.integer({ min: -0x8000, max: 0x7fff });
    case 'u32':
    case 'be32':
      return fc.integer({ min: 0, max: 0xffffffff });
    case 'i32':
      return fc.integer({ min: -0x80000000, max: 0x7fffffff });
    case 'u64':
      return fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });
    case 'i64':
      return fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
    case 'u64n':
      return fc.integer({ min: 0, max: MAX_SAFE });
    case 'i64n':
      return fc.integer({ min: -MAX_SAFE, max: MAX_SAFE });
    case 'bytes':
      return fc.uint8Array({ minLength: codec.size, maxLength: codec.size });
    case 'cstr':
      // ASCII without NUL, short enough for the terminator.
      return fc.string({
        unit: fc.integer({ min: 1, max: 0x7f }).map((c) => String.fromCharCode(c)),
        maxLength: codec.size - 1,
      });
    case 'struct':
      return structArb(codec.struct as FixedStruct<unknown>);
    case 'array':
      return fc.array(codecArb(codec.element as Codec<unknown>), {
        minLength: codec.count as number,
        maxLength: codec.count as number,
      });
  }
}

/** Arbitrary values of a table-defined struct. */
export function structArb<V>(def: FixedStruct<V>): fc.Arbitrary<V> {
  const custom = customArbs.get(def as FixedStruct<unknown>);
  if (custom) return custom as fc.Arbitrary<V>;
  if (def.spec.length === 0)
    throw new Error(`${def.name} has no codec table; give it a hand-written arbitrary`);
  const rec: Record<string, fc.Arbitrary<unknown>> = {};
  for (const f of def.spec) rec[f.name] = codecArb(f.codec);
  return fc.record(rec) as unknown as fc.Arbitrary<V>;
}

const i32 = fc.integer({ min: -0x80000000, max: 0x7fffffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const u64 = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });
const long = fc.integer({ min: -MAX_SAFE, max: MAX_SAFE });
const sig = fc.integer({ min: 1, max: 64 });
const range = (min: number, max: number) => fc.integer({ min, max });

/** (signo, code) pairs per layout, following the kernel's siginfo_layout. */
const faultCodes = fc.oneof(
  fc.tuple(fc.constant(4), range(1, 11)),
  fc.tuple(fc.constant(8), range(1, 15)),
  fc.tuple(fc.constant(11), fc.constantFrom(1, 2, 5, 6, 7, 8, 9, 10)),
  fc.tuple(fc.constant(7), range(1, 3)),
  fc.tuple(fc.constant(5), range(1, 5)),
);

/** Arbitrary siginfo values, every layout, with (signo, code) consistent with it. */
export const siginfoArb: fc.Arbitrary<Siginfo> = fc.oneof(
  fc.record({
    si_signo: sig,
    si_errno: i32,
    si_code: fc.constantFrom(0, 0x80, 0x81, 1000),
    layout: fc.constant('kill' as const),
    si_pid: i32,
    si_uid: u32,
  }),
  fc.record({
    si_signo: sig,
    si_errno: i32,
    si_code: fc.constant(-2),
    layout: fc.constant('timer' as const),
    si_tid: i32,
    si_overrun: i32,
    si_value: u64,
  }),
  fc.record({
    si_signo: sig,
    si_errno: i32,
    si_code: fc.constantFrom(-1, -3, -4, -6, -7, -60),
    layout: fc.constant('rt' as const),
    si_pid: i32,
    si_uid: u32,
    si_value: u64,
  }),
  fc.record({
    si_signo: fc.constant(17),
    si_errno: i32,
    si_code: range(1, 6),
    layout: fc.constant('chld' as const),
    si_pid: i32,
    si_uid: u32,
    si_status: i32,
    si_utime: long,
    si_stime: long,
  }),
  fc
    .record({ sc: faultCodes, si_errno: i32, si_addr: u64 })
    .map(({ sc, ...r }) => ({ ...r, si_signo: sc[0], si_code: sc[1], layout: 'fault' as const })),
  fc.record({
    si_signo: fc.constant(7),
    si_errno: i32,
    si_code: fc.constantFrom(4, 5),
    layout: fc.constant('fault-mceerr' as const),
    si_addr: u64,
    si_addr_lsb: range(-0x8000, 0x7fff),
  }),
  fc.record({
    si_signo: fc.constant(11),
    si_errno: i32,
    si_code: fc.constant(3),
    layout: fc.constant('fault-bnderr' as const),
    si_addr: u64,
    si_lower: u64,
    si_upper: u64,
  }),
  fc.record({
    si_signo: fc.constant(11),
    si_errno: i32,
    si_code: fc.constant(4),
    layout: fc.constant('fault-pkuerr' as const),
    si_addr: u64,
    si_pkey: u32,
  }),
  fc.record({
    si_signo: fc.constant(5),
    si_errno: i32,
    si_code: fc.constant(6),
    layout: fc.constant('perf' as const),
    si_addr: u64,
    si_perf_data: u64,
    si_perf_type: u32,
    si_perf_flags: u32,
  }),
  fc.record({
    si_signo: fc.constantFrom(29, 10, 2),
    si_errno: i32,
    si_code: range(1, 6),
    layout: fc.constant('poll' as const),
    si_band: long,
    si_fd: i32,
  }),
  fc.record({
    si_signo: sig,
    si_errno: i32,
    si_code: fc.constant(-5),
    layout: fc.constant('poll' as const),
    si_band: long,
    si_fd: i32,
  }),
  fc.record({
    si_signo: fc.constant(31),
    si_errno: i32,
    si_code: range(1, 2),
    layout: fc.constant('sys' as const),
    si_call_addr: u64,
    si_syscall: i32,
    si_arch: u32,
  }),
);

const customArbs = new Map<FixedStruct<unknown>, fc.Arbitrary<unknown>>([
  [siginfo as FixedStruct<unknown>, siginfoArb],
  [sigset as FixedStruct<unknown>, u64],
]);
