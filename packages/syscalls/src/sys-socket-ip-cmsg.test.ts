import { isError } from '@tsvisor/abi';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BUF, harness, type Harness } from './harness.test-util.js';
import type { SyscallResult } from './types.js';

// The same steps as testdata/ip-cmsg.c, whose native output is the expected one.
const AF_INET = 2;
const AF_INET6 = 10;
const SOCK_DGRAM = 2;
const SOL_IP = 0;
const SOL_IPV6 = 41;
const SOL_TCP = 6;
const IP_TOS = 1;
const IP_TTL = 2;
const IP_PKTINFO = 8;
const IP_RECVTTL = 12;
const IP_RECVTOS = 13;
const IPV6_UNICAST_HOPS = 16;
const IPV6_RECVPKTINFO = 49;
const IPV6_PKTINFO = 50;
const IPV6_RECVHOPLIMIT = 51;
const IPV6_HOPLIMIT = 52;
const IPV6_RECVTCLASS = 66;
const IPV6_TCLASS = 67;
const MSG_DONTWAIT = 0x40;
const MSG_EOR = 0x80;

const MSG = BUF; // struct msghdr (56 bytes)
const IOV = BUF + 0x40;
const DATA = BUF + 0x80;
const SA = BUF + 0x100;
const OPT = BUF + 0x180;
const LEN = BUF + 0x190;
const CTL = BUF + 0x400;

const cmsgSpace = (n: number): number => 16 + ((n + 7) & ~7);

interface C {
  level: number;
  type: number;
  value: number;
  len: number;
}

