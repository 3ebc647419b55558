/**
 * The TCP connections of network mode `host` that the sandbox has closed, remembered so that its
 * /proc/net/tcp and tcp6 go on listing them while the host keeps them (TIME_WAIT after an active
 * close, or an orphaned FIN_WAIT1/FIN_WAIT2/CLOSING/LAST_ACK), as Linux lists a process's closed
 * connections in its own namespace. A host socket's description records its addresses here when
 * the sandbox drops its last reference (before the host fd closes, while the host still answers
 * getsockname and getpeername); /proc/net then looks these 4-tuples up in the host's tables
 * (see `procNetSource`), so nothing else of the host is ever shown.
 *
 * The memory is bounded: at most {@link ClosedHostConnections.limit} entries (the oldest go
 * first), each kept at most {@link ClosedHostConnections.maxAgeMs} and dropped as soon as the
 * host no longer has it.
 *
 * @module
 */
import { SockType, isError } from '@tsvisor/abi';
import type { Kernel } from '@tsvisor/kernel';
import type { HostSockets } from './sys-socket-host.js';

/** One closed connection: the host's sockaddrs of both ends, as getsockname/getpeername gave them. */
export interface ClosedHostConnection {
  /** AF_INET (2) or AF_INET6 (10): the socket's domain, which decides its /proc/net file. */
  readonly domain: number;
  readonly local: Uint8Array;
  readonly remote: Uint8Array;
  /** The closed socket's owner in the sandbox (shown for an orphan that is still a full socket). */
  readonly uid: number;
  /** When it was closed, on {@link ClosedHostConnections}' clock (ms). */
  readonly closedAtMs: number;
}

/** What {@link ClosedHostConnections.record} needs of a host socket description. */
export interface ClosingHostSocket {
  readonly fd: number;
  readonly calls: Pick<HostSockets, 'name'>;
  /** SOCK_STREAM, SOCK_DGRAM... */
  readonly type: number;
  readonly domain: number;
  readonly uid: number;
}

/**
 * TCP_TIMEWAIT_LEN (60 s) after an orphaned FIN_WAIT2 of up to tcp_fin_timeout's default (60 s):
 * how long a closed connection may stay on the host in the usual case.
 */
const DEFAULT_MAX_AGE_MS = 120_000;
/** Enough for a busy sandbox's closes over {@link DEFAULT_MAX_AGE_MS}; about 100 bytes each. */
const DEFAULT_LIMIT = 8192;

/** The connections a sandbox closed, in closing order; see the module comment. */
export class ClosedHostConnections {
  /** By {@link tupleKey}; a Map keeps insertion order, so the first entry is the oldest. */
  readonly #entries = new Map<string, ClosedHostConnection>();

  constructor(
    /** The most entries kept. */
    readonly limit = DEFAULT_LIMIT,
    /** How long an entry is kept at most (ms). */
    readonly maxAgeMs = DEFAULT_MAX_AGE_MS,
    /** A monotonic clock in ms. */
    readonly now: () => number = () => performance.now(),
  ) {}

  /**
   * Remembers the connection of `h`, which the sandbox is closing: only a connected TCP socket
   * (one with a peer) can outlive its close on the host. Never throws; a host call that fails
   * means there is nothing to remember.
   */
  record(h: ClosingHostSocket): void {
    if (h.type !== SockType.SOCK_STREAM) return;
    const local = sockName(h, false);
    const remote = sockName(h, true);
    if (local === undefined || remote === undefined) return;
    const entry = { domain: h.domain, local, remote, uid: h.uid, closedAtMs: this.now() };
    const key = tupleKey(entry);
    // A newer close of the same 4-tuple replaces the older one (and becomes the newest).
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    for (const k of this.#entries.keys()) {
      if (this.#entries.size <= this.limit) break;
      this.#entries.delete(k);
    }
  }

  /** The entries not yet expired, oldest first (expired ones are dropped now). */
  current(): ClosedHostConnection[] {
    const oldest = this.now() - this.maxAgeMs;
    for (const [k, e] of this.#entries) {
      if (e.closedAtMs >= oldest) break;
      this.#entries.delete(k);
    }
    return [...this.#entries.values()];
  }

  /** Drops `e` (the host no longer has it). */
  forget(e: ClosedHostConnection): void {
    const key = tupleKey(e);
    if (this.#entries.get(key) === e) this.#entries.delete(key);
  }

  get size(): number {
    return this.#entries.size;
  }
}

function sockName(h: ClosingHostSocket, peer: boolean): Uint8Array | undefined {
  const out = new Uint8Array(128);
  const n = h.calls.name(h.fd, peer, out);
  return isError(n) || n < 2 ? undefined : out.slice(0, Math.min(n, out.length));
}

function tupleKey(e: Pick<ClosedHostConnection, 'domain' | 'local' | 'remote'>): string {
  return `${e.domain} ${e.local.join(',')} ${e.remote.join(',')}`;
}

const perKernel = new WeakMap<Kernel, ClosedHostConnections>();

/** The closed host connections of `kernel`'s sandbox (made on first use). */
export function closedHostConnectionsOf(kernel: Kernel): ClosedHostConnections {
  let c = perKernel.get(kernel);
  if (!c) {
    c = new ClosedHostConnections();
    perKernel.set(kernel, c);
  }
  return c;
}
