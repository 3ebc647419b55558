// NETLINK_SOCK_DIAG over fake memory: the bytecode audit and interpreter against models, raw
// sockets (raw_diag, which the CI kernel lacks), CAP_NET_ADMIN checks, and network mode `host`
// over fake host sockets. The whole protocol is compared with Linux in @tsvisor/runtime
// (sock-diag.test.ts: testdata/sock-diag.c and iproute2's ss).
import { E, isError, type LinuxError } from '@tsvisor/abi';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BUF, harness, type Harness } from './harness.test-util.js';
import { auditBytecode, runBytecode, type BytecodeEntry } from './sys-netlink-diag.js';
import { configureHostNetwork, type HostSockets } from './sys-socket-host.js';

const AF_INET = 2;
const AF_INET6 = 10;
const AF_NETLINK = 16;
const SOCK_STREAM = 1;
const SOCK_RAW = 3;
const NETLINK_SOCK_DIAG = 4;
const SOCK_DIAG_BY_FAMILY = 20;
const NLM_F_REQUEST = 1;
const NLM_F_DUMP = 0x300;
const MSG_DONTWAIT = 0x40;
const IPPROTO_ICMP = 1;
const IPPROTO_TCP = 6;
const IPPROTO_RAW = 255;

/** One bytecode op: code, yes, no (struct inet_diag_bc_op). */
function op(code: number, yes: number, no: number): number[] {
  return [code, yes, no & 0xff, no >> 8];
}

/** A port operand (the `no` field of the op after a port comparison). */
function port(p: number): number[] {
  return [0, 0, p & 0xff, p >> 8];
}

/** INET_DIAG_BC_S_COND / D_COND with an IPv4 prefix and port (-1: any). */
function hostcond(
  code: number,
  yes: number,
  no: number,
  prefix: number,
  addr: number[],
  p: number,
): number[] {
  const b = new Uint8Array(8);
  const dv = new DataView(b.buffer);
  b[0] = AF_INET;
  b[1] = prefix;
  dv.setInt32(4, p, true);
  return [...op(code, yes, no), ...b, ...addr];
}

function entry(over: Partial<BytecodeEntry> = {}): BytecodeEntry {
  return {
    family: AF_INET,
    saddr: Uint8Array.of(127, 0, 0, 1),
    daddr: Uint8Array.of(127, 0, 0, 1),
    sport: 5000,
    dport: 40000,
    ifindex: 0,
    userlocks: 0,
    mark: 0,
    cgroupId: 1n,
    ...over,
  };
}

const bc = (ops: number[]): Uint8Array => Uint8Array.from(ops);

/** Bytecode made of real ops with jumps of any length: most of it reaches the audit's deeper checks. */
const wellFormed = fc
  .array(
    fc.tuple(
      fc.integer({ min: 0, max: 14 }),
      fc.integer({ min: 0, max: 7 }),
      fc.integer({ min: 0, max: 7 }),
      fc.uint8Array({ minLength: 0, maxLength: 9 }),
    ),
    { maxLength: 6 },
  )
  .map((ops) =>
    Uint8Array.from(ops.flatMap(([code, yes, no, rest]) => [...op(code, yes * 4, no * 4), ...rest])),
  );

