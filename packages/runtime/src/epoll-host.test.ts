// epoll over host sockets (network mode `host`) against Linux: testdata/epoll-host-idle.c (300
// idle connections in the set, level- and edge-triggered, with busy ones, two connections made
// ready just before one wait, a peer's close and reset, one-shot, a socket closed while ready, a
// blocking wait woken by another process) runs natively and under tsvisor and must print the
// same. The sandbox learns of the host's changes from readiness watches, and its epoll asks only
// the sockets something happened to (the syscalls unit tests count the host polls).
// testdata/epoll-host-edge.c: what the watch does not see by itself (an arrival while data is
// unread, as an edge; a blocked wait for EPOLLRDNORM or EPOLLPRI alone; poll and select of an
// epoll fd right after the program's own send), likewise.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { compile, expectSameUnderTsvisor, testbed } from './c-programs.test-util.js';

let native = '';
let nativeEdge = '';
const bed = testbed((dir) => {
  const exe = compile(dir, 'epoll-host-idle', ['-O1', '-Wall', '-Werror']);
  native = execFileSync(exe, [], { encoding: 'utf8', timeout: 20_000 });
  const edge = compile(dir, 'epoll-host-edge', ['-O1', '-Wall', '-Werror', '-pthread']);
  nativeEdge = execFileSync(edge, [], { encoding: 'utf8', timeout: 20_000 });
});

describe('epoll-host-idle.c', () => {
  it('shows on the host kernel what each phase reports', () => {
    expect(native).toContain('idle 300: first wait 150 events, 150 writable edge-triggered, 0 others\n');
    expect(native).toContain('two sent to at once: 50 rounds, 0 wrong\n');
    expect(native).toContain('peer closed, edge-triggered: 1 events, 0x2001; again: 0 events\n');
    expect(native).toContain('idle connections reported after the first wait: 0\n');
  });

  it('prints the same under tsvisor in network mode host', async () => {
    const got = await bed.run(['/test/epoll-host-idle'], {
      network: 'host',
      volumes: [{ host: bed.dir, sandbox: '/test', readOnly: true }],
    });
    expect(got.stderr).toBe('');
    expect(got.stdout).toBe(native);
    expect(got.status).toBe(0);
  }, 60_000);
});

describe('epoll-host-edge.c', () => {
  it('shows on the host kernel an edge per arrival and the waits the watch alone would miss', () => {
    expect(nativeEdge).toContain('tcp 2 more, 3 unread: 1 0x1\n');
    expect(nativeEdge).toContain('tcp read 1: 1; wait 0\n');
    expect(nativeEdge).toContain('tcp 20 arrivals, none read: 20 edges\n');
    expect(nativeEdge).toContain('udp 10 datagrams, none read: 10 edges\n');
    expect(nativeEdge).toContain('rdnorm blocked, 1 sent: 1 0x40\n');
    expect(nativeEdge).toContain('pri blocked, 1 urgent sent: 1 0x2\n');
    expect(nativeEdge).toContain('right after a send, 20 rounds: 0 wrong\n');
  });

  it(
    'prints the same under tsvisor in network mode host',
    () => expectSameUnderTsvisor(bed, 'epoll-host-edge', nativeEdge, { network: 'host' }),
    60_000,
  );
});
