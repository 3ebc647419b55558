import { E, type LinuxError } from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import { BUF, harness } from './harness.test-util.js';
import { configureHostNetwork, type HostSockets } from './sys-socket-host.js';

const EPOLLIN = 1;
const EPOLLOUT = 4;
const EPOLLET = 0x80000000;
const EPOLLONESHOT = 0x40000000;

async function setup() {
  const h = harness();
  await h.call('pipe2', BUF, 0);
  const r = h.mem.readI32(BUF) as number;
  const w = h.mem.readI32(BUF + 4) as number;
  const ep = (await h.call('epoll_create1', 0o2000000)) as number;
  const ctl = (op: number, fd: number, events: number, data: bigint): Promise<unknown> => {
    h.mem.writeU32(BUF + 16, events >>> 0);
    h.mem.writeU64(BUF + 20, data);
    return h.call('epoll_ctl', ep, op, fd, BUF + 16);
  };
  const write = (): Promise<unknown> => {
    h.mem.write(BUF + 500, new Uint8Array([7]));
    return h.call('write', w, BUF + 500, 1);
  };
  return { h, r, w, ep, ctl, write };
}

describe('epoll', () => {
  it('reports readiness of registered files with their data', async () => {
    const { h, r, w, ep, ctl } = await setup();
    expect(h.task.files.entry(ep)?.cloexec).toBe(true);
    expect(await ctl(1, r, EPOLLIN, 0x1111n)).toBe(0);
    expect(await ctl(1, w, EPOLLOUT, 0x2222n)).toBe(0);
    expect(await ctl(1, w, EPOLLOUT, 0x2222n)).toBe(E.EEXIST);
    expect(await h.call('epoll_wait', ep, BUF + 100, 8, 0)).toBe(1);
    expect(h.mem.readU32(BUF + 100)).toBe(EPOLLOUT);
    expect(h.mem.readU64(BUF + 104)).toBe(0x2222n);
  });

  it('blocks until a watched pipe becomes readable', async () => {
    const { h, r, ep, ctl, write } = await setup();
    await ctl(1, r, EPOLLIN, 7n);
    const p = h.call('epoll_wait', ep, BUF + 100, 8, -1);
    await Promise.resolve();
    expect(h.task.blocked).toBe(true);
    await write();
    expect(await p).toBe(1);
    expect(h.mem.readU64(BUF + 104)).toBe(7n);
  });

  it('edge-triggered interests report once per change; one-shot until re-armed', async () => {
    const { h, r, ep, ctl, write } = await setup();
    await ctl(1, r, EPOLLIN | EPOLLET, 1n);
    await write();
    expect(await h.call('epoll_wait', ep, BUF + 100, 8, 0)).toBe(1);
    expect(await h.call('epoll_wait', ep, BUF + 100, 8, 0)).toBe(0);
    await write();
    expect(await h.call('epoll_wait', ep, BUF + 100, 8, 0)).toBe(1);
    await ctl(3, r, EPOLLIN | EPOLLONESHOT, 2n);
    expect(await h.call('epoll_wait', ep, BUF + 100, 8, 0)).toBe(1);
    expect(await h.call('epoll_wait', ep, BUF + 100, 8, 0)).toBe(0);
    await ctl(3, r, EPOLLIN, 3n);
    expect(await h.call('epoll_wait', ep, BUF + 100, 8, 0)).toBe(1);
    expect(await ctl(2, r, 0, 0n)).toBe(0);
    expect(await ctl(2, r, 0, 0n)).toBe(E.ENOENT);
    expect(await h.call('epoll_wait', ep, BUF + 100, 8, 0)).toBe(0);
  });

  it('answers Linux errnos', async () => {
    const { h, r, ep, ctl } = await setup();
    expect(await ctl(1, ep, EPOLLIN, 0n)).toBe(E.EINVAL);
    expect(await ctl(9, r, EPOLLIN, 0n)).toBe(E.EINVAL);
    expect(await h.call('epoll_ctl', r, 1, r, BUF + 16)).toBe(E.EINVAL);
    expect(await h.call('epoll_ctl', ep, 1, r, 1)).toBe(E.EFAULT);
    expect(await h.call('epoll_wait', r, BUF, 1, 0)).toBe(E.EINVAL);
    expect(await h.call('epoll_wait', ep, BUF, 0, 0)).toBe(E.EINVAL);
    h.mem.write(BUF + 600, new TextEncoder().encode('/reg\0'));
    const reg = (await h.call('openat', -100, BUF + 600, 0o102, 0o600)) as number;
    expect(await ctl(1, reg, EPOLLIN, 0n)).toBe(E.EPERM);
    expect(await h.call('read', ep, BUF, 8)).toBe(E.EINVAL);
  });
});

