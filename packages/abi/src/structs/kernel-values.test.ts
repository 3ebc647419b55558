import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { E, isError } from '../errno.js';
import { compileAndRun } from './c-headers.test-util.js';
import { Dirent64Writer, linux_dirent64 } from './dirent.js';
import { epoll_event, pollfd } from './io.js';
import { dataView, type FixedStruct } from './layout.js';
import {
  fpstate,
  kernel_sigaction,
  rtSigframeLayout,
  siginfo,
  ucontext,
  FP_XSTATE_MAGIC1,
  FP_XSTATE_MAGIC2,
  FP_XSTATE_MAGIC2_SIZE,
} from './signal.js';
import {
  CmsgWriter,
  encodeSockaddr,
  parseCmsgs,
  parseScmCredentials,
  parseScmRights,
  parseSockaddr,
  sockaddr_in6,
} from './socket.js';
import { stat, statfs, statx } from './stat.js';
import { rlimit, RLIM_INFINITY, utsname } from './system.js';
import { termios, termios2, winsize } from './tty.js';
import { parseCloneArgs, parseOpenHow } from './versioned.js';

const hexOf = (b: Uint8Array) => Buffer.from(b).toString('hex');

let H: Map<string, Uint8Array>;
let V: Map<string, string>;

beforeAll(() => {
  const src = readFileSync(new URL('./kernel-values.test.c', import.meta.url), 'utf8');
  H = new Map();
  V = new Map();
  for (const line of compileAndRun(src).split('\n')) {
    const [tag, name, ...rest] = line.split(' ');
    if (tag === 'H') H.set(name!, new Uint8Array(Buffer.from(rest[0] ?? '', 'hex')));
    else if (tag === 'V' || tag === 'T') V.set(name!, rest.join(' '));
  }
});

function h(name: string): Uint8Array {
  const b = H.get(name);
  if (!b) throw new Error(`C program printed no ${name}`);
  return b;
}

/** Marks the bytes of `def` that belong to a field (padding stays false), nested structs included. */
function fieldBytes(
  def: FixedStruct<unknown>,
  mask = new Array<boolean>(def.size).fill(false),
  base = 0,
): boolean[] {
  if (def.spec.length === 0) {
    for (const f of def.fields)
      for (let i = 0; i < Math.max(f.size, 0); i++) mask[base + f.offset + i] = true;
    if (def.fields.length === 0) mask.fill(true, base, base + def.size);
    return mask;
  }
  for (const f of def.spec) {
    if (f.codec.struct) fieldBytes(f.codec.struct, mask, base + f.offset);
    else for (let i = 0; i < f.codec.size; i++) mask[base + f.offset + i] = true;
  }
  return mask;
}

/** Hex of `bytes` with padding bytes (per `def`) shown as `..`: the kernel leaves stale bytes there. */
function hexFields(def: FixedStruct<unknown>, bytes: Uint8Array): string {
  const mask = fieldBytes(def);
  return [...bytes].map((b, i) => (mask[i] ? b.toString(16).padStart(2, '0') : '..')).join('');
}

/** Parses the kernel's bytes, checks the fields C printed, and checks emit reproduces the bytes. */
function roundTrip<V>(def: FixedStruct<V>, name: string, prefix = name): V {
  const bytes = h(name);
  const v = def.parse(bytes);
  if (v instanceof Object && 'errno' in v) throw new Error(`parse ${name} failed`);
  for (const [key, val] of V) {
    if (!key.startsWith(`${prefix}.`)) continue;
    const path = key.slice(prefix.length + 1).split('.');
    let cur: unknown = v;
    for (const p of path) cur = (cur as Record<string, unknown>)[p];
    expect(String(cur), key).toBe(val);
  }
  const d = def as FixedStruct<unknown>;
  expect(hexFields(d, def.encode(v as V)), `${name} re-emitted`).toBe(hexFields(d, bytes));
  return v as V;
}

