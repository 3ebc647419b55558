import { isError, stat as statStruct } from '@tsvisor/abi';
import { KernelProcSource } from '@tsvisor/kernel';
import { createProcfs } from '@tsvisor/procfs';
import { ROOT_CREDS, type FsContext } from '@tsvisor/vfs';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUF, harness } from './harness.test-util.js';

const here = new URL('.', import.meta.url).pathname;

/** What testdata/anon-inode.c prints on the host kernel. */
function hostOutput(): string {
  const dir = mkdtempSync('/var/tmp/tsvisor-anon-');
  try {
    const exe = join(dir, 'anon-inode');
    execFileSync('gcc', ['-O1', '-Wall', '-Werror', '-o', exe, join(here, 'testdata/anon-inode.c')]);
    return execFileSync(exe, { encoding: 'utf8', timeout: 10_000 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The same program's steps, as syscalls of a tsvisor task with /proc mounted. */
async function sandboxOutput(): Promise<string> {
  const h = harness();
  const vfs = h.kernel.vfs;
  if (!vfs) throw new Error('no vfs');
  const ctx: FsContext = vfs.rootContext(ROOT_CREDS);
  vfs.mkdirat(ctx, ctx.cwd, '/proc', 0o555);
  vfs.mount(ctx, ctx.cwd, '/proc', createProcfs(new KernelProcSource(h.kernel)));
  const fstat = async (fd: number): Promise<ReturnType<typeof statStruct.parse>> => {
    expect(await h.call('fstat', fd, BUF + 0x800)).toBe(0);
    return statStruct.parse(h.mem.peek(BUF + 0x800, statStruct.size));
  };
  const lines: string[] = [];
  const show = async (what: string, fd: number): Promise<void> => {
    const st = await fstat(fd);
    if (isError(st)) throw new Error('stat');
    h.mem.write(BUF, new TextEncoder().encode(`/proc/self/fd/${fd}\0`));
    const n = (await h.call('readlinkat', -100, BUF, BUF + 0x100, 127)) as number;
    const link = n > 0 ? new TextDecoder().decode(h.mem.peek(BUF + 0x100, n)) : '';
    // glibc's major(): bits 8-19 and 32-43 of st_dev.
    const major = Number(((st.st_dev >> 8n) & 0xfffn) | ((st.st_dev >> 32n) & ~0xfffn));
    lines.push(
      `${what} mode=${st.st_mode.toString(8)} nlink=${st.st_nlink} uid=${st.st_uid} gid=${st.st_gid} ` +
        `size=${st.st_size} blksize=${st.st_blksize} blocks=${st.st_blocks} rdev=${st.st_rdev} ` +
        `dev_major=${major} link=${link}`,
    );
  };
  const efd = (await h.call('eventfd2', 0, 0)) as number;
  const epfd = (await h.call('epoll_create1', 0)) as number;
  await show('eventfd', efd);
  await show('epoll', epfd);
  const a = await fstat(efd);
  const b = await fstat(epfd);
  h.mem.write(BUF, new TextEncoder().encode('/\0'));
  expect(await h.call('newfstatat', -100, BUF, BUF + 0x800, 0)).toBe(0);
  const root = statStruct.parse(h.mem.peek(BUF + 0x800, statStruct.size));
  if (isError(a) || isError(b) || isError(root)) throw new Error('stat');
  const same = a.st_ino === b.st_ino && a.st_dev === b.st_dev ? 1 : 0;
  lines.push(`same inode = ${same}, own device = ${a.st_dev !== root.st_dev ? 1 : 0}`);
  return `${lines.join('\n')}\n`;
}

describe('eventfd and epoll stand on anon_inodefs', () => {
  it('fstat and /proc/self/fd agree with the host kernel', async () => {
    const host = hostOutput();
    expect(host).toContain('link=anon_inode:[eventfd]');
    expect(await sandboxOutput()).toBe(host);
  });
});
