/** Test helpers: a Vfs with procfs at /proc and sysfs at /sys over a fixture source. */

import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isError, Mode, OpenFlag } from '@tsvisor/abi';
import type { LinuxError } from '@tsvisor/abi';
import { Posix, ROOT_CREDS, Tmpfs, Vfs } from '@tsvisor/vfs';
import type { Creds } from '@tsvisor/vfs';
import { FixtureProcSource } from './fixture.js';
import { createCgroupfs, createProcfs, createSysfs } from './procfs.js';

export interface Mounted {
  src: FixtureProcSource;
  vfs: Vfs;
  p: Posix;
}

/** The sample fixture mounted at /proc and /sys of a tmpfs root; `p` acts with `creds`. */
export function mounted(creds: Creds = ROOT_CREDS, src = FixtureProcSource.sample()): Mounted {
  const vfs = new Vfs(new Tmpfs({ mode: 0o755 }));
  const ctx = vfs.rootContext(ROOT_CREDS);
  for (const d of ['/proc', '/sys']) {
    const err = vfs.mkdirat(ctx, ctx.cwd, d, 0o555);
    if (err) throw new Error(`mkdir ${d}: ${err.name}`);
  }
  const pm = vfs.mount(ctx, ctx.cwd, '/proc', createProcfs(src, { randomUuid: () => crypto.randomUUID() }));
  if (isError(pm)) throw new Error('mount /proc');
  const sm = vfs.mount(ctx, ctx.cwd, '/sys', createSysfs(src));
  if (isError(sm)) throw new Error('mount /sys');
  const cm = vfs.mount(ctx, ctx.cwd, '/sys/fs/cgroup', createCgroupfs(src));
  if (isError(cm)) throw new Error('mount /sys/fs/cgroup');
  return { src, vfs, p: new Posix(vfs, creds) };
}

/** Read a whole file through the fd API (small reads, to exercise offsets), or the open/read error. */
export function readAll(p: Posix, path: string, chunk = 7): string | LinuxError {
  const fd = p.open(path, OpenFlag.O_RDONLY);
  if (isError(fd)) return fd;
  let out = '';
  const buf = new Uint8Array(chunk);
  for (;;) {
    const n = p.read(fd, buf);
    if (isError(n)) {
      p.close(fd);
      return n;
    }
    if (n === 0) break;
    out += Buffer.from(buf.subarray(0, n)).toString('latin1');
  }
  p.close(fd);
  return out;
}

/** The names of a directory (without `.` and `..`), or the error. */
export function list(p: Posix, path: string): string[] | LinuxError {
  const fd = p.open(path, OpenFlag.O_RDONLY | OpenFlag.O_DIRECTORY);
  if (isError(fd)) return fd;
  const ents = p.getdents(fd);
  p.close(fd);
  if (isError(ents)) return ents;
  return ents.map((e) => e.name).filter((n) => n !== '.' && n !== '..');
}

/**
 * Copy a procfs subtree into a host directory (files with their generated content, symlinks with
 * their targets), so real tools can read it once it is bind-mounted over /proc in a namespace.
 */
export function materialize(p: Posix, from: string, to: string): void {
  const names = list(p, from);
  if (isError(names)) return;
  for (const n of names) {
    const src = `${from}/${n}`;
    const dst = join(to, n);
    const st = p.lstat(src);
    if (isError(st)) continue;
    const type = st.mode & Mode.S_IFMT;
    if (type === Mode.S_IFDIR) {
      mkdirSync(dst);
      materialize(p, src, dst);
    } else if (type === Mode.S_IFLNK) {
      const target = p.readlink(src);
      if (!isError(target)) symlinkSync(target, dst);
    } else {
      const content = readAll(p, src, 4096);
      if (!isError(content)) writeFileSync(dst, Buffer.from(content, 'latin1'));
    }
  }
}

/** One write(2) of `text` at offset 0 of `path`, as `printf ... > file` does it. */
export function putText(p: Posix, path: string, text: string): number | LinuxError {
  const fd = p.open(path, OpenFlag.O_WRONLY | OpenFlag.O_TRUNC);
  if (isError(fd)) return fd;
  const r = p.write(fd, new TextEncoder().encode(text));
  p.close(fd);
  return r;
}

/**
 * Each of `inputs` written to each of `paths` (a sysctl file) in a fresh network namespace of the
 * real kernel, after `before` when given: `ok <value read back>` or `err`, in that order. Null
 * where `unshare -n` is not allowed.
 */
export function nativeSysctlWrites(
  paths: readonly string[],
  inputs: readonly string[],
  before?: string,
): string[] | null {
  const prelude = before === undefined ? '' : `echo ${before} > PATH; `;
  const script = paths
    .flatMap((path) =>
      inputs.map(
        (_, i) =>
          `unshare -n sh -c '${prelude.replace('PATH', path)}printf "%s" "$1" > ${path} 2>/dev/null && echo "ok $(cat ${path})" || echo err' x "\${${i + 1}}"`,
      ),
    )
    .join('\n');
  try {
    return execFileSync('sh', ['-c', script, 'sh', ...inputs], { encoding: 'utf8' })
      .trimEnd()
      .split('\n');
  } catch {
    return null;
  }
}
