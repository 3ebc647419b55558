import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT_CREDS, Tmpfs, Vfs, anonInode, createPipe } from './index.js';
import type { Statfs } from './index.js';

/** The fields of fstatfs(2) that a pseudo filesystem fixes, as the host gives them. */
type Shape = Pick<
  Statfs,
  'type' | 'bsize' | 'blocks' | 'bfree' | 'bavail' | 'files' | 'ffree' | 'namelen' | 'frsize'
>;

/** fstatfs(2) on a host pipe and a host eventfd (pipefs and anon_inodefs). */
function host(): { pipe: Shape; anon: Shape } {
  const dir = mkdtempSync(join(tmpdir(), 'tsvisor-statfs-'));
  try {
    const src = join(dir, 'a.c');
    writeFileSync(
      src,
      `#include <stdio.h>
#include <sys/eventfd.h>
#include <sys/vfs.h>
#include <unistd.h>
static void show(int fd) {
  struct statfs s;
  fstatfs(fd, &s);
  printf("%ld %ld %ld %ld %ld %ld %ld %ld %ld\\n", (long)s.f_type, (long)s.f_bsize, (long)s.f_blocks,
         (long)s.f_bfree, (long)s.f_bavail, (long)s.f_files, (long)s.f_ffree, (long)s.f_namelen,
         (long)s.f_frsize);
}
int main(void) {
  int p[2];
  pipe(p);
  show(p[0]);
  show(eventfd(0, 0));
  return 0;
}
`,
    );
    execFileSync('gcc', ['-o', join(dir, 'a'), src]);
    const lines = execFileSync(join(dir, 'a'), { encoding: 'utf8' }).trim().split('\n');
    const parse = (line: string | undefined): Shape => {
      const [type, bsize, blocks, bfree, bavail, files, ffree, namelen, frsize] = (line ?? '')
        .split(' ')
        .map(Number);
      return { type, bsize, blocks, bfree, bavail, files, ffree, namelen, frsize } as Shape;
    };
    return { pipe: parse(lines[0]), anon: parse(lines[1]) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('simpleStatfs (pipefs, anon_inodefs)', () => {
  it('matches Linux for pipefs and anon_inodefs', () => {
    const want = host();
    const vfs = new Vfs(new Tmpfs());
    const ends = createPipe(ROOT_CREDS);
    if (!Array.isArray(ends)) throw new Error('createPipe failed');
    expect(vfs.statfsOf(ends[0].location)).toMatchObject(want.pipe);
    expect(vfs.statfsOf(anonInode('[eventfd]'))).toMatchObject(want.anon);
  });
});
