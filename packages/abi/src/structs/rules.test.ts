import { describe, expect, it } from 'vitest';
import { E } from '../errno.js';
import { DIRENT64_NAME_OFFSET, linux_dirent64 } from './dirent.js';
import { EpollEventView, epoll_event, iovec, parseIovecs, PollfdView, UIO_MAXIOV } from './io.js';
import { at, dataView, defineStruct, i64n, readI64n, readU64n, u64n, writeN64 } from './layout.js';
import { rtSigframeLayout, siginfoLayout, sigset } from './signal.js';
import {
  CMSG_ALIGN,
  CMSG_LEN,
  CMSG_SPACE,
  CmsgWriter,
  parseCmsgs,
  parseSockaddr,
  sockaddrLen,
  ucred,
} from './socket.js';
import { StatView, stat } from './stat.js';
import { timespec, TimespecView } from './time.js';
import { utsname } from './system.js';
import {
  clone_args,
  open_how,
  parseCloneArgs,
  parseOpenHow,
  CLONE_ARGS_SIZE_VER0,
  PAGE_SIZE,
} from './versioned.js';

describe('64-bit numbers', () => {
  it('are exact within 2^53 and round monotonically beyond, saturating on write', () => {
    const b = new Uint8Array(8);
    const dv = dataView(b);
    for (const v of [0, 1, 2 ** 32, 2 ** 53 - 1, -1, -(2 ** 53) + 1, -(2 ** 40) - 7]) {
      writeN64(dv, 0, v);
      expect(v < 0 ? readI64n(dv, 0) : readU64n(dv, 0)).toBe(v);
      expect(dv.getBigInt64(0, true)).toBe(BigInt(v));
    }
    dv.setBigUint64(0, 2n ** 64n - 1n, true);
    expect(readU64n(dv, 0)).toBe(2 ** 64);
    expect(readI64n(dv, 0)).toBe(-1);
    writeN64(dv, 0, 2 ** 64);
    expect(dv.getBigUint64(0, true)).toBe(2n ** 64n - 1n);
    dv.setBigUint64(0, 2n ** 63n - 1n, true);
    expect(readU64n(dv, 0)).toBeGreaterThanOrEqual(2 ** 53);
  });

  it('defineStruct refuses a field outside the struct (a bug, so it throws)', () => {
    expect(() => defineStruct('bad', 8, { a: at(4, u64n) })).toThrow(/outside/);
  });

  it('the doc example of defineStruct', () => {
    const ts = defineStruct('timespec', 16, { tv_sec: at(0, i64n), tv_nsec: at(8, i64n) });
    expect(ts.parse(ts.encode({ tv_sec: 1, tv_nsec: 5 }))).toEqual({ tv_sec: 1, tv_nsec: 5 });
  });
});

describe('length checks', () => {
  it('short input is EFAULT, a bad offset EINVAL', () => {
    expect(stat.parse(new Uint8Array(143))).toBe(E.EFAULT);
    expect(stat.parse(new Uint8Array(200), 57)).toBe(E.EFAULT);
    expect(stat.parse(new Uint8Array(200), -1)).toBe(E.EINVAL);
    expect(stat.parse(new Uint8Array(200), 1.5)).toBe(E.EINVAL);
    expect(stat.emit(stat.parse(new Uint8Array(144)) as never, new Uint8Array(100))).toBe(E.EFAULT);
    expect(sigset.parse(new Uint8Array(7))).toBe(E.EFAULT);
  });
});

describe('utsname strings', () => {
  it('truncate to 64 bytes so the NUL always fits', () => {
    const v = {
      sysname: 'x'.repeat(80),
      nodename: 'n',
      release: '',
      version: 'é',
      machine: 'x86_64',
      domainname: '(none)',
    };
    const b = utsname.encode(v);
    expect(b[64]).toBe(0);
    expect(utsname.parse(b)).toEqual({ ...v, sysname: 'x'.repeat(64) });
  });
});

describe('iovec arrays (import_iovec rules)', () => {
  it('rejects more than UIO_MAXIOV entries and negative lengths', () => {
    const buf = new Uint8Array(16 * 3);
    expect(parseIovecs(buf, 0, UIO_MAXIOV + 1)).toBe(E.EINVAL);
    expect(parseIovecs(buf, 0, -1)).toBe(E.EINVAL);
    expect(parseIovecs(buf, 0, 4)).toBe(E.EFAULT);
    dataView(buf).setBigUint64(16 + 8, 2n ** 63n, true);
    expect(parseIovecs(buf, 0, 3)).toBe(E.EINVAL);
    dataView(buf).setBigUint64(16 + 8, 2n ** 63n - 1n, true);
    const ok = parseIovecs(buf, 0, 3);
    expect(Array.isArray(ok) && ok[1]!.iov_len >= 2 ** 53).toBe(true);
    expect(parseIovecs(buf, 0, 0)).toEqual([]);
  });
});

