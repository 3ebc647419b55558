// The socket filter options of socket-filter-options.ts through the syscall table, in plain
// Node (the runtime's sock-filter.test.ts compares them with Linux): the struct sock_fprog and
// its program read from task memory, SO_GET_FILTER's count-in-instructions length, the lock,
// SO_ATTACH_BPF without bpf(2), and a netlink socket's filter on the replies it is sent.
import { E } from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import { BAD, BUF, harness, type Harness } from './harness.test-util.js';

const AF_INET = 2;
const AF_UNIX = 1;
const AF_NETLINK = 16;
const SOCK_DGRAM = 2;
const SOCK_RAW = 3;
const SOL_SOCKET = 1;
const SO_ATTACH_FILTER = 26;
const SO_GET_FILTER = 26;
const SO_DETACH_FILTER = 27;
const SO_LOCK_FILTER = 44;
const SO_BPF_EXTENSIONS = 48;
const SO_ATTACH_BPF = 50;
const MSG_DONTWAIT = 0x40;
const FPROG = BUF + 0x100;
const PROG = BUF + 0x200;
const LEN = BUF + 0x300;
const VAL = BUF + 0x400;

/** Writes `insns` (code, jt, jf, k) at PROG and a struct sock_fprog for them at FPROG. */
function program(h: Harness, insns: [number, number, number, number][], at = PROG): void {
  const b = new Uint8Array(insns.length * 8);
  const dv = new DataView(b.buffer);
  insns.forEach(([code, jt, jf, k], i) => {
    dv.setUint16(i * 8, code, true);
    dv.setUint8(i * 8 + 2, jt);
    dv.setUint8(i * 8 + 3, jf);
    dv.setUint32(i * 8 + 4, k >>> 0, true);
  });
  h.mem.write(PROG, b);
  const f = new Uint8Array(16);
  new DataView(f.buffer).setUint16(0, insns.length, true);
  new DataView(f.buffer).setBigUint64(8, BigInt(at), true);
  h.mem.write(FPROG, f);
}

async function attach(h: Harness, fd: number, optlen = 16): Promise<unknown> {
  return h.call('setsockopt', fd, SOL_SOCKET, SO_ATTACH_FILTER, FPROG, optlen);
}

async function getopt(h: Harness, fd: number, name: number, len: number, val = VAL): Promise<unknown> {
  h.mem.writeI32(LEN, len);
  return h.call('getsockopt', fd, SOL_SOCKET, name, val, LEN);
}