// ---- host sockets (network mode `host`) -----------------------------------------------------

const POLLIN = 0x1;
const POLLOUT = 0x4;
const EPOLLRDHUP = 0x2000;
const EPOLLPRI = 0x2;
const EPOLLRDNORM = 0x40;
const EPOLLRDBAND = 0x80;
const AF_INET = 2;
const SOCK_STREAM = 1;

/** One host fd of the fake: what poll answers, the watch's arm and its callback. */
interface FakeFd {
  /** Ready events other than POLLIN (which follows `inq`). */
  revents: number;
  /** Bytes waiting to be read. */
  inq: number;
  /** The events the watch is armed for (0: disarmed); a report disarms it, as uv_poll's does. */
  armed: number;
  report: (() => void) | undefined;
  /** The events the watch reports each wakeup of (HostFdWatch.edges), and where. */
  edges: number;
  edge: ((events: number) => void) | undefined;
  /** Where a send goes (a connected pair over the fake loopback). */
  peer: number | undefined;
  /** The peer closed: reads give 0 once `inq` is empty. */
  eof: boolean;
}

/**
 * A host with many sockets, each with its own readiness, which counts poll(2) calls. As on the
 * real host, data sent over a pair is readable on the peer at once, while the peer's watch
 * reports it later, from the event loop (here: an immediate), as do its edges: one per wakeup.
 */
function countingHost(): {
  calls: HostSockets;
  fds: Map<number, FakeFd>;
  polls: { n: number };
  wake: (fd: number, events: number) => void;
} {
  const fds = new Map<number, FakeFd>();
  const polls = { n: 0 };
  let next = 1000;
  const get = (fd: number): FakeFd => {
    const f = fds.get(fd);
    if (!f) throw new Error(`no host fd ${fd}`);
    return f;
  };
  const readable = (fd: number): number =>
    (get(fd).inq > 0 || get(fd).eof ? POLLIN | EPOLLRDNORM : 0) |
    (get(fd).eof ? EPOLLRDHUP : 0) |
    get(fd).revents;
  /**
   * A wakeup of `fd` by `events`: an edge report if the watch asked for those; a report if it is
   * armed for what the fd has now (what uv_poll watches: input, urgent data, output, a read
   * hang-up; errors always).
   */
  const wake = (fd: number, events: number): void => {
    const f = get(fd);
    if (f.edges & events) setImmediate(() => f.edge?.(readable(fd) & (f.edges | 0x18)));
    const watched = f.armed & (POLLIN | EPOLLPRI | POLLOUT | EPOLLRDHUP);
    if (watched === 0 || (readable(fd) & (watched | 0x18)) === 0) return;
    f.armed = 0;
    setImmediate(() => f.report?.());
  };
  const calls: HostSockets = {
    socket: () => {
      fds.set(next, {
        revents: POLLOUT,
        inq: 0,
        armed: 0,
        report: undefined,
        edges: 0,
        edge: undefined,
        peer: undefined,
        eof: false,
      });
      return next++;
    },
    bind: () => 0,
    connect: () => 0,
    listen: () => 0,
    accept: (): LinuxError => E.EAGAIN,
    name: (_fd, _peer, out) => {
      out.set([AF_INET, 0, 0x1f, 0x90, 127, 0, 0, 1]);
      return 16;
    },
    send: (fd, d) => {
      const p = get(fd).peer;
      if (p !== undefined) {
        get(p).inq += d.length;
        wake(p, POLLIN);
      }
      return d.length;
    },
    recv: (fd, buf, _flags, _addr, meta): number | LinuxError => {
      const f = get(fd);
      if (f.inq === 0) return f.eof ? 0 : E.EAGAIN;
      const n = Math.min(f.inq, buf.length);
      f.inq -= n;
      meta[0] = 0;
      meta[1] = 0;
      return n;
    },
    setsockopt: () => 0,
    getsockopt: (_fd, _level, _name, out) => (out.fill(0), Math.min(out.length, 4)),
    shutdown: (fd) => {
      const p = get(fd).peer;
      if (p !== undefined) {
        get(p).eof = true;
        wake(p, POLLIN | EPOLLRDHUP);
      }
      return 0;
    },
    ioctlInt: () => 0,
    poll: (fd, events) => {
      polls.n++;
      return readable(fd) & (events | 0x18);
    },
    watch: (fd, onReady, onEdge) => {
      const f = get(fd);
      f.report = onReady;
      f.edge = onEdge;
      return {
        arm: (events) => {
          f.armed = events;
          wake(fd, 0);
        },
        edges: (events) => void (f.edges = events),
        close: () => {
          f.report = undefined;
          f.edge = undefined;
        },
      };
    },
    close: () => undefined,
  };
  return { calls, fds, polls, wake };
}

