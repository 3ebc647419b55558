/**
 * The capability model: capset's rules against a per-capability model (fast-check), the set*id
 * fixups, execve's transformation, and the prctl operations with their errnos.
 */
import { Capability, E, isError, type LinuxError } from '@tsvisor/abi';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ambient,
  AmbientOp,
  boundingHas,
  CAP_FULL_SET,
  capable,
  capBit,
  credsChangeClearsDumpable,
  dropBounding,
  execCredentials,
  execDumpable,
  ID_UNCHANGED,
  makeCredentials,
  parseFileCaps,
  ptraceCredsMatch,
  Securebit,
  setCaps,
  setFsId,
  setId,
  setKeepCaps,
  setReId,
  setResId,
  setSecurebits,
  type Credentials,
} from './credentials.js';

const { CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_KILL, CAP_NET_ADMIN, CAP_SETPCAP, CAP_SETUID, CAP_SYS_ADMIN } =
  Capability;
const M = ID_UNCHANGED;

function ok<T>(v: T | LinuxError): T {
  if (isError(v)) throw new Error(`unexpected ${String(v)}`);
  return v;
}

function withSets(c: Credentials, sets: Partial<Credentials>): Credentials {
  return { ...c, ...sets };
}

const set41 = fc.bigInt({ min: 0n, max: CAP_FULL_SET });

/** A consistent credential: effective within permitted, ambient within permitted & inheritable. */
const credsArb = fc
  .record({ p: set41, e: set41, i: set41, b: set41, a: set41, euid: fc.constantFrom(0, 1000) })
  .map(({ p, e, i, b, a, euid }) =>
    withSets(makeCredentials(euid), {
      permitted: p,
      effective: e & p,
      inheritable: i,
      bounding: b,
      ambient: a & p & i,
    }),
  );

/** capset's rules one capability at a time, written from capset(2) rather than from the code. */
function modelCapset(
  c: Credentials,
  e: bigint,
  p: bigint,
  i: bigint,
): 'EPERM' | { e: bigint; p: bigint; i: bigint; a: bigint } {
  const has = (set: bigint, n: number): boolean => ((set >> BigInt(n)) & 1n) === 1n;
  const setpcap = has(c.effective, CAP_SETPCAP);
  let a = 0n;
  for (let n = 0; n <= Capability.CAP_LAST_CAP; n++) {
    const [ne, np, ni] = [has(e, n), has(p, n), has(i, n)];
    // A new inheritable bit must be inherited already, or be permitted (or any bit with CAP_SETPCAP)...
    if (ni && !has(c.inheritable, n) && !has(c.permitted, n) && !setpcap) return 'EPERM';
    // ...and never come from outside the bounding set.
    if (ni && !has(c.inheritable, n) && !has(c.bounding, n)) return 'EPERM';
    if (np && !has(c.permitted, n)) return 'EPERM';
    if (ne && !np) return 'EPERM';
    if (has(c.ambient, n) && np && ni) a |= 1n << BigInt(n);
  }
  return { e, p, i, a };
}

describe('capset rules', () => {
  it('agree with a per-capability model', () => {
    fc.assert(
      fc.property(credsArb, set41, set41, set41, fc.boolean(), (c, e, p, i, shrink) => {
        // Half the requests only shrink, so the success path is exercised as often as EPERM.
        const want = shrink
          ? { effective: e & p & c.permitted, permitted: p & c.permitted, inheritable: i & c.inheritable }
          : { effective: e, permitted: p, inheritable: i };
        const got = setCaps(c, want);
        const exp = modelCapset(c, want.effective, want.permitted, want.inheritable);
        if (exp === 'EPERM') expect(got).toBe(E.EPERM);
        else {
          const n = ok<Credentials>(got);
          expect({ e: n.effective, p: n.permitted, i: n.inheritable, a: n.ambient }).toEqual(exp);
          expect(n.bounding).toBe(c.bounding);
        }
      }),
      { numRuns: 400 },
    );
  });

  it('ignores bits above CAP_LAST_CAP and keeps the old object', () => {
    const root = makeCredentials();
    const n = ok<Credentials>(
      setCaps(root, { effective: 1n << 50n, permitted: CAP_FULL_SET, inheritable: 0n }),
    );
    expect(n.effective).toBe(0n);
    expect(root.effective).toBe(CAP_FULL_SET);
  });
});

