import { E, MsgFlag, PollEvent, Shut, SockType, isError, type Sockaddr } from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import { WOULD_BLOCK } from '../socket/would-block.js';
import { UnixDomain, UnixSocket, type UnixPathBinder, type UnixRecvResult } from './unix-socket.js';

const CREDS = { pid: 7, uid: 1000, gid: 100 };
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const abstract = (s: string): Sockaddr => ({ kind: 'unix-abstract', name: enc(s) });

function setup(): { domain: UnixDomain; dropped: unknown[] } {
  const dropped: unknown[] = [];
  return { domain: new UnixDomain({ dropRights: (r) => dropped.push(...r) }), dropped };
}
function sock(domain: UnixDomain, type: number): UnixSocket {
  const s = UnixSocket.create(domain, type, CREDS);
  if (isError(s)) throw new Error(String(s));
  return s;
}
function pair(domain: UnixDomain, type: number): [UnixSocket, UnixSocket] {
  const p = UnixSocket.pair(domain, type, CREDS);
  if (isError(p)) throw new Error(String(p));
  return p;
}
function recvText(s: UnixSocket, len = 64, flags = 0): string | unknown {
  const buf = new Uint8Array(len);
  const r = s.recv(buf, flags);
  if (r === WOULD_BLOCK || isError(r)) return r;
  return new TextDecoder().decode(buf.subarray(0, r.n));
}