async function tsvisorRun(h: Harness): Promise<string> {
  const out: string[] = [];
  const p = (s: string): void => {
    out.push(s);
  };
  const call = (name: string, ...args: number[]): Promise<SyscallResult> => h.call(name, ...args);
  const err = (r: SyscallResult): string => (isError(r) ? `errno ${String(r.errno)}` : String(r));
  const i32 = (v: number): Uint8Array => {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setInt32(0, v, true);
    return b;
  };
  const geti = async (fd: number, level: number, name: number): Promise<number> => {
    h.mem.write(LEN, i32(4));
    const r = await call('getsockopt', fd, level, name, OPT, LEN);
    if (isError(r)) return -r.errno;
    return new DataView((h.mem.read(OPT, 4) as Uint8Array).slice().buffer).getInt32(0, true);
  };
  const seti = async (fd: number, level: number, name: number, v: number): Promise<string> => {
    h.mem.write(OPT, i32(v));
    return err(await call('setsockopt', fd, level, name, OPT, 4));
  };
  const msghdr = (name: number, namelen: number, control: number, controllen: number): void => {
    const b = new Uint8Array(56);
    const dv = new DataView(b.buffer);
    dv.setBigUint64(0, BigInt(name), true);
    dv.setUint32(8, namelen, true);
    dv.setBigUint64(16, BigInt(IOV), true);
    dv.setBigUint64(24, 1n, true);
    dv.setBigUint64(32, BigInt(control), true);
    dv.setBigUint64(40, BigInt(controllen), true);
    h.mem.write(MSG, b);
  };
  const iov = (len: number): void => {
    const b = new Uint8Array(16);
    const dv = new DataView(b.buffer);
    dv.setBigUint64(0, BigInt(DATA), true);
    dv.setBigUint64(8, BigInt(len), true);
    h.mem.write(IOV, b);
  };
  const sendBytes = async (s: number, salen: number, ctl: Uint8Array): Promise<string> => {
    h.mem.write(DATA, new TextEncoder().encode('hi'));
    iov(2);
    h.mem.write(CTL, ctl);
    msghdr(SA, salen, ctl.length > 0 ? CTL : 0, ctl.length);
    return err(await call('sendmsg', s, MSG, 0));
  };
  const sendc = (s: number, salen: number, cs: readonly C[]): Promise<string> => {
    const ctl = new Uint8Array(cs.reduce((n, c) => n + cmsgSpace(c.len), 0));
    const dv = new DataView(ctl.buffer);
    let off = 0;
    for (const c of cs) {
      dv.setBigUint64(off, BigInt(16 + c.len), true);
      dv.setInt32(off + 8, c.level, true);
      dv.setInt32(off + 12, c.type, true);
      const v = i32(c.value);
      ctl.set(c.len === 1 ? v.subarray(0, 1) : v.subarray(0, Math.min(4, c.len)), off + 16);
      off += cmsgSpace(c.len);
    }
    return sendBytes(s, salen, ctl);
  };
  const sendraw = (
    s: number,
    salen: number,
    level: number,
    type: number,
    data: Uint8Array,
  ): Promise<string> => {
    const ctl = new Uint8Array(cmsgSpace(data.length));
    const dv = new DataView(ctl.buffer);
    dv.setBigUint64(0, BigInt(16 + data.length), true);
    dv.setInt32(8, level, true);
    dv.setInt32(12, type, true);
    ctl.set(data, 16);
    return sendBytes(s, salen, ctl);
  };
  const hex = (b: Uint8Array): string => [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  const recvc = async (what: string, r: number, ctllen: number): Promise<string> => {
    h.mem.write(CTL, new Uint8Array(512).fill(0xee));
    iov(16);
    msghdr(0, 0, CTL, ctllen);
    const n = await call('recvmsg', r, MSG, MSG_DONTWAIT);
    const m = new DataView((h.mem.read(MSG, 56) as Uint8Array).slice().buffer);
    const flags = isError(n) ? 0 : m.getInt32(48, true) & ~MSG_EOR;
    const controllen = isError(n) ? 0 : Number(m.getBigUint64(40, true));
    let line = `${what}: ret ${err(n)} flags ${flags ? '0x' + flags.toString(16) : '0'} controllen ${String(controllen)}`;
    const ctl = (h.mem.read(CTL, 512) as Uint8Array).slice();
    const dv = new DataView(ctl.buffer);
    let off = 0;
    while (!isError(n) && off + 16 <= controllen) {
      const len = Number(dv.getBigUint64(off, true));
      const dlen = Math.min(len - 16, controllen - off - 16);
      line += ` [${String(dv.getInt32(off + 8, true))} ${String(dv.getInt32(off + 12, true))} ${String(len)}:`;
      line += `${hex(ctl.subarray(off + 16, off + 16 + dlen))}]`;
      off += (len + 7) & ~7;
    }
    return line;
  };
  const bindLoopback = async (r: number, family: number): Promise<number> => {
    const sa = new Uint8Array(family === AF_INET ? 16 : 28);
    sa[0] = family;
    if (family === AF_INET) sa.set([127, 0, 0, 1], 4);
    else sa[23] = 1;
    h.mem.write(SA, sa);
    await call('bind', r, SA, sa.length);
    h.mem.write(LEN, i32(sa.length));
    await call('getsockname', r, SA, LEN);
    return sa.length;
  };

  const v6 = async (proto: number): Promise<void> => {
    p(`== AF_INET6 proto ${String(proto)}`);
    const r = (await call('socket', AF_INET6, SOCK_DGRAM, proto)) as number;
    const s = (await call('socket', AF_INET6, SOCK_DGRAM, proto)) as number;
    const al = await bindLoopback(r, AF_INET6);
    p(
      `tclass default ${String(await geti(s, SOL_IPV6, IPV6_TCLASS))}` +
        ` recvhoplimit ${String(await geti(r, SOL_IPV6, IPV6_RECVHOPLIMIT))}` +
        ` recvtclass ${String(await geti(r, SOL_IPV6, IPV6_RECVTCLASS))}` +
        ` recvpktinfo ${String(await geti(r, SOL_IPV6, IPV6_RECVPKTINFO))}`,
    );
    p(
      `set tclass 256 ${await seti(s, SOL_IPV6, IPV6_TCLASS, 256)}` +
        `, -2 ${await seti(s, SOL_IPV6, IPV6_TCLASS, -2)}` +
        `, -1 ${await seti(s, SOL_IPV6, IPV6_TCLASS, -1)} -> ${String(await geti(s, SOL_IPV6, IPV6_TCLASS))}` +
        `, 0x128 ${await seti(s, SOL_IPV6, IPV6_TCLASS, 0x128)}` +
        `, 0x28 ${await seti(s, SOL_IPV6, IPV6_TCLASS, 0x28)} -> ${String(await geti(s, SOL_IPV6, IPV6_TCLASS))}`,
    );
    await seti(s, SOL_IPV6, IPV6_TCLASS, 0);
    p(`send plain ${await sendc(s, al, [])}`);
    p(await recvc('recv none asked', r, 256));
    await seti(r, SOL_IPV6, IPV6_RECVHOPLIMIT, 1);
    await seti(r, SOL_IPV6, IPV6_RECVTCLASS, 1);
    await seti(r, SOL_IPV6, IPV6_RECVPKTINFO, 1);
    p(
      `recv flags now ${String(await geti(r, SOL_IPV6, IPV6_RECVHOPLIMIT))}` +
        ` ${String(await geti(r, SOL_IPV6, IPV6_RECVTCLASS))} ${String(await geti(r, SOL_IPV6, IPV6_RECVPKTINFO))}`,
    );
    const both = [
      { level: SOL_IPV6, type: IPV6_HOPLIMIT, value: 2, len: 4 },
      { level: SOL_IPV6, type: IPV6_TCLASS, value: 0x20, len: 4 },
    ];
    p(`send hoplimit 2 tclass 0x20 ${await sendc(s, al, both)}`);
    p(await recvc('recv all', r, 256));
    for (const size of [0, 8, 16, 17, 35, 36, 40, 56, 59, 60, 72, 76, 80]) {
      await sendc(s, al, both);
      p(await recvc(`recv ctl ${String(size)}`, r, size));
    }
    await sendc(s, al, both);
    iov(16);
    msghdr(0, 0, 0, 64);
    const n = await call('recvmsg', r, MSG, MSG_DONTWAIT);
    const m = new DataView((h.mem.read(MSG, 56) as Uint8Array).slice().buffer);
    p(
      `recv null control: ${err(n)} flags 0x${m.getInt32(48, true).toString(16)} controllen ${String(Number(m.getBigUint64(40, true)))}`,
    );
    await seti(s, SOL_IPV6, IPV6_TCLASS, 0x40);
    await seti(s, SOL_IPV6, IPV6_UNICAST_HOPS, 9);
    await sendc(s, al, []);
    p(await recvc('recv sticky', r, 256));
    const dflt = [
      { level: SOL_IPV6, type: IPV6_HOPLIMIT, value: -1, len: 4 },
      { level: SOL_IPV6, type: IPV6_TCLASS, value: -1, len: 4 },
    ];
    p(`send -1 -1 ${await sendc(s, al, dflt)}`);
    p(await recvc('recv -1', r, 256));
    await seti(r, SOL_IPV6, IPV6_RECVPKTINFO, 0);
    p(
      `send hoplimit 256 ${await sendc(s, al, [{ level: SOL_IPV6, type: IPV6_HOPLIMIT, value: 256, len: 4 }])}` +
        `, short ${await sendc(s, al, [{ level: SOL_IPV6, type: IPV6_HOPLIMIT, value: 3, len: 2 }])}` +
        `, tclass -2 ${await sendc(s, al, [{ level: SOL_IPV6, type: IPV6_TCLASS, value: -2, len: 4 }])}` +
        `, type 9999 ${await sendc(s, al, [{ level: SOL_IPV6, type: 9999, value: 1, len: 4 }])}` +
        `, SOL_IP ${await sendc(s, al, [{ level: SOL_IP, type: IP_TTL, value: 3, len: 4 }])}` +
        `, SOL_TCP ${await sendc(s, al, [{ level: SOL_TCP, type: 1, value: 1, len: 4 }])}`,
    );
    p(await recvc('recv SOL_IP', r, 256));
    p(await recvc('recv SOL_TCP', r, 256));
    p(`send hoplimit 0 ${await sendc(s, al, [{ level: SOL_IPV6, type: IPV6_HOPLIMIT, value: 0, len: 4 }])}`);
    p(await recvc('recv hoplimit 0', r, 256));
    const pi = new Uint8Array(20);
    pi[15] = 1;
    const sent = await sendraw(s, al, SOL_IPV6, IPV6_PKTINFO, pi);
    p(`send pktinfo ::1 ${sent}` + (await recvc('', r, 256)));
    const nonLocal = new Uint8Array(20);
    nonLocal.set([0x20, 0x01, 0x0d, 0xb8], 0);
    nonLocal[15] = 7;
    p(`send pktinfo non-local ${await sendraw(s, al, SOL_IPV6, IPV6_PKTINFO, nonLocal)}`);
    p(`send pktinfo short ${await sendraw(s, al, SOL_IPV6, IPV6_PKTINFO, nonLocal.subarray(0, 16))}`);
    const badIndex = new Uint8Array(20);
    badIndex.set(i32(9999), 16);
    p(`send pktinfo bad ifindex ${await sendraw(s, al, SOL_IPV6, IPV6_PKTINFO, badIndex)}`);
    p(await recvc('recv leftovers', r, 256));
    await call('close', r);
    await call('close', s);
  };

  const v4 = async (proto: number): Promise<void> => {
    p(`== AF_INET proto ${String(proto)}`);
    const r = (await call('socket', AF_INET, SOCK_DGRAM, proto)) as number;
    const s = (await call('socket', AF_INET, SOCK_DGRAM, proto)) as number;
    const al = await bindLoopback(r, AF_INET);
    p(
      `tos default ${String(await geti(s, SOL_IP, IP_TOS))} recvttl ${String(await geti(r, SOL_IP, IP_RECVTTL))}` +
        ` recvtos ${String(await geti(r, SOL_IP, IP_RECVTOS))} pktinfo ${String(await geti(r, SOL_IP, IP_PKTINFO))}`,
    );
    p(
      `set tos 0x128 ${await seti(s, SOL_IP, IP_TOS, 0x128)} -> ${String(await geti(s, SOL_IP, IP_TOS))}` +
        `, 0x28 ${await seti(s, SOL_IP, IP_TOS, 0x28)} -> ${String(await geti(s, SOL_IP, IP_TOS))}`,
    );
    await seti(s, SOL_IP, IP_TOS, 0);
    await seti(r, SOL_IP, IP_RECVTTL, 1);
    await seti(r, SOL_IP, IP_RECVTOS, 1);
    await seti(r, SOL_IP, IP_PKTINFO, 1);
    const both = [
      { level: SOL_IP, type: IP_TTL, value: 7, len: 4 },
      { level: SOL_IP, type: IP_TOS, value: 0x10, len: 1 },
    ];
    p(`send ttl 7 tos 0x10 ${await sendc(s, al, both)}`);
    p(await recvc('recv all', r, 256));
    for (const size of [0, 16, 20, 28, 32, 48, 52]) {
      await sendc(s, al, both);
      p(await recvc(`recv ctl ${String(size)}`, r, size));
    }
    await seti(s, SOL_IP, IP_TOS, 0x28);
    await seti(s, SOL_IP, IP_TTL, 5);
    await sendc(s, al, []);
    p(await recvc('recv sticky', r, 256));
    p(`send int tos ${await sendc(s, al, [{ level: SOL_IP, type: IP_TOS, value: 8, len: 4 }])}`);
    p(await recvc('recv int tos', r, 256));
    p(
      `send ttl 0 ${await sendc(s, al, [{ level: SOL_IP, type: IP_TTL, value: 0, len: 4 }])}` +
        `, ttl 256 ${await sendc(s, al, [{ level: SOL_IP, type: IP_TTL, value: 256, len: 4 }])}` +
        `, tos len 2 ${await sendc(s, al, [{ level: SOL_IP, type: IP_TOS, value: 1, len: 2 }])}` +
        `, type 9999 ${await sendc(s, al, [{ level: SOL_IP, type: 9999, value: 1, len: 4 }])}` +
        `, tos 256 ${await sendc(s, al, [{ level: SOL_IP, type: IP_TOS, value: 256, len: 4 }])}` +
        `, SOL_IPV6 ${await sendc(s, al, [{ level: SOL_IPV6, type: IPV6_HOPLIMIT, value: 3, len: 4 }])}`,
    );
    p(await recvc('recv leftovers', r, 256));
    const pi = new Uint8Array(12);
    pi.set([127, 0, 0, 1], 4);
    const sent = await sendraw(s, al, SOL_IP, IP_PKTINFO, pi);
    p(`send pktinfo 127.0.0.1 ${sent}` + (await recvc('', r, 256)));
    p(`send pktinfo short ${await sendraw(s, al, SOL_IP, IP_PKTINFO, pi.subarray(0, 8))}`);
    await call('close', r);
    await call('close', s);
  };

  await v6(0);
  await v6(136);
  await v4(0);
  await v4(136);
  return out.join('\n') + '\n';
}

describe('IP-level ancillary data (RFC 3542 IPV6_HOPLIMIT/TCLASS/PKTINFO, IP_TTL/TOS/PKTINFO)', () => {
  it('behaves as Linux on UDP and UDP-Lite: cmsgs received, truncation, cmsgs sent, options', async () => {
    const here = dirname(fileURLToPath(import.meta.url));
    const dir = mkdtempSync('/var/tmp/tsvisor-ip-cmsg-');
    try {
      const exe = join(dir, 'ip-cmsg');
      execFileSync('gcc', ['-O1', '-Wall', '-Werror', '-o', exe, join(here, 'testdata/ip-cmsg.c')]);
      const native = execFileSync(exe, { encoding: 'utf8', timeout: 10_000 });
      expect(await tsvisorRun(harness())).toBe(native);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
