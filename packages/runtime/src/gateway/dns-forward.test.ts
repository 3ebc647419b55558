// The gateway's DNS server without the netstack: DnsServer.answer against a fake upstream on
// 127.0.0.1 (dns-fake.test-util.ts). No query leaves the host's loopback.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DnsServer, parseResolvConf, type NameserverConfig, type Resolver } from './dns-forward.js';
import {
  FAILING,
  SILENT,
  T,
  ZONE,
  deadPort,
  makeQuery,
  parseReply,
  startFakeDns,
  type FakeDns,
} from './dns-fake.test-util.js';
import { compile, workDir } from '../c-programs.test-util.js';

let fake: FakeDns;
beforeAll(async () => {
  fake = await startFakeDns();
});
afterAll(() => fake.close());

/** The tests' host resolver: two names of its own, nothing else. */
const resolver: Resolver = (name, family) => {
  if (name === 'hosts.test') return Promise.resolve(family === 4 ? ['10.0.0.5'] : ['fd00::5']);
  if (name === 'both.test') return Promise.resolve(family === 4 ? ['10.0.0.1'] : []);
  if (name === 'many.test') return Promise.resolve(Array.from({ length: 100 }, (_, i) => `10.1.0.${i}`));
  if (name === 'broken.test') return Promise.reject(new Error('EAI_AGAIN'));
  return Promise.resolve('nxdomain');
};

const servers = (...ports: number[]): NameserverConfig['servers'] =>
  ports.map((port) => ({ address: '127.0.0.1', port }));

function server(ns: Partial<NameserverConfig> = {}, maxOutstanding?: number): DnsServer {
  return new DnsServer({
    resolver,
    nameservers: { servers: servers(fake.port), timeoutMs: 2000, attempts: 2, ...ns },
    ...(maxOutstanding ? { maxOutstanding } : {}),
  });
}

/** What the fake received since `mark` (an index into fake.received). */
const since = (mark: number): { transport: string; name: string; qtype: number }[] =>
  fake.received.slice(mark).map(({ transport, name, qtype }) => ({ transport, name, qtype }));

