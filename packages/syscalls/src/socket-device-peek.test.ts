// The syscall plumbing of issue 8's socket options on netstack sockets: SO_BINDTODEVICE and
// SO_BINDTOIFINDEX reach the socket (who may change a binding: sock_bindtoindex_locked), an
// index no link has makes sends ENODEV, SO_PEEK_OFF is EOPNOTSUPP on ping sockets (no
// set_peek_off in inet_sockraw_ops), SIOCOUTQ stores its count. The behaviour itself is
// compared with the host kernel in netstack's bind-device-diff.test.ts and runtime's
// sock-peek-off.test.ts and sock-stream-space.test.ts.
import { E } from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import { BUF, harness } from './harness.test-util.js';
import { initialNetOf } from './sys-socket-file.js';

const AF_INET = 2;
const SOCK_DGRAM = 2;
const IPPROTO_ICMP = 1;
const SOL_SOCKET = 1;
const SO_BINDTODEVICE = 25;
const SO_PEEK_OFF = 42;
const SO_BINDTOIFINDEX = 62;
const SIOCOUTQ = 0x5411;

describe('SO_BINDTODEVICE / SO_BINDTOIFINDEX on netstack sockets', () => {
  it("the first binding is anyone's; changing or dropping it needs CAP_NET_RAW", async () => {
    const h = harness();
    const fd = (await h.call('socket', AF_INET, SOCK_DGRAM, 0)) as number;
    h.task.group.creds = { ...h.task.creds, euid: 1000, effective: 0n };
    h.mem.write(BUF, new TextEncoder().encode('lo\0'));
    expect(await h.call('setsockopt', fd, SOL_SOCKET, SO_BINDTODEVICE, BUF, 3)).toBe(0);
    h.mem.writeI32(BUF + 100, 4);
    expect(await h.call('getsockopt', fd, SOL_SOCKET, SO_BINDTOIFINDEX, BUF + 104, BUF + 100)).toBe(0);
    expect(h.mem.readI32(BUF + 104)).toBe(1);
    // As natively for uid 65534 (setpriv): binding again, even to the same link, and
    // unbinding are EPERM.
    expect(await h.call('setsockopt', fd, SOL_SOCKET, SO_BINDTODEVICE, BUF, 3)).toBe(E.EPERM);
    expect(await h.call('setsockopt', fd, SOL_SOCKET, SO_BINDTODEVICE, BUF, 0)).toBe(E.EPERM);
    h.mem.writeI32(BUF + 32, 0);
    expect(await h.call('setsockopt', fd, SOL_SOCKET, SO_BINDTOIFINDEX, BUF + 32, 4)).toBe(E.EPERM);
    h.task.group.creds = { ...h.task.creds, euid: 0, effective: h.task.creds.permitted };
    expect(await h.call('setsockopt', fd, SOL_SOCKET, SO_BINDTODEVICE, BUF, 0)).toBe(0);
    expect(await h.call('getsockopt', fd, SOL_SOCKET, SO_BINDTOIFINDEX, BUF + 104, BUF + 100)).toBe(0);
    expect(h.mem.readI32(BUF + 104)).toBe(0);
  });

  it('an index no link has is taken, and sending through it is ENODEV', async () => {
    const h = harness();
    const fd = (await h.call('socket', AF_INET, SOCK_DGRAM, 0)) as number;
    h.mem.writeI32(BUF, 77);
    expect(await h.call('setsockopt', fd, SOL_SOCKET, SO_BINDTOIFINDEX, BUF, 4)).toBe(0);
    // struct sockaddr_in for 127.0.0.1:9
    h.mem.write(BUF + 16, Uint8Array.of(2, 0, 0, 9, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0));
    expect(await h.call('sendto', fd, BUF + 64, 1, 0, BUF + 16, 16)).toBe(E.ENODEV);
    expect(await h.call('connect', fd, BUF + 16, 16)).toBe(E.ENODEV);
  });
});

describe('SO_PEEK_OFF and SIOCOUTQ', () => {
  it('ping sockets have no peek offset', async () => {
    const h = harness();
    // Root's group 0 in net.ipv4.ping_group_range, which lets nobody in by default.
    initialNetOf(h.kernel).stack.sysctl.pingGroupRange = [0, 0];
    const fd = (await h.call('socket', AF_INET, SOCK_DGRAM, IPPROTO_ICMP)) as number;
    expect(fd).toBeGreaterThanOrEqual(0);
    h.mem.writeI32(BUF, 3);
    expect(await h.call('setsockopt', fd, SOL_SOCKET, SO_PEEK_OFF, BUF, 4)).toBe(E.EOPNOTSUPP);
    h.mem.writeI32(BUF + 100, 4);
    expect(await h.call('getsockopt', fd, SOL_SOCKET, SO_PEEK_OFF, BUF + 104, BUF + 100)).toBe(E.EOPNOTSUPP);
  });

  it('SIOCOUTQ stores the queued count through the pointer', async () => {
    const h = harness();
    const fd = (await h.call('socket', AF_INET, SOCK_DGRAM, 0)) as number;
    h.mem.writeI32(BUF, -1);
    expect(await h.call('ioctl', fd, SIOCOUTQ, BUF)).toBe(0);
    expect(h.mem.readI32(BUF)).toBe(0);
  });
});