describe('hot views', () => {
  it('StatView, TimespecView, PollfdView and EpollEventView read and write in place', () => {
    const buf = new Uint8Array(256);
    const dv = dataView(buf);
    const st = new StatView(dv, 16);
    st.st_size = 4096n;
    st.st_mode = 0o100644;
    expect(stat.parse(buf, 16)).toMatchObject({ st_size: 4096n, st_mode: 0o100644 });
    const ts = new TimespecView(dv, 200);
    ts.tv_sec = -5;
    ts.tv_nsec = 999_999_999;
    expect(timespec.parse(buf, 200)).toEqual({ tv_sec: -5, tv_nsec: 999_999_999 });
    const pf = new PollfdView(dv, 0);
    pf.revents = 0x11;
    expect(buf[6]).toBe(0x11);
    const ev = new EpollEventView(dv, 240);
    ev.data = 0xfedcba9876543210n;
    ev.events = 1;
    expect(epoll_event.parse(buf, 240)).toEqual({ events: 1, data: 0xfedcba9876543210n });
    expect(dv.getUint8(244)).toBe(0x10); // packed: data at offset 4
    expect(iovec.size).toBe(16);
  });
});

describe('linux_dirent64', () => {
  it('rejects a record length that is too small, unaligned, or past the buffer', () => {
    const b = new Uint8Array(32);
    const dv = dataView(b);
    dv.setUint16(16, 16, true);
    expect(linux_dirent64.parse(b)).toBe(E.EINVAL);
    dv.setUint16(16, 25, true);
    expect(linux_dirent64.parse(b)).toBe(E.EINVAL);
    dv.setUint16(16, 40, true);
    expect(linux_dirent64.parse(b)).toBe(E.EFAULT);
    dv.setUint16(16, 24, true);
    b.fill(0x41, DIRENT64_NAME_OFFSET, 24);
    expect(linux_dirent64.parse(b)).toBe(E.EINVAL); // no NUL inside the record
    b[23] = 0;
    expect(linux_dirent64.parse(b)).toMatchObject({ d_name: new Uint8Array([0x41, 0x41, 0x41, 0x41]) });
    expect(linux_dirent64.parse(new Uint8Array(18))).toBe(E.EFAULT);
  });
});

describe('socket addresses', () => {
  it('AF_INET6 needs 24 bytes; the scope id counts only with 28', () => {
    const b = new Uint8Array(28);
    const dv = dataView(b);
    dv.setUint16(0, 10, true);
    dv.setUint32(24, 9, true);
    expect(parseSockaddr(b, 0, 23)).toBe(E.EINVAL);
    expect(parseSockaddr(b, 0, 24)).toMatchObject({ kind: 'in6', scope_id: 0 });
    expect(parseSockaddr(b, 0, 28)).toMatchObject({ kind: 'in6', scope_id: 9 });
  });

  it('move_addr_to_kernel bounds, AF_NETLINK length, unknown families kept raw', () => {
    const b = new Uint8Array(140);
    expect(parseSockaddr(b, 0, 129)).toBe(E.EINVAL);
    expect(parseSockaddr(b, 0, -1)).toBe(E.EINVAL);
    expect(parseSockaddr(b, 0, 0)).toBe(E.EINVAL);
    expect(parseSockaddr(b.subarray(0, 10), 0, 16)).toBe(E.EFAULT);
    dataView(b).setUint16(0, 16, true);
    expect(parseSockaddr(b, 0, 11)).toBe(E.EINVAL);
    expect(parseSockaddr(b, 0, 12)).toEqual({ kind: 'nl', pid: 0, groups: 0 });
    dataView(b).setUint16(0, 3, true);
    expect(parseSockaddr(b, 0, 5)).toEqual({ kind: 'other', family: 3, data: new Uint8Array(3) });
  });

  it('a 108-byte path with no NUL reports addrlen 111, as unix_mkname_bsd computes it', () => {
    const b = new Uint8Array(110).fill(0x61);
    dataView(b).setUint16(0, 1, true);
    const a = parseSockaddr(b, 0, 110);
    expect(a).toMatchObject({ kind: 'unix-path' });
    expect(sockaddrLen(a as never)).toBe(111);
  });
});

