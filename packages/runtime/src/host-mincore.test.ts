// mincore(2) under tsvisor reports the host's residency: a program that touches some pages of a
// large mapping, drops others, and maps a file prints the same vector natively and sandboxed.
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { testbed } from './c-programs.test-util.js';

// 10000 pages: more than one 4096-page round of the host mincore (the stub's scratch page).
const C_SOURCE = `#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <fcntl.h>
#define N 10000
static unsigned char vec[N];
static void show(const char *what, unsigned long n) {
  unsigned long resident = 0, hash = 0;
  for (unsigned long i = 0; i < n; i++) { resident += vec[i] & 1; hash = hash * 31 + vec[i] + i * (vec[i] & 1); }
  printf("%s: %lu resident, hash %lx\\n", what, resident, hash);
}
int main(int argc, char **argv) {
  char *m = mmap(0, N * 4096UL, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) return 1;
  if (mincore(m, N * 4096UL, vec)) return 2;
  show("untouched", N);
  for (unsigned long i = 0; i < N; i += 7) m[i * 4096] = 1;
  if (mincore(m, N * 4096UL, vec)) return 3;
  show("every 7th touched", N);
  if (madvise(m + 4096 * 4200UL, 4096 * 300UL, MADV_DONTNEED)) return 4;
  if (mincore(m, N * 4096UL, vec)) return 5;
  show("after MADV_DONTNEED", N);
  if (mincore(m + 4096 * 4095UL, 4096 * 3UL, vec)) return 6;
  show("across a round", 3);
  // A hole after two mapped pages: ENOMEM, with the mapped prefix of the vector written first.
  char *h = mmap(0, 4 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (h == MAP_FAILED || munmap(h + 2 * 4096, 4096)) return 9;
  h[4096] = 1;
  memset(vec, 0xff, 4);
  int r = mincore(h, 4 * 4096, vec);
  printf("hole: %d %d, vec %x %x %x %x\\n", r, r ? errno : 0, vec[0], vec[1], vec[2], vec[3]);
  int fd = open(argv[1], O_RDONLY);
  char *f = fd < 0 ? MAP_FAILED : mmap(0, 8 * 4096, PROT_READ, MAP_PRIVATE, fd, 0);
  if (f == MAP_FAILED) return 7;
  volatile char c = f[0] + f[3 * 4096];
  (void)c;
  if (mincore(f, 8 * 4096, vec)) return 8;
  printf("file pages 0 and 3: %d %d\\n", vec[0] & 1, vec[3] & 1);
  return 0;
}
`;

const bed = testbed((dir) => {
  writeFileSync(join(dir, 'residency.c'), C_SOURCE);
  execFileSync('gcc', [
    '-O1',
    '-static',
    '-Wall',
    '-Werror',
    '-o',
    join(dir, 'residency'),
    join(dir, 'residency.c'),
  ]);
  writeFileSync(join(dir, 'data'), new Uint8Array(8 * 4096).fill(7));
});

describe('mincore asks the host', () => {
  it('prints the same residency natively and under tsvisor', async () => {
    const want = spawnSync(join(bed.dir, 'residency'), [join(bed.dir, 'data')], { encoding: 'utf8' });
    expect(want.status).toBe(0);
    // Untouched anonymous memory is not resident (what every-page-resident got wrong); the count
    // after touching depends on the host's transparent huge pages, so only the match is asserted.
    expect(want.stdout).toMatch(/^untouched: 0 resident/);
    expect(want.stdout).toMatch(/file pages 0 and 3: 1 1/);
    expect(want.stdout).toMatch(/hole: -1 12, vec 0 1 ff ff/);
    const got = await bed.run(['/work/residency', '/work/data'], {
      volumes: [{ host: bed.dir, sandbox: '/work', readOnly: true }],
    });
    expect(got.stderr).toBe('');
    expect(got.stdout).toBe(want.stdout);
    expect(got.status).toBe(0);
  });
});
