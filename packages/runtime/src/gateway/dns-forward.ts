/**
 * The gateway's DNS server (10.0.2.3:53) behind the wire: what answers each query, as
 * slirp4netns and Docker's embedded DNS do it.
 *
 * - A and AAAA for a plain host name come from the host's resolver library first (getaddrinfo,
 *   so names in the host's /etc/hosts resolve). When it has no address, the query goes to the
 *   nameservers as well, whose reply is the better one: it tells a name without that type
 *   (NODATA) from a name that does not exist (which getaddrinfo reports alike) and carries the
 *   SOA record the client caches the negative answer by, and a custom {@link Resolver} (tests,
 *   embedders) need not know every name. A query with the DO bit (the client validates DNSSEC
 *   and needs the RRSIGs, which getaddrinfo cannot give) or an EDNS version other than 0 (the
 *   server answers BADVERS) goes to the nameservers first; the host's resolver still answers
 *   names they do not know (NXDOMAIN) or when none of them answers.
 * - Every other type (MX, TXT, SRV, PTR, CNAME, NS, SOA, CAA, HTTPS, ANY...) is forwarded as it
 *   came (same ID, flags, EDNS OPT record) to the nameservers of the host's /etc/resolv.conf,
 *   in order, each waited for its `options timeout:`, for `attempts:` rounds (glibc's defaults
 *   5 s and 2), over UDP. A truncated reply (TC) is asked again over TCP of the same server when
 *   the sandbox asked over TCP; over UDP it goes back truncated, and the client retries over
 *   TCP itself. A SERVFAIL, REFUSED or NOTIMP reply moves on to the next server, as glibc does.
 *   When no server answers, the sandbox gets SERVFAIL.
 * - Zone transfers (AXFR, IXFR) are REFUSED, as a recursive resolver refuses them: their reply
 *   is a stream of messages, not one.
 *
 * It is no open relay: only standard queries with one question (what {@link parseDnsQuery}
 * accepts) are forwarded, and only to the configured nameservers; replies count only when they
 * come from the server asked, with the query's ID and question. At most
 * {@link DnsServerOptions.maxOutstanding} queries are out at once (one host socket each): a
 * query past that is dropped, as dnsmasq drops past its dns-forward-max, and the client asks
 * again. Over UDP the reply is cut to the client's size (512 bytes, or its EDNS size) with TC
 * set, as servers do.
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import { createSocket } from 'node:dgram';
import { connect, isIP } from 'node:net';
import {
  DnsType,
  Rcode,
  answerDns,
  dnsError,
  fitUdp,
  isReplyTo,
  isTruncated,
  parseDnsQuery,
  rcodeOf,
  udpLimit,
  type DnsQuestion,
} from './dns.js';

/**
 * Answers the gateway's DNS server: the addresses of `name` of one family (none is a NOERROR
 * answer without records), or 'nxdomain' when the name does not exist. A rejection means the
 * resolver could not tell.
 */
export type Resolver = (name: string, family: 4 | 6) => Promise<readonly string[] | 'nxdomain'>;

/** One upstream DNS server. */
export interface Nameserver {
  /** An IPv4 or IPv6 address (a link-local one with its `%interface`). */
  readonly address: string;
  readonly port: number;
}

/** The servers queries are forwarded to, and how long each is waited for. */
export interface NameserverConfig {
  /** Asked in order, the next one when a server does not answer. */
  readonly servers: readonly Nameserver[];
  /** How long one server is waited for, in ms (resolv.conf's `options timeout:` is in s). */
  readonly timeoutMs: number;
  /** Rounds over all the servers (resolv.conf's `options attempts:`). */
  readonly attempts: number;
}

/** glibc's limits (resolv.h): 3 nameservers, timeout 5 s (at most 30), 2 attempts (at most 5). */
const MAXNS = 3;
const RES_TIMEOUT = 5;
const RES_MAXRETRANS = 30;
const RES_DFLRETRY = 2;
const RES_MAXRETRY = 5;

/**
 * The nameservers of a resolv.conf text, as glibc reads them: the first three `nameserver`
 * lines with an IP address (port 53), 127.0.0.1 when there is none, and `options timeout:N`
 * (seconds, at most 30; 0 waits 1 s as glibc's res_send does) and `attempts:N` (at most 5; 0,
 * with which glibc would send nothing, asks once).
 *
 * ```ts
 * parseResolvConf('nameserver 10.0.0.1\noptions timeout:1 attempts:3\n');
 * // { servers: [{ address: '10.0.0.1', port: 53 }], timeoutMs: 1000, attempts: 3 }
 * ```
 */
