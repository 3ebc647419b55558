// SO_PASSRIGHTS, SO_PASSPIDFD and SO_PEERPIDFD's peer process on UnixSocket (what the syscall
// layer turns into EPERM, SCM_PIDFD and pidfds; compared with Linux by the runtime's
// unix-sockopts.test.ts).
import { E, SockType, isError, type LinuxError, type Sockaddr } from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import { WOULD_BLOCK } from '../socket/would-block.js';
import { UnixDomain, UnixSocket, type UnixCreds, type UnixRecvResult } from './unix-socket.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const abstract = (s: string): Sockaddr => ({ kind: 'unix-abstract', name: enc(s) });
/** Two processes, each with its own kernel handle (any object will do here). */
const P1 = { name: 'p1' };
const P2 = { name: 'p2' };
const C1: UnixCreds = { pid: 7, uid: 1000, gid: 100, process: P1 };
const C2: UnixCreds = { pid: 8, uid: 1000, gid: 100, process: P2 };
const TYPES = [SockType.SOCK_STREAM, SockType.SOCK_DGRAM, SockType.SOCK_SEQPACKET];

function domain(): UnixDomain {
  return new UnixDomain({ dropRights: () => undefined });
}
function ok<T>(v: T | LinuxError): T {
  if (isError(v)) throw new Error(String(v));
  return v;
}
function recv(s: UnixSocket): UnixRecvResult {
  const r = s.recv(new Uint8Array(64));
  if (r === WOULD_BLOCK || isError(r)) throw new Error(String(r));
  return r;
}
/** A connected pair through listen/connect/accept: [client, accepted]. */
function connected(
  d: UnixDomain,
  type: number,
  listenerCreds: UnixCreds,
  clientCreds: UnixCreds,
): [UnixSocket, UnixSocket] {
  const l = ok(UnixSocket.create(d, type, listenerCreds));
  expect(l.bind(abstract(`l${type}`))).toBe(0);
  expect(l.listen(4)).toBe(0);
  const c = ok(UnixSocket.create(d, type, clientCreds));
  expect(c.connect(abstract(`l${type}`))).toBe(0);
  const a = l.accept();
  if (!(a instanceof UnixSocket)) throw new Error(String(a));
  return [c, a];
}

describe('SO_PASSRIGHTS', () => {
  it.each(TYPES)('off at the receiver refuses descriptors with EPERM, not plain data (type %i)', (type) => {
    const [a, b] = ok(UnixSocket.pair(domain(), type, C1));
    expect(b.passrights).toBe(true);
    b.passrights = false;
    expect(a.send(enc('hi'), 0, undefined, undefined, { rights: ['fd'] })).toBe(E.EPERM);
    expect(a.send(enc('ok'))).toBe(2);
    // The sender's own setting does not matter, an empty list is no descriptor.
    expect(b.send(enc('hi'), 0, undefined, undefined, { rights: ['fd'] })).toBe(2);
    expect(a.send(enc('no'), 0, undefined, undefined, { rights: [] })).toBe(2);
    expect(recv(a).rights).toEqual(['fd']);
    b.passrights = true;
    expect(a.send(enc('hi'), 0, undefined, undefined, { rights: ['fd2'] })).toBe(2);
  });

  it('applies to a datagram sent to an address', () => {
    const d = domain();
    const server = ok(UnixSocket.create(d, SockType.SOCK_DGRAM, C1));
    expect(server.bind(abstract('srv'))).toBe(0);
    server.passrights = false;
    const client = ok(UnixSocket.create(d, SockType.SOCK_DGRAM, C2));
    expect(client.send(enc('x'), 0, abstract('srv'), undefined, { rights: ['fd'] })).toBe(E.EPERM);
    expect(client.send(enc('x'), 0, abstract('srv'))).toBe(1);
  });

  it('an accepted socket takes the listener SO_PASSRIGHTS, SO_PASSPIDFD and SO_PASSCRED', () => {
    const d = domain();
    const l = ok(UnixSocket.create(d, SockType.SOCK_STREAM, C1));
    l.passrights = false;
    l.passpidfd = true;
    l.passcred = true;
    expect(l.bind(abstract('l'))).toBe(0);
    expect(l.listen(1)).toBe(0);
    const c = ok(UnixSocket.create(d, SockType.SOCK_STREAM, C2));
    expect(c.connect(abstract('l'))).toBe(0);
    const a = l.accept() as UnixSocket;
    expect([a.passrights, a.passpidfd, a.passcred]).toEqual([false, true, true]);
    expect(c.send(enc('x'), 0, undefined, undefined, { rights: ['fd'] })).toBe(E.EPERM);
  });
});