describe('set*id fixups', () => {
  it('setuid from root to a user drops everything, or keeps permitted with KEEP_CAPS', () => {
    const dropped = ok<Credentials>(setId(makeCredentials(), 'u', 65534));
    expect([dropped.permitted, dropped.effective, dropped.ambient]).toEqual([0n, 0n, 0n]);
    const keep = ok<Credentials>(setKeepCaps(makeCredentials(), 1n));
    const kept = ok<Credentials>(setId(keep, 'u', 65534));
    expect([kept.permitted, kept.effective]).toEqual([CAP_FULL_SET, 0n]);
    // The daemon pattern: raise what it kept back into effective with capset.
    const raised = ok<Credentials>(
      setCaps(kept, { effective: capBit(CAP_NET_ADMIN), permitted: capBit(CAP_NET_ADMIN), inheritable: 0n }),
    );
    expect(capable(raised, CAP_NET_ADMIN)).toBe(true);
    expect(capable(raised, CAP_SYS_ADMIN)).toBe(false);
  });

  it('seteuid away from 0 and back restores the effective set from permitted', () => {
    const away = ok<Credentials>(setReId(makeCredentials(), 'u', M, 1000));
    expect([away.permitted, away.effective]).toEqual([CAP_FULL_SET, 0n]);
    expect(capable(away, CAP_KILL)).toBe(false);
    const back = ok<Credentials>(setResId(away, 'u', M, 0, M));
    expect(back.effective).toBe(CAP_FULL_SET);
  });

  it('ambient goes when every uid leaves 0, even with KEEP_CAPS', () => {
    let c = ok<Credentials>(
      setCaps(makeCredentials(), {
        effective: CAP_FULL_SET,
        permitted: CAP_FULL_SET,
        inheritable: capBit(CAP_CHOWN),
      }),
    );
    c = ok<{ creds: Credentials }>(ambient(c, AmbientOp.RAISE, BigInt(CAP_CHOWN), 0n)).creds;
    c = ok<Credentials>(setKeepCaps(c, 1n));
    const u = ok<Credentials>(setResId(c, 'u', 5, 5, 5));
    expect([u.ambient, u.permitted]).toEqual([0n, CAP_FULL_SET]);
  });

  it('NO_SETUID_FIXUP leaves the sets alone', () => {
    const c = ok<Credentials>(setSecurebits(makeCredentials(), BigInt(Securebit.SECBIT_NO_SETUID_FIXUP)));
    const u = ok<Credentials>(setId(c, 'u', 1000));
    expect(u.effective).toBe(CAP_FULL_SET);
    expect(setFsId(u, 'u', 1000).creds.effective).toBe(CAP_FULL_SET);
  });

  it('a non-zero fsuid drops the filesystem capabilities; fsuid 0 raises the permitted ones back', () => {
    const fs = setFsId(makeCredentials(), 'u', 1000).creds;
    expect(capable(fs, CAP_DAC_OVERRIDE)).toBe(false);
    expect(capable(fs, CAP_CHOWN)).toBe(false);
    expect(capable(fs, Capability.CAP_LINUX_IMMUTABLE)).toBe(false);
    expect(capable(fs, CAP_KILL)).toBe(true);
    expect(setFsId(fs, 'u', 0).creds.effective).toBe(CAP_FULL_SET);
    // setfsgid changes no capability.
    expect(setFsId(makeCredentials(), 'g', 5).creds.effective).toBe(CAP_FULL_SET);
  });

  it('setuid needs CAP_SETUID, not uid 0', () => {
    const noSetuid = ok<Credentials>(
      setCaps(makeCredentials(), {
        effective: CAP_FULL_SET & ~capBit(CAP_SETUID),
        permitted: CAP_FULL_SET,
        inheritable: 0n,
      }),
    );
    expect(setId(noSetuid, 'u', 1000)).toBe(E.EPERM);
    expect(setId(noSetuid, 'g', 1000)).not.toBe(E.EPERM);
  });
});

