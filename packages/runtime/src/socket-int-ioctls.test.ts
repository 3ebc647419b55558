// The socket ioctls that answer an int through their pointer (FIONREAD/SIOCINQ, SIOCOUTQ,
// SIOCATMARK): testdata/socket-int-ioctls.c prints each return value and stored int on loopback
// TCP (reader, writer, listener) and UDP sockets and on Unix socket pairs, natively and under
// tsvisor with netstack (network mode none) and with host sockets (mode host); all three must
// print the same.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile, testbed } from './c-programs.test-util.js';

const bed = testbed((dir) => compile(dir, 'socket-int-ioctls', ['-O1', '-Wall', '-Werror']));

describe('FIONREAD, SIOCOUTQ and SIOCATMARK on sockets', () => {
  const want = (): string =>
    execFileSync(join(bed.dir, 'socket-int-ioctls'), { encoding: 'utf8', timeout: 30_000 });

  it.each(['none', 'host'] as const)(
    'print what they print natively (network mode %s)',
    async (network) => {
      const native = want();
      // What the answers are on Linux: counts stored through the pointer, EINVAL on a listener
      // except SIOCATMARK, and no SIOCATMARK on UDP.
      expect(native).toContain('tcp writer SIOCOUTQ: ret 0 value 0\n');
      expect(native).toContain('tcp reader SIOCATMARK: ret 0 value 0\n');
      expect(native).toContain('tcp listener SIOCOUTQ: ret -1 value -7 Invalid argument\n');
      expect(native).toContain('udp SIOCATMARK: ret -1 value -7 Inappropriate ioctl for device\n');
      expect(native).toContain('unix stream SIOCATMARK: ret 0 value 0\n');
      expect(native).toContain('unix dgram SIOCATMARK: ret -1 value -7 Operation not supported\n');
      const r = await bed.run(['/test/socket-int-ioctls'], {
        network,
        volumes: [{ host: bed.dir, sandbox: '/test', readOnly: true }],
      });
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe(native);
      expect(r.status).toBe(0);
    },
    60_000,
  );
});
