import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  FileDescription,
  FileDescriptionImpl,
  ROOT_CREDS,
  O_RDWR,
  anonInode,
  anonInodeName,
} from './index.js';

/** What the host shows for an eventfd and an epoll fd: mode, same inode, /proc/self/fd link. */
function host(): { mode: number; sameIno: boolean; link: string } {
  const dir = mkdtempSync(join(tmpdir(), 'tsvisor-anon-'));
  try {
    const src = join(dir, 'a.c');
    writeFileSync(
      src,
      `#include <stdio.h>
#include <sys/eventfd.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <unistd.h>
int main(void) {
  int e = eventfd(0, 0), p = epoll_create1(0);
  struct stat a, b;
  fstat(e, &a); fstat(p, &b);
  char l[64] = {0}, q[64];
  snprintf(q, sizeof q, "/proc/self/fd/%d", e);
  readlink(q, l, 63);
  printf("%o %d %s\\n", a.st_mode, a.st_ino == b.st_ino && a.st_dev == b.st_dev, l);
  return 0;
}
`,
    );
    execFileSync('gcc', ['-o', join(dir, 'a'), src]);
    const [mode, same, link] = execFileSync(join(dir, 'a'), { encoding: 'utf8' }).trim().split(' ');
    return { mode: parseInt(mode ?? '', 8), sameIno: same === '1', link: link ?? '' };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** An anonymous file's implementation with every default (what eventfd would override). */
class Plain extends FileDescriptionImpl {}

describe('anonInode', () => {
  it('matches Linux: one shared inode of mode 0600, named anon_inode:[kind]', () => {
    const want = host();
    const ev = new FileDescription(new Plain(), anonInode('[eventfd]'), O_RDWR, ROOT_CREDS);
    const ep = new FileDescription(new Plain(), anonInode('[eventpoll]'), O_RDWR, ROOT_CREDS);
    const a = ev.stat();
    const b = ep.stat();
    expect(a.mode).toBe(want.mode);
    expect(a.ino === b.ino && a.dev === b.dev).toBe(want.sameIno);
    expect(anonInodeName(ev.location)).toBe(want.link);
    expect(anonInodeName(ep.location)).toBe('anon_inode:[eventpoll]');
    ev.release();
    ep.release();
  });
});