describe('forwarding to the nameservers', () => {
  it('forwards MX, TXT, SRV and PTR as they came and passes the replies back', async () => {
    const s = server();
    for (const [name, qtype] of [
      ['mx.test', T.MX],
      ['txt.test', T.TXT],
      ['_sip._tcp.srv.test', T.SRV],
      ['7.2.0.192.in-addr.arpa', T.PTR],
    ] as const) {
      for (const overTcp of [false, true]) {
        const mark = fake.received.length;
        const q = makeQuery(name, qtype, 0x5a00 + qtype);
        const r = parseReply((await s.answer(q, overTcp))!);
        expect(r.id).toBe(0x5a00 + qtype);
        expect(r.rcode).toBe(0);
        expect(r.answers.map((a) => a.type)).toEqual(ZONE[name]![qtype]!.map(() => qtype));
        expect(r.answers.map((a) => [...a.rdata])).toEqual(ZONE[name]![qtype]);
        // The very bytes the client sent, over UDP (TCP only after TC).
        expect(fake.received.slice(mark).map((x) => [x.transport, [...x.bytes]])).toEqual([['udp', [...q]]]);
      }
    }
    s.close();
  });

  it('keeps the EDNS OPT record (size, DO) and the flags as they were', async () => {
    const s = server();
    const q = makeQuery('mx.test', T.MX, 0x7777, { size: 4096, dnssecOk: true });
    q[3] = 0x30; // AD and CD set by the client
    const mark = fake.received.length;
    const r = parseReply((await s.answer(q, false))!);
    expect([...fake.received[mark]!.bytes]).toEqual([...q]);
    expect(r.answers).toHaveLength(2);
    expect(r.additional).toMatchObject([{ type: T.OPT, class: 1232, ttl: 0x8000 }]);
    s.close();
  });

  it('a truncated reply goes back truncated over UDP, and is asked again over TCP for TCP', async () => {
    const s = server();
    let mark = fake.received.length;
    const q = makeQuery('big.test', T.TXT);
    const udp = parseReply((await s.answer(q, false))!);
    expect(udp.tc).toBe(true);
    expect(udp.answers).toEqual([]);
    expect(since(mark)).toEqual([{ transport: 'udp', name: 'big.test', qtype: T.TXT }]);
    mark = fake.received.length;
    const tcp = parseReply((await s.answer(q, true))!);
    expect(tcp.tc).toBe(false);
    expect(tcp.answers.map((a) => a.rdata.length)).toEqual(new Array(10).fill(201));
    expect(since(mark).map((x) => x.transport)).toEqual(['udp', 'tcp']);
    // A client with a large EDNS size gets it whole over UDP: the server saw its size.
    const big = await s.answer(makeQuery('big.test', T.TXT, 1, { size: 4096 }), false);
    expect(big!.length).toBeGreaterThan(2000);
    expect(parseReply(big!).answers).toHaveLength(10);
    s.close();
  });

  it('SERVFAIL when no server answers: each server asked once per attempt, timeout each', async () => {
    const s = server({ servers: servers(fake.port, fake.port), timeoutMs: 150, attempts: 2 });
    const mark = fake.received.length;
    const t0 = performance.now();
    const r = parseReply((await s.answer(makeQuery(SILENT, T.MX, 0x4444), false))!);
    const took = performance.now() - t0;
    expect([r.id, r.rcode, r.flags & 0x8000, r.answers.length]).toEqual([0x4444, 2, 0x8000, 0]);
    expect(since(mark).map((x) => x.name)).toEqual([SILENT, SILENT, SILENT, SILENT]);
    expect(took).toBeGreaterThanOrEqual(4 * 150 - 10);
    expect(took).toBeLessThan(3000);
    s.close();
  });

  it('a server that is down (port unreachable) is passed at once; all down is SERVFAIL', async () => {
    const dead = await deadPort();
    const s = server({ servers: servers(dead, fake.port), timeoutMs: 5000 });
    const t0 = performance.now();
    const r = parseReply((await s.answer(makeQuery('mx.test', T.MX), false))!);
    expect(r.answers).toHaveLength(2);
    expect(performance.now() - t0).toBeLessThan(2000);
    const down = server({ servers: servers(dead), timeoutMs: 5000 });
    const f = parseReply((await down.answer(makeQuery('mx.test', T.MX), true))!);
    expect([f.rcode, f.answers.length]).toEqual([2, 0]);
    s.close();
    down.close();
  });

  it('a SERVFAIL reply moves on to the next server, and is passed back when all give it', async () => {
    const s = server({ servers: servers(fake.port, fake.port), attempts: 1 });
    const mark = fake.received.length;
    const r = parseReply((await s.answer(makeQuery(FAILING, T.TXT), false))!);
    expect(r.rcode).toBe(2);
    expect(since(mark)).toHaveLength(2);
    s.close();
  });

  it('no nameservers: SERVFAIL at once, nothing sent', async () => {
    const s = server({ servers: [] });
    const mark = fake.received.length;
    expect(parseReply((await s.answer(makeQuery('mx.test', T.MX), false))!).rcode).toBe(2);
    expect(since(mark)).toEqual([]);
  });

  it('at most maxOutstanding queries out at once; the rest is dropped', async () => {
    const s = server({ timeoutMs: 300, attempts: 1 }, 4);
    const mark = fake.received.length;
    const burst = Array.from({ length: 50 }, (_, i) => s.answer(makeQuery(SILENT, T.TXT, i), false));
    expect(s.outstanding).toBe(4);
    const replies = await Promise.all(burst);
    expect(replies.filter((r) => r === undefined)).toHaveLength(46);
    expect(replies.filter((r) => r && parseReply(r).rcode === 2)).toHaveLength(4);
    expect(since(mark)).toHaveLength(4);
    expect(s.outstanding).toBe(0);
    // Free again: the next query goes out.
    expect(parseReply((await s.answer(makeQuery('mx.test', T.MX), false))!).answers).toHaveLength(2);
    s.close();
  });

  it('close() ends the queries in flight', async () => {
    const s = server({ timeoutMs: 10_000 });
    const pending = s.answer(makeQuery(SILENT, T.MX), false);
    await new Promise((r) => setTimeout(r, 20));
    s.close();
    expect(parseReply((await pending)!).rcode).toBe(2);
    // Closed before the socket connected: ends at once too, over both transports.
    for (const overTcp of [false, true]) {
      const early = server({ timeoutMs: 10_000 });
      const racing = early.answer(makeQuery('big.test', T.TXT), overTcp);
      early.close();
      expect(parseReply((await racing)!).rcode).toBe(2);
    }
    await new Promise((r) => setTimeout(r, 20));
  });

  it('refuses zone transfers without forwarding them', async () => {
    const s = server();
    const mark = fake.received.length;
    for (const qtype of [251, 252]) {
      expect(parseReply((await s.answer(makeQuery('test', qtype), true))!).rcode).toBe(5);
    }
    expect(since(mark)).toEqual([]);
    s.close();
  });
});

