// /proc/sys/net in network mode `host` against Linux: the sandbox's root is root of a user
// namespace that does not own the (host's) network namespace, so testdata/proc-sys-net.c runs
// natively as what Linux has for that, `unshare -U -r` started by an unprivileged user (nobody)
// in the host's network namespace, and under tsvisor --network host. Both must print the same:
// the host's values, the overflow owner, Linux's modes, and EACCES for every open for writing.
import { execFileSync } from 'node:child_process';
import { chmodSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compile, testbed } from './c-programs.test-util.js';
import { hostNetSysctl } from './host-network.js';

let native = '';
const bed = testbed((dir) => {
  const exe = compile(dir, 'proc-sys-net', ['-O1', '-Wall', '-Werror']);
  // nobody must reach the program in the test's own temp dir.
  chmodSync(dir, 0o755);
  native = execFileSync(
    'setpriv',
    ['--reuid=65534', '--regid=65534', '--clear-groups', 'unshare', '-U', '-r', exe],
    { encoding: 'utf8', timeout: 20_000 },
  );
});

describe('/proc/sys/net in network mode host', () => {
  it('natively: root of a user namespace that does not own the network namespace may not write', () => {
    expect(native).toMatch(/^uid 0\n/);
    expect(native).toContain(
      'ipv4/tcp_fin_timeout: file 0644 65534:65534 [' +
        readFileSync('/proc/sys/net/ipv4/tcp_fin_timeout', 'utf8').trim() +
        '] wronly EACCES rdwr EACCES trunc EACCES access r ok w EACCES x EACCES\n',
    );
    expect(native).toContain('core: dir 0555 65534:65534\n');
    expect(native).toContain(
      'ipv6/conf/lo/mtu: file 0644 65534:65534 [' +
        readFileSync('/proc/sys/net/ipv6/conf/lo/mtu', 'utf8').trim() +
        '] wronly EACCES rdwr EACCES trunc EACCES access r ok w EACCES x EACCES\n',
    );
  });

  it('under tsvisor: the same modes, owners, values and open errors', async () => {
    const got = await bed.run(['/test/proc-sys-net'], {
      network: 'host',
      volumes: [{ host: bed.dir, sandbox: '/test', readOnly: true }],
    });
    expect(got.stderr).toBe('');
    expect(got.stdout).toBe(native);
    expect(got.status).toBe(0);
  }, 30_000);

  it("somaxconn is the host's", () => {
    const host = Number(readFileSync('/proc/sys/net/core/somaxconn', 'utf8'));
    expect(hostNetSysctl().somaxconn).toBe(host);
    expect(native).toContain(`core/somaxconn: file 0644 65534:65534 [${host}] `);
  });
});
