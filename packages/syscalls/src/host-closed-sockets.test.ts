// The connections the sandbox closed in network mode `host` (host-closed-sockets.ts) and their
// /proc/net/tcp lines taken from the host's table (closedHostEntries), without a host: recorded
// tuples, the bounds, which host lines are taken (only the sandbox's, only orphans), and the
// lines printed again as the host printed them. The real host is compared in @tsvisor/runtime
// (proc-net-host-closed.test.ts).
import { E, type LinuxError } from '@tsvisor/abi';
import { renderTcp, renderTcp6 } from '@tsvisor/procfs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ClosedHostConnections, type ClosingHostSocket } from './host-closed-sockets.js';
import { closedHostEntries } from './sys-socket-proc.js';

const AF_INET = 2;
const AF_INET6 = 10;
const SOCK_STREAM = 1;
const SOCK_DGRAM = 2;

function sin(port: number, a: readonly number[]): Uint8Array {
  return Uint8Array.from([AF_INET, 0, port >> 8, port & 0xff, ...a, 0, 0, 0, 0, 0, 0, 0, 0]);
}

function sin6(port: number, a: readonly number[]): Uint8Array {
  return Uint8Array.from([AF_INET6, 0, port >> 8, port & 0xff, 0, 0, 0, 0, ...a, 0, 0, 0, 0]);
}

const LO6 = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];

/** A closing socket whose host answers `local` and `remote` (an errno: no such end). */
function closing(
  local: Uint8Array | LinuxError,
  remote: Uint8Array | LinuxError,
  over: Partial<ClosingHostSocket> = {},
): ClosingHostSocket {
  return {
    fd: 9,
    type: SOCK_STREAM,
    domain: AF_INET,
    uid: 1000,
    calls: {
      name: (_fd, peer, out) => {
        const v = peer ? remote : local;
        if (!(v instanceof Uint8Array)) return v;
        out.set(v);
        return v.length;
      },
    },
    ...over,
  };
}

const HEADER =
  '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
/** Lines as this host's /proc/net/tcp printed them (ports 0x9AC7 listener, 0xDF60 client). */
const TW =
  '  10: 0100007F:DF60 0100007F:9AC7 06 00000000:00000000 03:00001766 00000000     0        0 0 3 000000008d336323';
const FIN2 =
  '  11: 0100007F:DF61 0100007F:9AC7 05 00000000:00000000 03:00000F00 00000000     0        0 0 3 000000008d336324';
const LAST_ACK =
  '  12: 0100007F:9AC7 0100007F:DF62 09 00000000:00000001 01:00000014 00000002     0        0 0 1 00000000ba9193eb 20 4 0 10 -1';
const LIVE =
  '  13: 0100007F:DF63 0100007F:9AC7 01 00000000:00000000 00:00000000 00000000     0        0 6962351 1 00000000ba9193ec 20 4 30 10 -1';
const OUTSIDER =
  '  14: 0100007F:C000 0100007F:0050 06 00000000:00000000 03:00001000 00000000     0        0 0 3 000000008d336325';
const TABLE = [HEADER.trimEnd(), TW, FIN2, LAST_ACK, LIVE, OUTSIDER].join('\n') + '\n';
const LO = [127, 0, 0, 1];

/** The fields of a rendered or host line but the slot and the pointer. */
function compared(line: string): string[] {
  const f = line.trim().split(/\s+/);
  return [...f.slice(1, 11), ...f.slice(12)];
}

describe('ClosedHostConnections', () => {
  it('records connected TCP sockets only, with the host addresses and the owner', () => {
    const c = new ClosedHostConnections(10, 1000, () => 5);
    c.record(closing(sin(0xdf60, LO), sin(0x9ac7, LO)));
    c.record(closing(sin(0x9ac7, LO), E.ENOTCONN)); // a listener: nothing lingers
    c.record(closing(sin(53, LO), sin(53, LO), { type: SOCK_DGRAM }));
    c.record(closing(E.EBADF, sin(1, LO)));
    expect(c.current()).toEqual([
      { domain: AF_INET, local: sin(0xdf60, LO), remote: sin(0x9ac7, LO), uid: 1000, closedAtMs: 5 },
    ]);
  });

  it('keeps at most `limit`, oldest dropped first, and none past maxAgeMs', () => {
    let now = 0;
    const c = new ClosedHostConnections(3, 100, () => now);
    for (let p = 1; p <= 5; p++) {
      now = p * 10;
      c.record(closing(sin(p, LO), sin(80, LO)));
    }
    expect(c.current().map((e) => e.closedAtMs)).toEqual([30, 40, 50]);
    // The same 4-tuple closed again is one entry, the newest.
    now = 60;
    c.record(closing(sin(3, LO), sin(80, LO)));
    expect(c.current().map((e) => e.closedAtMs)).toEqual([40, 50, 60]);
    now = 145;
    expect(c.current().map((e) => e.closedAtMs)).toEqual([50, 60]);
    now = 1000;
    expect(c.current()).toEqual([]);
    expect(c.size).toBe(0);
  });
});

