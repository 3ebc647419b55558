import { E, isError } from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import {
  ID_UNCHANGED,
  makeCredentials,
  setFsId,
  setGroups,
  setId,
  setReId,
  setResId,
} from './credentials.js';
import { RLIM_INFINITY, Rlimit } from '@tsvisor/abi';
import { defaultRlimits, setRlimit, softLimit } from './rlimits.js';

describe('credentials', () => {
  it('root setuid sets every uid; then the process is unprivileged', () => {
    const root = makeCredentials();
    const c = setId(root, 'u', 1000);
    if (isError(c)) throw new Error();
    expect([c.uid, c.euid, c.suid, c.fsuid]).toEqual([1000, 1000, 1000, 1000]);
    expect(setId(c, 'u', 0)).toBe(E.EPERM);
    expect(setId(c, 'u', ID_UNCHANGED)).toBe(E.EINVAL);
    // The old object is untouched (copy-on-write).
    expect(root.uid).toBe(0);
  });

  it('unprivileged setresuid may only shuffle its own ids', () => {
    const c = setResId(makeCredentials(), 'u', 1000, 1001, 1002);
    if (isError(c)) throw new Error();
    const d = setResId(c, 'u', 1002, 1000, ID_UNCHANGED);
    if (isError(d)) throw new Error();
    expect([d.uid, d.euid, d.suid, d.fsuid]).toEqual([1002, 1000, 1002, 1000]);
    expect(setResId(d, 'u', 5, ID_UNCHANGED, ID_UNCHANGED)).toBe(E.EPERM);
  });

  it('setreuid moves the saved uid with the effective one', () => {
    const c = setResId(makeCredentials(), 'u', 1000, 1000, 1000);
    if (isError(c)) throw new Error();
    expect(setReId(c, 'u', ID_UNCHANGED, 7)).toBe(E.EPERM);
    const r = setReId(makeCredentials(), 'u', ID_UNCHANGED, 1000);
    if (isError(r)) throw new Error();
    expect([r.uid, r.euid, r.suid]).toEqual([0, 1000, 1000]);
  });

  it('setfsuid answers the old value and changes only when allowed', () => {
    const c = setResId(makeCredentials(), 'u', 1000, 1000, 1000);
    if (isError(c)) throw new Error();
    expect(setFsId(c, 'u', 5)).toEqual({ old: 1000, creds: c });
    const root = setFsId(makeCredentials(), 'u', 5);
    expect(root.old).toBe(0);
    expect(root.creds.fsuid).toBe(5);
  });

  it('setgroups needs privilege and sorts', () => {
    const g = setGroups(makeCredentials(), [5, 3]);
    if (isError(g)) throw new Error();
    expect(g.groups).toEqual([3, 5]);
    const u = setId(makeCredentials(), 'u', 1);
    if (isError(u)) throw new Error();
    expect(setGroups(u, [1])).toBe(E.EPERM);
  });
});

describe('rlimits', () => {
  it('has Linux-like defaults and validates setrlimit', () => {
    const l = defaultRlimits();
    expect(l[Rlimit.RLIMIT_STACK]).toEqual({ cur: 8n << 20n, max: RLIM_INFINITY });
    expect(softLimit(l, Rlimit.RLIMIT_NOFILE)).toBe(1024);
    expect(setRlimit(l, 99, { cur: 1n, max: 1n }, true)).toBe(E.EINVAL);
    expect(setRlimit(l, Rlimit.RLIMIT_NOFILE, { cur: 10n, max: 5n }, true)).toBe(E.EINVAL);
    expect(setRlimit(l, Rlimit.RLIMIT_NOFILE, { cur: 10n, max: 600000n }, false)).toBe(E.EPERM);
    expect(setRlimit(l, Rlimit.RLIMIT_NOFILE, { cur: 10n, max: 2n ** 21n }, true)).toBe(E.EPERM);
    const n = setRlimit(l, Rlimit.RLIMIT_NOFILE, { cur: 10n, max: 20n }, false);
    if (isError(n)) throw new Error();
    expect(softLimit(n, Rlimit.RLIMIT_NOFILE)).toBe(10);
    expect(softLimit(l, Rlimit.RLIMIT_NOFILE)).toBe(1024);
  });
});
