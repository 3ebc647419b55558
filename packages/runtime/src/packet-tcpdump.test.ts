// tcpdump inside the sandbox: testdata/packet-tcpdump.c starts `tcpdump -i DEV -n -t -l -c N`
// (libpcap 1.10: a TPACKET_V3 ring on an AF_PACKET socket), makes UDP, ICMP and ICMPv6 traffic,
// and prints what tcpdump printed. Natively in a fresh network namespace and under tsvisor
// --network none the output must be the same, line for line, for -i lo (SOCK_RAW on lo), with a
// filter expression, and -i any (SOCK_DGRAM on every link, cooked LINUX_SLL2 headers); and for
// -i eth0 of network mode sandbox against a veth laid out the same way. Needs Debian's tcpdump
// package; skipped (with the reason) without it.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compile, runNativeInNetns, testbed } from './c-programs.test-util.js';

const TCPDUMP = '/usr/bin/tcpdump';
const haveTcpdump = existsSync(TCPDUMP);
/** A filter expression: libpcap compiles it and attaches it with SO_ATTACH_FILTER. */
const FILTER = 'icmp or icmp6';

/**
 * The host's side of `-i eth0`: a fresh network namespace whose eth0 is a veth with the
 * sandbox's MAC and address (IPv6 off, so nothing else crosses it), its peer in a namespace of
 * its own with the gateway's MAC and 10.0.2.3, as network mode `sandbox` lays eth0 out. Runs
 * "$@" there.
 */
const VETH = `set -e
ip link set lo up
unshare -n sleep 30 &
P=$!
trap 'kill $P; wait $P || true' EXIT
sleep 0.2
ip link add eth0 address 02:42:0a:00:02:0f type veth peer name gw address 02:42:0a:00:02:02 netns $P
sysctl -q -w net.ipv6.conf.eth0.disable_ipv6=1
ip addr add 10.0.2.15/24 dev eth0
ip link set eth0 up
nsenter -t $P -n sh -c 'sysctl -q -w net.ipv6.conf.gw.disable_ipv6=1; ip addr add 10.0.2.3/24 dev gw; ip link set gw up'
sleep 0.1
"$@"`;

let native = '';
let nativeAny = '';
let nativeEth0 = '';
let nativeFiltered = '';
const bed = testbed((dir) => {
  if (!haveTcpdump) return;
  const exe = compile(dir, 'packet-tcpdump', ['-O1', '-Wall', '-Werror']);
  native = runNativeInNetns(exe, [TCPDUMP, 'lo', '8'], 30_000);
  nativeAny = runNativeInNetns(exe, [TCPDUMP, 'any', '8'], 30_000);
  nativeFiltered = runNativeInNetns(exe, [TCPDUMP, 'lo', '5', '-', FILTER], 30_000);
  nativeEth0 = execFileSync(
    'unshare',
    ['-n', 'sh', '-c', VETH, 'sh', exe, TCPDUMP, 'eth0', '6', '10.0.2.3'],
    {
      encoding: 'utf8',
      timeout: 30_000,
    },
  );
});

async function underTsvisor(
  args: string[],
  network: 'none' | 'sandbox' = 'none',
): Promise<{ stdout: string; stderr: string; status: number }> {
  return bed.run(['/test/packet-tcpdump', TCPDUMP, ...args], {
    network,
    volumes: [{ host: bed.dir, sandbox: '/test', readOnly: true }],
  });
}

describe.skipIf(!haveTcpdump)('tcpdump -i lo (needs the tcpdump package: apt-get install tcpdump)', () => {
  it('captures the traffic on the host kernel', () => {
    expect(native).toContain(
      'stderr: listening on lo, link-type EN10MB (Ethernet), snapshot length 262144 bytes\n',
    );
    expect(native).toContain('stdout: IP 127.0.0.1.40000 > 127.0.0.1.7777: UDP, length 5\n');
    expect(native).toContain(
      'stdout: IP 127.0.0.1 > 127.0.0.1: ICMP echo reply, id 4660, seq 1, length 24\n',
    );
    expect(native).toContain('stderr: 8 packets captured\n');
    expect(native).toContain('tcpdump exit 0\n');
  });

  it('prints the same under tsvisor', async () => {
    const got = await underTsvisor(['lo', '8']);
    expect(got.stderr).toBe('');
    expect(got.stdout).toBe(native);
    expect(got.status).toBe(0);
  }, 60_000);

  it('prints the same for -i any (a SOCK_DGRAM socket on every link, LINUX_SLL2)', async () => {
    expect(nativeAny).toContain('stdout: lo    In  IP 127.0.0.1.40000 > 127.0.0.1.7777: UDP, length 5\n');
    const got = await underTsvisor(['any', '8']);
    expect(got.stderr).toBe('');
    expect(got.stdout).toBe(nativeAny);
    expect(got.status).toBe(0);
  }, 60_000);

  it('prints the same with a filter expression (classic BPF run on the ring socket)', async () => {
    expect(nativeFiltered).toContain('stderr: 5 packets captured\n');
    expect(nativeFiltered).not.toContain('UDP, length');
    const got = await underTsvisor(['lo', '5', '-', FILTER]);
    expect(got.stderr).toBe('');
    expect(got.stdout).toBe(nativeFiltered);
    expect(got.status).toBe(0);
  }, 60_000);

  it('prints the same for -i eth0 in network mode sandbox as on a veth (ARP, UDP, ICMP)', async () => {
    expect(nativeEth0).toContain('stdout: ARP, Reply 10.0.2.3 is-at 02:42:0a:00:02:02, length 28\n');
    expect(nativeEth0).toContain('stdout: IP 10.0.2.15.40000 > 10.0.2.3.9999: UDP, length 5\n');
    const got = await underTsvisor(['eth0', '6', '10.0.2.3'], 'sandbox');
    expect(got.stderr).toBe('');
    expect(got.stdout).toBe(nativeEth0);
    expect(got.status).toBe(0);
  }, 60_000);
});
