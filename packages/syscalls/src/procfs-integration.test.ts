import { KernelProcSource } from '@tsvisor/kernel';
import { createProcfs } from '@tsvisor/procfs';
import { ROOT_CREDS, type FsContext } from '@tsvisor/vfs';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FakePlatform } from './fake-platform.test-util.js';
import { BUF, harness } from './harness.test-util.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

describe('procfs over the kernel', () => {
  it('shows the running program in /proc/self', async () => {
    const platform = new FakePlatform();
    const h = harness({ platform });
    const vfs = h.kernel.vfs;
    if (!vfs) throw new Error('no vfs');
    const ctx: FsContext = vfs.rootContext(ROOT_CREDS);
    vfs.mkdirat(ctx, ctx.cwd, '/proc', 0o555);
    vfs.mkdirat(ctx, ctx.cwd, '/bin', 0o755);
    vfs.mount(ctx, ctx.cwd, '/proc', createProcfs(new KernelProcSource(h.kernel)));
    const put = (at: number, s: string): number => {
      h.mem.write(at, enc.encode(`${s}\0`));
      return at;
    };
    const fd = (await h.call('openat', -100, put(BUF, '/bin/busybox'), 0o1101, 0o755)) as number;
    const bin = new Uint8Array(readFileSync('/bin/busybox'));
    for (let off = 0; off < bin.length; off += 0x8000) {
      const chunk = bin.subarray(off, off + 0x8000);
      h.mem.write(BUF + 0x1000, chunk);
      await h.call('write', fd, BUF + 0x1000, chunk.length);
    }
    await h.call('close', fd);
    const path = put(BUF, '/bin/busybox');
    const args = [put(BUF + 0x100, 'busybox'), put(BUF + 0x110, 'echo'), put(BUF + 0x120, 'hi')];
    args.forEach((a, i) => h.mem.writeU64(BUF + 0x200 + i * 8, BigInt(a)));
    h.mem.writeU64(BUF + 0x218, 0n);
    h.mem.writeU64(BUF + 0x300, 0n);
    await h.call('execve', path, BUF + 0x200, BUF + 0x300);

    // From here on the task's memory is the new image; use its stack area as scratch.
    const mem = h.task.memory;
    const scratch = Number(h.task.regs.get('rsp')) - 0x2000;
    const w = (s: string): number => {
      mem.write(scratch, enc.encode(`${s}\0`));
      return scratch;
    };
    const readRaw = async (p: string): Promise<Uint8Array> => {
      const f = (await h.call('openat', -100, w(p), 0, 0)) as number;
      const n = (await h.call('read', f, scratch + 0x100, 4000)) as number;
      await h.call('close', f);
      return mem.read(scratch + 0x100, n) as Uint8Array;
    };
    const read = async (p: string): Promise<string> => dec.decode(await readRaw(p));
    const status = await read('/proc/self/status');
    expect(status).toMatch(/^Name:\tbusybox\n/);
    expect(status).toContain('\nPid:\t1\n');
    expect(status).toContain('\nPPid:\t0\n');
    expect(await read('/proc/self/cmdline')).toBe('busybox\0echo\0hi\0');
    const n = (await h.call('readlinkat', -100, w('/proc/self/exe'), scratch + 0x100, 200)) as number;
    expect(dec.decode(mem.read(scratch + 0x100, n) as Uint8Array)).toBe('/bin/busybox');
    const maps = await read('/proc/self/maps');
    expect(maps).toContain('/bin/busybox');
    expect(maps).toContain('[stack]');
    const auxv = await readRaw('/proc/self/auxv');
    expect(auxv.length % 16).toBe(0);
    const v = new DataView(auxv.buffer, auxv.byteOffset, auxv.byteLength);
    const keys = Array.from({ length: auxv.length / 16 }, (_, i) => Number(v.getBigUint64(i * 16, true)));
    expect(keys).toContain(9); // AT_ENTRY
    expect(keys.at(-1)).toBe(0); // AT_NULL
  });
});