describe('struct values against the real kernel', () => {
  it('stat from fstat, statx, statfs', () => {
    const st = roundTrip(stat, 'stat');
    expect(st.st_mode & 0o7777).toBe(0o640);
    const stx = roundTrip(statx, 'statx');
    expect(stx.stx_ino).toBe(st.st_ino);
    expect(stx.stx_mtime.tv_sec).toBe(st.st_mtime);
    roundTrip(statfs, 'statfs');
  });

  it('getdents64 records parse, and the writer packs them byte for byte', () => {
    const raw = h('getdents64');
    expect(raw.length).toBe(Number(V.get('getdents64.n')));
    const ents = linux_dirent64.parseAll(raw);
    if ('errno' in ents) throw new Error('parseAll failed');
    const names = ents.map((d) => new TextDecoder().decode(d.d_name)).sort();
    expect(names).toEqual(['.', '..', '1234567', 'a', 'a-longer-name-of-20', 'bb']);
    const out = new Uint8Array(raw.length);
    const w = new Dirent64Writer(out);
    for (const d of ents) expect(w.add(d.d_ino, d.d_off, d.d_type, d.d_name)).toBe(true);
    expect(w.result(false)).toBe(raw.length);
    expect(hexOf(out)).toBe(hexOf(raw));
    // A 16-byte buffer holds no record: the kernel says EINVAL, and so does the writer.
    expect(Number(V.get('getdents64.small_errno'))).toBe(E.EINVAL.errno);
    const tiny = new Dirent64Writer(new Uint8Array(16));
    const first = ents[0]!;
    expect(tiny.add(first.d_ino, first.d_off, first.d_type, first.d_name)).toBe(false);
    expect(tiny.result(true)).toBe(E.EINVAL);
  });

  it('termios and termios2 from TCGETS after cfmakeraw, winsize', () => {
    const t = roundTrip(termios, 'termios');
    expect(hexOf(t.c_cc)).toBe(hexOf(h('termios.c_cc')));
    const t2 = roundTrip(termios2, 'termios2', 'termios');
    expect(t2.c_cc).toEqual(t.c_cc);
    expect(roundTrip(winsize, 'winsize')).toEqual({ ws_row: 24, ws_col: 80, ws_xpixel: 640, ws_ypixel: 480 });
  });

  it('sockaddr_in6 filled by C', () => {
    const bytes = h('sockaddr_in6');
    const a = parseSockaddr(bytes, 0, bytes.length);
    expect(a).toEqual({
      kind: 'in6',
      port: 8080,
      flowinfo: 0x12345,
      addr: new Uint8Array([0x20, 0x01, 0x0d, 0xb8, ...new Array<number>(11).fill(0), 1]),
      scope_id: 7,
    });
    expect(hexOf(encodeSockaddr(a as Exclude<typeof a, { errno: number }>))).toBe(hexOf(bytes));
    expect(sockaddr_in6.parse(bytes)).toMatchObject({ sin6_port: 8080, sin6_scope_id: 7 });
  });

  it('inet and unix addresses with the kernel addrlen rules', () => {
    expect(Number(V.get('bind_in_15.errno'))).toBe(E.EINVAL.errno);
    expect(parseSockaddr(h('getsockname_in'), 0, 15)).toBe(E.EINVAL);
    const sin = parseSockaddr(h('getsockname_in'), 0, 16);
    expect(sin).toMatchObject({ kind: 'in', port: Number(V.get('getsockname_in.port')) });
    expect(hexOf(encodeSockaddr(sin as Exclude<typeof sin, { errno: number }>))).toBe(
      hexOf(h('getsockname_in')),
    );

    const forms: [string, string][] = [
      ['unbound', 'unix-unnamed'],
      ['autobind', 'unix-abstract'],
      ['bound_path', 'unix-path'],
      ['bound_abstract', 'unix-abstract'],
    ];
    for (const [name, kind] of forms) {
      const bytes = h(name);
      expect(bytes.length, `${name} addrlen`).toBe(Number(V.get(`${name}.len`)));
      const a = parseSockaddr(bytes, 0, bytes.length);
      expect(a, name).toMatchObject({ kind });
      const back = encodeSockaddr(a as Exclude<typeof a, { errno: number }>);
      expect(hexOf(back), `${name} re-emitted with the kernel's addrlen`).toBe(hexOf(bytes));
    }
    expect(parseSockaddr(h('bound_path'), 0, 7)).toEqual({
      kind: 'unix-path',
      path: new TextEncoder().encode('sock'),
    });
    // autobind names are five hex digits after the NUL
    const auto = parseSockaddr(h('autobind'), 0, 8) as { name: Uint8Array };
    expect(new TextDecoder().decode(auto.name)).toMatch(/^[0-9a-f]{5}$/);
    // what the kernel refuses
    const un = new Uint8Array(112);
    un[0] = 1;
    expect(Number(V.get('bind_1.errno'))).toBe(E.EINVAL.errno);
    expect(parseSockaddr(un, 0, 1)).toBe(E.EINVAL);
    expect(Number(V.get('bind_111.errno'))).toBe(E.EINVAL.errno);
    expect(parseSockaddr(un, 0, 111)).toBe(E.EINVAL);
    expect(Number(V.get('connect_2.errno'))).toBe(E.EINVAL.errno);
    expect(parseSockaddr(un, 0, 2)).toEqual({ kind: 'unix-unnamed' });
  });

  it('SCM_RIGHTS: parses what C sends, and packs like recvmsg with ample, short and tiny buffers', () => {
    const sent = h('cmsg_send');
    const msgs = parseCmsgs(sent, 0, sent.length);
    if ('errno' in msgs) throw new Error('parseCmsgs failed');
    expect(msgs).toHaveLength(1);
    expect(msgs[0]).toMatchObject({ level: 1, type: 1 });
    expect(parseScmRights(msgs[0]!.data)).toHaveLength(3);

    const sizes = [32, 20, 10];
    sizes.forEach((controllen, k) => {
      const kernel = h(`cmsg_recv${k}`);
      const fds: number[] = [];
      if (kernel.length >= 16) {
        const got = parseCmsgs(kernel, 0, kernel.length);
        if ('errno' in got) throw new Error('parse recv');
        fds.push(...(parseScmRights(got[0]!.data) as number[]));
      }
      const buf = new Uint8Array(64).fill(0xaa);
      const w = new CmsgWriter(buf, 0, controllen);
      expect(Math.min(w.maxRights(), 3)).toBe(fds.length);
      expect(w.putRights(fds, 3)).toBe(fds.length);
      expect(w.written, `controllen ${controllen}`).toBe(Number(V.get(`cmsg_recv${k}.controllen`)));
      expect(w.flags, `flags ${controllen}`).toBe(Number(V.get(`cmsg_recv${k}.flags`)));
      expect(hexOf(buf.subarray(0, w.written))).toBe(hexOf(kernel));
    });
  });

  it('SCM_CREDENTIALS the kernel attaches', () => {
    const raw = h('cmsg_creds');
    const msgs = parseCmsgs(raw, 0, raw.length);
    if (isError(msgs)) throw new Error('parseCmsgs failed');
    expect(msgs).toHaveLength(1);
    expect(msgs[0]).toMatchObject({ level: 1, type: 2 });
    expect(parseScmCredentials(msgs[0]!.data)).toEqual({
      pid: Number(V.get('cmsg_creds.pid')),
      uid: Number(V.get('cmsg_creds.uid')),
      gid: Number(V.get('cmsg_creds.gid')),
    });
    const w = new CmsgWriter(new Uint8Array(raw.length));
    expect(w.put(1, 2, msgs[0]!.data)).toBe(true);
    expect(w.written).toBe(raw.length);
  });

  it('the kernel sigaction rt_sigaction returns', () => {
    const ka = roundTrip(kernel_sigaction, 'kernel_sigaction');
    expect(ka.sa_handler).toBe(0x401000n);
  });

  it('siginfo for a child exit, a queued signal and a timer', () => {
    const chld = roundTrip(siginfo, 'siginfo_chld');
    expect(chld.layout).toBe('chld');
    const rt = roundTrip(siginfo, 'siginfo_rt');
    expect(rt.layout).toBe('rt');
    const timer = roundTrip(siginfo, 'siginfo_timer');
    expect(timer.layout).toBe('timer');
  });

  it('the rt signal frame of a real SIGSEGV: ucontext, siginfo, fpstate and where they sit', () => {
    const uc = roundTrip(ucontext, 'fault_ucontext', 'none');
    const m = uc.uc_mcontext;
    expect(String(m.rip)).toBe(V.get('fault.rip'));
    expect(String(m.rsp)).toBe(V.get('fault.rsp'));
    expect(String(m.cr2)).toBe(V.get('fault.cr2'));
    expect(String(m.trapno)).toBe(V.get('fault.trapno'));
    expect(String(m.err)).toBe(V.get('fault.err'));
    expect(String(m.eflags)).toBe(V.get('fault.eflags'));
    expect(String(m.fpstate)).toBe(V.get('fault.fpstate'));
    const info = roundTrip(siginfo, 'fault_siginfo', 'none');
    expect(info).toMatchObject({ si_signo: 11, si_code: 1, layout: 'fault', si_addr: 0x1000n });

    // rt_sigframe: pretcode at ctx - 8, then uc (304 bytes), then info.
    const ctx = Number(V.get('fault.ctx'));
    expect(Number(V.get('fault.info')) - ctx).toBe(ucontext.size);
    const fp = fpstate.parse(h('fault_fpstate'));
    if ('errno' in fp) throw new Error('fpstate');
    expect(hexOf(fpstate.encode(fp))).toBe(hexOf(h('fault_fpstate')));
    const xsave = fp.sw_reserved.magic1 === FP_XSTATE_MAGIC1;
    if (xsave) {
      // MAGIC2 sits right after the xsave area, and the whole frame is that plus 4 bytes.
      expect(Number(V.get('fault.magic2'))).toBe(FP_XSTATE_MAGIC2);
      expect(fp.sw_reserved.extended_size).toBe(fp.sw_reserved.xstate_size + FP_XSTATE_MAGIC2_SIZE);
    }
    expect(fp.mxcsr & 0xffff0000).toBe(0);
    const fpSize = xsave ? fp.sw_reserved.extended_size : 512;
    expect(rtSigframeLayout(Number(m.rsp), fpSize)).toEqual({ frame: ctx - 8, fpstate: m.fpstate });
  });

  it('epoll_event and pollfd as the kernel wrote them', () => {
    expect(roundTrip(epoll_event, 'epoll_event')).toEqual({ events: 1, data: 0x1122334455667788n });
    const raw = h('pollfd');
    const a = pollfd.parse(raw, 0);
    const b = pollfd.parse(raw, 8);
    expect(a).toMatchObject({ events: 5, revents: 1 });
    expect(b).toMatchObject({ events: 4, revents: 4 });
    expect(dataView(raw).getInt32(0, true)).toBe((a as { fd: number }).fd);
  });

  it('openat2 and clone3 size rules', () => {
    const errno = (k: string) => Number(V.get(k));
    const big = new Uint8Array(4097 + 64);
    const check = (r: unknown, key: string) => {
      const want = errno(key);
      if (want === 0) expect(r, key).not.toHaveProperty('errno');
      else expect(r, key).toHaveProperty('errno', want);
    };
    check(parseOpenHow(big, 0, 23), 'openat2_23.errno');
    check(parseOpenHow(big, 0, 4097), 'openat2_4097.errno');
    check(parseOpenHow(big, 0, 32), 'openat2_32zero.errno');
    big[31] = 1;
    check(parseOpenHow(big, 0, 32), 'openat2_32tail.errno');
    big[31] = 0;
    check(parseCloneArgs(big, 0, 63), 'clone3_63.errno');
    check(parseCloneArgs(big, 0, 4097), 'clone3_4097.errno');
    big[95] = 1;
    check(parseCloneArgs(big, 0, 96), 'clone3_96tail.errno');
    expect(errno('clone3_96tail.errno')).toBe(E.E2BIG.errno);
  });

  it('rlimit, RLIM_INFINITY and utsname', () => {
    roundTrip(rlimit, 'rlimit');
    expect(rlimit.parse(h('rlimit_core'))).toEqual({ rlim_cur: RLIM_INFINITY, rlim_max: RLIM_INFINITY });
    const u = roundTrip(utsname, 'utsname');
    expect(u.sysname).toBe(V.get('utsname.sysname'));
    expect(u.release).toBe(V.get('utsname.release'));
    expect(u.machine).toBe(V.get('utsname.machine'));
  });
});