function exec(c: Credentials, options: Parameters<typeof execCredentials>[1] = {}): Credentials {
  return ok(execCredentials(c, options)).creds;
}

/** A `security.capability` value: revision 2 (or 3 with a root id), fP, fI, the effective flag. */
function xattr(fP: bigint, fI: bigint, effective: boolean, rootid?: number): Uint8Array {
  const out = new Uint8Array(rootid === undefined ? 20 : 24);
  const v = new DataView(out.buffer);
  v.setUint32(0, (rootid === undefined ? 0x02000000 : 0x03000000) | (effective ? 1 : 0), true);
  for (let i = 0; i < 2; i++) {
    v.setUint32(4 + 8 * i, Number((fP >> BigInt(32 * i)) & 0xffffffffn), true);
    v.setUint32(8 + 8 * i, Number((fI >> BigInt(32 * i)) & 0xffffffffn), true);
  }
  if (rootid !== undefined) v.setUint32(20, rootid, true);
  return out;
}

describe('execve', () => {
  it('root gets bounding | inheritable; a user keeps only its ambient set', () => {
    const root = ok<Credentials>(dropBounding(makeCredentials(), BigInt(CAP_KILL)));
    const after = exec(root);
    expect(after.permitted).toBe(CAP_FULL_SET & ~capBit(CAP_KILL));
    expect(after.effective).toBe(after.permitted);

    let c = ok<Credentials>(
      setCaps(makeCredentials(), {
        effective: CAP_FULL_SET,
        permitted: CAP_FULL_SET,
        inheritable: capBit(CAP_CHOWN),
      }),
    );
    c = ok<{ creds: Credentials }>(ambient(c, AmbientOp.RAISE, BigInt(CAP_CHOWN), 0n)).creds;
    c = ok<Credentials>(setKeepCaps(c, 1n));
    c = ok<Credentials>(setId(c, 'u', 1000));
    // setuid cleared the ambient set; raise it again from the kept permitted set.
    c = ok<Credentials>(
      setCaps(c, { effective: 0n, permitted: CAP_FULL_SET, inheritable: capBit(CAP_CHOWN) }),
    );
    c = ok<{ creds: Credentials }>(ambient(c, AmbientOp.RAISE, BigInt(CAP_CHOWN), 0n)).creds;
    const user = exec(c);
    expect([user.permitted, user.effective, user.ambient]).toEqual([
      capBit(CAP_CHOWN),
      capBit(CAP_CHOWN),
      capBit(CAP_CHOWN),
    ]);
    expect(user.securebits & Securebit.SECBIT_KEEP_CAPS).toBe(0);

    const plain = exec(ok<Credentials>(setId(makeCredentials(), 'u', 1000)));
    expect([plain.permitted, plain.effective]).toEqual([0n, 0n]);
  });

  it('real uid 0 alone gives permitted but not effective; NOROOT gives neither', () => {
    const e = exec(ok<Credentials>(setReId(makeCredentials(), 'u', M, 1000)));
    expect([e.permitted, e.effective, e.suid, e.fsuid]).toEqual([CAP_FULL_SET, 0n, 1000, 1000]);
    const noroot = ok<Credentials>(setSecurebits(makeCredentials(), BigInt(Securebit.SECBIT_NOROOT)));
    expect(exec(noroot).permitted).toBe(0n);
  });
});

