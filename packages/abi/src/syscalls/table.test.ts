import { execFileSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { compileC, macroDump, makeTempDir } from '../c-compiler.test-util.js';
import { openFlags } from '../constants/open.js';
import { SYSCALL_MAX, syscallByName, syscallByNumber, syscallTable } from './table.js';

/** Syscalls newer than the installed Linux 6.1 headers (asm/unistd_64.h ends at 450). */
const NEWER_THAN_HEADERS: Record<number, string> = {
  335: 'uretprobe (6.11)',
  336: 'uprobe (6.18)',
  451: 'cachestat (6.5)',
  452: 'fchmodat2 (6.6)',
  453: 'map_shadow_stack (6.6)',
  454: 'futex_wake (6.7)',
  455: 'futex_wait (6.7)',
  456: 'futex_requeue (6.7)',
  457: 'statmount (6.8)',
  458: 'listmount (6.8)',
  459: 'lsm_get_self_attr (6.8)',
  460: 'lsm_set_self_attr (6.8)',
  461: 'lsm_list_modules (6.8)',
  462: 'mseal (6.10)',
  463: 'setxattrat (6.13)',
  464: 'getxattrat (6.13)',
  465: 'listxattrat (6.13)',
  466: 'removexattrat (6.13)',
  467: 'open_tree_attr (6.15)',
  468: 'file_getattr (6.17)',
  469: 'file_setattr (6.17)',
};

const tmp = makeTempDir();
afterAll(() => tmp.dispose());

describe('syscall table', () => {
  it('agrees with every __NR_ of <asm/unistd_64.h>', () => {
    const header = new Map<string, number>();
    for (const m of macroDump('asm/unistd_64.h').matchAll(/^#define __NR_(\w+) (\d+)$/gm)) {
      header.set(m[1]!, Number(m[2]));
    }
    expect(header.size).toBeGreaterThan(350);
    const wrong: string[] = [];
    for (const [name, nr] of header) {
      if (syscallByName(name)?.nr !== nr) wrong.push(`${name}=${nr}: ours ${syscallByName(name)?.nr}`);
      if (syscallByNumber(nr)?.name !== name)
        wrong.push(`${nr}: ours ${syscallByNumber(nr)?.name}, header ${name}`);
    }
    expect(wrong).toEqual([]);
    const headerNumbers = new Set(header.values());
    const extra = syscallTable.filter((s) => !headerNumbers.has(s.nr)).map((s) => s.nr);
    expect(extra).toEqual(Object.keys(NEWER_THAN_HEADERS).map(Number));
  });

  it('has exactly the numbers the running kernel (6.18) implements past the headers', () => {
    // Each number runs in a child with zero arguments; the kernel answers ENOSYS only for numbers it
    // does not have. 337 and 470 bound the table from above.
    const nrs = [...Object.keys(NEWER_THAN_HEADERS).map(Number), 337, 470];
    const src = `
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
int main(void) {
  int nrs[] = {${nrs.join(', ')}};
  for (unsigned i = 0; i < sizeof nrs / sizeof nrs[0]; i++) {
    int p[2];
    if (pipe(p)) return 1;
    pid_t pid = fork();
    if (pid == 0) {
      long r = syscall(nrs[i], 0, 0, 0, 0, 0, 0);
      int e = r < 0 ? errno : 0;
      if (write(p[1], &e, sizeof e) != sizeof e) _exit(2);
      _exit(0);
    }
    close(p[1]);
    int e = -1, st;
    if (read(p[0], &e, sizeof e) != sizeof e) e = -1; /* the call killed the child: it exists */
    close(p[0]);
    waitpid(pid, &st, 0);
    printf("%d %d\\n", nrs[i], e);
  }
  return 0;
}`;
    const bin = compileC(tmp.path, 'nrs', { 'nrs.c': src });
    const enosys = new Set<number>();
    for (const line of execFileSync(bin, { timeout: 60_000 }).toString().trim().split('\n')) {
      const [nr, e] = line.split(' ').map(Number) as [number, number];
      if (e === 38) enosys.add(nr);
    }
    // map_shadow_stack is ENOSYS when the kernel is built without CONFIG_X86_USER_SHADOW_STACK.
    const configDependent = new Set([453]);
    expect([...enosys].filter((n) => !configDependent.has(n)).sort()).toEqual([337, 470]);
  });

  it('looks up by number and by name', () => {
    expect(syscallByNumber(0)?.name).toBe('read');
    expect(syscallByName('openat')?.nr).toBe(257);
    expect(syscallByNumber(400)).toBeUndefined();
    expect(syscallByNumber(-1)).toBeUndefined();
    expect(syscallByNumber(1.5)).toBeUndefined();
    expect(syscallByName('nope')).toBeUndefined();
    expect(SYSCALL_MAX).toBe(469);
    expect(syscallTable).toHaveLength(337 + 46);
  });

  it('has well-formed signatures', () => {
    const problems: string[] = [];
    for (const s of syscallTable) {
      if (s.args.length > 6) problems.push(`${s.name}: ${s.args.length} args`);
      const names = new Set(s.args.map((a) => a.name));
      if (names.size !== s.args.length) problems.push(`${s.name}: duplicate argument names`);
      for (const a of s.args) {
        const t = a.type;
        const ref =
          t.kind === 'inBuffer' || t.kind === 'outBuffer' ? t.len : t.kind === 'array' ? t.count : undefined;
        if (typeof ref === 'number' && (ref < 0 || ref >= s.args.length))
          problems.push(`${s.name}.${a.name}: bad index`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('describes the common calls', () => {
    const read = syscallByName('read')!;
    expect(read.ret).toBe('size');
    expect(read.args.map((a) => a.type.kind)).toEqual(['fd', 'outBuffer', 'size']);
    expect(read.args[1]!.type).toEqual({ kind: 'outBuffer', len: 'ret' });
    const openat = syscallByName('openat')!;
    expect(openat.args[0]!.type.kind).toBe('dirfd');
    expect(openat.args[2]!.type).toEqual({ kind: 'flags', set: openFlags });
    expect(syscallByName('exit_group')!.ret).toBe('none');
    expect(syscallByName('mmap')!.ret).toBe('address');
    expect(syscallByName('writev')!.args[1]!.type).toEqual({
      kind: 'array',
      struct: 'iovec',
      count: 2,
      dir: 'in',
    });
    expect(syscallByName('poll')!.args[0]!.type).toEqual({
      kind: 'array',
      struct: 'pollfd',
      count: 1,
      dir: 'inout',
    });
    expect(syscallByName('fstat')!.args[1]!.type).toEqual({ kind: 'struct', struct: 'stat', dir: 'out' });
  });

  it('refines open-style and fcntl arguments by their values', () => {
    const openat = syscallByName('openat')!;
    expect(openat.refine!([0n, 0n, 0n, 0o644n]).map((a) => a.name)).toEqual(['dfd', 'filename', 'flags']);
    expect(openat.refine!([0n, 0n, 0o100n, 0o644n]).map((a) => a.name)).toEqual([
      'dfd',
      'filename',
      'flags',
      'mode',
    ]);
    const fcntl = syscallByName('fcntl')!;
    expect(fcntl.refine!([3n, 1n, 0n])).toHaveLength(2);
    expect(fcntl.refine!([3n, 2n, 1n])[2]!.type.kind).toBe('flags');
    expect(fcntl.refine!([3n, 999n, 1n])).toBe(fcntl.args);
  });
});