describe('socket filter options', () => {
  it('attach reads the struct and then the program, in Linux order', async () => {
    const h = harness();
    const s = (await h.call('socket', AF_INET, SOCK_DGRAM, 0)) as number;
    program(h, [[0x06, 0, 0, 0xffff]]);
    expect(await attach(h, s, 8)).toBe(E.EINVAL);
    expect(await h.call('setsockopt', s, SOL_SOCKET, SO_ATTACH_FILTER, BAD, 16)).toBe(E.EFAULT);
    program(h, [[0x06, 0, 0, 0xffff]], BAD);
    expect(await attach(h, s)).toBe(E.EFAULT);
    program(h, [[0x06, 0, 0, 0xffff]], 0);
    expect(await attach(h, s)).toBe(E.EINVAL); // a NULL program is EINVAL before any copy
    program(h, [[0x16, 0, 0, 0]]);
    expect(await attach(h, s)).toBe(0);
    program(h, [
      [0x60, 0, 0, 0],
      [0x16, 0, 0, 0],
    ]); // reads M[0] unwritten
    expect(await attach(h, s)).toBe(E.EINVAL);
  });

  it('SO_GET_FILTER counts in instructions', async () => {
    const h = harness();
    const s = (await h.call('socket', AF_UNIX, SOCK_DGRAM, 0)) as number;
    expect(await getopt(h, s, SO_GET_FILTER, 8)).toBe(0);
    expect(h.mem.readI32(LEN)).toBe(0);
    program(h, [
      [0x30, 0, 0, 0],
      [0x15, 0, 1, 0x78],
      [0x06, 0, 0, 0xffff],
      [0x06, 0, 0, 0],
    ]);
    expect(await attach(h, s)).toBe(0);
    expect(await getopt(h, s, SO_GET_FILTER, 0)).toBe(0);
    expect(h.mem.readI32(LEN)).toBe(4);
    expect(await getopt(h, s, SO_GET_FILTER, 3)).toBe(E.EINVAL);
    expect(await getopt(h, s, SO_GET_FILTER, 4, BAD)).toBe(E.EFAULT);
    expect(await getopt(h, s, SO_GET_FILTER, 100)).toBe(0);
    expect(h.mem.readI32(LEN)).toBe(4);
    expect(h.mem.read(VAL, 32)).toEqual(h.mem.read(PROG, 32));
    expect(await getopt(h, s, SO_BPF_EXTENSIONS, 4)).toBe(0);
    expect(h.mem.readI32(VAL)).toBe(64);
  });

  it('SO_LOCK_FILTER freezes the filter; SO_ATTACH_BPF finds no BPF program', async () => {
    const h = harness();
    const s = (await h.call('socket', AF_INET, SOCK_DGRAM, 0)) as number;
    expect(await h.call('setsockopt', s, SOL_SOCKET, SO_DETACH_FILTER, VAL, 4)).toBe(E.ENOENT);
    h.mem.writeI32(VAL, 999);
    expect(await h.call('setsockopt', s, SOL_SOCKET, SO_ATTACH_BPF, VAL, 4)).toBe(E.EBADF);
    h.mem.writeI32(VAL, s);
    expect(await h.call('setsockopt', s, SOL_SOCKET, SO_ATTACH_BPF, VAL, 4)).toBe(E.EINVAL);
    expect(await h.call('setsockopt', s, SOL_SOCKET, SO_ATTACH_BPF, VAL, 8)).toBe(E.EINVAL);
    h.mem.writeI32(VAL, 1);
    expect(await h.call('setsockopt', s, SOL_SOCKET, SO_LOCK_FILTER, VAL, 4)).toBe(0);
    program(h, [[0x06, 0, 0, 1]]);
    expect(await attach(h, s)).toBe(E.EPERM);
    expect(await h.call('setsockopt', s, SOL_SOCKET, SO_ATTACH_BPF, VAL, 4)).toBe(E.EPERM);
    expect(await h.call('setsockopt', s, SOL_SOCKET, SO_DETACH_FILTER, VAL, 4)).toBe(E.EPERM);
    h.mem.writeI32(VAL, 0);
    expect(await h.call('setsockopt', s, SOL_SOCKET, SO_LOCK_FILTER, VAL, 4)).toBe(E.EPERM);
    expect(await getopt(h, s, SO_LOCK_FILTER, 4)).toBe(0);
    expect(h.mem.readI32(VAL)).toBe(1);
  });

  it('a netlink socket runs its filter on the replies it is sent', async () => {
    const h = harness();
    const fd = (await h.call('socket', AF_NETLINK, SOCK_RAW, 0)) as number;
    const getlink = async (): Promise<unknown> => {
      const req = new Uint8Array(32);
      const dv = new DataView(req.buffer);
      dv.setUint32(0, 32, true);
      dv.setUint16(4, 18, true); // RTM_GETLINK
      dv.setUint16(6, 1, true); // NLM_F_REQUEST
      dv.setInt32(20, 1, true); // ifi_index 1: lo
      h.mem.write(BUF, req);
      expect(await h.call('sendto', fd, BUF, 32, 0, 0, 0)).toBe(32);
      return h.call('recvfrom', fd, BUF, 8192, MSG_DONTWAIT, 0, 0);
    };
    program(h, [[0x06, 0, 0, 0]]);
    expect(await attach(h, fd)).toBe(0);
    expect(await getlink()).toBe(E.EAGAIN);
    program(h, [[0x06, 0, 0, 20]]);
    expect(await attach(h, fd)).toBe(0);
    expect(await getlink()).toBe(20);
    expect(await h.call('setsockopt', fd, SOL_SOCKET, SO_DETACH_FILTER, VAL, 4)).toBe(0);
    expect(await getlink()).toBeGreaterThan(20);
  });
});