describe('prctl operations', () => {
  it('bounding set: read, drop with CAP_SETPCAP, Linux errnos', () => {
    const root = makeCredentials();
    expect(boundingHas(root, 40n)).toBe(1);
    expect(boundingHas(root, 41n)).toBe(E.EINVAL);
    expect(dropBounding(root, 41n)).toBe(E.EINVAL);
    const d = ok<Credentials>(dropBounding(root, 5n));
    expect(boundingHas(d, 5n)).toBe(0);
    const user = ok<Credentials>(setId(root, 'u', 1));
    // The privilege check comes before the range check.
    expect(dropBounding(user, 41n)).toBe(E.EPERM);
  });

  it('ambient: rules and errnos', () => {
    const root = makeCredentials();
    expect(ambient(root, AmbientOp.RAISE, 1n, 0n)).toBe(E.EPERM); // not inheritable
    expect(ambient(root, AmbientOp.IS_SET, 41n, 0n)).toBe(E.EINVAL);
    expect(ambient(root, AmbientOp.CLEAR_ALL, 1n, 0n)).toBe(E.EINVAL);
    expect(ambient(root, 0n, 1n, 0n)).toBe(E.EINVAL);
    expect(ambient(root, 99n, 1n, 0n)).toBe(E.EINVAL);
    expect(ambient(root, AmbientOp.RAISE, 1n, 1n)).toBe(E.EINVAL);
    const inh = ok<Credentials>(
      setCaps(root, { effective: CAP_FULL_SET, permitted: CAP_FULL_SET, inheritable: 2n }),
    );
    const r = ok<{ creds: Credentials }>(ambient(inh, AmbientOp.RAISE, 1n, 0n)).creds;
    expect(ok<{ result: number }>(ambient(r, AmbientOp.IS_SET, 1n, 0n)).result).toBe(1);
    const lowered = ok<{ creds: Credentials }>(ambient(r, AmbientOp.LOWER, 1n, 0n)).creds;
    expect(lowered.ambient).toBe(0n);
    const noRaise = ok<Credentials>(setSecurebits(inh, BigInt(Securebit.SECBIT_NO_CAP_AMBIENT_RAISE)));
    expect(ambient(noRaise, AmbientOp.RAISE, 1n, 0n)).toBe(E.EPERM);
    // Dropping the capability from permitted or inheritable with capset drops it from ambient.
    const dropped = ok<Credentials>(setCaps(r, { effective: 0n, permitted: CAP_FULL_SET, inheritable: 0n }));
    expect(dropped.ambient).toBe(0n);
  });

  it('securebits: locks, unknown bits and CAP_SETPCAP', () => {
    const root = makeCredentials();
    expect(setSecurebits(root, 1n << 12n)).toBe(E.EPERM);
    expect(setSecurebits(root, 1n << 40n)).toBe(E.EPERM);
    const locked = ok<Credentials>(setSecurebits(root, BigInt(Securebit.SECBIT_KEEP_CAPS_LOCKED)));
    // No changing a locked flag, no releasing a lock.
    expect(
      setSecurebits(locked, BigInt(Securebit.SECBIT_KEEP_CAPS | Securebit.SECBIT_KEEP_CAPS_LOCKED)),
    ).toBe(E.EPERM);
    expect(setSecurebits(locked, 0n)).toBe(E.EPERM);
    expect(setKeepCaps(locked, 1n)).toBe(E.EPERM);
    expect(setKeepCaps(root, 2n)).toBe(E.EINVAL);
    const user = ok<Credentials>(setId(root, 'u', 1));
    expect(setSecurebits(user, 0n)).toBe(E.EPERM);
    expect(ok<Credentials>(setKeepCaps(user, 1n)).securebits).toBe(Securebit.SECBIT_KEEP_CAPS);
  });
});

describe('README example', () => {
  it('runs the Credentials and capabilities example as written', () => {
    const keep = setKeepCaps(makeCredentials(), 1n);
    const nobody = isError(keep) ? keep : setId(keep, 'u', 65534);
    const net = capBit(CAP_NET_ADMIN);
    const daemon = isError(nobody)
      ? nobody
      : setCaps(nobody, { effective: net, permitted: net, inheritable: 0n });
    expect(isError(daemon) ? daemon : capable(daemon, CAP_NET_ADMIN)).toBe(true);
  });
});

