import { execFileSync, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { testbed } from './c-programs.test-util.js';
import { createSandbox } from './sandbox.js';

const bed = testbed();

describe('host stdio', () => {
  it('reads a host pipe that delivers slowly without blocking the event loop', async () => {
    const fifo = join(bed.dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const writer = spawn('/bin/sh', ['-c', `exec > ${fifo}; echo hello; sleep 0.3; echo world`]);
    const stdin = openSync(fifo, 'r');
    const out = join(bed.dir, 'out');
    const stdout = openSync(out, 'w');
    const stderr = openSync('/dev/null', 'w');
    let ticks = 0;
    const timer = setInterval(() => ticks++, 20);
    try {
      const status = await createSandbox({
        argv: ['/bin/busybox', 'cat'],
        stdio: [stdin, stdout, stderr],
        platform: bed.platform,
        log: () => undefined,
      }).run();
      expect(status).toBe(0);
    } finally {
      clearInterval(timer);
      [stdin, stdout, stderr].forEach((fd) => closeSync(fd));
      writer.kill();
    }
    expect(readFileSync(out, 'utf8')).toBe('hello\nworld\n');
    // The 0.3 s the writer slept passed with the event loop free.
    expect(ticks).toBeGreaterThanOrEqual(8);
  });

  it('reads a regular file and reports its end', async () => {
    const input = join(bed.dir, 'in');
    execFileSync('/bin/sh', ['-c', `printf 'one\\ntwo\\n' > ${input}`]);
    const out = join(bed.dir, 'out2');
    const fds = [openSync(input, 'r'), openSync(out, 'w'), openSync('/dev/null', 'w')] as const;
    try {
      const status = await createSandbox({
        argv: ['/bin/busybox', 'wc', '-l'],
        stdio: [fds[0], fds[1], fds[2]],
        platform: bed.platform,
        log: () => undefined,
      }).run();
      expect(status).toBe(0);
    } finally {
      fds.forEach((fd) => closeSync(fd));
    }
    expect(readFileSync(out, 'utf8').trim()).toBe('2');
  });
});
