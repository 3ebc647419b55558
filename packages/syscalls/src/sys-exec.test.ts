import { E } from '@tsvisor/abi';
import { AT, NO_RESULT } from '@tsvisor/kernel';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FakePlatform } from './fake-platform.test-util.js';
import { BUF, harness } from './harness.test-util.js';

const enc = new TextEncoder();

async function install(
  h: ReturnType<typeof harness>,
  path: string,
  bytes: Uint8Array,
  mode = 0o755,
): Promise<void> {
  for (const dir of path
    .split('/')
    .slice(1, -1)
    .reduce<string[]>((acc, p) => [...acc, `${acc.at(-1) ?? ''}/${p}`], [])) {
    h.mem.write(BUF, enc.encode(`${dir}\0`));
    await h.call('mkdir', BUF, 0o755);
  }
  h.mem.write(BUF, enc.encode(`${path}\0`));
  const fd = (await h.call('openat', -100, BUF, 0o1101, mode)) as number;
  for (let off = 0; off < bytes.length; off += 0x8000) {
    const chunk = bytes.subarray(off, off + 0x8000);
    h.mem.write(BUF + 0x1000, chunk);
    await h.call('write', fd, BUF + 0x1000, chunk.length);
  }
  await h.call('close', fd);
}

/** Writes argv/envp arrays and strings into BUF and returns their addresses. */
function vectors(
  h: ReturnType<typeof harness>,
  path: string,
  argv: string[],
  envp: string[],
): [number, number, number] {
  let at = BUF + 0x100;
  const str = (s: string): number => {
    const a = at;
    h.mem.write(a, enc.encode(`${s}\0`));
    at += s.length + 1;
    return a;
  };
  const p = str(path);
  const av = argv.map(str);
  const ev = envp.map(str);
  const arr = (xs: number[], base: number): number => {
    xs.forEach((x, i) => h.mem.writeU64(base + i * 8, BigInt(x)));
    h.mem.writeU64(base + xs.length * 8, 0n);
    return base;
  };
  return [p, arr(av, BUF + 0x800), arr(ev, BUF + 0xc00)];
}

describe('execve', () => {
  it('loads a static binary from the VFS: registers, stack, memory', async () => {
    const platform = new FakePlatform();
    const h = harness({ platform });
    const busybox = new Uint8Array(readFileSync('/bin/busybox'));
    await install(h, '/bin/busybox', busybox);
    // The caller's memory is the harness's until exec replaces it.
    const [p, av, ev] = vectors(h, '/bin/busybox', ['busybox', 'echo', 'hi'], ['A=1']);
    h.mem.write(BUF + 0x2000, enc.encode('/bin/busybox\0'));
    expect(await h.call('openat', -100, BUF + 0x2000, 0o2000000, 0)).toBe(0);
    expect(await h.call('execve', p, av, ev)).toBe(NO_RESULT);
    const t = h.task;
    const mem = platform.memoryOf(t);
    const sp = Number(t.regs.get('rsp'));
    expect(t.memory.readU64(sp)).toBe(3n);
    expect(t.memory.readCString(Number(t.memory.readU64(sp + 8)), 100)).toBe('busybox');
    expect(t.memory.readCString(Number(t.memory.readU64(sp + 24)), 100)).toBe('hi');
    expect(t.memory.readU64(sp + 32)).toBe(0n);
    expect(t.memory.readCString(Number(t.memory.readU64(sp + 40)), 100)).toBe('A=1');
    // auxv: find AT_ENTRY and compare with the register.
    let at = sp + 56;
    const aux = new Map<number, bigint>();
    for (;;) {
      const k = Number(t.memory.readU64(at));
      if (k === AT.NULL) break;
      aux.set(k, t.memory.readU64(at + 8) as bigint);
      at += 16;
    }
    expect(aux.get(AT.ENTRY)).toBe(t.regs.get('rip'));
    expect(aux.get(AT.BASE)).toBe(0n);
    // The entry point's bytes are the file's bytes at the matching offset.
    const entry = Number(t.regs.get('rip'));
    const got = mem.peek(entry, 16);
    expect(Array.from(got).some((b) => b !== 0)).toBe(true);
    expect(t.comm).toBe('busybox');
    expect(t.files.size).toBe(0); // close-on-exec
    expect(t.group.didExec).toBe(true);
  });

  it('loads a dynamic PIE and its interpreter from the VFS', async () => {
    const platform = new FakePlatform();
    const h = harness({ platform });
    await install(h, '/bin/true', new Uint8Array(readFileSync('/bin/true')));
    await install(
      h,
      '/lib64/ld-linux-x86-64.so.2',
      new Uint8Array(readFileSync('/lib64/ld-linux-x86-64.so.2')),
    );
    const [p, av, ev] = vectors(h, '/bin/true', ['true'], []);
    expect(await h.call('execve', p, av, ev)).toBe(NO_RESULT);
    const rip = Number(h.task.regs.get('rip'));
    expect(rip).toBeGreaterThan(0x7f0000000000); // the interpreter runs first
  });

  it('runs #! scripts through their interpreter and refuses what it cannot run', async () => {
    const h = harness({ platform: new FakePlatform() });
    await install(h, '/bin/busybox', new Uint8Array(readFileSync('/bin/busybox')));
    await install(h, '/s', enc.encode('#!/bin/busybox sh\necho hi\n'));
    await install(h, '/noexec', enc.encode('#!/bin/busybox\n'), 0o644);
    await install(h, '/garbage', enc.encode('just text\n'));
    await install(h, '/badinterp', enc.encode('#!/missing\n'));
    let [p, av, ev] = vectors(h, '/noexec', ['x'], []);
    expect(await h.call('execve', p, av, ev)).toBe(E.EACCES);
    [p, av, ev] = vectors(h, '/garbage', ['x'], []);
    expect(await h.call('execve', p, av, ev)).toBe(E.ENOEXEC);
    [p, av, ev] = vectors(h, '/badinterp', ['x'], []);
    expect(await h.call('execve', p, av, ev)).toBe(E.ENOENT);
    [p, av, ev] = vectors(h, '/nope', ['x'], []);
    expect(await h.call('execve', p, av, ev)).toBe(E.ENOENT);
    [p, av, ev] = vectors(h, '/', ['x'], []);
    expect(await h.call('execve', p, av, ev)).toBe(E.EACCES);
    expect(await h.call('execve', 1, av, ev)).toBe(E.EFAULT);
    [p, av, ev] = vectors(h, '/s', ['s', 'arg'], []);
    expect(await h.call('execve', p, av, ev)).toBe(NO_RESULT);
    const sp = Number(h.task.regs.get('rsp'));
    const argv = [1, 2, 3, 4].map((i) =>
      h.task.memory.readCString(Number(h.task.memory.readU64(sp + i * 8)), 100),
    );
    expect(h.task.memory.readU64(sp)).toBe(4n);
    expect(argv).toEqual(['/bin/busybox', 'sh', '/s', 'arg']);
  });
});