describe('file capabilities', () => {
  const bind = capBit(Capability.CAP_NET_BIND_SERVICE);
  const user = ok<Credentials>(setId(makeCredentials(), 'u', 1000));

  it('decodes security.capability values as get_vfs_caps_from_disk', () => {
    expect(parseFileCaps(xattr(bind, 0n, true))).toEqual({
      permitted: bind,
      inheritable: 0n,
      effective: true,
    });
    expect(parseFileCaps(xattr(1n << 40n, 2n, false, 0))).toEqual({
      permitted: 1n << 40n,
      inheritable: 2n,
      effective: false,
    });
    // Revision 1: one word, 12 bytes.
    expect(parseFileCaps(new Uint8Array([0, 0, 0, 1, 4, 0, 0, 0, 0, 0, 0, 0]))).toEqual({
      permitted: 4n,
      inheritable: 0n,
      effective: false,
    });
    expect(parseFileCaps(xattr(bind, 0n, true, 1000))).toBeUndefined();
    expect(parseFileCaps(xattr(bind, 0n, true).subarray(0, 16))).toBe(E.EINVAL);
    expect(parseFileCaps(new Uint8Array([0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0]))).toBe(E.EINVAL);
    expect(parseFileCaps(new Uint8Array(2))).toBe(E.EINVAL);
  });

  it('give a user fP within the bounding set, effective with the flag, and AT_SECURE', () => {
    const fileCaps = ok(parseFileCaps(xattr(bind, 0n, true)));
    if (!fileCaps) throw new Error('no file capabilities decoded');
    const r = ok(execCredentials(user, { fileCaps }));
    expect([r.creds.permitted, r.creds.effective, r.secure]).toEqual([bind, bind, true]);
    const quiet = ok(execCredentials(user, { fileCaps: { ...fileCaps, effective: false } }));
    expect([quiet.creds.permitted, quiet.creds.effective]).toEqual([bind, 0n]);
    expect(ok(execCredentials(user)).secure).toBe(false);
  });

  it('fail with EPERM when an effective program would miss part of fP', () => {
    const dropped = ok<Credentials>(dropBounding(makeCredentials(), BigInt(Capability.CAP_NET_BIND_SERVICE)));
    const u = ok<Credentials>(setId(dropped, 'u', 1000));
    expect(execCredentials(u, { fileCaps: { permitted: bind, inheritable: 0n, effective: true } })).toBe(
      E.EPERM,
    );
    expect(exec(u, { fileCaps: { permitted: bind, inheritable: 0n, effective: false } }).permitted).toBe(0n);
  });

  it('clear the ambient set, and give nothing new under no_new_privs', () => {
    let c = ok<Credentials>(
      setCaps(makeCredentials(), { effective: CAP_FULL_SET, permitted: CAP_FULL_SET, inheritable: bind }),
    );
    c = ok<{ creds: Credentials }>(
      ambient(c, AmbientOp.RAISE, BigInt(Capability.CAP_NET_BIND_SERVICE), 0n),
    ).creds;
    c = ok<Credentials>(setKeepCaps(c, 1n));
    c = ok<Credentials>(setResId(c, 'u', 1000, 1000, 1000));
    c = ok<Credentials>(setCaps(c, { effective: 0n, permitted: bind, inheritable: bind }));
    c = ok<{ creds: Credentials }>(
      ambient(c, AmbientOp.RAISE, BigInt(Capability.CAP_NET_BIND_SERVICE), 0n),
    ).creds;
    const chown = capBit(CAP_CHOWN);
    const withFile = exec(c, { fileCaps: { permitted: chown, inheritable: 0n, effective: true } });
    expect([withFile.permitted, withFile.ambient]).toEqual([chown, 0n]);
    expect(
      exec(user, { fileCaps: { permitted: chown, inheritable: 0n, effective: false }, noNewPrivs: true })
        .permitted,
    ).toBe(0n);
  });
});