describe('inet_diag bytecode', () => {
  it('audits any bytes without throwing, and runs what it accepts without reading past the end', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.uint8Array({ maxLength: 64 }), wellFormed),
        fc.boolean(),
        fc.integer({ min: 0, max: 65535 }),
        (b, admin, p) => {
          const r = auditBytecode(b, admin);
          expect([0, E.EINVAL, E.EPERM]).toContain(r);
          if (r === 0) expect(typeof runBytecode(b, entry({ sport: p, dport: p }))).toBe('boolean');
        },
      ),
    );
  });

  it('matches a port range as ss compiles `sport >= :lo and sport <= :hi`', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 65535 }),
        fc.integer({ min: 0, max: 65535 }),
        fc.integer({ min: 0, max: 65535 }),
        (lo, hi, sport) => {
          // S_GE lo (yes: next, no: reject); S_LE hi (yes: accept, no: reject).
          const prog = bc([...op(2, 8, 20), ...port(lo), ...op(3, 8, 12), ...port(hi)]);
          expect(auditBytecode(prog, false)).toBe(0);
          expect(runBytecode(prog, entry({ sport }))).toBe(sport >= lo && sport <= hi);
        },
      ),
    );
  });

  it('matches address prefixes bit by bit, and IPv4 conditions on IPv4-mapped addresses', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 32 }),
        fc.uint8Array({ minLength: 4, maxLength: 4 }),
        fc.uint8Array({ minLength: 4, maxLength: 4 }),
        (prefix, want, have) => {
          const prog = bc(hostcond(7, 16, 20, prefix, [...want], -1));
          expect(auditBytecode(prog, false)).toBe(0);
          const bits = (a: Uint8Array): string => [...a].map((x) => x.toString(2).padStart(8, '0')).join('');
          const model = bits(want).slice(0, prefix) === bits(have).slice(0, prefix);
          expect(runBytecode(prog, entry({ saddr: have }))).toBe(model);
          const mapped = Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...have]);
          expect(runBytecode(prog, entry({ family: AF_INET6, saddr: mapped }))).toBe(model);
        },
      ),
    );
  });

  it('rejects jumps off op boundaries, short operands and unknown ops (inet_diag_bc_audit)', () => {
    expect(auditBytecode(bc(op(0, 4, 0)), false)).toBe(0); // NOP: no `no` to check
    expect(auditBytecode(bc(op(1, 4, 8)), false)).toBe(0); // JMP to the reject point
    expect(auditBytecode(bc(op(1, 4, 12)), false)).toBe(E.EINVAL); // past it
    expect(auditBytecode(bc(op(1, 4, 6)), false)).toBe(E.EINVAL); // not a multiple of 4
    expect(auditBytecode(bc(op(2, 4, 8)), false)).toBe(E.EINVAL); // S_GE without its port
    expect(auditBytecode(bc(op(99, 4, 8)), false)).toBe(E.EINVAL);
    expect(auditBytecode(bc([...op(6, 4, 8)]), false)).toBe(0); // AUTO
    expect(auditBytecode(bc([1, 4]), false)).toBe(E.EINVAL); // shorter than an op
    const mark = bc([...op(10, 12, 16), 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(auditBytecode(mark, false)).toBe(E.EPERM);
    expect(auditBytecode(mark, true)).toBe(0);
    expect(auditBytecode(bc(hostcond(7, 16, 20, 33, [127, 0, 0, 1], -1)), false)).toBe(E.EINVAL);
    // A `no` that lands inside an op's operand.
    expect(auditBytecode(bc([...op(2, 8, 4), ...port(1), ...op(0, 4, 4)]), false)).toBe(E.EINVAL);
  });

  it("runs the README's port range filter", () => {
    const filter = Uint8Array.from([2, 8, 20, 0, 0, 0, 0, 4, 3, 8, 12, 0, 0, 0, 0, 8]);
    expect(auditBytecode(filter, false)).toBe(0);
    expect(runBytecode(filter, { ...entry(), sport: 1500 })).toBe(true);
    expect(runBytecode(filter, { ...entry(), sport: 1000 })).toBe(false);
    expect(runBytecode(filter, { ...entry(), sport: 2049 })).toBe(false);
  });

  it('runs AUTO, DEV_COND, MARK_COND and CGROUP_COND on the entry', () => {
    const auto = bc(op(6, 4, 8));
    expect(runBytecode(auto, entry())).toBe(true);
    expect(runBytecode(auto, entry({ userlocks: 8 }))).toBe(false);
    const dev = bc([...op(9, 8, 12), 2, 0, 0, 0]);
    expect(runBytecode(dev, entry({ ifindex: 2 }))).toBe(true);
    expect(runBytecode(dev, entry())).toBe(false);
    const mark = bc([...op(10, 12, 16), 5, 0, 0, 0, 0xff, 0, 0, 0]);
    expect(runBytecode(mark, entry({ mark: 0x105 }))).toBe(true);
    expect(runBytecode(mark, entry({ mark: 0x106 }))).toBe(false);
    const cg = bc([...op(13, 12, 16), 1, 0, 0, 0, 0, 0, 0, 0]);
    expect(runBytecode(cg, entry())).toBe(true);
    expect(runBytecode(cg, entry({ cgroupId: 2n }))).toBe(false);
  });
});

