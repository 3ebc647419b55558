// When O_ASYNC signals and when it does not, against Linux: testdata/sigio-cond.c arms sockets
// (AF_UNIX pairs of each type, TCP and UDP over IPv4 and IPv6 loopback), pipes, a FIFO and an eventfd one case at a
// time, and prints the signals each case brought; under tsvisor it must print the same.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { compile, testbed } from './c-programs.test-util.js';

let native = '';
const bed = testbed((dir) => {
  const exe = compile(dir, 'sigio-cond', ['-O1', '-Wall', '-Werror']);
  native = execFileSync(exe, [dir], { encoding: 'utf8', timeout: 60_000 });
});

describe('sigio-cond.c', () => {
  it('shows when the host kernel signals', () => {
    // Data and a peer's hang-up signal; a peer reading what this side sent does not (nginx's
    // channel), nor do own shutdowns; write space only after a send found no room.
    expect(native).toContain('stream: peer writes: 1 POLL_IN/0x41\n');
    expect(native).toContain('stream: own write read by the peer: 0\n');
    expect(native).toContain('stream: peer closes: 1 POLL_HUP/0x18\n');
    expect(native).toContain('stream: own SHUT_WR: 0\n');
    expect(native).toContain('stream: own sends until EAGAIN, peer drains: 1 POLL_OUT/0x304\n');
    expect(native).toContain('stream: own sends until poll says full, peer drains: 0\n');
    expect(native).toContain('dgram: own sends until poll says full, peer drains: 1 POLL_OUT/0x304\n');
    expect(native).toContain('stream: peer writes while a child blocks reading: 0\n');
    expect(native).toContain('tcp: peer resets (RST): 1 POLL_ERR/0x8\n');
    // Every arrival signals, also behind one not yet read; a FIN signals on its own, then as
    // the arrival of its segment (tcp_fin, tcp_data_ready), so data and FIN together give two.
    const three = ': 3 POLL_IN/0x41 POLL_IN/0x41 POLL_IN/0x41\n';
    for (const v of ['', '6']) {
      expect(native).toContain(`udp${v}: three datagrams in a row${three}`);
      expect(native).toContain(`tcp${v}: three connections queued on the listener${three}`);
      expect(native).toContain(`tcp${v}: peer writes three times before a read${three}`);
      expect(native).toContain(`tcp${v}: peer writes, then SHUT_WR${three}`);
      expect(native).toContain(
        `tcp${v}: peer corks, writes, SHUT_WR (data and FIN in one segment): 2 POLL_IN/0x41 POLL_IN/0x41\n`,
      );
      expect(native).toContain(
        `tcp${v}: peer sends MSG_MORE, SHUT_WR (data and FIN in one segment): 2 POLL_IN/0x41 POLL_IN/0x41\n`,
      );
      expect(native).toContain(
        `tcp${v}: own SHUT_WR, peer corks, writes, SHUT_WR: 2 POLL_HUP/0x18 POLL_IN/0x41\n`,
      );
    }
    expect(native).toContain('pipe: write end armed, a read: 1 POLL_OUT/0x304\n');
    expect(native).toContain('pipe: write end armed, a write: 0\n');
    expect(native).toContain(
      'eventfd: FIOASYNC = -1 ENOTTY, O_ASYNC kept: 0; F_SETFL = 0, O_ASYNC kept: 0\n',
    );
    expect(native).toContain('inotify: FIOASYNC = 0, O_ASYNC kept: 1; F_SETFL = 0, O_ASYNC kept: 1\n');
  });

  it('prints the same under tsvisor', async () => {
    const got = await bed.run(['/test/sigio-cond', '/tmp'], {
      volumes: [{ host: bed.dir, sandbox: '/test', readOnly: true }],
    });
    expect(got.stderr).toBe('');
    expect(got.stdout).toBe(native);
    expect(got.status).toBe(0);
  }, 120_000);
});
