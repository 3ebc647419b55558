/**
 * futex(2) operations and flags, and the futex2 flags (Linux 6.7).
 *
 * @module
 */
import { defineEnum, defineFlags } from './flagset.js';

/** futex(2) operations, the flags ORed into them, and the futex word bits. */
export const Futex = {
  FUTEX_WAIT: 0,
  FUTEX_WAKE: 1,
  FUTEX_FD: 2,
  FUTEX_REQUEUE: 3,
  FUTEX_CMP_REQUEUE: 4,
  FUTEX_WAKE_OP: 5,
  FUTEX_LOCK_PI: 6,
  FUTEX_UNLOCK_PI: 7,
  FUTEX_TRYLOCK_PI: 8,
  FUTEX_WAIT_BITSET: 9,
  FUTEX_WAKE_BITSET: 10,
  FUTEX_WAIT_REQUEUE_PI: 11,
  FUTEX_CMP_REQUEUE_PI: 12,
  FUTEX_LOCK_PI2: 13,
  FUTEX_PRIVATE_FLAG: 128,
  FUTEX_CLOCK_REALTIME: 256,
  FUTEX_CMD_MASK: ~(128 | 256),
  FUTEX_BITSET_MATCH_ANY: 0xffffffff,
  FUTEX_WAITERS: 0x80000000,
  FUTEX_OWNER_DIED: 0x40000000,
  FUTEX_TID_MASK: 0x3fffffff,
} as const;

const futexCmds = [
  'FUTEX_WAIT',
  'FUTEX_WAKE',
  'FUTEX_FD',
  'FUTEX_REQUEUE',
  'FUTEX_CMP_REQUEUE',
  'FUTEX_WAKE_OP',
  'FUTEX_LOCK_PI',
  'FUTEX_UNLOCK_PI',
  'FUTEX_TRYLOCK_PI',
  'FUTEX_WAIT_BITSET',
  'FUTEX_WAKE_BITSET',
  'FUTEX_WAIT_REQUEUE_PI',
  'FUTEX_CMP_REQUEUE_PI',
  'FUTEX_LOCK_PI2',
] as const;

/**
 * futex(2) `op`, for decoding: the whole word is one value, with `_PRIVATE` folded into the
 * command name (`FUTEX_WAKE_PRIVATE`) and `|FUTEX_CLOCK_REALTIME` only where Linux accepts it,
 * exactly the combinations strace names; anything else is `0x183 /* FUTEX_??? *\/`.
 */
export const futexOps = defineEnum(
  'futex_op',
  [
    ...futexCmds.map((name) => ({ name, value: Futex[name] })),
    ...futexCmds.map((name) => ({
      name: name === 'FUTEX_FD' ? 'FUTEX_FD|FUTEX_PRIVATE_FLAG' : `${name}_PRIVATE`,
      value: Futex[name] | Futex.FUTEX_PRIVATE_FLAG,
    })),
    ...(['FUTEX_WAIT', 'FUTEX_WAIT_BITSET', 'FUTEX_WAIT_REQUEUE_PI'] as const).flatMap((name) => [
      { name: `${name}|FUTEX_CLOCK_REALTIME`, value: Futex[name] | Futex.FUTEX_CLOCK_REALTIME },
      {
        name: `${name}_PRIVATE|FUTEX_CLOCK_REALTIME`,
        value: Futex[name] | Futex.FUTEX_PRIVATE_FLAG | Futex.FUTEX_CLOCK_REALTIME,
      },
    ]),
  ],
  { prefix: 'FUTEX_' },
);

/** FUTEX_WAKE_OP operations (bits 28-30 of val3) and comparisons (bits 24-27). */
export const FutexWakeOp = {
  FUTEX_OP_SET: 0,
  FUTEX_OP_ADD: 1,
  FUTEX_OP_OR: 2,
  FUTEX_OP_ANDN: 3,
  FUTEX_OP_XOR: 4,
  FUTEX_OP_OPARG_SHIFT: 8,
  FUTEX_OP_CMP_EQ: 0,
  FUTEX_OP_CMP_NE: 1,
  FUTEX_OP_CMP_LT: 2,
  FUTEX_OP_CMP_LE: 3,
  FUTEX_OP_CMP_GT: 4,
  FUTEX_OP_CMP_GE: 5,
} as const;