interface Msg {
  type: number;
  body: Uint8Array;
  attrs: Map<number, Uint8Array>;
}

/** Sends one request and gathers the reply messages (up to NLMSG_DONE, or the one answer). */
async function ask(
  h: Harness,
  fd: number,
  flags: number,
  body: Uint8Array,
  fixed: number,
): Promise<Msg[] | LinuxError> {
  const req = new Uint8Array(16 + body.length);
  const dv = new DataView(req.buffer);
  dv.setUint32(0, req.length, true);
  dv.setUint16(4, SOCK_DIAG_BY_FAMILY, true);
  dv.setUint16(6, NLM_F_REQUEST | flags, true);
  req.set(body, 16);
  h.mem.write(BUF, req);
  expect(await h.call('sendto', fd, BUF, req.length, 0, 0, 0)).toBe(req.length);
  const out: Msg[] = [];
  for (;;) {
    const n = await h.call('recvfrom', fd, BUF, 16384, MSG_DONTWAIT, 0, 0);
    if (typeof n !== 'number' || n < 0) return out;
    const bytes = h.mem.read(BUF, n) as Uint8Array;
    const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let off = 0; off + 16 <= n;) {
      const len = v.getUint32(off, true);
      const type = v.getUint16(off + 4, true);
      if (type === 3) return out;
      if (type === 2) {
        const errno = -v.getInt32(off + 16, true);
        if (errno !== 0)
          return E.EINVAL.errno === errno ? E.EINVAL : E.EPERM.errno === errno ? E.EPERM : E.ENOENT;
      }
      const attrs = new Map<number, Uint8Array>();
      for (let a = off + 16 + fixed; a + 4 <= off + len;) {
        const alen = v.getUint16(a, true);
        attrs.set(v.getUint16(a + 2, true), bytes.subarray(a + 4, a + alen));
        a += (alen + 3) & ~3;
      }
      out.push({ type, body: bytes.subarray(off + 16, off + len), attrs });
      off += (len + 3) & ~3;
    }
    if ((flags & NLM_F_DUMP) === 0) return out;
  }
}

/** An inet_diag_req_v2 for `family`/`protocol`, all states, `ext`; `raw` in the pad byte. */
function inetReq(family: number, protocol: number, ext = 0, raw = 0): Uint8Array {
  const b = new Uint8Array(56);
  b[0] = family;
  b[1] = protocol;
  b[2] = ext;
  b[3] = raw;
  new DataView(b.buffer).setUint32(4, 0xffffffff, true);
  return b;
}

