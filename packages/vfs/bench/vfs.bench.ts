/**
 * Throughput of the hot paths (run with `npx vitest bench --run`). The comparison with
 * memfs and ZenFS needs those packages installed; until then these are absolute numbers.
 */
import { bench, describe } from 'vitest';
import { O_CREAT, O_DIRECTORY, O_RDONLY, O_RDWR, Posix, ROOT_CREDS, Tmpfs, Vfs } from '../src/index.js';

const p = new Posix(new Vfs(new Tmpfs()), ROOT_CREDS);
p.mkdir('/d', 0o755);
const fd = p.open('/d/file', O_CREAT | O_RDWR, 0o644) as number;
p.write(fd, new Uint8Array(4096).fill(1));
p.close(fd);
let deep = '';
for (let i = 0; i < 20; i++) {
  deep += `/c${i}`;
  p.mkdir(deep, 0o755);
}
p.symlink(deep, '/link');
p.open(deep + '/leaf', O_CREAT | O_RDWR, 0o644);
p.mkdir('/big', 0o755);
for (let i = 0; i < 10000; i++) p.close(p.open(`/big/f${i}`, O_CREAT | O_RDONLY, 0o644) as number);
const buf4k = new Uint8Array(4096);
const mib = new Uint8Array(1 << 20).fill(7);

describe('tmpfs through Posix', () => {
  bench('stat of an existing file', () => {
    p.stat('/d/file');
  });
  bench('open+read 4 KiB+close', () => {
    const f = p.open('/d/file', O_RDONLY) as number;
    p.read(f, buf4k);
    p.close(f);
  });
  bench('create+unlink', () => {
    p.close(p.open('/d/tmp', O_CREAT | O_RDWR, 0o644) as number);
    p.unlink('/d/tmp');
  });
  bench('readdir of 10 000 entries', () => {
    const f = p.open('/big', O_RDONLY | O_DIRECTORY) as number;
    p.getdents(f);
    p.close(f);
  });
  bench('deep path walk (20 components + symlink)', () => {
    p.stat('/link/leaf');
  });
  bench(
    '64 MiB sequential write then read in 1 MiB chunks',
    () => {
      const f = p.open('/d/seq', O_CREAT | O_RDWR, 0o644) as number;
      for (let i = 0; i < 64; i++) p.write(f, mib);
      p.lseek(f, 0, 0);
      for (let i = 0; i < 64; i++) p.read(f, mib);
      p.close(f);
      p.unlink('/d/seq');
    },
    { iterations: 5 },
  );
});
