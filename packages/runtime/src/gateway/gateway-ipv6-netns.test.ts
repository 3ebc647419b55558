// The gateway's IPv6 flows to a destination other than fd00::2: a host address the test owns.
// The host here is a network namespace this test makes (a veth with the ULA fd12:3456::1 in it),
// so the gateway runs in a child node process there (gateway-ipv6-netns.test-util.ts, through
// testdata/ts-loader.mjs); nothing outside that namespace changes.
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));

describe('Gateway with IPv6: a host address other than ::1', () => {
  it('carries TCP and UDP to the host ULA fd12:3456::1 over host IPv6 sockets; a closed port is RST', () => {
    const setup =
      'ip link set lo up && ip link add v0 type veth peer name v1 && ' +
      'ip addr add fd12:3456::1/64 dev v0 nodad && ip link set v1 up && ip link set v0 up && ' +
      'exec node --conditions=@tsvisor/source --import "$0" "$1" fd12:3456::1';
    const out = execFileSync(
      'unshare',
      [
        '-n',
        'sh',
        '-c',
        setup,
        join(here, '..', 'testdata', 'ts-loader.mjs'),
        join(here, 'gateway-ipv6-netns.test-util.ts'),
      ],
      { encoding: 'utf8', timeout: 30_000 },
    );
    // The host server sees the connection come from its own address, as slirp's do.
    expect(out).toBe(
      'tcp hello fd12:3456::1\nudp fd12:3456::1 ping from fd12:3456::1\nclosed port CLOSED errno 111\n',
    );
  }, 40_000);
});
