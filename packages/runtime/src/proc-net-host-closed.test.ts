// /proc/net/tcp and tcp6 in network mode `host` after the sandbox closes connections first:
// testdata/proc-net-timewait.c runs natively in a network namespace of its own (`unshare -n`, lo
// up) and under tsvisor, and both must print the same: the client's side in TIME_WAIT (state 06,
// timer 3, uid 0, inode 0) once both sides closed, and in FIN_WAIT2 (a timewait minisock, state
// 05) while the server keeps its side, for IPv4 and IPv6. A TIME_WAIT connection this test makes
// on the host itself, outside the sandbox, must not be listed (each table's TIME_WAIT count is
// the program's own).
import { readFileSync } from 'node:fs';
import { createServer, connect, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compile, runNativeInNetns, testbed } from './c-programs.test-util.js';

let native = '';
const bed = testbed((dir) => {
  const exe = compile(dir, 'proc-net-timewait', ['-O1', '-Wall', '-Werror']);
  native = runNativeInNetns(exe);
});

/** A connection on the host's loopback whose client closes first: its port stays in TIME_WAIT. */
async function hostTimeWait(): Promise<{ server: Server; clientPort: number }> {
  const server = createServer((s) => s.on('end', () => s.end()));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const a = server.address();
  const port = typeof a === 'object' && a ? a.port : 0;
  const clientPort = await new Promise<number>((resolve, reject) => {
    const c = connect(port, '127.0.0.1', () => {
      const local = c.localPort ?? 0;
      c.end();
      c.on('close', () => resolve(local));
    });
    c.on('error', reject);
  });
  return { server, clientPort };
}

/** The host's /proc/net/tcp lines in TIME_WAIT whose local port is `port`. */
function hostTimeWaitLines(port: number): string[] {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')} `;
  return readFileSync('/proc/net/tcp', 'utf8')
    .split('\n')
    .filter((l) => l.includes(hex) && l.trim().split(/\s+/)[3] === '06');
}

describe('/proc/net/tcp in network mode host lists the connections the sandbox closed', () => {
  let outsider: { server: Server; clientPort: number };
  beforeAll(async () => {
    outsider = await hostTimeWait();
  });
  afterAll(() => new Promise<void>((resolve) => outsider.server.close(() => resolve())));

  it('natively: TIME_WAIT and FIN_WAIT2 minisocks of the client side, for IPv4 and IPv6', () => {
    // The comparison below proves nothing unless Linux lists what the program looks for.
    expect(native).toContain('tcp tw client lo 06 00000000:00000000 03 00000000 0 0 0 3 (12 fields)\n');
    expect(native).toContain('tcp6 tw client lo 06 00000000:00000000 03 00000000 0 0 0 3 (12 fields)\n');
    expect(native).toContain('tcp fin2 client lo 05 00000000:00000000 03 00000000 0 0 0 3 (12 fields)\n');
    expect(native).toContain('tcp fin2 server lo 08 live\n');
    expect(native).toContain('tcp TIME_WAIT lines: 1\ntcp6 TIME_WAIT lines: 1\n');
  });

  it('under tsvisor --network host: the same lines, and no TIME_WAIT of the host', async () => {
    // The outsider's TIME_WAIT is on the host for the whole run (it lasts 60 s).
    expect(hostTimeWaitLines(outsider.clientPort)).toHaveLength(1);
    const got = await bed.run(['/test/proc-net-timewait'], {
      network: 'host',
      volumes: [{ host: bed.dir, sandbox: '/test', readOnly: true }],
    });
    expect(got.stderr).toBe('');
    expect(got.stdout).toBe(native);
    expect(got.status).toBe(0);
    expect(hostTimeWaitLines(outsider.clientPort)).toHaveLength(1);
  }, 30_000);
});
