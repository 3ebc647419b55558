import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isError } from '@tsvisor/abi';
import { Platform, type VdsoLayout } from './platform.js';

let platform: Platform;

beforeAll(() => {
  platform = Platform.create();
});

afterAll(() => {
  platform.close();
});

/** The user-space lines of a host process's maps (without [vsyscall]). */
function userMaps(pid: number): string[] {
  return readFileSync(`/proc/${pid}/maps`, 'utf8')
    .trim()
    .split('\n')
    .filter((l) => !l.includes('[vsyscall]'));
}

function hex(n: number): string {
  return n.toString(16).padStart(8, '0');
}

/** The maps lines the layout describes, as the host kernel prints them. */
function expectLines(pid: number, layout: VdsoLayout): void {
  const maps = userMaps(pid);
  const line = (start: number, end: number, name: string): string | undefined =>
    maps.find((l) => l.startsWith(`${hex(start)}-${hex(end)} `) && l.endsWith(` ${name}`));
  expect(line(layout.vdso.start, layout.vdso.end, '[vdso]')).toMatch(/ r-xp /);
  for (const v of layout.vvar) expect(line(v.start, v.end, v.name)).toMatch(/ r--p /);
}

describe('stub vDSO', () => {
  it('is unmapped by default', () => {
    const stub = platform.createStub();
    expect(stub.vdso).toBeNull();
    expect(userMaps(stub.pid).some((l) => /\[(vdso|vvar)/.test(l))).toBe(false);
    stub.kill();
  });

  it('is kept and described when asked for, at the same address in every stub and fork', () => {
    const a = platform.createStub({ vdso: true });
    const b = platform.createStub({ vdso: true });
    const layout = a.vdso;
    expect(layout).not.toBeNull();
    if (!layout) return;
    expect(layout.vdso.end).toBeGreaterThan(layout.vdso.start);
    expect(layout.vvar.length).toBeGreaterThanOrEqual(1);
    expect(layout.vvar.every((v) => v.name === '[vvar]' || v.name === '[vvar_vclock]')).toBe(true);
    // Nothing else of the exec is left: the stub's two pages and the vDSO's.
    expect(userMaps(a.pid)).toHaveLength(2 + 1 + layout.vvar.length);
    expectLines(a.pid, layout);
    expect(b.vdso).toEqual(layout);
    const child = a.task.fork();
    if (isError(child)) throw child;
    expectLines(child.tgid, layout);
    a.kill();
    b.kill();
  });
});