async function hostSetup() {
  const h = harness();
  const host = countingHost();
  configureHostNetwork(h.kernel, host.calls);
  const ep = (await h.call('epoll_create1', 0)) as number;
  const ctl = (op: number, fd: number, events: number, data: bigint): Promise<unknown> => {
    h.mem.writeU32(BUF + 16, events >>> 0);
    h.mem.writeU64(BUF + 20, data);
    return h.call('epoll_ctl', ep, op, fd, BUF + 16);
  };
  const socket = async (): Promise<{ fd: number; host: FakeFd; hostFd: number }> => {
    const fd = (await h.call('socket', AF_INET, SOCK_STREAM, 0)) as number;
    const hostFd = Math.max(...host.fds.keys());
    return { fd, host: host.fds.get(hostFd)!, hostFd };
  };
  /** A connected pair: sandbox fds whose host fds send to each other. */
  const pair = async (): Promise<
    [{ fd: number; host: FakeFd; hostFd: number }, { fd: number; host: FakeFd; hostFd: number }]
  > => {
    const a = await socket();
    const b = await socket();
    a.host.peer = Math.max(...host.fds.keys());
    b.host.peer = a.host.peer - 1;
    return [a, b];
  };
  /** epoll_wait's events as `data: events`, in the order reported. */
  const wait = async (max: number, timeout: number): Promise<string[]> => {
    const n = await h.call('epoll_wait', ep, BUF + 100, max, timeout);
    if (typeof n !== 'number') throw new Error(`epoll_wait: ${String(n)}`);
    return Array.from({ length: n }, (_, i) => {
      const events = h.mem.readU32(BUF + 100 + 12 * i) as number;
      return `${String(h.mem.readU64(BUF + 104 + 12 * i))}: ${events.toString(16)}`;
    });
  };
  const send = (fd: number, n = 1): Promise<unknown> => h.call('sendto', fd, BUF + 8000, n, 0, 0, 0);
  /** recv(2) with MSG_DONTWAIT (the sockets are blocking ones). */
  const read = (fd: number, n: number): Promise<unknown> => h.call('recvfrom', fd, BUF + 8000, n, 0x40, 0, 0);
  return { h, ep, ctl, socket, pair, wait, send, read, ...host };
}