describe('fork and threads', () => {
  it('fork makes a process with a copied model; clone makes threads sharing everything', async () => {
    const platform = new FakePlatform();
    const h = harness({ platform });
    const pid = (await h.call('fork')) as number;
    expect(pid).toBe(2);
    expect(platform.created).toEqual([{ child: 2, kind: 'fork' }]);
    const child = h.kernel.task(2);
    expect(child?.mm).not.toBe(h.task.mm);
    expect(child?.regs.get('rax')).toBe(0n);
    const flags = 0x100 | 0x200 | 0x400 | 0x800 | 0x10000 | 0x80000 | 0x100000 | 0x200000;
    const tid = (await h.call('clone', flags, 0x7fff0000, BUF, BUF + 8, 0x12345000)) as number;
    expect(tid).toBe(3);
    const th = h.kernel.task(3);
    expect(th?.mm).toBe(h.task.mm);
    expect(th?.regs.get('fs_base')).toBe(0x12345000n);
    expect(th?.regs.get('rsp')).toBe(0x7fff0000n);
    expect(th?.clearChildTid).toBe(BUF + 8);
    expect(h.mem.readI32(BUF)).toBe(3);
    expect(await h.call('clone', 0x10000, 0, 0, 0, 0)).toBe(E.EINVAL);
  });

  it('clone3 validates its struct and creates threads like glibc asks', async () => {
    const h = harness({ platform: new FakePlatform() });
    expect(await h.call('clone3', BUF, 32)).toBe(E.EINVAL);
    h.mem.write(BUF, new Uint8Array(88));
    h.mem.writeU64(BUF, BigInt(0x100 | 0x200 | 0x400 | 0x800 | 0x10000 | 0x80000));
    h.mem.writeU64(BUF + 40, 0x7ff000000000n - 0x10000n);
    h.mem.writeU64(BUF + 48, 0x8000n);
    h.mem.writeU64(BUF + 56, 0x5000n);
    const tid = (await h.call('clone3', BUF, 88)) as number;
    expect(tid).toBe(2);
    expect(h.kernel.task(2)?.regs.get('rsp')).toBe(0x7ff000000000n - 0x8000n);
    h.mem.writeU64(BUF + 48, 0n);
    expect(await h.call('clone3', BUF, 88)).toBe(E.EINVAL);
  });

  it('vfork blocks the parent until the child exits', async () => {
    const h = harness({ platform: new FakePlatform() });
    const p = h.call('vfork');
    await new Promise((r) => setTimeout(r, 0));
    const child = h.kernel.task(2);
    expect(child).toBeDefined();
    let done = false;
    void p.then(() => (done = true));
    await new Promise((r) => setTimeout(r, 0));
    expect(done).toBe(false);
    if (child) h.kernel.exitThread(child, 0);
    expect(await p).toBe(2);
  });
});

describe('execProgram (the runtime starting pid 1)', () => {
  it('starts a program from JS values', async () => {
    const { execProgram } = await import('./sys-exec.js');
    const platform = new FakePlatform();
    const h = harness({ platform });
    await install(h, '/bin/busybox', new Uint8Array(readFileSync('/bin/busybox')));
    const r = await execProgram(
      h.task,
      enc.encode('/bin/busybox'),
      ['sh', '-c', 'exit 42'].map((s) => enc.encode(s)),
      [enc.encode('PATH=/bin')],
    );
    expect(r).toBe(NO_RESULT);
    const sp = Number(h.task.regs.get('rsp'));
    expect(h.task.memory.readU64(sp)).toBe(3n);
    expect(h.task.memory.readCString(Number(h.task.memory.readU64(sp + 24)), 100)).toBe('exit 42');
    expect(await execProgram(h.task, enc.encode('/missing'), [], [])).toBe(E.ENOENT);
  });
});
