import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { E } from '@tsvisor/abi';
import { TASK_SIZE } from '@tsvisor/kernel';
import { Platform, type Stub } from '@tsvisor/trap-native';
import { NR_MMAP, NR_MPROTECT } from './host-nr.js';
import { TrapMemory } from './trap-memory.js';

const PROT_READ = 1;
const PROT_WRITE = 2;
const ANON_FIXED = 0x02 | 0x10 | 0x20;
const BASE = 0x10000000;
const PAGE = 4096;

let platform: Platform;
let stub: Stub;
let mem: TrapMemory;

beforeAll(() => {
  platform = Platform.create();
  stub = platform.createStub();
  // Two pages: read-write, then read-only; nothing after them.
  expect(stub.task.hostSyscall(NR_MMAP, BASE, 2 * PAGE, PROT_READ | PROT_WRITE, ANON_FIXED, -1, 0)).toBe(
    BASE,
  );
  expect(stub.task.hostSyscall(NR_MPROTECT, BASE + PAGE, PAGE, PROT_READ)).toBe(0);
  mem = new TrapMemory(stub.task);
});

afterAll(() => {
  stub.kill();
  platform.close();
});

describe('TrapMemory', () => {
  it('writes and reads back bytes, strings and integers', () => {
    expect(mem.write(BASE, new TextEncoder().encode('hello\0'))).toBe(6);
    expect(mem.readCString(BASE, 100)).toBe('hello');
    expect(mem.writeU64(BASE + 8, -2n)).toBeUndefined();
    expect(mem.readU64(BASE + 8)).toBe(2n ** 64n - 2n);
    expect(mem.readI32(BASE + 8)).toBe(-2);
  });

  it('answers EFAULT for unmapped, kernel and non-integer addresses', () => {
    const buf = new Uint8Array(8);
    expect(mem.readInto(0, buf)).toBe(E.EFAULT);
    expect(mem.readInto(BASE + 2 * PAGE, buf)).toBe(E.EFAULT);
    expect(mem.readInto(TASK_SIZE, buf)).toBe(E.EFAULT);
    expect(mem.readInto(-8, buf)).toBe(E.EFAULT);
    expect(mem.readInto(BASE + 0.5, buf)).toBe(E.EFAULT);
    expect(mem.write(0, buf)).toBe(E.EFAULT);
  });

  it('reports the count before the first inaccessible byte', () => {
    const buf = new Uint8Array(16);
    expect(mem.readInto(BASE + 2 * PAGE - 8, buf)).toBe(8);
    expect(mem.read(BASE + 2 * PAGE - 8, 16)).toBe(E.EFAULT);
    expect(mem.readExact(BASE + 2 * PAGE - 8, buf)).toBe(E.EFAULT);
  });

  it('honours page protections: no writes to read-only memory', () => {
    expect(mem.write(BASE + PAGE, new Uint8Array(4))).toBe(E.EFAULT);
    // A write straddling into the read-only page stops at its start.
    expect(mem.write(BASE + PAGE - 4, new Uint8Array(8))).toBe(4);
  });

  it('zero-length accesses succeed anywhere', () => {
    expect(mem.readInto(0, new Uint8Array(0))).toBe(0);
    expect(mem.write(TASK_SIZE + 10, new Uint8Array(0))).toBe(0);
  });

  it('fails with EFAULT once no host thread is left', () => {
    const orphan = new TrapMemory();
    expect(orphan.readInto(BASE, new Uint8Array(4))).toBe(E.EFAULT);
  });

  it('answers EFAULT, never throws, when its host process was just killed', () => {
    const other = platform.createStub();
    const m = new TrapMemory(other.task);
    expect(other.task.hostSyscall(NR_MMAP, BASE, PAGE, PROT_READ | PROT_WRITE, ANON_FIXED, -1, 0)).toBe(BASE);
    expect(m.write(BASE, new Uint8Array(4))).toBe(4);
    other.kill();
    expect(m.readInto(BASE, new Uint8Array(4))).toBe(E.EFAULT);
    expect(m.writeU32(BASE, 1)).toBe(E.EFAULT);
  });
});
