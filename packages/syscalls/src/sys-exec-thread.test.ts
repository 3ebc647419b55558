import { NO_RESULT } from '@tsvisor/kernel';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FakePlatform } from './fake-platform.test-util.js';
import { BUF, harness } from './harness.test-util.js';
import { execProgram } from './sys-exec.js';

const enc = new TextEncoder();

describe('execve by a thread that is not the leader', () => {
  it("runs the program in that thread under the leader's pid, as de_thread does", async () => {
    const h = harness({ platform: new FakePlatform() });
    h.mem.write(BUF, enc.encode('/busybox\0'));
    const fd = (await h.call('openat', -100, BUF, 0o1101, 0o755)) as number;
    const bytes = new Uint8Array(readFileSync('/bin/busybox'));
    for (let off = 0; off < bytes.length; off += 0x8000) {
      const chunk = bytes.subarray(off, off + 0x8000);
      h.mem.write(BUF + 0x1000, chunk);
      await h.call('write', fd, BUF + 0x1000, chunk.length);
    }
    await h.call('close', fd);
    const flags = 0x100 | 0x200 | 0x400 | 0x800 | 0x10000 | 0x80000 | 0x100000 | 0x200000;
    const tid = (await h.call('clone', flags, 0x7fff0000, BUF, BUF + 8, 0)) as number;
    const th = h.kernel.task(tid);
    if (!th) throw new Error('clone made no thread');
    expect(tid).not.toBe(h.task.tgid);

    const r = await execProgram(th, enc.encode('/busybox'), [enc.encode('busybox')], []);

    expect(r).toBe(NO_RESULT);
    expect(th.tid).toBe(h.task.tgid);
    expect(th.group.leader).toBe(th);
    expect(h.task.state).toBe('exited');
    expect(h.kernel.task(h.task.tgid)).toBe(th);
    expect(h.kernel.task(tid)).toBeUndefined();
    expect(h.kernel.allTasks()).toEqual([th]);
    expect(th.group.state).toBe('alive');
  });
});
