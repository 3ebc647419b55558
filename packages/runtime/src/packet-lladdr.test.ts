// The link header of SOCK_DGRAM packet sockets against Linux: testdata/packet-lladdr.c sends
// with sockaddr_ll addresses of every sll_halen and captures what leaves, on lo (natively in a
// fresh network namespace, under tsvisor --network none) and on eth0 (natively beside a veth,
// under tsvisor --network sandbox). Both must print the same.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { compile, runNativeInNetns, testbed } from './c-programs.test-util.js';

const VETH =
  'ip link set lo up && ip link add eth0 type veth peer name eth0p && ip link set eth0 up && ' +
  'ip link set eth0p up && exec "$0" eth0';

let nativeLo = '';
let nativeEth0 = '';
const bed = testbed((dir) => {
  const exe = compile(dir, 'packet-lladdr', ['-O1', '-Wall', '-Werror']);
  nativeLo = runNativeInNetns(exe, ['lo']);
  nativeEth0 = execFileSync('unshare', ['-n', 'sh', '-c', VETH, exe], { encoding: 'utf8', timeout: 20_000 });
});

async function underTsvisor(dev: string, network: 'none' | 'sandbox'): Promise<string> {
  const got = await bed.run(['/test/packet-lladdr', dev], {
    network,
    volumes: [{ host: bed.dir, sandbox: '/test', readOnly: true }],
  });
  expect(got.stderr).toBe('');
  expect(got.status).toBe(0);
  return got.stdout;
}

describe('packet-lladdr.c', () => {
  it('shows sll_addr in the header on the host kernel, whatever sll_halen says', () => {
    expect(nativeLo).toContain('halen0: namelen 20 halen 0: 6\n  pkttype 4 n 20 dst 02:aa:bb:cc:dd:ee');
    expect(nativeLo).toContain('  pkttype 3 n 20 dst 02:11:22:33:44:55 src own payload halen6\n');
    expect(nativeLo).toContain('bound: 5\n  pkttype 4 n 19 dst 00:00:00:00:00:00');
    expect(nativeEth0).toContain('halen2: namelen 20 halen 2: 6\n  pkttype 4 n 20 dst 02:11:22:33:44:55');
    expect(nativeEth0).toContain('halen9: namelen 20 halen 9: -1 EINVAL\n');
    expect(nativeEth0).toContain('bound: -1 EINVAL\n');
  });

  it('prints the same on lo under tsvisor', async () => {
    expect(await underTsvisor('lo', 'none')).toBe(nativeLo);
  }, 60_000);

  it('prints the same on eth0 in network mode sandbox', async () => {
    expect(await underTsvisor('eth0', 'sandbox')).toBe(nativeEth0);
  }, 60_000);
});
