/**
 * set*id transitions compared with the real kernel: each sequence runs natively in a forked
 * child that starts as root, printing the result, the resulting ids and the permitted and
 * effective capability sets after every step. The host's root may lack some capabilities (a
 * container's bounding set): the sets are compared within what the host's root starts with.
 */
import { isError } from '@tsvisor/abi';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ID_UNCHANGED,
  makeCredentials,
  setFsId,
  setId,
  setReId,
  setKeepCaps,
  setResId,
  type Credentials,
} from './credentials.js';

type Op =
  | ['setuid', number]
  | ['setreuid', number, number]
  | ['setresuid', number, number, number]
  | ['setfsuid', number]
  | ['keepcaps', number];

const M = ID_UNCHANGED;
const sequences: Op[][] = [
  [
    ['setuid', 1000],
    ['setuid', 0],
  ],
  [
    ['setresuid', 1000, 1001, 1002],
    ['setuid', 1002],
    ['setuid', 1001],
    ['setreuid', M, 1000],
    ['setreuid', 1001, M],
  ],
  [
    ['setreuid', 1000, 1001],
    ['setreuid', M, 1000],
    ['setresuid', M, M, 1001],
    ['setuid', 5],
  ],
  [
    ['setresuid', M, 1000, M],
    ['setuid', 0],
    ['setreuid', 7, 8],
  ],
  [
    ['setfsuid', 5],
    ['setfsuid', M],
    ['setuid', 1000],
    ['setfsuid', 0],
    ['setfsuid', 1000],
  ],
  [
    ['keepcaps', 1],
    ['setresuid', 1000, 1000, 0],
    ['setresuid', 1000, 1000, 1000],
    ['setuid', 0],
  ],
  [
    ['keepcaps', 1],
    ['setreuid', M, 1000],
    ['setfsuid', 0],
    ['setfsuid', 7],
    ['setuid', 1000],
    ['setreuid', M, 0],
  ],
  [
    ['setreuid', 1000, M],
    ['setuid', 1000],
    ['setreuid', 0, M],
  ],
  [
    ['setuid', M],
    ['setresuid', 1, 2, 3],
    ['setresuid', 3, 2, 1],
    ['setresuid', 4, M, M],
  ],
];

function cProgram(): string {
  const call = (op: Op): string => {
    const args = op
      .slice(1)
      .map((n) => `${n === M ? '-1' : n}`)
      .join(', ');
    if (op[0] === 'keepcaps') return `r = prctl(PR_SET_KEEPCAPS, ${args}, 0, 0, 0);`;
    return `r = syscall(SYS_${op[0]}, ${args});`;
  };
  const body = sequences
    .map(
      (seq) => `  if (fork() == 0) {
    long r; uid_t a, b, c;
${seq
  .map(
    (op) => `    errno = 0; ${call(op)}
    getresuid(&a, &b, &c);
    printf("%ld %d %u %u %u %ld", ${op[0] === 'setfsuid' ? 'r' : '(long)(r == -1 ? -1 : 0)'}, ${op[0] === 'setfsuid' ? '0' : 'r == -1 ? errno : 0'}, a, b, c, (long)syscall(SYS_setfsuid, -1));
    caps();`,
  )
  .join('\n')}
    fflush(stdout);
    _exit(0);
  }
  wait(0);`,
    )
    .join('\n');
  return `#define _GNU_SOURCE
#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
static unsigned long long within;
static void sets(unsigned long long *prm, unsigned long long *eff) {
  struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
  struct __user_cap_data_struct d[2];
  syscall(SYS_capget, &h, d);
  *prm = d[0].permitted | (unsigned long long)d[1].permitted << 32;
  *eff = d[0].effective | (unsigned long long)d[1].effective << 32;
}
static void caps(void) {
  unsigned long long p, e;
  sets(&p, &e);
  printf(" %llx %llx\\n", p & within, e & within);
}
int main(void) {
  unsigned long long e;
  sets(&within, &e);
  printf("%llx\\n", within);
  fflush(stdout);
${body}
  return 0;
}
`;
}

function ours(within: bigint): string[] {
  const out: string[] = [];
  for (const seq of sequences) {
    let c: Credentials = makeCredentials();
    for (const op of seq) {
      let ret = 0;
      let errno = 0;
      if (op[0] === 'keepcaps') {
        const r = setKeepCaps(c, BigInt(op[1]));
        if (isError(r)) throw new Error('keepcaps');
        c = r;
      } else if (op[0] === 'setfsuid') {
        const r = setFsId(c, 'u', op[1]);
        ret = r.old;
        c = r.creds;
      } else {
        const r =
          op[0] === 'setuid'
            ? setId(c, 'u', op[1])
            : op[0] === 'setreuid'
              ? setReId(c, 'u', op[1], op[2])
              : setResId(c, 'u', op[1], op[2], op[3]);
        if (isError(r)) {
          ret = -1;
          errno = r.errno;
        } else c = r;
      }
      const sets = `${(c.permitted & within).toString(16)} ${(c.effective & within).toString(16)}`;
      out.push(`${ret} ${errno} ${c.uid} ${c.euid} ${c.suid} ${c.fsuid} ${sets}`);
    }
  }
  return out;
}

describe('set*id compared with the real kernel', () => {
  it('gives the same results and ids after every step', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsvisor-creds-'));
    writeFileSync(join(dir, 'creds.c'), cProgram());
    execFileSync('gcc', ['-O0', '-o', join(dir, 'creds'), join(dir, 'creds.c')]);
    const native = execFileSync(join(dir, 'creds'), { encoding: 'utf8' }).trim().split('\n');
    const within = BigInt(`0x${native[0] ?? ''}`);
    expect(ours(within)).toEqual(native.slice(1));
  });
});