const wakeOps = ['FUTEX_OP_SET', 'FUTEX_OP_ADD', 'FUTEX_OP_OR', 'FUTEX_OP_ANDN', 'FUTEX_OP_XOR'];
const wakeCmps = [
  'FUTEX_OP_CMP_EQ',
  'FUTEX_OP_CMP_NE',
  'FUTEX_OP_CMP_LT',
  'FUTEX_OP_CMP_LE',
  'FUTEX_OP_CMP_GT',
  'FUTEX_OP_CMP_GE',
];

/**
 * Renders FUTEX_WAKE_OP's encoded operation like strace:
 * `FUTEX_OP_SET<<28|0<<12|FUTEX_OP_CMP_GT<<24|0x1`.
 */
export function decodeFutexWakeOp(val3: number): string {
  const v = val3 >>> 0;
  const op = (v >>> 28) & 7;
  const cmp = (v >>> 24) & 0xf;
  const oparg = (v >>> 12) & 0xfff;
  const cmparg = v & 0xfff;
  const hex = (n: number) => (n === 0 ? '0' : '0x' + n.toString(16));
  const parts: string[] = [];
  if ((v >>> 28) & FutexWakeOp.FUTEX_OP_OPARG_SHIFT) parts.push('FUTEX_OP_OPARG_SHIFT<<28');
  parts.push(wakeOps[op] ? `${wakeOps[op]}<<28` : `${hex(op)}<<28 /* FUTEX_OP_??? */`);
  parts.push(`${hex(oparg)}<<12`);
  parts.push(wakeCmps[cmp] ? `${wakeCmps[cmp]}<<24` : `${hex(cmp)}<<24 /* FUTEX_OP_CMP_??? */`);
  parts.push(hex(cmparg));
  return parts.join('|');
}

/** The bitset of FUTEX_WAIT_BITSET / FUTEX_WAKE_BITSET: `FUTEX_BITSET_MATCH_ANY` or hex. */
export function decodeFutexBitset(val3: number): string {
  const v = val3 >>> 0;
  return v === Futex.FUTEX_BITSET_MATCH_ANY
    ? 'FUTEX_BITSET_MATCH_ANY'
    : v === 0
      ? '0'
      : '0x' + v.toString(16);
}

/** futex2 flags (futex_waitv, futex_wake, futex_wait, futex_requeue). */
export const Futex2 = {
  FUTEX2_SIZE_U8: 0x00,
  FUTEX2_SIZE_U16: 0x01,
  FUTEX2_SIZE_U32: 0x02,
  FUTEX2_SIZE_U64: 0x03,
  FUTEX2_NUMA: 0x04,
  FUTEX2_MPOL: 0x08,
  FUTEX2_PRIVATE: 128,
  FUTEX2_SIZE_MASK: 0x03,
  FUTEX_32: 0x02,
} as const;

/** futex2 flags, for decoding. */
export const futex2Flags = defineFlags(
  'futex2',
  { FUTEX2_NUMA: Futex2.FUTEX2_NUMA, FUTEX2_MPOL: Futex2.FUTEX2_MPOL, FUTEX2_PRIVATE: Futex2.FUTEX2_PRIVATE },
  {
    mode: {
      mask: Futex2.FUTEX2_SIZE_MASK,
      position: 'first',
      omitZero: false,
      values: [
        { name: 'FUTEX2_SIZE_U8', value: 0 },
        { name: 'FUTEX2_SIZE_U16', value: 1 },
        { name: 'FUTEX2_SIZE_U32', value: 2 },
        { name: 'FUTEX2_SIZE_U64', value: 3 },
      ],
    },
  },
);
