// The examples of the doc comments and of the README's "Struct views" section, run through the
// package's public entry point.
import { describe, expect, it } from 'vitest';
import {
  CmsgWriter,
  codecs,
  defineStruct,
  Dirent64Writer,
  E,
  isError,
  linux_dirent64,
  parseCmsgs,
  parseSockaddr,
  stat,
  StatView,
  structView,
  timespec,
  encodeSockaddr,
} from '../index.js';

describe('documented examples', () => {
  it('README: parse untrusted bytes, fill a view in place, read a socket address', () => {
    // Decode untrusted user bytes: short input is an errno, never an exception.
    const userBytes = timespec.encode({ tv_sec: 3, tv_nsec: 500 });
    const ts = timespec.parse(userBytes);
    expect(ts).toEqual({ tv_sec: 3, tv_nsec: 500 });
    expect(timespec.parse(userBytes.subarray(0, 10))).toBe(E.EFAULT);

    // Fill a user buffer in place for fstat, field by field.
    const buf = new Uint8Array(stat.size);
    const st = new StatView(new DataView(buf.buffer), 0);
    st.st_ino = 42n;
    st.st_mode = 0o100644;
    st.st_size = 5n;
    const back = stat.parse(buf);
    expect(isError(back) ? back : back.st_size).toBe(5n);

    // Socket addresses by family, with the kernel's addrlen rules.
    const addr = encodeSockaddr({ kind: 'unix-path', path: new TextEncoder().encode('/run/x.sock') });
    expect(addr.length).toBe(2 + 11 + 1);
    expect(parseSockaddr(addr, 0, addr.length)).toMatchObject({ kind: 'unix-path' });
    expect(parseSockaddr(addr, 0, 1)).toBe(E.EINVAL);
  });

  it('codecs + defineStruct + structView', () => {
    const { at, u32, i32 } = codecs;
    const ucred = defineStruct('ucred', 12, { pid: at(0, i32), uid: at(4, u32), gid: at(8, u32) });
    const Ucred = structView(ucred);
    const b = new Uint8Array(12);
    const v = new Ucred(new DataView(b.buffer), 0);
    v.pid = -1;
    v.uid = 1000;
    expect(ucred.parse(b)).toEqual({ pid: -1, uid: 1000, gid: 0 });
  });

  it('Dirent64Writer and CmsgWriter', () => {
    const buf = new Uint8Array(64);
    const w = new Dirent64Writer(buf);
    expect(w.add(2n, 1n, 4, new TextEncoder().encode('.'))).toBe(true);
    expect(w.result(true)).toBe(24);
    expect(linux_dirent64.parseAll(buf, 0, 24)).toHaveLength(1);

    const control = new Uint8Array(24);
    const c = new CmsgWriter(control);
    const passed = [5, 6, 7];
    const n = Math.min(c.maxRights(), passed.length);
    expect(c.putRights(passed.slice(0, n), passed.length)).toBe(2);
    expect(c.flags).toBe(8);
    const msgs = parseCmsgs(control, 0, c.written);
    expect(isError(msgs) ? msgs : msgs[0]?.data.length).toBe(8);
  });
});