describe('A and AAAA', () => {
  it('come from the host resolver first, without asking the nameservers', async () => {
    const s = server();
    const mark = fake.received.length;
    const a = parseReply((await s.answer(makeQuery('hosts.test', T.A), false))!);
    expect(a.answers.map((x) => [...x.rdata])).toEqual([[10, 0, 0, 5]]);
    const aaaa = parseReply((await s.answer(makeQuery('hosts.test', T.AAAA), false))!);
    expect(aaaa.answers.map((x) => [...x.rdata])).toEqual([[0xfd, ...new Array(14).fill(0), 5]]);
    expect(since(mark)).toEqual([]);
    s.close();
  });

  it('names the resolver does not know go to the nameservers (with their SOA when absent)', async () => {
    const s = server();
    const a = parseReply((await s.answer(makeQuery('ns-only.test', T.A), false))!);
    expect(a.answers.map((x) => [...x.rdata])).toEqual([[192, 0, 2, 7]]);
    const nx = parseReply((await s.answer(makeQuery('nowhere.test', T.A), false))!);
    expect([nx.rcode, nx.answers.length, nx.authority.map((x) => x.type)]).toEqual([3, 0, [T.SOA]]);
    // A name that exists without addresses: NOERROR and no records (NODATA), not NXDOMAIN.
    const nodata = parseReply((await s.answer(makeQuery('mx-only.test', T.A), false))!);
    expect([nodata.rcode, nodata.answers.length]).toEqual([0, 0]);
    s.close();
  });

  it("without a nameserver's answer, the resolver's verdict stands; a failed resolver is SERVFAIL", async () => {
    const dead = await deadPort();
    const s = server({ servers: servers(dead) });
    expect(parseReply((await s.answer(makeQuery('nowhere.test', T.A), false))!).rcode).toBe(3);
    expect(parseReply((await s.answer(makeQuery('both.test', T.AAAA), false))!)).toMatchObject({
      rcode: 0,
      answers: [],
    });
    expect(parseReply((await s.answer(makeQuery('broken.test', T.A), false))!).rcode).toBe(2);
    s.close();
  });

  it('with the DO bit, the nameservers answer first; the resolver still has names they lack', async () => {
    const s = server();
    const plain = parseReply((await s.answer(makeQuery('both.test', T.A), false))!);
    expect(plain.answers.map((x) => [...x.rdata])).toEqual([[10, 0, 0, 1]]);
    const dnssec = parseReply(
      (await s.answer(makeQuery('both.test', T.A, 1, { size: 1232, dnssecOk: true }), false))!,
    );
    expect(dnssec.answers.map((x) => [...x.rdata])).toEqual([[192, 0, 2, 9]]);
    const local = parseReply(
      (await s.answer(makeQuery('hosts.test', T.A, 2, { size: 1232, dnssecOk: true }), false))!,
    );
    expect(local.answers.map((x) => [...x.rdata])).toEqual([[10, 0, 0, 5]]);
    // The gateway's own answer to an EDNS query carries OPT, DO echoed.
    expect(local.additional).toMatchObject([{ type: T.OPT, class: 1232, ttl: 0x8000 }]);
    s.close();
  });

  it('many addresses: TC over UDP past 512 bytes or the EDNS size, all of them over TCP', async () => {
    const s = server();
    const q = makeQuery('many.test', T.A);
    const udp = (await s.answer(q, false))!;
    expect(udp.length).toBeLessThanOrEqual(512);
    expect(parseReply(udp)).toMatchObject({ tc: true, answers: [], counts: [1, 0, 0, 0] });
    const tcp = parseReply((await s.answer(q, true))!);
    expect([tcp.tc, tcp.answers.length]).toEqual([false, 100]);
    const edns = (await s.answer(makeQuery('many.test', T.A, 3, { size: 4096 }), false))!;
    expect(parseReply(edns)).toMatchObject({ tc: false, counts: [1, 100, 0, 1] });
    // Below what the answer needs: truncated, but the OPT record stays.
    const small = (await s.answer(makeQuery('many.test', T.A, 4, { size: 1000 }), false))!;
    expect(small.length).toBeLessThanOrEqual(1000);
    expect(parseReply(small)).toMatchObject({ tc: true, counts: [1, 0, 0, 1] });
    s.close();
  });

  it('names the resolver library would read otherwise are only forwarded', async () => {
    const s = server();
    // One label "hosts.test" (with the dot inside it) is not the two-label name.
    const q = Uint8Array.from([
      0,
      9,
      1,
      0,
      0,
      1,
      0,
      0,
      0,
      0,
      0,
      0,
      10,
      ...Buffer.from('hosts.test'),
      0,
      0,
      1,
      0,
      1,
    ]);
    const mark = fake.received.length;
    const r = parseReply((await s.answer(q, false))!);
    expect([r.rcode, r.answers.length]).toEqual([3, 0]);
    expect(since(mark)).toHaveLength(1);
    s.close();
  });
});