describe('UnixSocket', () => {
  it('rejects unknown types and protocols as Linux does', () => {
    const { domain } = setup();
    expect(UnixSocket.create(domain, 7, CREDS)).toBe(E.ESOCKTNOSUPPORT);
    expect(UnixSocket.create(domain, SockType.SOCK_STREAM, CREDS, 2)).toBe(E.EPROTONOSUPPORT);
    expect((UnixSocket.create(domain, SockType.SOCK_RAW, CREDS) as UnixSocket).type).toBe(
      SockType.SOCK_DGRAM,
    );
  });

  it('moves stream bytes across a pair, with MSG_PEEK, EOF and EPIPE', () => {
    const { domain } = setup();
    const [a, b] = pair(domain, SockType.SOCK_STREAM);
    expect(b.recv(new Uint8Array(4))).toBe(WOULD_BLOCK);
    expect(a.send(enc('hello '))).toBe(6);
    expect(a.send(enc('world'))).toBe(5);
    expect(recvText(b, 64, MsgFlag.MSG_PEEK)).toBe('hello world');
    expect(recvText(b, 3)).toBe('hel');
    expect(b.inq()).toBe(8);
    expect(recvText(b)).toBe('lo world');
    expect(a.shutdown(Shut.SHUT_WR)).toBe(0);
    expect(recvText(b)).toBe('');
    expect(b.readiness() & PollEvent.POLLRDHUP).toBeTruthy();
    expect(a.send(enc('x'))).toBe(E.EPIPE);
    b.close();
    expect(a.readiness() & PollEvent.POLLHUP).toBeTruthy();
  });

  it('reports ECONNRESET once when the peer closed with data unread, then EOF', () => {
    const { domain } = setup();
    const [a, b] = pair(domain, SockType.SOCK_STREAM);
    a.send(enc('unread'));
    b.close();
    expect(a.send(enc('x'))).toBe(E.EPIPE);
    expect(a.readiness() & PollEvent.POLLERR).toBeTruthy();
    expect(recvText(a)).toBe(E.ECONNRESET);
    expect(recvText(a)).toBe('');
  });

  it('binds abstract names, autobinds, listens, connects and accepts', () => {
    const { domain } = setup();
    const srv = sock(domain, SockType.SOCK_STREAM);
    expect(srv.listen(5)).toBe(E.EINVAL); // unbound
    expect(srv.bind(abstract('srv'))).toBe(0);
    expect(srv.bind(abstract('other'))).toBe(E.EINVAL);
    expect(sock(domain, SockType.SOCK_STREAM).bind(abstract('srv'))).toBe(E.EADDRINUSE);
    const c = sock(domain, SockType.SOCK_STREAM);
    expect(c.connect(abstract('srv'))).toBe(E.ECONNREFUSED); // not listening yet
    expect(srv.accept()).toBe(E.EINVAL);
    expect(srv.listen(0)).toBe(0);
    expect(srv.accept()).toBe(WOULD_BLOCK);
    expect(c.connect(abstract('srv'))).toBe(0);
    expect(c.connect(abstract('srv'))).toBe(E.EISCONN);
    expect(srv.readiness() & PollEvent.POLLIN).toBeTruthy();
    // backlog 0 still admits one pending connection; the next waits until an accept.
    const late = sock(domain, SockType.SOCK_STREAM);
    let woken = 0;
    late.setReadinessListener(() => woken++);
    expect(late.connect(abstract('srv'))).toBe(WOULD_BLOCK);
    const s = srv.accept();
    expect(woken).toBeGreaterThan(0);
    expect(late.connect(abstract('srv'))).toBe(0);
    if (s === WOULD_BLOCK || isError(s)) throw new Error('accept');
    expect(c.getpeername()).toEqual(abstract('srv'));
    expect(s.getpeername()).toEqual({ kind: 'unix-unnamed' });
    expect(c.send(enc('ping'))).toBe(4);
    expect(recvText(s)).toBe('ping');
    expect(sock(domain, SockType.SOCK_DGRAM).connect(abstract('srv'))).toBe(E.EPROTOTYPE);
    expect(c.connect(abstract('nothing'))).toBe(E.EISCONN);
    expect(sock(domain, SockType.SOCK_STREAM).connect(abstract('nothing'))).toBe(E.ECONNREFUSED);
    const auto = sock(domain, SockType.SOCK_DGRAM);
    expect(auto.bind({ kind: 'unix-unnamed' })).toBe(0);
    const name = auto.getsockname();
    expect(name.kind === 'unix-abstract' && /^[0-9a-f]{5}$/.test(new TextDecoder().decode(name.name))).toBe(
      true,
    );
    srv.close();
    expect(sock(domain, SockType.SOCK_STREAM).bind(abstract('srv'))).toBe(0); // name freed
  });

  it("a domain made with another one's paths shares its bound paths, not its abstract names", () => {
    const { domain } = setup();
    const other = new UnixDomain({ dropRights: () => undefined }, domain);
    const fs: UnixPathBinder = { create: () => 'key:/s', remove: () => undefined, lookup: () => 'key:/s' };
    const srv = sock(domain, SockType.SOCK_STREAM);
    expect(srv.bind({ kind: 'unix-path', path: enc('/s') }, fs)).toBe(0);
    expect(srv.listen(1)).toBe(0);
    expect(sock(other, SockType.SOCK_STREAM).connect({ kind: 'unix-path', path: enc('/s') }, fs)).toBe(0);
    const named = sock(domain, SockType.SOCK_STREAM);
    expect(named.bind(abstract('a'))).toBe(0);
    expect(named.listen(1)).toBe(0);
    expect(sock(other, SockType.SOCK_STREAM).connect(abstract('a'))).toBe(E.ECONNREFUSED);
    expect(sock(other, SockType.SOCK_STREAM).bind(abstract('a'))).toBe(0);
  });

  it('binds and finds path names through the binder', () => {
    const { domain } = setup();
    const nodes = new Map<string, string>();
    const fs: UnixPathBinder = {
      create: (p) => {
        const k = new TextDecoder().decode(p);
        if (nodes.has(k)) return E.EADDRINUSE;
        nodes.set(k, `key:${k}`);
        return `key:${k}`;
      },
      remove: (p) => nodes.delete(new TextDecoder().decode(p)),
      lookup: (p) => nodes.get(new TextDecoder().decode(p)) ?? E.ENOENT,
    };
    const path = (s: string): Sockaddr => ({ kind: 'unix-path', path: enc(s) });
    const srv = sock(domain, SockType.SOCK_SEQPACKET);
    expect(srv.bind(path('/tmp/s'), fs)).toBe(0);
    expect(sock(domain, SockType.SOCK_SEQPACKET).bind(path('/tmp/s'), fs)).toBe(E.EADDRINUSE);
    expect(srv.bind(path('/tmp/s'), fs)).toBe(E.EADDRINUSE);
    expect(srv.bind(path('/tmp/t'), fs)).toBe(E.EINVAL);
    expect(nodes.has('/tmp/t')).toBe(false);
    expect(sock(domain, SockType.SOCK_SEQPACKET).connect(path('/tmp/none'), fs)).toBe(E.ENOENT);
    srv.listen(1);
    const c = sock(domain, SockType.SOCK_SEQPACKET);
    expect(c.connect(path('/tmp/s'), fs)).toBe(0);
    const s = srv.accept() as UnixSocket;
    c.send(enc('one'));
    c.send(enc('two!'));
    const buf = new Uint8Array(2);
    const r = s.recv(buf) as UnixRecvResult;
    expect([r.n, r.len, r.truncated]).toEqual([2, 3, true]);
    expect(recvText(s)).toBe('two!');
    srv.close();
    expect(sock(domain, SockType.SOCK_SEQPACKET).connect(path('/tmp/s'), fs)).toBe(E.ECONNREFUSED);
  });

  it('sends datagrams with the sender address, EPERM to a socket connected elsewhere', () => {
    const { domain } = setup();
    const a = sock(domain, SockType.SOCK_DGRAM);
    const b = sock(domain, SockType.SOCK_DGRAM);
    const c = sock(domain, SockType.SOCK_DGRAM);
    a.bind(abstract('a'));
    b.bind(abstract('b'));
    expect(c.send(enc('x'))).toBe(E.ENOTCONN);
    expect(c.send(enc('to-a'), 0, abstract('a'))).toBe(4);
    expect(b.send(enc('from-b'), 0, abstract('a'))).toBe(6);
    const r1 = a.recv(new Uint8Array(16)) as UnixRecvResult;
    expect(r1.from).toBeUndefined();
    const r2 = a.recv(new Uint8Array(16)) as UnixRecvResult;
    expect(r2.from).toEqual(abstract('b'));
    expect(a.connect(abstract('b'))).toBe(0);
    expect(c.send(enc('x'), 0, abstract('a'))).toBe(E.EPERM);
    b.close();
    expect(a.send(enc('x'))).toBe(E.ECONNREFUSED);
    expect(a.send(enc('x'))).toBe(E.ENOTCONN);
    // An unconnected receiver takes at most max_dgram_qlen datagrams from others.
    const d = sock(domain, SockType.SOCK_DGRAM);
    d.bind(abstract('d'));
    for (let i = 0; i < 10; i++) expect(c.send(enc('m'), 0, abstract('d'))).toBe(1);
    expect(c.send(enc('m'), 0, abstract('d'))).toBe(WOULD_BLOCK);
    expect(c.send(new Uint8Array(300000), 0, abstract('d'))).toBe(E.EMSGSIZE);
  });

  it('carries rights and credentials, and gives unreceived rights back', () => {
    const { domain, dropped } = setup();
    const [a, b] = pair(domain, SockType.SOCK_STREAM);
    expect(a.peercred()).toEqual(CREDS);
    b.passcred = true;
    a.send(enc('ab'), 0, undefined, undefined, { rights: ['fileA'] });
    a.send(enc('cd'), 0, undefined, undefined, { rights: ['fileB'] });
    const r = b.recv(new Uint8Array(10)) as UnixRecvResult;
    expect([r.n, r.rights, r.creds]).toEqual([2, ['fileA'], CREDS]);
    b.close();
    expect(dropped).toEqual(['fileB']);
    expect(sock(domain, SockType.SOCK_STREAM).peercred()).toEqual({
      pid: 0,
      uid: 0xffffffff,
      gid: 0xffffffff,
    });
  });

  it('SO_PEEK_OFF: peeks start at the offset and move it on, reads move it back', () => {
    const { domain } = setup();
    const [a, b] = pair(domain, SockType.SOCK_STREAM);
    a.send(enc('ab'));
    a.send(enc('cdef'));
    b.peekOff = 3;
    // Across the two writes: 'ab' is skipped whole, then one byte into 'cdef'.
    expect(recvText(b, 2, MsgFlag.MSG_PEEK)).toBe('de');
    expect(b.peekOff).toBe(5);
    expect(recvText(b, 1, MsgFlag.MSG_PEEK)).toBe('f');
    expect(recvText(b, 1, MsgFlag.MSG_PEEK)).toBe(WOULD_BLOCK); // nothing past the offset
    expect(b.peekOff).toBe(6);
    expect(recvText(b, 2)).toBe('ab');
    expect(b.peekOff).toBe(4);
    expect(recvText(b, 8)).toBe('cdef');
    expect(b.peekOff).toBe(0);

    const [c, d] = pair(domain, SockType.SOCK_DGRAM);
    c.send(enc('abc'));
    c.send(enc('defgh'));
    d.peekOff = 4;
    const buf = new Uint8Array(16);
    const r = d.recv(buf, MsgFlag.MSG_PEEK) as UnixRecvResult;
    expect([r.n, r.len, new TextDecoder().decode(buf.subarray(0, r.n))]).toEqual([4, 4, 'efgh']);
    expect(d.peekOff).toBe(8);
    expect(recvText(d, 16)).toBe('abc');
    expect(d.peekOff).toBe(5);
  });

  it('gives both ends of a pair peer credentials with their groups; a lone socket has none', () => {
    const { domain } = setup();
    const p = UnixSocket.pair(domain, SockType.SOCK_DGRAM, { ...CREDS, groups: [5, 7] });
    if (isError(p)) throw new Error(String(p));
    expect(p[0].peercred()).toMatchObject(CREDS);
    expect(p[1].peerGroups()).toEqual([5, 7]);
    expect(sock(domain, SockType.SOCK_STREAM).peerGroups()).toBeUndefined();
  });

  it('reports readiness changes to its listener', () => {
    const { domain } = setup();
    const [a, b] = pair(domain, SockType.SOCK_DGRAM);
    const seen: number[] = [];
    b.setReadinessListener((ev) => seen.push(ev));
    expect(b.readiness() & PollEvent.POLLIN).toBe(0);
    a.send(enc('x'));
    expect(seen.some((ev) => (ev & PollEvent.POLLIN) !== 0)).toBe(true);
    expect(b.readiness() & PollEvent.POLLOUT).toBeTruthy();
  });
});