export function parseResolvConf(text: string): NameserverConfig {
  const servers: Nameserver[] = [];
  let timeout = RES_TIMEOUT;
  let attempts = RES_DFLRETRY;
  for (const line of text.split('\n')) {
    const words = line.split(/[ \t]+/).filter((w) => w !== '');
    const [keyword, ...args] = words;
    if (keyword === 'nameserver' && args[0] !== undefined && servers.length < MAXNS) {
      const address = args[0];
      if (isIP(address.split('%')[0] ?? '') !== 0) servers.push({ address, port: 53 });
    } else if (keyword === 'options') {
      for (const opt of args) {
        const m = /^(timeout|attempts):(\d+)$/.exec(opt);
        if (!m) continue;
        const n = Number(m[2]);
        if (m[1] === 'timeout') timeout = Math.min(n, RES_MAXRETRANS);
        else attempts = Math.min(n, RES_MAXRETRY);
      }
    }
  }
  if (servers.length === 0) servers.push({ address: '127.0.0.1', port: 53 });
  return { servers, timeoutMs: Math.max(1, timeout) * 1000, attempts: Math.max(1, attempts) };
}

/** {@link parseResolvConf} of the file at `path`; a file that cannot be read counts as empty. */
export function readResolvConf(path = '/etc/resolv.conf'): NameserverConfig {
  let text = '';
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    // No resolv.conf: glibc's defaults (127.0.0.1).
  }
  return parseResolvConf(text);
}

/** What {@link DnsForwarder.forward} gives: the reply, or why there is none. */
export type ForwardResult = Uint8Array | 'no-answer' | 'busy';

/** Sends queries to the configured nameservers, a bounded number at a time. */
export class DnsForwarder {
  private out = 0;
  private closed = false;
  /** Ends every query in flight (each holds one host socket). */
  private readonly inFlight = new Set<() => void>();

  constructor(
    private readonly config: NameserverConfig,
    private readonly maxOutstanding: number,
  ) {}

  /** Queries waiting for a nameserver now. */
  get outstanding(): number {
    return this.out;
  }

  /**
   * The reply of the first server that answers `query` (question `q`) usefully, trying each in
   * order for each attempt; TC asked again over TCP when `overTcp`. 'busy' when too many
   * queries are out already; 'no-answer' when no server answered.
   */
  async forward(query: Uint8Array, q: DnsQuestion, overTcp: boolean): Promise<ForwardResult> {
    if (this.closed || this.config.servers.length === 0) return 'no-answer';
    if (this.out >= this.maxOutstanding) return 'busy';
    this.out++;
    try {
      let fallback: Uint8Array | undefined;
      for (let attempt = 0; attempt < this.config.attempts; attempt++) {
        for (const ns of this.config.servers) {
          let r = await this.ask(ns, query, q, 'udp');
          if (this.closed) return 'no-answer';
          if (r && isTruncated(r) && overTcp) {
            const whole = await this.ask(ns, query, q, 'tcp');
            if (!whole) {
              fallback = r;
              continue;
            }
            r = whole;
          }
          if (!r) continue;
          const rcode = rcodeOf(r);
          if (rcode === Rcode.SERVFAIL || rcode === Rcode.REFUSED || rcode === Rcode.NOTIMP) {
            fallback = r;
            continue;
          }
          return r;
        }
      }
      return fallback ?? 'no-answer';
    } finally {
      this.out--;
    }
  }

  /** Ends every query in flight (they give 'no-answer') and forwards nothing more. */
  close(): void {
    this.closed = true;
    for (const end of [...this.inFlight]) end();
  }

  /** One server's reply over one transport, or undefined (timeout, error, closed). */
  private ask(
    ns: Nameserver,
    query: Uint8Array,
    q: DnsQuestion,
    transport: 'udp' | 'tcp',
  ): Promise<Uint8Array | undefined> {
    return new Promise((resolve) => {
      let cleanup = (): void => undefined;
      const finish = (r: Uint8Array | undefined): void => {
        if (!this.inFlight.delete(end)) return;
        clearTimeout(timer);
        cleanup();
        resolve(r);
      };
      const end = (): void => finish(undefined);
      this.inFlight.add(end);
      const timer = setTimeout(end, this.config.timeoutMs);
      timer.unref();
      if (transport === 'udp') {
        const sock = createSocket(isIP(ns.address.split('%')[0] ?? '') === 6 ? 'udp6' : 'udp4');
        cleanup = () => sock.close();
        // Connected: only the server's datagrams arrive, and its ICMP port unreachable ends
        // the wait (ECONNREFUSED) instead of the timeout.
        sock.on('error', end);
        sock.on('message', (msg: Buffer) => {
          const m = new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength);
          if (isReplyTo(m, query, q)) finish(m.slice());
        });
        // Not after a timeout or close() ended the wait: the socket is closed by then.
        sock.connect(ns.port, ns.address, () => this.inFlight.has(end) && sock.send(query));
        sock.unref();
        return;
      }
      const sock = connect({ host: ns.address, port: ns.port });
      cleanup = () => sock.destroy();
      let got = new Uint8Array(0);
      sock.on('error', end);
      sock.on('close', end);
      sock.on('connect', () => {
        if (!this.inFlight.has(end)) return;
        const framed = new Uint8Array(2 + query.length);
        framed[0] = query.length >> 8;
        framed[1] = query.length & 0xff;
        framed.set(query, 2);
        sock.write(framed);
      });
      sock.on('data', (d: Buffer) => {
        const more = new Uint8Array(got.length + d.length);
        more.set(got);
        more.set(d, got.length);
        got = more;
        if (got.length < 2) return;
        const len = ((got[0] as number) << 8) | (got[1] as number);
        if (got.length < 2 + len) return;
        const m = got.slice(2, 2 + len);
        // Our own connection to the server: a reply that is not ours means a broken server.
        finish(isReplyTo(m, query, q) ? m : undefined);
      });
      sock.unref();
    });
  }
}