describe('closedHostEntries: the host lines of the connections the sandbox closed', () => {
  it("takes only the sandbox's orphans, as the host printed them", () => {
    const c = new ClosedHostConnections();
    c.record(closing(sin(0xdf60, LO), sin(0x9ac7, LO)));
    c.record(closing(sin(0xdf61, LO), sin(0x9ac7, LO)));
    c.record(closing(sin(0x9ac7, LO), sin(0xdf62, LO), { uid: 1234 }));
    // Same 4-tuple as a live socket of the host (someone reused it): not the sandbox's.
    c.record(closing(sin(0xdf63, LO), sin(0x9ac7, LO)));
    let reads = 0;
    const entries = closedHostEntries(c, 4, () => (reads++, TABLE));
    expect(reads).toBe(1);
    expect(entries.map((e) => [e.local.port, e.state, e.uid, e.inode])).toEqual([
      [0xdf60, 6, 0, 0],
      [0xdf61, 5, 0, 0],
      // An orphan that is still a full socket keeps its owner: the sandbox's, not the host's.
      [0x9ac7, 9, 1234, 0],
    ]);
    const rendered = renderTcp(entries).split('\n').slice(1, 4);
    expect(rendered.map(compared)).toEqual([
      compared(TW),
      compared(FIN2),
      compared(LAST_ACK).map((f, i) => (i === 6 ? '1234' : f)),
    ]);
    // The outsider's TIME_WAIT (never the sandbox's) is not there.
    expect(renderTcp(entries)).not.toContain(':C000');
  });

  it('forgets what the host no longer has; reads nothing when nothing of the family is kept', () => {
    const c = new ClosedHostConnections();
    c.record(closing(sin(0xdf60, LO), sin(0x9ac7, LO)));
    c.record(closing(sin(0xaaaa, LO), sin(0x9ac7, LO)));
    expect(closedHostEntries(c, 4, () => TABLE)).toHaveLength(1);
    expect(c.size).toBe(1);
    expect(closedHostEntries(c, 6, () => expect.unreachable('no IPv6 connection closed'))).toEqual([]);
    // A host that hides its table: nothing shown, nothing forgotten.
    expect(closedHostEntries(c, 4, () => undefined)).toEqual([]);
    expect(c.size).toBe(1);
  });

  it('IPv6 sockets (IPv4-mapped ones included) are looked up in tcp6', () => {
    const c = new ClosedHostConnections();
    const mapped = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1];
    c.record(closing(sin6(0x8001, LO6), sin6(0x1f90, LO6), { domain: AF_INET6 }));
    c.record(closing(sin6(0x8002, mapped), sin6(0x1f90, mapped), { domain: AF_INET6 }));
    const lo6 = '00000000000000000000000001000000';
    const map6 = '0000000000000000FFFF00000100007F';
    const tail = '06 00000000:00000000 03:00001700 00000000     0        0 0 3 0000000000000000';
    const table6 =
      '  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n' +
      `   0: ${lo6}:8001 ${lo6}:1F90 ${tail}\n` +
      `   1: ${map6}:8002 ${map6}:1F90 ${tail}\n`;
    expect(closedHostEntries(c, 4, () => TABLE)).toEqual([]);
    const entries = closedHostEntries(c, 6, () => table6);
    expect(renderTcp6(entries)).toBe(table6);
  });

  it('never throws and takes only well-formed orphan lines, whatever the host table holds', () => {
    const junk = fc.oneof(
      fc.string(),
      fc.constantFrom('0', '-1', 'ZZ', '06', '00000000:00000000', '03:', ':', '99999999999999999999'),
    );
    fc.assert(
      fc.property(fc.array(fc.array(junk, { maxLength: 18 }), { maxLength: 6 }), (rows) => {
        const c = new ClosedHostConnections();
        c.record(closing(sin(0xdf60, LO), sin(0x9ac7, LO)));
        const table =
          HEADER + rows.map((r) => ['  0:', '0100007F:DF60', '0100007F:9AC7', ...r].join(' ')).join('\n');
        for (const e of closedHostEntries(c, 4, () => table)) {
          expect(e.inode).toBe(0);
          expect(e.state).toBeGreaterThanOrEqual(1);
          expect(e.state).toBeLessThanOrEqual(12);
          expect(Number.isSafeInteger(e.timerTicks)).toBe(true);
        }
      }),
    );
  });
});
