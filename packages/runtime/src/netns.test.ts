// Network and UTS namespaces made by the program against Linux: unshare, clone and setns(2) with
// CLONE_NEWNET and CLONE_NEWUTS (see testdata/netns.c). It runs as root in a fresh network
// namespace and under tsvisor --network none and must print the same; the sandbox exits with
// namespaces still made.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { compile, expectSameUnderTsvisor, runNativeInNetns, testbed } from './c-programs.test-util.js';
import { underIpMonitor } from './ip-monitor.test-util.js';

let native = '';
const bed = testbed((dir) => {
  const exe = compile(dir, 'netns', ['-O1', '-Wall', '-Werror', '-pthread']);
  native = runNativeInNetns(exe);
});

describe('netns.c', () => {
  it('a made network namespace has its own lo, ports, abstract names and /proc/net, a UTS one its names; setns goes back (host kernel)', () => {
    expect(native).toBe(
      [
        'parent binds an abstract name: ok',
        'parent binds a path socket: ok',
        'unshare(CLONE_NEWNET): ok',
        "ns link differs from the parent's: yes",
        'new namespace: lo LOOPBACK',
        'connect with lo down: ENETUNREACH',
        'bring lo up: ok',
        'after up: lo UP LOOPBACK RUNNING',
        'connect with lo up: ECONNREFUSED',
        'listener in /proc/net/tcp: not listed',
        'listener in /proc/<parent>/net/tcp: listed',
        "bind the parent's abstract name: ok",
        "connect to the parent's abstract name: ECONNREFUSED",
        "connect to the parent's path socket: ok",
        'NS_GET_NSTYPE is CLONE_NEWNET: yes',
        'setns back: ok',
        "ns link is the parent's again: yes",
        'connect after setns: ok',
        'connect of a socket made before setns: ECONNREFUSED',
        'setns into the made namespace again: ok',
        'rejoined: lo UP LOOPBACK RUNNING',
        'connect there: ECONNREFUSED',
        'setns back: ok',
        'unshare(CLONE_NEWNET) without CAP_SYS_ADMIN: EPERM',
        'setns without CAP_SYS_ADMIN: EPERM',
        'child exited: 0',
        'clone(CLONE_NEWNET) child: ns link differs: yes',
        'clone child: lo LOOPBACK',
        'clone child connect: ENETUNREACH',
        'parent still in its namespace: yes',
        'unshare(CLONE_NEWNET) in a thread: ok',
        "the thread's ns differs: yes; the main thread's is unchanged: yes",
        'connect from the main thread: ok',
        'unshare(CLONE_NEWUTS): ok',
        'uts link differs: yes',
        'new uts namespace: hostname as expected, /proc/sys/kernel/hostname as expected',
        'sethostname: ok',
        'after sethostname: hostname as expected, /proc/sys/kernel/hostname as expected',
        "setns to the parent's: ok",
        "back in the parent's: hostname as expected, /proc/sys/kernel/hostname as expected",
        'parent after the child: hostname as expected, /proc/sys/kernel/hostname as expected',
        'clone(CLONE_NEWUTS) child: uts link differs: yes',
        'clone child: hostname as expected, /proc/sys/kernel/hostname as expected',
        'parent after the clone child: hostname as expected, /proc/sys/kernel/hostname as expected',
        '',
      ].join('\n'),
    );
  });

  it('prints the same under tsvisor', () => expectSameUnderTsvisor(bed, 'netns', native));

  it('`unshare -n` and iproute2 see a new namespace as on Linux: lo down (noop), up, down again', async () => {
    const script = [
      'ip link',
      'ip link set lo up',
      'ip addr',
      'ip route show table all',
      'ip -6 route show table all',
      'ip link set lo down',
      'ip link',
      'readlink /proc/self/ns/net | tr -d 0-9',
    ].join('; ');
    const want = execFileSync('unshare', ['-n', 'sh', '-c', script], { encoding: 'utf8', timeout: 20_000 });
    expect(want).toContain('1: lo: <LOOPBACK> mtu 65536 qdisc noop state DOWN');
    const got = await bed.run(['unshare', '-n', 'sh', '-c', script], { network: 'none' });
    expect(got.stderr).toBe('');
    expect(got.stdout).toBe(want);
    expect(got.status).toBe(0);
  });

  it('`ip monitor` in a new namespace: lo up announces 127.0.0.1/8, ::1 and their routes as Linux', async () => {
    const script = underIpMonitor('monitor', 'ip link set lo up\nsleep 0.5');
    const want = execFileSync('unshare', ['-n', 'sh', '-c', script], { encoding: 'utf8', timeout: 20_000 });
    expect(want).toContain(
      '1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever\n' +
        'local 127.0.0.1 dev lo table local proto kernel scope host src 127.0.0.1 \n' +
        'local 127.0.0.0/8 dev lo table local proto kernel scope host src 127.0.0.1 \n',
    );
    const got = await bed.run(['unshare', '-n', 'sh', '-c', script], { network: 'none' });
    expect(got.stderr).toBe('');
    expect(got.stdout).toBe(want);
    expect(got.status).toBe(0);
  });
});
