/**
 * The host CPU's auxiliary-vector facts, read from the supervisor's own /proc/self/auxv: what
 * execve should tell sandboxed programs about the CPU they really run on (AT_HWCAP, AT_HWCAP2,
 * AT_MINSIGSTKSZ). This is the only place the kernel package reads the host, and only to learn
 * about the hardware; pass the result as `KernelOptions.cpuAux`.
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import type { CpuAux } from './kernel.js';
import { AT } from './elf/stack.js';

/** Generic x86-64 values, for hosts where /proc/self/auxv cannot be read. */
export const DEFAULT_CPU_AUX: CpuAux = Object.freeze({ hwcap: 0x178bfbff, hwcap2: 2, minSigStackSize: 2048 });

/** Parses an auxv image (pairs of little-endian u64, ending with AT_NULL). */
export function parseAuxv(bytes: Uint8Array): Map<number, bigint> {
  const out = new Map<number, bigint>();
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let at = 0; at + 16 <= bytes.length; at += 16) {
    const key = Number(v.getBigUint64(at, true));
    if (key === AT.NULL) break;
    out.set(key, v.getBigUint64(at + 8, true));
  }
  return out;
}

/** The host's CPU facts, or {@link DEFAULT_CPU_AUX} when they cannot be read. */
export function hostCpuAux(): CpuAux {
  let aux: Map<number, bigint>;
  try {
    aux = parseAuxv(new Uint8Array(readFileSync('/proc/self/auxv')));
  } catch {
    return DEFAULT_CPU_AUX;
  }
  const num = (k: number, d: number): number => {
    const x = aux.get(k);
    return x === undefined ? d : Number(x);
  };
  return {
    hwcap: num(AT.HWCAP, DEFAULT_CPU_AUX.hwcap),
    hwcap2: num(AT.HWCAP2, DEFAULT_CPU_AUX.hwcap2),
    minSigStackSize: num(AT.MINSIGSTKSZ, DEFAULT_CPU_AUX.minSigStackSize),
  };
}
