// A HostCalls for tests: each call runs the host-calls helper (compiled once, like host-ops)
// with the directory fds inherited as fds 3 and 4. The runtime supplies these calls from its
// native addon; this stands in for it so hostfs's use of them is tested against the kernel.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HostCalls } from '../hostfs/hostfs.js';

let helper: string | null = null;

function hostCallsBinary(): string {
  if (helper !== null) return helper;
  const src = fileURLToPath(new URL('./host-calls.c', import.meta.url));
  const hash = createHash('sha256').update(readFileSync(src)).digest('hex').slice(0, 16);
  const dir = join(tmpdir(), `tsvisor-vfs-helper-${hash}`);
  const out = join(dir, 'host-calls');
  if (!existsSync(out)) {
    mkdirSync(dir, { recursive: true });
    const tmp = `${out}.${process.pid}`;
    execFileSync('gcc', ['-O1', '-o', tmp, src]);
    renameSync(tmp, out);
  }
  helper = out;
  return out;
}

const hex = (s: string | null): string =>
  s === null || s.length === 0 ? '-' : Buffer.from(s, 'latin1').toString('hex');

function run(fds: number[], args: (string | number)[]): string {
  const r = spawnSync(hostCallsBinary(), args.map(String), {
    stdio: ['ignore', 'pipe', 'pipe', ...fds],
    encoding: 'latin1',
  });
  if (r.status !== 0) throw new Error(`host-calls ${args.join(' ')}: status ${r.status} ${r.stderr}`);
  return r.stdout.trim();
}

function status(line: string): number {
  return line.startsWith('E') ? -Number(line.slice(1)) : 0;
}

/** HostCalls through the helper process. */
export function helperHostCalls(): HostCalls {
  return {
    mknodat: (dirFd, name, mode, dev) => status(run([dirFd], ['mknodat', hex(name), mode, dev])),
    renameat2: (oldDir, oldName, newDir, newName, flags) =>
      status(run([oldDir, newDir], ['renameat2', hex(oldName), hex(newName), flags])),
    getxattr: (dirFd, name, attr) => {
      const line = run([dirFd], ['getxattr', hex(name), hex(attr)]);
      return line.startsWith('E') ? status(line) : Buffer.from(line.slice(3), 'hex');
    },
    setxattr: (dirFd, name, attr, value, flags) =>
      status(
        run([dirFd], ['setxattr', hex(name), hex(attr), hex(Buffer.from(value).toString('latin1')), flags]),
      ),
    listxattr: (dirFd, name) => {
      const line = run([dirFd], ['listxattr', hex(name)]);
      if (line.startsWith('E')) return status(line);
      return line
        .slice(2)
        .split(' ')
        .filter(Boolean)
        .map((h) => Buffer.from(h, 'hex').toString('latin1'));
    },
    removexattr: (dirFd, name, attr) => status(run([dirFd], ['removexattr', hex(name), hex(attr)])),
    lseek: (fd, offset, whence) => {
      const line = run([fd], ['lseek', offset, whence]);
      return line.startsWith('E') ? status(line) : Number(line.slice(3));
    },
  };
}