describe('AF_NETLINK NETLINK_SOCK_DIAG', () => {
  it('is a netlink protocol of its own, and lists a TCP listener with its SO_COOKIE', async () => {
    const h = harness();
    const nl = (await h.call('socket', AF_NETLINK, SOCK_RAW, NETLINK_SOCK_DIAG)) as number;
    expect(nl).toBeGreaterThanOrEqual(0);
    expect(await h.call('socket', AF_NETLINK, SOCK_RAW, 5)).toBe(E.EPROTONOSUPPORT);
    const s = (await h.call('socket', AF_INET, SOCK_STREAM, 0)) as number;
    h.mem.write(BUF, Uint8Array.from([AF_INET, 0, 0x1f, 0x90, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]));
    expect(await h.call('bind', s, BUF, 16)).toBe(0);
    expect(await h.call('listen', s, 7)).toBe(0);
    h.mem.write(BUF + 100, Uint8Array.of(8, 0, 0, 0));
    expect(await h.call('getsockopt', s, 1, 57, BUF + 200, BUF + 100)).toBe(0); // SO_COOKIE
    const cookie = (h.mem.read(BUF + 200, 8) as Uint8Array).slice();
    const msgs = await ask(h, nl, NLM_F_DUMP, inetReq(AF_INET, IPPROTO_TCP, 0xff), 72);
    if (isError(msgs)) throw new Error(msgs.name);
    expect(msgs).toHaveLength(1);
    const m = msgs[0]!;
    const dv = new DataView(m.body.buffer, m.body.byteOffset);
    expect([m.body[0], m.body[1], dv.getUint16(4, false), dv.getUint32(60, true)]).toEqual([
      AF_INET,
      10,
      8080,
      7,
    ]);
    expect([...m.body.subarray(44, 52)]).toEqual([...cookie]);
    // bind named a port: AUTO is false for it.
    const auto = new Uint8Array([...inetReq(AF_INET, IPPROTO_TCP), 8, 0, 1, 0, ...op(6, 4, 8)]);
    expect(await ask(h, nl, NLM_F_DUMP, auto, 72)).toEqual([]);
    expect(new TextDecoder().decode(m.attrs.get(4))).toBe('cubic\0');
    expect(m.attrs.get(2)?.[0]).toBe(10); // tcp_info: LISTEN
  });

  it('dumps raw sockets whatever their state, with INET_DIAG_PROTOCOL, and finds one by protocol', async () => {
    const h = harness();
    const nl = (await h.call('socket', AF_NETLINK, SOCK_RAW, NETLINK_SOCK_DIAG)) as number;
    const r = (await h.call('socket', AF_INET, SOCK_RAW, IPPROTO_ICMP)) as number;
    expect(r).toBeGreaterThanOrEqual(0);
    const req = inetReq(AF_INET, IPPROTO_RAW);
    new DataView(req.buffer).setUint32(4, 0, true); // no states: raw_diag does not look
    const msgs = await ask(h, nl, NLM_F_DUMP, req, 72);
    if (isError(msgs)) throw new Error(msgs.name);
    expect(msgs.map((m) => [m.body[0], m.body[1], m.body[5], [...(m.attrs.get(10) ?? [])]])).toEqual([
      [AF_INET, 7, IPPROTO_ICMP, [IPPROTO_ICMP]],
    ]);
    const one = await ask(h, nl, 0, inetReq(AF_INET, IPPROTO_RAW, 0, IPPROTO_ICMP).fill(0xff, 48, 56), 72);
    expect(isError(one) ? one : one.length).toBe(1);
    expect(await ask(h, nl, 0, inetReq(AF_INET, IPPROTO_RAW, 0, 17).fill(0xff, 48, 56), 72)).toBe(E.ENOENT);
    expect(await ask(h, nl, NLM_F_DUMP, inetReq(AF_INET6, IPPROTO_RAW), 72)).toEqual([]);
  });

  it('refuses MARK_COND without CAP_NET_ADMIN (opener and sender), and omits INET_DIAG_MARK', async () => {
    const h = harness();
    const s = (await h.call('socket', AF_INET, SOCK_STREAM, 0)) as number;
    expect(await h.call('listen', s, 1)).toBe(0);
    const before = (await h.call('socket', AF_NETLINK, SOCK_RAW, NETLINK_SOCK_DIAG)) as number;
    expect(await h.call('setresuid', 1000, 1000, 1000)).toBe(0);
    const nl = (await h.call('socket', AF_NETLINK, SOCK_RAW, NETLINK_SOCK_DIAG)) as number;
    const mark = new Uint8Array([
      ...inetReq(AF_INET, IPPROTO_TCP),
      16,
      0,
      1,
      0,
      ...op(10, 12, 16),
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
    ]);
    expect(await ask(h, nl, NLM_F_DUMP, mark, 72)).toBe(E.EPERM);
    // Opened with the capability, but sent by a task without it: netlink_net_capable wants both.
    expect(await ask(h, before, NLM_F_DUMP, mark, 72)).toBe(E.EPERM);
    const msgs = await ask(h, nl, NLM_F_DUMP, inetReq(AF_INET, IPPROTO_TCP), 72);
    if (isError(msgs)) throw new Error(msgs.name);
    expect(msgs.map((m) => [...m.attrs.keys()])).toEqual([[8, 21, 22]]);
  });

  it('describes host sockets in network mode host from what the host says of them', async () => {
    const h = harness();
    const calls: HostSockets = {
      socket: () => 50,
      bind: () => 0,
      connect: () => 0,
      listen: () => 0,
      accept: (): LinuxError => E.EAGAIN,
      name: (_fd, peer, out) => {
        if (peer) return E.ENOTCONN;
        out.set(Uint8Array.from([AF_INET, 0, 0x1f, 0x90, 127, 0, 0, 1]));
        return 16;
      },
      send: () => E.EAGAIN,
      recv: () => E.EAGAIN,
      setsockopt: () => 0,
      getsockopt: (_fd, level, name, out) => {
        const dv = new DataView(out.buffer, out.byteOffset);
        if (level === 1 && name === 38) {
          dv.setInt32(0, IPPROTO_TCP, true); // SO_PROTOCOL
          return 4;
        }
        if (level === IPPROTO_TCP && name === 11) {
          out.fill(0);
          out[0] = 10; // LISTEN, 2 waiting for accept, backlog 9
          dv.setUint32(24, 2, true);
          dv.setUint32(28, 9, true);
          return Math.min(out.length, 232);
        }
        return E.ENOPROTOOPT;
      },
      shutdown: () => 0,
      ioctlInt: (): LinuxError => E.EINVAL,
      poll: () => 0,
      watch: () => ({ arm: () => undefined, edges: () => undefined, close: () => undefined }),
      close: () => undefined,
    };
    configureHostNetwork(h.kernel, calls);
    const s = (await h.call('socket', AF_INET, SOCK_STREAM, 0)) as number;
    expect(s).toBeGreaterThanOrEqual(0);
    const nl = (await h.call('socket', AF_NETLINK, SOCK_RAW, NETLINK_SOCK_DIAG)) as number;
    const msgs = await ask(h, nl, NLM_F_DUMP, inetReq(AF_INET, IPPROTO_TCP, 2), 72);
    if (isError(msgs)) throw new Error(msgs.name);
    expect(msgs).toHaveLength(1);
    const m = msgs[0]!;
    const dv = new DataView(m.body.buffer, m.body.byteOffset);
    expect([m.body[1], dv.getUint16(4, false), dv.getUint32(56, true), dv.getUint32(60, true)]).toEqual([
      10, 8080, 2, 9,
    ]);
    expect(m.attrs.get(2)?.length).toBe(232);
    expect(await ask(h, nl, NLM_F_DUMP, inetReq(AF_INET, 17), 72)).toEqual([]);
  });
});