describe('ptrace access', () => {
  it('needs CAP_SYS_PTRACE, or the same ids and no capability the caller lacks', () => {
    const user = ok<Credentials>(setResId(makeCredentials(), 'u', 1000, 1000, 1000));
    const kept = ok<Credentials>(
      setResId(ok<Credentials>(setKeepCaps(makeCredentials(), 1n)), 'u', 1000, 1000, 1000),
    );
    expect(ptraceCredsMatch(user, user)).toBe(true);
    expect(ptraceCredsMatch(user, kept)).toBe(false);
    expect(ptraceCredsMatch(kept, user)).toBe(true);
    expect(ptraceCredsMatch(makeCredentials(), kept)).toBe(true);
  });
});

describe('dumpability', () => {
  it('is lost with a new euid or fsuid or more permitted capabilities, and back after a plain exec', () => {
    const root = makeCredentials();
    const user = ok<Credentials>(setId(root, 'u', 1000));
    expect(credsChangeClearsDumpable(root, user)).toBe(true);
    expect(credsChangeClearsDumpable(root, setFsId(root, 'g', 5).creds)).toBe(true);
    const shrunk = ok<Credentials>(setCaps(root, { effective: 0n, permitted: 1n, inheritable: 0n }));
    expect(credsChangeClearsDumpable(root, shrunk)).toBe(false);
    expect(execDumpable(user, exec(user))).toBe(true);
    // Root regains its full permitted set at exec: that counts as gaining capabilities.
    expect(execDumpable(shrunk, exec(shrunk))).toBe(false);
    const seteuid = ok<Credentials>(setReId(root, 'u', M, 1000));
    expect(execDumpable(seteuid, exec(seteuid))).toBe(false);
  });
});

describe('set-id programs', () => {
  const user = ok<Credentials>(setResId(makeCredentials(), 'u', 1000, 1000, 1000));

  it('a set-user-ID root program makes a user root with every capability', () => {
    const r = ok(execCredentials(user, { file: { mode: 0o104755, uid: 0, gid: 0 } }));
    expect([r.creds.uid, r.creds.euid, r.creds.suid, r.creds.fsuid]).toEqual([1000, 0, 0, 0]);
    expect([r.creds.permitted, r.creds.effective, r.secure]).toEqual([CAP_FULL_SET, CAP_FULL_SET, true]);
    // Ignored under no_new_privs.
    const nnp = ok(execCredentials(user, { file: { mode: 0o104755, uid: 0, gid: 0 }, noNewPrivs: true }));
    expect([nnp.creds.euid, nnp.creds.permitted, nnp.secure]).toEqual([1000, 0n, false]);
  });

  it('set-group-ID needs the group execute bit; a set-id exec clears the ambient set', () => {
    expect(exec(user, { file: { mode: 0o102755, uid: 0, gid: 5 } }).egid).toBe(5);
    expect(exec(user, { file: { mode: 0o102745, uid: 0, gid: 5 } }).egid).toBe(0);
    let c = ok<Credentials>(
      setCaps(makeCredentials(), { effective: CAP_FULL_SET, permitted: CAP_FULL_SET, inheritable: 1n }),
    );
    c = ok<{ creds: Credentials }>(ambient(c, AmbientOp.RAISE, 0n, 0n)).creds;
    c = ok<Credentials>(setReId(c, 'u', M, 1000));
    // seteuid alone keeps the ambient set across exec (but the exec is secure).
    const kept = ok(execCredentials(c));
    expect([kept.creds.ambient, kept.creds.effective, kept.secure]).toEqual([1n, 1n, true]);
    const cleared = exec(c, { file: { mode: 0o104755, uid: 7, gid: 0 } });
    expect([cleared.euid, cleared.ambient, cleared.effective]).toEqual([7, 0n, 0n]);
  });
});