/** How a {@link DnsServer} is set up. */
export interface DnsServerOptions {
  /** The host's resolver library, for A and AAAA. */
  readonly resolver: Resolver;
  /** Where other queries go. */
  readonly nameservers: NameserverConfig;
  /** Forwarded queries out at once (host sockets). Default 64. */
  readonly maxOutstanding?: number;
}

/** At most this many forwarded queries at once (dnsmasq's dns-forward-max is 150). */
const MAX_OUTSTANDING = 64;

/** The server behind 10.0.2.3:53 (see the module comment for what answers what). */
export class DnsServer {
  private readonly resolver: Resolver;
  private readonly forwarder: DnsForwarder;

  constructor(options: DnsServerOptions) {
    this.resolver = options.resolver;
    this.forwarder = new DnsForwarder(options.nameservers, options.maxOutstanding ?? MAX_OUTSTANDING);
  }

  /** Forwarded queries waiting for a nameserver now. */
  get outstanding(): number {
    return this.forwarder.outstanding;
  }

  /**
   * The reply to one query that came over UDP or TCP (`overTcp`), cut to the client's size over
   * UDP; undefined when the query is dropped (malformed, or too many out).
   */
  async answer(query: Uint8Array, overTcp: boolean): Promise<Uint8Array | undefined> {
    const q = parseDnsQuery(query);
    if (!q) return undefined;
    // Our own copy: the caller's buffer may be reused while the query is out.
    const reply = await this.resolve(query.slice(), q, overTcp);
    return reply && !overTcp ? fitUdp(reply, udpLimit(q)) : reply;
  }

  /** Ends the forwarded queries in flight. */
  close(): void {
    this.forwarder.close();
  }

  private async resolve(
    query: Uint8Array,
    q: DnsQuestion,
    overTcp: boolean,
  ): Promise<Uint8Array | undefined> {
    if (q.qtype === DnsType.AXFR || q.qtype === DnsType.IXFR) return dnsError(query, q, Rcode.REFUSED);
    const address = (q.qtype === DnsType.A || q.qtype === DnsType.AAAA) && q.qclass === 1 && q.hostname;
    if (!address) {
      const f = await this.forwarder.forward(query, q, overTcp);
      if (f === 'busy') return undefined;
      return f === 'no-answer' ? dnsError(query, q, Rcode.SERVFAIL) : f;
    }
    const family = q.qtype === DnsType.AAAA ? 6 : 4;
    const hosts = (): Promise<readonly string[] | 'nxdomain' | 'failed'> =>
      this.resolver(q.name, family).then(
        (r) => (r === 'nxdomain' ? r : r.filter((a) => isIP(a) === family)),
        () => 'failed' as const,
      );
    const fromHosts = (h: readonly string[] | 'nxdomain' | 'failed'): Uint8Array =>
      h === 'failed'
        ? dnsError(query, q, Rcode.SERVFAIL)
        : answerDns(query, q, h === 'nxdomain' ? [] : h, h === 'nxdomain');
    if (q.edns && (q.edns.dnssecOk || q.edns.version !== 0)) {
      const f = await this.forwarder.forward(query, q, overTcp);
      if (f instanceof Uint8Array && rcodeOf(f) !== Rcode.NXDOMAIN) return f;
      const h = await hosts();
      if (h !== 'nxdomain' && h !== 'failed' && h.length > 0) return answerDns(query, q, h, false);
      return f instanceof Uint8Array ? f : fromHosts(h);
    }
    const h = await hosts();
    if (h !== 'nxdomain' && h !== 'failed' && h.length > 0) return answerDns(query, q, h, false);
    const f = await this.forwarder.forward(query, q, overTcp);
    return f instanceof Uint8Array ? f : fromHosts(h);
  }
}