describe('SO_PEERPIDFD peer process', () => {
  it.each(TYPES)('a socketpair has the creator on both ends (type %i)', (type) => {
    const [a, b] = ok(UnixSocket.pair(domain(), type, C1));
    expect(a.peerProcess()).toBe(P1);
    expect(b.peerProcess()).toBe(P1);
  });

  it.each([SockType.SOCK_STREAM, SockType.SOCK_SEQPACKET])(
    'connect and accept see each other (type %i)',
    (type) => {
      const [c, a] = connected(domain(), type, C1, C2);
      expect(c.peerProcess()).toBe(P1);
      expect(a.peerProcess()).toBe(P2);
    },
  );

  it('is none unconnected, on a connected datagram socket and for credentials without a process', () => {
    const d = domain();
    const s = ok(UnixSocket.create(d, SockType.SOCK_STREAM, C1));
    expect(s.peerProcess()).toBeUndefined();
    const server = ok(UnixSocket.create(d, SockType.SOCK_DGRAM, C1));
    expect(server.bind(abstract('d'))).toBe(0);
    const client = ok(UnixSocket.create(d, SockType.SOCK_DGRAM, C2));
    expect(client.connect(abstract('d'))).toBe(0);
    expect(client.peerProcess()).toBeUndefined();
    const [a] = ok(UnixSocket.pair(d, SockType.SOCK_STREAM, { pid: 1, uid: 0, gid: 0 }));
    expect(a.peerProcess()).toBeUndefined();
  });
});

describe('SO_PASSPIDFD', () => {
  it.each(TYPES)('gives the sender process of each message only when on (type %i)', (type) => {
    const [a, b] = ok(UnixSocket.pair(domain(), type, C1));
    expect(a.send(enc('one'), 0, undefined, undefined, { creds: C2 })).toBe(3);
    expect(recv(b).pidfdProcess).toBeUndefined();
    b.passpidfd = true;
    expect(a.send(enc('two'), 0, undefined, undefined, { creds: C2 })).toBe(3);
    const r = recv(b);
    expect(r.pidfdProcess).toBe(P2);
    // SO_PASSCRED is a separate option.
    expect(r.creds).toBeUndefined();
  });

  it('keeps a stream read from joining bytes of two senders, as SO_PASSCRED does', () => {
    const [a, b] = ok(UnixSocket.pair(domain(), SockType.SOCK_STREAM, C1));
    const send = (s: string, c: UnixCreds): void => {
      expect(a.send(enc(s), 0, undefined, undefined, { creds: c })).toBe(s.length);
    };
    send('ab', C1);
    send('cd', C2);
    expect(recv(b).n).toBe(4);
    b.passpidfd = true;
    send('ab', C1);
    send('cd', C2);
    const first = recv(b);
    expect([first.n, first.pidfdProcess]).toEqual([2, P1]);
    const second = recv(b);
    expect([second.n, second.pidfdProcess]).toEqual([2, P2]);
  });

  it('autobinds a datagram socket on connect and send, as SO_PASSCRED does', () => {
    const d = domain();
    const server = ok(UnixSocket.create(d, SockType.SOCK_DGRAM, C1));
    expect(server.bind(abstract('s'))).toBe(0);
    const c1 = ok(UnixSocket.create(d, SockType.SOCK_DGRAM, C2));
    c1.passpidfd = true;
    expect(c1.connect(abstract('s'))).toBe(0);
    expect(c1.getsockname().kind).toBe('unix-abstract');
    const c2 = ok(UnixSocket.create(d, SockType.SOCK_DGRAM, C2));
    c2.passpidfd = true;
    expect(c2.send(enc('x'), 0, abstract('s'))).toBe(1);
    expect(c2.getsockname().kind).toBe('unix-abstract');
    const plain = ok(UnixSocket.create(d, SockType.SOCK_DGRAM, C2));
    expect(plain.connect(abstract('s'))).toBe(0);
    expect(plain.getsockname().kind).toBe('unix-unnamed');
  });
});

it('README example: peer process, SO_PASSRIGHTS and SO_PASSPIDFD', async () => {
  const { UnixDomain: Domain, UnixSocket: Socket } = await import('../index.js');
  const domain = new Domain({ dropRights: () => undefined });
  const me = { pid: 1, uid: 0, gid: 0 };
  const proc = { tgid: 1 };
  const them = { ...me, process: proc };
  const [x, y] = Socket.pair(domain, SockType.SOCK_DGRAM, them) as [UnixSocket, UnixSocket];
  expect(x.peerProcess() === proc).toBe(true);
  y.passrights = false;
  expect(x.send(new Uint8Array(1), 0, undefined, undefined, { rights: ['an fd'] }) === E.EPERM).toBe(true);
  y.passpidfd = true;
  expect(x.send(new Uint8Array(1))).toBe(1);
  expect(y.recv(new Uint8Array(1))).toMatchObject({ n: 1, pidfdProcess: proc });
});
