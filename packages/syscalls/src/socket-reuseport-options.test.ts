// SO_ATTACH_REUSEPORT_CBPF, SO_ATTACH_REUSEPORT_EBPF and SO_DETACH_REUSEPORT_BPF through the
// syscall table, in plain Node: the order of their errnos as Linux's sk_setsockopt,
// sk_reuseport_attach_filter and reuseport_detach_prog give them (the runtime's
// reuseport-cbpf.test.ts compares the same cases, and where the programs send packets, with Linux).
import { E } from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import { BAD, BUF, harness, type Harness } from './harness.test-util.js';

const AF_INET = 2;
const AF_UNIX = 1;
const AF_NETLINK = 16;
const SOCK_STREAM = 1;
const SOCK_DGRAM = 2;
const SOL_SOCKET = 1;
const SO_REUSEPORT = 15;
const SO_LOCK_FILTER = 44;
const SO_ATTACH_REUSEPORT_CBPF = 51;
const SO_ATTACH_REUSEPORT_EBPF = 52;
const SO_DETACH_REUSEPORT_BPF = 68;
const FPROG = BUF + 0x100;
const PROG = BUF + 0x200;
const VAL = BUF + 0x300;
const LEN = BUF + 0x340;
const ADDR = BUF + 0x380;

/** A struct sock_fprog at FPROG for `insns` (code, k) at `at` (PROG by default). */
function program(h: Harness, insns: [number, number][], at = PROG, len = insns.length): void {
  const b = new Uint8Array(insns.length * 8);
  const dv = new DataView(b.buffer);
  insns.forEach(([code, k], i) => {
    dv.setUint16(i * 8, code, true);
    dv.setUint32(i * 8 + 4, k >>> 0, true);
  });
  h.mem.write(PROG, b);
  const f = new Uint8Array(16);
  new DataView(f.buffer).setUint16(0, len, true);
  new DataView(f.buffer).setBigUint64(8, BigInt(at), true);
  h.mem.write(FPROG, f);
}

const RET0: [number, number][] = [[0x06, 0]];

async function opt(h: Harness, fd: number, name: number, val: number, len: number): Promise<unknown> {
  return h.call('setsockopt', fd, SOL_SOCKET, name, val, len);
}

async function int(h: Harness, fd: number, name: number, v: number, len = 4): Promise<unknown> {
  h.mem.writeI32(VAL, v);
  return opt(h, fd, name, VAL, len);
}

async function socket(h: Harness, family: number, type: number, reuse: boolean): Promise<number> {
  const fd = (await h.call('socket', family, type, 0)) as number;
  if (reuse) expect(await int(h, fd, SO_REUSEPORT, 1)).toBe(0);
  return fd;
}

async function bind(h: Harness, fd: number, port: number): Promise<unknown> {
  h.mem.write(
    ADDR,
    new Uint8Array([AF_INET, 0, port >> 8, port & 0xff, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]),
  );
  return h.call('bind', fd, ADDR, 16);
}

