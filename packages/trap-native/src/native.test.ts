// Property test of the native surface: any JavaScript values passed to the addon's task calls
// either work or throw a TrapError; nothing else escapes and Node never crashes. Calls that run
// code or create or kill processes (resume, hostSyscall, hostClone, kill, spawnStub, affinity)
// are left out: random arguments to those would act, not fail.
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { TrapError } from './errors.js';
import { native, type NativeAddon } from './native.native.js';
import { Platform, type Stub } from './platform.js';

let platform: Platform;
let stub: Stub;

beforeAll(() => {
  platform = Platform.create({ placement: 'none' });
  stub = platform.createStub();
  stub.task.hostSyscall(9, 0x10000, 4096, 3, 0x32, -1, 0);
});

afterAll(() => {
  stub.kill();
  platform.close();
});

const calls = [
  'getRegs',
  'setRegs',
  'setSyscallResult',
  'getFpRegs',
  'setFpRegs',
  'readMemory',
  'writeMemory',
  'readMemoryv',
  'writeMemoryv',
  'passFd',
  'taskInfo',
  'forget',
] as const satisfies readonly (keyof NativeAddon)[];

it('answers any arguments with a result or a TrapError', () => {
  const addon = native().addon as unknown as Record<string, (...a: unknown[]) => unknown>;
  const tid = stub.task.tid;
  const typed = fc.oneof(
    fc.integer({ min: 0, max: 64 }).map((n) => new Uint8Array(n)),
    fc.integer({ min: 0, max: 40 }).map((n) => new BigUint64Array(n)),
    fc.integer({ min: 0, max: 8 }).map((n) => new Float64Array(n).fill(0x10000)),
    fc.integer({ min: 0, max: 8 }).map((n) => new Int32Array(n)),
    fc.constant(new Uint8Array(platform.fpStateSize)),
  );
  const value = fc.oneof(
    fc.constant(tid),
    fc.constant(0x10000),
    fc.integer(),
    fc.double(),
    fc.bigInt(),
    typed,
    fc.array(typed, { maxLength: 3 }),
    fc.anything(),
  );
  fc.assert(
    fc.property(fc.constantFrom(...calls), fc.array(value, { maxLength: 4 }), (name, args) => {
      try {
        addon[name]?.(...args);
      } catch (e) {
        expect(e).toBeInstanceOf(TrapError);
      }
    }),
    { numRuns: 2000 },
  );
  // The task survived all of it and still answers.
  expect(stub.task.hostSyscall(39)).toBe(stub.pid);
});
