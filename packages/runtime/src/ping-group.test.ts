// net.ipv4.ping_group_range against Linux: testdata/ping-group.c runs in a fresh network
// namespace (lo up) and under tsvisor --network none and must print the same: the sysctl's
// initial value and its answers to writes, who may open ping sockets, and an echo over one.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { compile, testbed } from './c-programs.test-util.js';

let native = '';
const bed = testbed((dir) => {
  const exe = compile(dir, 'ping-group', ['-O1', '-Wall', '-Werror']);
  native = execFileSync('unshare', ['-n', 'sh', '-c', 'ip link set lo up && exec "$0"', exe], {
    encoding: 'utf8',
    timeout: 20_000,
  });
});

describe('ping-group.c', () => {
  it('shows the rules of the host kernel', () => {
    // A fresh namespace lets nobody in, root included; a reversed range means nobody.
    expect(native).toContain('initial: 1|0\n');
    expect(native).toMatch(/^default range:\n {2}egid 0: icmp EACCES, icmpv6 EACCES\n/m);
    expect(native).toContain('write "200 100" ok, now: 1|0\n');
    expect(native).toContain('write "0 4294967295" EINVAL, now: 0|4294967294\n');
    expect(native).toContain('  egid 99 + 150: icmp ok, icmpv6 ok\n');
    expect(native).toContain('echo reply: 16 bytes, type 0, seq 7, payload pinggrp\n');
    expect(native).toContain('uid 1000 open for write: EACCES\n');
  });

  it('prints the same under tsvisor', async () => {
    const got = await bed.run(['/test/ping-group'], {
      network: 'none',
      volumes: [{ host: bed.dir, sandbox: '/test', readOnly: true }],
    });
    expect(got.stderr).toBe('');
    expect(got.stdout).toBe(native);
    expect(got.status).toBe(0);
  });
});

// iputils ping (Debian's iputils-ping; CI installs it) tries a ping socket first and falls back
// to a raw one, which root may open (CAP_NET_RAW), so the sandbox's default range breaks no ping.
describe('iputils ping under tsvisor', () => {
  it('reaches 127.0.0.1 as root: the ping socket is refused, so it falls back to a raw socket', async () => {
    const trace: string[] = [];
    const got = await bed.run(['/usr/bin/ping', '-c', '1', '-W', '5', '127.0.0.1'], {
      network: 'none',
      strace: (line) => {
        if (line.startsWith('socket(AF_INET,')) trace.push(line);
      },
    });
    expect(got.stderr).toBe('');
    expect(got.stdout).toContain('1 packets transmitted, 1 received');
    expect(got.status).toBe(0);
    // (then a UDP socket ping connects to find its source address)
    expect(trace.slice(0, 2)).toEqual([
      expect.stringMatching(/^socket\(AF_INET, SOCK_DGRAM, IPPROTO_ICMP\) = -1 EACCES/),
      expect.stringMatching(/^socket\(AF_INET, SOCK_RAW, IPPROTO_ICMP\) = \d+$/),
    ]);
  });
});
