// Control messages on raw and ping sockets against Linux: testdata/raw-ping-cmsg.c runs in a
// fresh network namespace (lo up) and under tsvisor --network none and must print the same
// (IP_RECVORIGDSTADDR and IPV6_RECVORIGDSTADDR among the options); and
// ping -6 prints the hop limit it asks for with IPV6_RECVHOPLIMIT.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { compile, expectSameUnderTsvisor, runNativeInNetns, testbed } from './c-programs.test-util.js';

let native = '';
const bed = testbed((dir) => {
  const exe = compile(dir, 'raw-ping-cmsg', ['-O1', '-Wall', '-Werror']);
  native = runNativeInNetns(exe);
});

const ping6 = /^64 bytes from ::1: icmp_seq=1 ttl=64 time=/m;

describe('raw-ping-cmsg.c', () => {
  it('shows the host kernel reporting the IP header on raw and ping sockets', () => {
    expect(native).toContain(
      'raw icmp, all:\n  reply: 36 bytes, type 0, flags, controllen 80\n' +
        '  level 0 type 8 len 12: IP_PKTINFO ifindex 1 spec_dst 127.0.0.1 addr 127.0.0.1\n' +
        '  level 0 type 2 len 4: IP_TTL 64\n  level 0 type 1 len 1: IP_TOS 32\n',
    );
    // ping_recvmsg's IP_PKTINFO has no ipi_spec_dst: ping sockets skip ipv4_pktinfo_prepare.
    expect(native).toContain('IP_PKTINFO ifindex 1 spec_dst 0.0.0.0 addr 127.0.0.1\n');
    expect(native).toContain('ping icmpv6, option 51:\n  reply: 16 bytes, type 129, flags, controllen 24\n');
    expect(native).toContain(
      'raw icmpv6, all, control space for one int:\n  reply: 16 bytes, type 129, flags CTRUNC',
    );
  });

  it("shows the host kernel giving ORIGDSTADDR on raw and ping sockets, the transport header's bytes 2-3 for its port", () => {
    // ip_cmsg_recv_dstaddr / ip6_datagram_recv_specific_ctl read "ports" from any transport
    // header: an ICMP message's checksum sits where UDP's destination port is.
    for (const kind of ['raw icmp', 'ping icmp'])
      expect(native).toContain(
        `${kind}, ORIGDSTADDR:\n  reply: ${kind === 'raw icmp' ? 36 : 16} bytes, type 0, flags, controllen 32\n` +
          '  level 0 type 20 len 16: IP_ORIGDSTADDR family 2 addr 127.0.0.1 port: the ICMP checksum\n',
      );
    for (const kind of ['raw icmpv6', 'ping icmpv6'])
      expect(native).toContain(
        `${kind}, ORIGDSTADDR and all:\n  reply: 16 bytes, type 129, flags, controllen 136\n` +
          '  level 41 type 50 len 20: IPV6_PKTINFO ifindex 1 addr ::1\n' +
          '  level 41 type 52 len 4: IPV6_HOPLIMIT 64\n  level 41 type 67 len 4: IPV6_TCLASS 32\n' +
          '  level 41 type 74 len 28: IPV6_ORIGDSTADDR family 10 addr ::1 flowinfo 0 scope 0 port: the ICMP checksum\n',
      );
    // A transport header shorter than 4 bytes has none; a buffer shorter than it does not matter.
    // [IP version, cmsg level, type, data length, CMSG_SPACE of it, IP header the socket reads]
    for (const [v, level, type, len, space, hdr] of [
      [4, 0, 20, 16, 32, 20],
      [6, 41, 74, 28, 48, 0],
    ] as const) {
      const cmsg = `  level ${level} type ${type} len ${len} port 0x1234\n`;
      expect(native).toContain(
        `raw ${v} proto 253, 4 bytes into 64:\n  ${hdr + 4} bytes, flags, controllen ${space}\n${cmsg}`,
      );
      expect(native).toContain(
        `raw ${v} proto 253, 3 bytes into 64:\n  ${hdr + 3} bytes, flags, controllen 0\n`,
      );
      expect(native).toContain(
        `raw ${v} proto 253, 4 bytes into 1:\n  1 bytes, flags TRUNC, controllen ${space}\n${cmsg}`,
      );
    }
  });

  it('prints the same under tsvisor', () => expectSameUnderTsvisor(bed, 'raw-ping-cmsg', native));
});

describe('ping -6', () => {
  it('prints the hop limit of the reply natively', () => {
    const out = execFileSync('unshare', ['-n', 'sh', '-c', 'ip link set lo up && exec ping -6 -c 1 ::1'], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(out).toMatch(ping6);
  });

  it('prints it under tsvisor', async () => {
    const got = await bed.run(['ping', '-6', '-c', '1', '::1'], { network: 'none' });
    expect(got.stdout).toMatch(ping6);
    expect(got.status).toBe(0);
  });
});
