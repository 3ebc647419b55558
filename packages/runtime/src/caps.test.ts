// Capability sets against Linux: testdata/caps.c (capget/capset, set*id fixups, fsuid, execve,
// bounding and ambient sets, and the kill/chown/bind/DAC checks they guard) runs natively as
// root and under tsvisor and must print the same.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile, testbed } from './c-programs.test-util.js';

// What the host gives root here (a container may withhold some capabilities): the sets printed
// are compared within it.
const hostMask = /^CapPrm:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '0';

let native = '';
const bed = testbed((dir) => {
  // The program re-executes itself after dropping to uid 1000, which must reach it.
  chmodSync(dir, 0o755);
  const exe = compile(dir, 'caps', ['-O1', '-Wall', '-Werror']);
  const scratch = join(dir, 'scratch');
  mkdirSync(scratch);
  native = execFileSync(exe, [scratch, hostMask], { encoding: 'utf8', timeout: 20_000 });
});

describe('caps.c', () => {
  it('shows the capability rules on the host kernel', () => {
    expect(native).toContain('setuid(65534) = 0\ndropped: uid 65534/65534/65534 fsuid 65534 e=0 p=0');
    expect(native).toContain(
      'capset keep net caps = 0\ndaemon: uid 65534/65534/65534 fsuid 65534 e=3400 p=3400',
    );
    expect(native).toContain('open with fsuid 1000 = -1 EACCES\n');
    expect(native).toContain('  CapAmb 400\n');
    expect(native).toContain(
      'kill(uid 2000, 0) = -1 EPERM\nchown(1234) = -1 EPERM\nbind 127.0.0.1:80 = -1 EACCES\n',
    );
    // File capabilities (security.capability) on the copy of the program: fP effective for a user.
    expect(native).toContain('setresuid(1000, 1000, 1000) = 0\n  CapInh 0\n  CapPrm 401\n  CapEff 401\n');
    expect(native).toContain(
      'PR_CAPBSET_DROP CAP_NET_BIND_SERVICE = 0\nsetresuid(1000, 1000, 1000) = 0\nexecl failed: EPERM\n',
    );
    // A set-user-ID root copy run by uid 1000.
    expect(native).toContain('  uid 1000/0/0 egid 0 keepcaps 0 secure 1 dumpable 0\n');
    expect(native).not.toContain('section failed');
  });

  it('prints the same under tsvisor', async () => {
    const got = await bed.run(['/test/caps', '/tmp', hostMask], {
      volumes: [{ host: bed.dir, sandbox: '/test', readOnly: true }],
    });
    expect(got.stderr).toBe('');
    expect(got.stdout).toBe(native);
    expect(got.status).toBe(0);
  });
});
