// The AF_UNIX SOL_SOCKET options of unix-socket-options.ts through the syscall table: what the
// runtime's unix-sockopts.test.ts cannot show against Linux as root (capability checks) or
// without faults (a pidfd given back when its number cannot be written).
import { E } from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import { BAD, BUF, harness, type Harness } from './harness.test-util.js';

const AF_UNIX = 1;
const SOCK_STREAM = 1;
const SOCK_DGRAM = 2;
const SOL_SOCKET = 1;
const SO_LINGER = 13;
const SO_TXTIME = 61;
const SO_PEERPIDFD = 77;
const SO_PASSRIGHTS = 83;
const F_GETFD = 1;
const CLOCK_MONOTONIC = 1;
const CLOCK_TAI = 11;
const LEN = BUF + 0x100;
const VAL = BUF + 0x200;

async function pair(h: Harness, type: number): Promise<[number, number]> {
  expect(await h.call('socketpair', AF_UNIX, type, 0, BUF)).toBe(0);
  return [h.mem.readI32(BUF) as number, h.mem.readI32(BUF + 4) as number];
}
async function getopt(h: Harness, fd: number, name: number, len: number, val = VAL): Promise<unknown> {
  h.mem.writeI32(LEN, len);
  return h.call('getsockopt', fd, SOL_SOCKET, name, val, LEN);
}

describe('AF_UNIX socket options', () => {
  it('SO_PEERPIDFD installs a close-on-exec pidfd of the peer, or ENODATA', async () => {
    const h = harness();
    const [a] = await pair(h, SOCK_STREAM);
    expect(await getopt(h, a, SO_PEERPIDFD, 8)).toBe(0);
    expect(h.mem.readI32(LEN)).toBe(4);
    const pidfd = h.mem.readI32(VAL) as number;
    expect(await h.call('fcntl', pidfd, F_GETFD)).toBe(1);
    expect(await h.call('pidfd_send_signal', pidfd, 0, 0, 0)).toBe(0);
    const lone = (await h.call('socket', AF_UNIX, SOCK_DGRAM, 0)) as number;
    expect(await getopt(h, lone, SO_PEERPIDFD, 4)).toBe(E.ENODATA);
  });

  it('SO_PEERPIDFD gives the descriptor back when its number cannot be written', async () => {
    const h = harness();
    const [a] = await pair(h, SOCK_STREAM);
    expect(await getopt(h, a, SO_PEERPIDFD, 4, BAD)).toBe(E.EFAULT);
    // The lowest free number is still free.
    const next = (await h.call('socket', AF_UNIX, SOCK_DGRAM, 0)) as number;
    expect(next).toBe(a + 2);
  });

  it('SO_TXTIME takes CAP_NET_ADMIN for any clock but CLOCK_MONOTONIC', async () => {
    const h = harness();
    const s = (await h.call('socket', AF_UNIX, SOCK_STREAM, 0)) as number;
    h.task.group.creds = { ...h.task.creds, euid: 1000, effective: 0n };
    h.mem.writeI32(VAL, CLOCK_TAI);
    h.mem.writeI32(VAL + 4, 0);
    expect(await h.call('setsockopt', s, SOL_SOCKET, SO_TXTIME, VAL, 8)).toBe(E.EPERM);
    h.mem.writeI32(VAL, CLOCK_MONOTONIC);
    h.mem.writeI32(VAL + 4, 2);
    expect(await h.call('setsockopt', s, SOL_SOCKET, SO_TXTIME, VAL, 8)).toBe(0);
    expect(await getopt(h, s, SO_TXTIME, 64, VAL + 16)).toBe(0);
    expect([h.mem.readI32(LEN), h.mem.readI32(VAL + 16), h.mem.readI32(VAL + 20)]).toEqual([8, 1, 2]);
  });

  it('faults and short values fail as sk_setsockopt does', async () => {
    const h = harness();
    const s = (await h.call('socket', AF_UNIX, SOCK_STREAM, 0)) as number;
    expect(await h.call('setsockopt', s, SOL_SOCKET, SO_LINGER, BAD, 8)).toBe(E.EFAULT);
    expect(await h.call('setsockopt', s, SOL_SOCKET, SO_PASSRIGHTS, VAL, 3)).toBe(E.EINVAL);
    expect(await getopt(h, s, SO_PASSRIGHTS, 4, BAD)).toBe(E.EFAULT);
    expect(await getopt(h, s, SO_LINGER, -1)).toBe(E.EINVAL);
  });
});