describe('epoll over host sockets', () => {
  it('asks no idle socket at a wait: a socket found not ready leaves the list and its watch brings it back', async () => {
    const { ctl, socket, pair, wait, send, read, polls } = await hostSetup();
    const idle: FakeFd[] = [];
    for (let i = 0; i < 150; i++) {
      const s = await socket();
      idle.push(s.host);
      expect(await ctl(1, s.fd, EPOLLIN | EPOLLRDHUP, BigInt(i))).toBe(0);
    }
    for (let i = 150; i < 300; i++) {
      const s = await socket();
      idle.push(s.host);
      expect(await ctl(1, s.fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, BigInt(i))).toBe(0);
    }
    const [client, busy] = await pair();
    expect(await ctl(1, busy.fd, EPOLLIN, 999n)).toBe(0);

    // The edge-triggered ones report their writability once, and wait for the host's wakeups.
    polls.n = 0;
    const first = await wait(512, 0);
    expect(first).toHaveLength(150);
    expect(first.every((e) => e.endsWith(': 4'))).toBe(true);
    expect(polls.n).toBe(301);
    polls.n = 0;
    expect(await wait(512, 0)).toEqual([]);
    expect(polls.n).toBe(0);
    // What each level-triggered one lacks is armed on the host; the others' edges are asked for.
    expect(idle.map((f) => [f.armed, f.edges])).toEqual(
      idle.map((_, i) => (i < 150 ? [POLLIN | EPOLLRDHUP, 0] : [0, POLLIN | POLLOUT | EPOLLRDHUP])),
    );
    expect(busy.host.armed).toBe(POLLIN);

    // From now on a wait asks only the sockets something happened to.
    for (let round = 0; round < 5; round++) {
      polls.n = 0;
      expect(await wait(512, 0)).toEqual([]);
      expect(polls.n).toBe(0);
      expect(await send(client.fd)).toBe(1);
      polls.n = 0;
      expect(await wait(512, -1)).toEqual(['999: 1']);
      // The watch's own look when it reports, and the wait's.
      expect(polls.n).toBeLessThanOrEqual(2);
      expect(await read(busy.fd, 64)).toBe(1);
      polls.n = 0;
      expect(await wait(512, 0)).toEqual([]);
      expect(polls.n).toBe(1); // level-triggered: asked again after its report, found drained
    }
  });

  it('reports in one wait what the sandbox made ready on the host just before, though the watches had not told yet', async () => {
    const { ctl, pair, wait, send } = await hostSetup();
    const [c1, s1] = await pair();
    const [c2, s2] = await pair();
    const [c3, s3] = await pair();
    expect(await ctl(1, s1.fd, EPOLLIN | EPOLLET, 1n)).toBe(0);
    expect(await ctl(1, s2.fd, EPOLLIN | EPOLLET, 2n)).toBe(0);
    expect(await ctl(1, s3.fd, EPOLLIN, 3n)).toBe(0);
    expect(await wait(8, 0)).toEqual([]);
    await send(c1.fd);
    await send(c2.fd);
    await send(c3.fd);
    expect((await wait(8, 0)).sort()).toEqual(['1: 1', '2: 1', '3: 1']);
    // Edge-triggered: once; level-triggered: while readable.
    expect(await wait(8, 0)).toEqual(['3: 1']);
  });

  it('edge-triggered: an event a read took away and new data brought back is a new edge', async () => {
    const { ctl, pair, wait, send, read, polls } = await hostSetup();
    const [c, s] = await pair();
    expect(await ctl(1, s.fd, EPOLLIN | EPOLLET, 5n)).toBe(0);
    expect(await wait(8, 0)).toEqual([]);
    await send(c.fd, 3);
    expect(await wait(8, -1)).toEqual(['5: 1']);
    expect(await wait(8, 0)).toEqual([]);
    // The reader takes exactly what is there (no EAGAIN, so its watch is not armed for POLLIN);
    // new data then arrives before the next wait: Linux reports the arrival.
    expect(await read(s.fd, 3)).toBe(3);
    expect(s.host.armed & POLLIN).toBe(0);
    await send(c.fd, 2);
    expect(await wait(8, 0)).toEqual(['5: 1']);
    // Read to EAGAIN: the next data is reported through the watch; the idle socket costs nothing.
    expect(await read(s.fd, 64)).toBe(2);
    expect(await read(s.fd, 64)).toBe(E.EAGAIN);
    expect(await wait(8, 0)).toEqual([]);
    polls.n = 0;
    expect(await wait(8, 0)).toEqual([]);
    expect(polls.n).toBe(0);
    await send(c.fd, 1);
    expect(await wait(8, -1)).toEqual(['5: 1']);
  });

  it('what a call takes nothing from is no new edge: data sent, an end of file read', async () => {
    const { h, ctl, pair, wait, send, read, polls } = await hostSetup();
    const [c, s] = await pair();
    expect(await ctl(1, s.fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, 6n)).toBe(0);
    expect(await wait(8, 0)).toEqual(['6: 4']);
    for (let i = 0; i < 3; i++) expect(await send(s.fd, 4)).toBe(4);
    expect(await wait(8, 0)).toEqual([]);
    expect(await h.call('shutdown', c.fd, 1)).toBe(0); // SHUT_WR: the peer's end of file
    expect(await wait(8, -1)).toEqual(['6: 2005']);
    for (let i = 0; i < 3; i++) {
      expect(await read(s.fd, 64)).toBe(0);
      expect(await wait(8, 0)).toEqual([]);
    }
    polls.n = 0;
    expect(await wait(8, 0)).toEqual([]);
    expect(polls.n).toBe(0);
  });

  it('a socket waited for EPOLLPRI or EPOLLRDNORM alone has its watch armed for it; EPOLLRDBAND is asked at every wait', async () => {
    const { h, ctl, socket, pair, wait, send, polls, wake } = await hostSetup();
    const blocked = async (ready: () => unknown): Promise<string[]> => {
      const woken = wait(8, -1);
      await new Promise((done) => setImmediate(done));
      expect(h.task.blocked).toBe(true);
      await ready();
      return woken;
    };
    const s = await socket();
    expect(await ctl(1, s.fd, EPOLLPRI, 8n)).toBe(0);
    for (let i = 0; i < 3; i++) {
      polls.n = 0;
      expect(await wait(8, 0)).toEqual([]);
      expect(polls.n).toBe(i === 0 ? 1 : 0);
    }
    expect(s.host.armed).toBe(EPOLLPRI);
    // Urgent data comes: the watch's report wakes the wait.
    const urgent = (): void => {
      s.host.revents |= EPOLLPRI;
      wake(s.hostFd, EPOLLPRI);
    };
    expect(await blocked(urgent)).toEqual(['8: 2']);
    expect(await ctl(2, s.fd, 0, 0n)).toBe(0);
    // Data comes to a socket waited for EPOLLRDNORM alone.
    const [c, r] = await pair();
    expect(await ctl(1, r.fd, EPOLLRDNORM, 9n)).toBe(0);
    expect(await wait(8, 0)).toEqual([]);
    expect(r.host.armed).toBe(POLLIN);
    expect(await blocked(() => send(c.fd))).toEqual(['9: 40']);
    expect(await ctl(2, r.fd, 0, 0n)).toBe(0);
    // What the watch cannot report is asked at every wait.
    const u = await socket();
    expect(await ctl(1, u.fd, EPOLLRDBAND, 10n)).toBe(0);
    for (let i = 0; i < 3; i++) {
      polls.n = 0;
      expect(await wait(8, 0)).toEqual([]);
      expect(polls.n).toBe(1);
    }
    u.host.revents |= EPOLLRDBAND;
    expect(await wait(8, 0)).toEqual(['10: 80']);
  });

  it('edge-triggered: each arrival is an edge while earlier data is unread; a read is none', async () => {
    const { ctl, pair, wait, send, read, polls } = await hostSetup();
    const [c, s] = await pair();
    expect(await ctl(1, s.fd, EPOLLIN | EPOLLRDHUP | EPOLLET, 11n)).toBe(0);
    expect(await wait(8, 0)).toEqual([]);
    expect(s.host.edges).toBe(POLLIN | EPOLLRDHUP);
    expect(s.host.armed).toBe(0);
    await send(c.fd, 3);
    expect(await wait(8, -1)).toEqual(['11: 1']);
    expect(await wait(8, 0)).toEqual([]);
    for (let i = 0; i < 5; i++) {
      await send(c.fd, 2);
      expect(await wait(8, -1)).toEqual(['11: 1']);
      polls.n = 0;
      expect(await wait(8, 0)).toEqual([]);
      expect(polls.n).toBe(0);
    }
    expect(await read(s.fd, 1)).toBe(1);
    expect(await wait(8, 0)).toEqual([]);
    expect(await read(s.fd, 64)).toBe(12);
    expect(await wait(8, 0)).toEqual([]);
    // EPOLLRDNORM alone hears of the same wakeups.
    expect(await ctl(3, s.fd, EPOLLRDNORM | EPOLLET, 11n)).toBe(0);
    expect(await wait(8, 0)).toEqual([]);
    await send(c.fd, 2);
    expect(await wait(8, -1)).toEqual(['11: 40']);
    expect(await read(s.fd, 64)).toBe(2);
    // Level-triggered again: the edges are no longer asked for, the watch is armed instead.
    expect(await ctl(3, s.fd, EPOLLIN, 11n)).toBe(0);
    expect(await wait(8, 0)).toEqual([]);
    expect(s.host.edges).toBe(0);
    expect(s.host.armed & POLLIN).toBe(POLLIN);
  });

  it('poll and select of the epoll fd see at once what the sandbox just made ready on the host', async () => {
    const { h, ep, ctl, pair, send, read } = await hostSetup();
    const [c, s] = await pair();
    expect(await ctl(1, s.fd, EPOLLIN, 1n)).toBe(0);
    const pollEp = (): Promise<unknown> => {
      h.mem.writeI32(BUF + 200, ep);
      h.mem.write(BUF + 204, new Uint8Array([POLLIN, 0, 0, 0]));
      return h.call('poll', BUF + 200, 1, 0);
    };
    const selectEp = (): Promise<unknown> => {
      const set = new Uint8Array(8);
      set[ep >> 3] = 1 << (ep & 7);
      h.mem.write(BUF + 300, set);
      h.mem.write(BUF + 400, new Uint8Array(16)); // a zero timeval
      return h.call('select', ep + 1, BUF + 300, 0, 0, BUF + 400);
    };
    for (let i = 0; i < 3; i++) {
      expect(await pollEp()).toBe(0);
      await send(c.fd);
      expect(await pollEp()).toBe(1);
      expect(await read(s.fd, 64)).toBe(1);
      expect(await selectEp()).toBe(0);
      await send(c.fd);
      expect(await selectEp()).toBe(1);
      expect(await read(s.fd, 64)).toBe(1);
    }
  });

  it('an epoll set holding that epoll set sees at once what the sandbox just made ready on the host', async () => {
    const { h, ep, ctl, pair, send, read } = await hostSetup();
    const outer = (await h.call('epoll_create1', 0)) as number;
    h.mem.writeU32(BUF + 500, EPOLLIN);
    h.mem.writeU64(BUF + 504, 9n);
    expect(await h.call('epoll_ctl', outer, 1, ep, BUF + 500)).toBe(0);
    // The host socket joins the inner set after the inner set joined the outer one.
    const [c, s] = await pair();
    expect(await ctl(1, s.fd, EPOLLIN, 1n)).toBe(0);
    const waitOuter = (): Promise<unknown> => h.call('epoll_wait', outer, BUF + 600, 8, 0);
    for (let i = 0; i < 3; i++) {
      expect(await waitOuter()).toBe(0);
      await send(c.fd);
      expect(await waitOuter()).toBe(1);
      expect(await read(s.fd, 64)).toBe(1);
    }
  });

  it('a stale report of the watch (the data already read) reports nothing and leaves the list', async () => {
    const { ctl, socket, wait, polls, fds } = await hostSetup();
    const s = await socket();
    expect(await ctl(1, s.fd, EPOLLIN, 7n)).toBe(0);
    expect(await wait(8, 0)).toEqual([]);
    const f = [...fds.values()][0]!;
    expect(f.armed).toBe(POLLIN);
    f.report?.(); // reported, but the host's poll no longer agrees
    polls.n = 0;
    expect(await wait(8, 0)).toEqual([]);
    expect(polls.n).toBe(1);
    expect(f.armed).toBe(POLLIN);
    polls.n = 0;
    expect(await wait(8, 0)).toEqual([]);
    expect(polls.n).toBe(0);
  });

  it('one-shot and closed sockets: reported once until re-armed; a closed socket leaves the set', async () => {
    const { h, ctl, pair, wait, send, polls } = await hostSetup();
    const [c, s] = await pair();
    const [c2, s2] = await pair();
    expect(await ctl(1, s.fd, EPOLLIN | EPOLLONESHOT, 1n)).toBe(0);
    expect(await ctl(1, s2.fd, EPOLLIN, 2n)).toBe(0);
    await send(c.fd);
    expect(await wait(8, -1)).toEqual(['1: 1']);
    await send(c.fd);
    expect(await wait(8, 0)).toEqual([]);
    expect(await ctl(3, s.fd, EPOLLIN | EPOLLONESHOT, 1n)).toBe(0);
    expect(await wait(8, 0)).toEqual(['1: 1']);
    await send(c2.fd);
    expect(await h.call('close', s2.fd)).toBe(0);
    polls.n = 0;
    expect(await wait(8, 0)).toEqual([]);
    expect(polls.n).toBe(0);
  });
});
