// Control messages on raw and ping sockets against Linux: testdata/raw-ping-cmsg.c runs in a
// fresh network namespace (lo up) and under tsvisor --network none and must print the same; and
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