/** Sends SOCK_DESTROY (21) with NLM_F_ACK for `body`; the ACK's errno (0: destroyed). */
async function destroyReq(h: Harness, fd: number, body: Uint8Array): Promise<number> {
  const req = new Uint8Array(16 + body.length);
  const dv = new DataView(req.buffer);
  dv.setUint32(0, req.length, true);
  dv.setUint16(4, 21, true);
  dv.setUint16(6, NLM_F_REQUEST | 4, true); // NLM_F_ACK
  req.set(body, 16);
  h.mem.write(BUF, req);
  expect(await h.call('sendto', fd, BUF, req.length, 0, 0, 0)).toBe(req.length);
  const n = await h.call('recvfrom', fd, BUF, 4096, MSG_DONTWAIT, 0, 0);
  if (typeof n !== 'number' || n < 36) throw new Error(`no ACK: ${String(n)}`);
  const ack = new DataView((h.mem.read(BUF, n) as Uint8Array).slice().buffer);
  expect(ack.getUint16(4, true)).toBe(2); // NLMSG_ERROR
  return -ack.getInt32(16, true) | 0;
}

// raw_diag_destroy (Linux's source: the CI kernel lacks CONFIG_INET_RAW_DIAG, so runtime's
// sock-destroy-udp.c cannot compare raw sockets): raw_sock_get's lookup without a cookie check,
// sock_diag_destroy's EPERM, then raw_abort (ECONNABORTED once, out of the raw table).
describe('SOCK_DESTROY of raw sockets', () => {
  it('finds a raw socket by its protocol and addresses, whatever the cookie, and aborts it', async () => {
    const h = harness();
    const nl = (await h.call('socket', AF_NETLINK, SOCK_RAW, NETLINK_SOCK_DIAG)) as number;
    const r = (await h.call('socket', AF_INET, SOCK_RAW, IPPROTO_ICMP)) as number;
    h.mem.write(BUF + 512, Uint8Array.from([AF_INET, 0, 0, 0, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]));
    expect(await h.call('connect', r, BUF + 512, 16)).toBe(0);
    const req = (raw: number, dst: number[]): Uint8Array => {
      const b = inetReq(AF_INET, IPPROTO_RAW, 0, raw);
      b.set(dst, 28); // idiag_dst: the peer a connected raw socket must have
      b.fill(0x5a, 48, 56); // a cookie no socket has: raw_sock_get does not look
      return b;
    };
    expect(await destroyReq(h, nl, req(17, [127, 0, 0, 1]))).toBe(E.ENOENT.errno);
    expect(await destroyReq(h, nl, req(IPPROTO_ICMP, [127, 0, 0, 2]))).toBe(E.ENOENT.errno);
    expect(await destroyReq(h, nl, req(IPPROTO_ICMP, [127, 0, 0, 1]))).toBe(0);
    expect(await h.call('recvfrom', r, BUF + 1024, 64, MSG_DONTWAIT, 0, 0)).toBe(E.ECONNABORTED);
    expect(await h.call('recvfrom', r, BUF + 1024, 64, MSG_DONTWAIT, 0, 0)).toBe(E.EAGAIN);
    // Out of the raw table: not listed, not found again.
    expect(await ask(h, nl, NLM_F_DUMP, inetReq(AF_INET, IPPROTO_RAW), 72)).toEqual([]);
    expect(await destroyReq(h, nl, req(IPPROTO_ICMP, [0, 0, 0, 0]))).toBe(E.ENOENT.errno);
  });

  it('answers EPERM without CAP_NET_ADMIN, and ENOENT for ping sockets (no inet_diag handler)', async () => {
    const h = harness();
    const r = (await h.call('socket', AF_INET, SOCK_RAW, IPPROTO_ICMP)) as number;
    expect(r).toBeGreaterThanOrEqual(0);
    expect(await h.call('setresuid', 1000, 1000, 1000)).toBe(0);
    const nl = (await h.call('socket', AF_NETLINK, SOCK_RAW, NETLINK_SOCK_DIAG)) as number;
    expect(await destroyReq(h, nl, inetReq(AF_INET, IPPROTO_RAW, 0, IPPROTO_ICMP))).toBe(E.EPERM.errno);
    expect(await destroyReq(h, nl, inetReq(AF_INET, IPPROTO_ICMP))).toBe(E.ENOENT.errno);
    expect(await h.call('recvfrom', r, BUF + 1024, 64, MSG_DONTWAIT, 0, 0)).toBe(E.EAGAIN);
  });
});
