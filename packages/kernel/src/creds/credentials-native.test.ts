/**
 * set*id transitions compared with the real kernel: each sequence runs natively in a forked
 * child that starts as root, printing the result and the resulting ids after every step.
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
  setResId,
  type Credentials,
} from './credentials.js';

type Op =
  | ['setuid', number]
  | ['setreuid', number, number]
  | ['setresuid', number, number, number]
  | ['setfsuid', number];

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
    printf("%ld %d %u %u %u %ld\\n", ${op[0] === 'setfsuid' ? 'r' : '(long)(r == -1 ? -1 : 0)'}, ${op[0] === 'setfsuid' ? '0' : 'r == -1 ? errno : 0'}, a, b, c, (long)syscall(SYS_setfsuid, -1));`,
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
#include <stdio.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
int main(void) {
${body}
  return 0;
}
`;
}

function ours(): string[] {
  const out: string[] = [];
  for (const seq of sequences) {
    let c: Credentials = makeCredentials();
    for (const op of seq) {
      let ret = 0;
      let errno = 0;
      if (op[0] === 'setfsuid') {
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
      out.push(`${ret} ${errno} ${c.uid} ${c.euid} ${c.suid} ${c.fsuid}`);
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
    expect(ours()).toEqual(native);
  });
});
