import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { compile, testbed, type SandboxRun } from './c-programs.test-util.js';
import type { SandboxConfig } from './sandbox.js';

let native = '';
const bed = testbed((dir) => {
  native = compile(dir, 'vdso', ['-O1', '-Wall', '-Werror']);
});
/** The program's path inside the sandbox (the test dir is mounted at /test). */
const prog = '/test/vdso';

/** Runs the program in a sandbox with the test dir mounted. */
function run(args: string[], config: Partial<SandboxConfig> = {}): Promise<SandboxRun> {
  return bed.run([prog, ...args], {
    volumes: [{ host: bed.dir, sandbox: '/test', readOnly: true }],
    ...config,
  });
}

/** Checks the `now <realtime> <monotonic>` line against the host clocks read around the run. */
function expectHostTime(stdout: string, before: { real: bigint; mono: bigint }): void {
  const after = { real: BigInt(Date.now()) * 1_000_000n, mono: process.hrtime.bigint() };
  const m = /^now (\d+) (\d+)$/m.exec(stdout);
  expect(m).not.toBeNull();
  const real = BigInt(m?.[1] ?? '0');
  const mono = BigInt(m?.[2] ?? '0');
  const slack = 50_000_000n;
  expect(real >= before.real - slack && real <= after.real + slack).toBe(true);
  // Node's hrtime is the host's CLOCK_MONOTONIC.
  expect(mono >= before.mono - slack && mono <= after.mono + slack).toBe(true);
}

function hostNow(): { real: bigint; mono: bigint } {
  return { real: BigInt(Date.now()) * 1_000_000n, mono: process.hrtime.bigint() };
}

/** The number of clock_gettime calls a run trapped (strace sees every trapped call). */
async function trappedClockCalls(args: string[], vdso: boolean): Promise<{ calls: number; stdout: string }> {
  let calls = 0;
  const r = await run(args, {
    vdso,
    strace: (line) => {
      if (/\bclock_gettime\(/.test(line)) calls++;
    },
  });
  expect(r.status).toBe(0);
  return { calls, stdout: r.stdout };
}

describe('host vDSO in the sandbox', () => {
  it('gives AT_SYSINFO_EHDR at the [vdso] of /proc/self/maps, and host-agreeing monotonic clocks', async () => {
    const before = hostNow();
    const r = await run(['check']);
    expect(r.stdout).not.toMatch(/FAIL/);
    expect(r.status).toBe(0);
    expectHostTime(r.stdout, before);
  });

  it('answers clock_gettime without trapping', async () => {
    const on = await trappedClockCalls(['loop', '10000'], true);
    expect(on.calls).toBeLessThan(10);
    // The same loop without the vDSO traps every call: the count above is not blind.
    const off = await trappedClockCalls(['loop', '1000'], false);
    expect(off.calls).toBeGreaterThanOrEqual(1000);
    console.log(`clock_gettime: with vDSO ${on.stdout.trim()}, without ${off.stdout.trim()}`);
    console.log(`natively: ${execFileSync(native, ['loop', '100000'], { encoding: 'utf8' }).trim()}`);
  });

  it('works in a fork child, at the parent address', async () => {
    const before = hostNow();
    const r = await run(['fork']);
    expect(r.stdout).not.toMatch(/FAIL/);
    expect(r.status).toBe(0);
    const parent = /^parent ehdr (\w+)$/m.exec(r.stdout)?.[1];
    const child = /^ehdr (\w+)$/m.exec(r.stdout)?.[1];
    expect(parent).toBeDefined();
    expect(child).toBe(parent);
    expectHostTime(r.stdout, before);
  });

  it('works after execve (AT_SYSINFO_EHDR set again)', async () => {
    const before = hostNow();
    const r = await run(['exec']);
    expect(r.stdout).not.toMatch(/FAIL/);
    expect(r.status).toBe(0);
    expectHostTime(r.stdout, before);
  });

  it('is absent when turned off: no AT_SYSINFO_EHDR', async () => {
    const r = await run(['check'], { vdso: false });
    expect(r.stdout).toMatch(/FAIL no AT_SYSINFO_EHDR/);
    expect(r.status).toBe(1);
  });

  it('cannot be unmapped or reprotected (sealed, EPERM), unlike on Linux', async () => {
    const r = await run(['seal']);
    expect(r.stdout).toBe('munmap EPERM\nmprotect EPERM\n');
    expect(r.status).toBe(0);
  });
});