describe('malformed input', () => {
  it('is dropped, never forwarded', async () => {
    const s = server();
    const mark = fake.received.length;
    const q = makeQuery('mx.test', T.MX);
    const response = q.slice();
    response[2]! |= 0x80;
    const two = q.slice();
    two[5] = 2;
    const update = q.slice();
    update[2] = 0x28; // OPCODE 5
    const trailing = Uint8Array.from([...q, 0]);
    const shortOpt = makeQuery('mx.test', T.MX, 1, { size: 1232 }).subarray(0, q.length + 6);
    for (const bad of [new Uint8Array(0), q.subarray(0, 11), response, two, update, trailing, shortOpt])
      expect(await s.answer(bad, false)).toBeUndefined();
    expect(since(mark)).toEqual([]);
    s.close();
  });

  it('arbitrary bytes never throw', async () => {
    const s = new DnsServer({ resolver, nameservers: { servers: [], timeoutMs: 100, attempts: 1 } });
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.uint8Array({ maxLength: 120 }),
          // Mostly-valid queries with bytes flipped: past the header checks.
          fc
            .tuple(fc.nat(40), fc.integer({ min: 0, max: 255 }), fc.constantFrom(T.A, T.MX, T.AAAA))
            .map(([at, v, t]) => {
              const q = makeQuery('a.b', t, 1, { size: 700 });
              q[at % q.length] = v;
              return q;
            }),
        ),
        fc.boolean(),
        async (bytes, overTcp) => {
          const r = await s.answer(bytes, overTcp);
          if (r) expect(r.length).toBeGreaterThanOrEqual(12);
        },
      ),
    );
  });
});

describe('resolv.conf', () => {
  const confs = [
    [
      '# comment',
      'search example.test',
      'nameserver 10.0.0.1',
      'nameserver not-an-address',
      'nameserver\t::1',
      'nameserver 127.0.0.53',
      'nameserver 10.0.0.4',
      'options rotate timeout:3 attempts:4',
    ].join('\n'),
    '',
    'options timeout:99 attempts:9\n',
    'options timeout:0 attempts:0\n',
    '; nothing but a comment\nnameserver 192.0.2.1 # trailing\noptions attempts:1\n',
  ];

  it("reads what glibc's res_ninit reads (its /etc/resolv.conf bind-mounted in a mount namespace)", () => {
    const { dir, cleanup } = workDir();
    try {
      const exe = compile(dir, 'resolv-conf', ['-O']);
      for (const [i, text] of confs.entries()) {
        const path = join(dir, `resolv${i}.conf`);
        writeFileSync(path, text);
        const glibc = execFileSync(
          'unshare',
          ['-m', 'sh', '-c', 'mount --bind "$0" /etc/resolv.conf && exec "$1"', path, exe],
          {
            encoding: 'utf8',
          },
        );
        const [head = '', ...ns] = glibc.trim().split('\n');
        const [, timeout = 0, , attempts = 0] = head.split(' ').map(Number);
        const ours = parseResolvConf(text);
        expect(
          ours.servers.map((s) => `ns ${s.address} ${s.port}`),
          text,
        ).toEqual(ns);
        // glibc waits 1 s for a timeout of 0 (res_send's clamp); for attempts 0 it would send
        // nothing at all, which no one means: the gateway asks once.
        expect([ours.timeoutMs, ours.attempts], text).toEqual([
          Math.max(1, timeout) * 1000,
          Math.max(1, attempts),
        ]);
      }
    } finally {
      cleanup();
    }
  });

  it('reads nameservers (three at most) and the timeout and attempts options', () => {
    expect(parseResolvConf(confs[0]!)).toEqual({
      servers: [
        { address: '10.0.0.1', port: 53 },
        { address: '::1', port: 53 },
        { address: '127.0.0.53', port: 53 },
      ],
      timeoutMs: 3000,
      attempts: 4,
    });
    expect(parseResolvConf('')).toEqual({
      servers: [{ address: '127.0.0.1', port: 53 }],
      timeoutMs: 5000,
      attempts: 2,
    });
  });
});