describe('control messages', () => {
  it('CMSG_* arithmetic', () => {
    expect([CMSG_ALIGN(0), CMSG_ALIGN(1), CMSG_ALIGN(8), CMSG_ALIGN(12)]).toEqual([0, 8, 8, 16]);
    expect(CMSG_LEN(12)).toBe(28);
    expect(CMSG_SPACE(12)).toBe(32);
    expect(CMSG_SPACE(ucred.size)).toBe(32);
  });

  it('__scm_send rejects cmsg_len below a header or past controllen, ignores a short tail', () => {
    const b = new Uint8Array(64);
    const dv = dataView(b);
    dv.setBigUint64(0, 15n, true);
    expect(parseCmsgs(b, 0, 32)).toBe(E.EINVAL);
    dv.setBigUint64(0, 33n, true);
    expect(parseCmsgs(b, 0, 32)).toBe(E.EINVAL);
    dv.setBigUint64(0, 2n ** 64n - 1n, true);
    expect(parseCmsgs(b, 0, 32)).toBe(E.EINVAL);
    dv.setBigUint64(0, 20n, true);
    expect(parseCmsgs(b, 0, 20)).toHaveLength(1);
    expect(parseCmsgs(b, 0, 24 + 15)).toHaveLength(1); // 15 trailing bytes: no room for a header
    expect(parseCmsgs(b, 0, 15)).toEqual([]);
    expect(parseCmsgs(b, 0, 2 ** 31)).toBe(E.ENOBUFS);
    expect(parseCmsgs(b, 0, 65)).toBe(E.EFAULT);
  });

  it('put_cmsg cuts a message to the room left and sets MSG_CTRUNC', () => {
    const buf = new Uint8Array(40);
    const w = new CmsgWriter(buf, 0, 30);
    expect(w.put(1, 2, new Uint8Array(8).fill(7))).toBe(true);
    expect(w.written).toBe(24);
    expect(w.put(1, 2, new Uint8Array(8))).toBe(false); // 6 bytes left: dropped
    expect(w.flags).toBe(8);
    const w2 = new CmsgWriter(new Uint8Array(40), 0, 20);
    expect(w2.put(1, 2, new Uint8Array(8))).toBe(false);
    expect(w2.written).toBe(20);
  });
});

describe('siginfo layouts', () => {
  it('follow siginfo_layout', () => {
    expect(siginfoLayout(17, 1)).toBe('chld');
    expect(siginfoLayout(11, 1)).toBe('fault');
    expect(siginfoLayout(11, 3)).toBe('fault-bnderr');
    expect(siginfoLayout(11, 4)).toBe('fault-pkuerr');
    expect(siginfoLayout(7, 4)).toBe('fault-mceerr');
    expect(siginfoLayout(5, 6)).toBe('perf');
    expect(siginfoLayout(31, 1)).toBe('sys');
    expect(siginfoLayout(10, 3)).toBe('poll');
    expect(siginfoLayout(10, 7)).toBe('kill');
    expect(siginfoLayout(10, 0)).toBe('kill');
    expect(siginfoLayout(10, 0x80)).toBe('kill');
    expect(siginfoLayout(10, -1)).toBe('rt');
    expect(siginfoLayout(10, -2)).toBe('timer');
    expect(siginfoLayout(10, -5)).toBe('poll');
    expect(siginfoLayout(17, 7)).toBe('kill');
  });
});

describe('rt signal frame placement', () => {
  it('keeps the handler ABI: fpstate 64-aligned, (rsp + 8) % 16 === 0', () => {
    const l = rtSigframeLayout(0x7ffc_0000_1234, 2696);
    if ('errno' in l) throw new Error('layout');
    expect(l.fpstate % 64).toBe(0);
    expect((l.frame + 8) % 16).toBe(0);
    expect(l.fpstate + 2696).toBeLessThanOrEqual(0x7ffc_0000_1234 - 128);
    expect(l.frame + 440).toBeLessThanOrEqual(l.fpstate);
    expect(rtSigframeLayout(100, 512)).toBe(E.EFAULT);
  });
});

describe('extensible structs', () => {
  it('clone_args: size bounds, zero tail accepted, non-zero tail E2BIG, missing fields zero', () => {
    const b = new Uint8Array(PAGE_SIZE + 8);
    expect(parseCloneArgs(b, 0, CLONE_ARGS_SIZE_VER0 - 8)).toBe(E.EINVAL);
    expect(parseCloneArgs(b, 0, PAGE_SIZE + 8)).toBe(E.E2BIG);
    expect(parseCloneArgs(b, 0, PAGE_SIZE)).toMatchObject({ flags: 0n, cgroup: 0 });
    dataView(b).setBigUint64(80, 5n, true); // cgroup
    expect(parseCloneArgs(b, 0, 80)).toMatchObject({ cgroup: 0 });
    expect(parseCloneArgs(b, 0, 88)).toMatchObject({ cgroup: 5 });
    b[100] = 1;
    expect(parseCloneArgs(b, 0, 101)).toBe(E.E2BIG);
    expect(parseCloneArgs(b, 0, 100)).toMatchObject({ cgroup: 5 });
    expect(parseCloneArgs(b.subarray(0, 70), 0, 80)).toBe(E.EFAULT);
    expect(clone_args.size).toBe(88);
  });

  it('open_how: below 24 EINVAL, above a page E2BIG, tail must be zero', () => {
    const b = new Uint8Array(PAGE_SIZE + 1);
    dataView(b).setBigUint64(0, 0o2000000n, true);
    expect(parseOpenHow(b, 0, 23)).toBe(E.EINVAL);
    expect(parseOpenHow(b, 0, PAGE_SIZE + 1)).toBe(E.E2BIG);
    expect(parseOpenHow(b, 0, 32)).toEqual({ flags: 0o2000000n, mode: 0n, resolve: 0n });
    b[31] = 1;
    expect(parseOpenHow(b, 0, 32)).toBe(E.E2BIG);
    expect(open_how.size).toBe(24);
  });
});