describe('SO_ATTACH_REUSEPORT_CBPF', () => {
  it('reads the struct and the program in Linux order, then needs a group', async () => {
    const h = harness();
    const plain = await socket(h, AF_INET, SOCK_DGRAM, false);
    const s = await socket(h, AF_INET, SOCK_DGRAM, true);
    program(h, RET0);
    expect(await opt(h, plain, SO_ATTACH_REUSEPORT_CBPF, FPROG, 16)).toBe(E.EINVAL);
    expect(await opt(h, s, SO_ATTACH_REUSEPORT_CBPF, FPROG, 8)).toBe(E.EINVAL);
    expect(await opt(h, s, SO_ATTACH_REUSEPORT_CBPF, FPROG, 0)).toBe(E.EINVAL);
    expect(await opt(h, s, SO_ATTACH_REUSEPORT_CBPF, BAD, 16)).toBe(E.EFAULT);
    program(h, RET0, 0);
    expect(await opt(h, s, SO_ATTACH_REUSEPORT_CBPF, FPROG, 16)).toBe(E.EINVAL);
    program(h, RET0, PROG, 0);
    expect(await opt(h, s, SO_ATTACH_REUSEPORT_CBPF, FPROG, 16)).toBe(E.EINVAL);
    program(h, RET0, BAD);
    expect(await opt(h, s, SO_ATTACH_REUSEPORT_CBPF, FPROG, 16)).toBe(E.EFAULT);
    program(h, [[0xff, 0]]);
    expect(await opt(h, s, SO_ATTACH_REUSEPORT_CBPF, FPROG, 16)).toBe(E.EINVAL);
    program(h, RET0);
    expect(await opt(h, s, SO_ATTACH_REUSEPORT_CBPF, FPROG, 16)).toBe(0); // unbound: a group of its own
    expect(await bind(h, s, 7470)).toBe(0);
    expect(await opt(h, s, SO_ATTACH_REUSEPORT_CBPF, FPROG, 16)).toBe(0);
    const late = await socket(h, AF_INET, SOCK_DGRAM, false);
    expect(await bind(h, late, 7471)).toBe(0);
    expect(await int(h, late, SO_REUSEPORT, 1)).toBe(0);
    expect(await opt(h, late, SO_ATTACH_REUSEPORT_CBPF, FPROG, 16)).toBe(E.EINVAL);
    const tcp = await socket(h, AF_INET, SOCK_STREAM, true);
    expect(await opt(h, tcp, SO_ATTACH_REUSEPORT_CBPF, FPROG, 16)).toBe(0);
  });

  it('is EPERM on a locked filter, and EINVAL on sockets without groups', async () => {
    const h = harness();
    program(h, RET0);
    const locked = await socket(h, AF_INET, SOCK_DGRAM, true);
    expect(await int(h, locked, SO_LOCK_FILTER, 1)).toBe(0);
    expect(await opt(h, locked, SO_ATTACH_REUSEPORT_CBPF, FPROG, 16)).toBe(E.EPERM);
    expect(await int(h, locked, SO_ATTACH_REUSEPORT_EBPF, -1)).toBe(E.EPERM);
    expect(await int(h, locked, SO_DETACH_REUSEPORT_BPF, 0)).toBe(E.ENOENT); // no lock check
    for (const [family, type] of [
      [AF_UNIX, SOCK_DGRAM],
      [AF_NETLINK, SOCK_DGRAM],
    ] as const) {
      const fd = await socket(h, family, type, false);
      expect(await opt(h, fd, SO_ATTACH_REUSEPORT_CBPF, FPROG, 16)).toBe(E.EINVAL);
      expect(await int(h, fd, SO_DETACH_REUSEPORT_BPF, 0)).toBe(E.EINVAL);
    }
  });
});

describe('SO_ATTACH_REUSEPORT_EBPF and SO_DETACH_REUSEPORT_BPF', () => {
  it('finds no BPF program behind any fd', async () => {
    const h = harness();
    const s = await socket(h, AF_INET, SOCK_DGRAM, true);
    expect(await int(h, s, SO_ATTACH_REUSEPORT_EBPF, -1)).toBe(E.EBADF);
    expect(await int(h, s, SO_ATTACH_REUSEPORT_EBPF, 999)).toBe(E.EBADF);
    expect(await int(h, s, SO_ATTACH_REUSEPORT_EBPF, s)).toBe(E.EINVAL);
    expect(await int(h, s, SO_ATTACH_REUSEPORT_EBPF, s, 2)).toBe(E.EINVAL);
    expect(await int(h, s, SO_ATTACH_REUSEPORT_EBPF, s, 8)).toBe(E.EINVAL);
    expect(await opt(h, s, SO_ATTACH_REUSEPORT_EBPF, BAD, 4)).toBe(E.EFAULT);
  });

  it('detaches the group program: EINVAL below an int, ENOENT without a program', async () => {
    const h = harness();
    const plain = await socket(h, AF_INET, SOCK_DGRAM, false);
    const s = await socket(h, AF_INET, SOCK_DGRAM, true);
    expect(await opt(h, s, SO_DETACH_REUSEPORT_BPF, 0, 0)).toBe(E.EINVAL);
    expect(await opt(h, s, SO_DETACH_REUSEPORT_BPF, BAD, 4)).toBe(E.EFAULT);
    expect(await int(h, plain, SO_DETACH_REUSEPORT_BPF, 0)).toBe(E.EINVAL);
    expect(await int(h, s, SO_DETACH_REUSEPORT_BPF, 0)).toBe(E.ENOENT);
    program(h, RET0);
    expect(await opt(h, s, SO_ATTACH_REUSEPORT_CBPF, FPROG, 16)).toBe(0);
    expect(await int(h, s, SO_DETACH_REUSEPORT_BPF, 0)).toBe(0);
    expect(await int(h, s, SO_DETACH_REUSEPORT_BPF, 0)).toBe(E.ENOENT);
    h.mem.writeI32(LEN, 4);
    for (const name of [SO_ATTACH_REUSEPORT_CBPF, SO_ATTACH_REUSEPORT_EBPF, SO_DETACH_REUSEPORT_BPF])
      expect(await h.call('getsockopt', s, SOL_SOCKET, name, VAL, LEN)).toBe(E.ENOPROTOOPT);
  });
});
