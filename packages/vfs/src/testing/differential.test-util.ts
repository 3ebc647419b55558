/**
 * Differential testing against the real kernel: the same operation list runs through the
 * host-ops C helper (in a chroot of a host directory, optionally on a fresh Linux tmpfs) and
 * through a {@link Posix} facade over the VFS; the result lines must match.
 */

import { execFileSync, spawn, spawnSync } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isError } from '@tsvisor/abi';
import type { LinuxError } from '@tsvisor/abi';
import { AT_SYMLINK_NOFOLLOW, O_DIRECTORY, O_RDONLY } from '../constants.js';
import { getRecordLock, setRecordLock } from '../locks.js';
import type { Posix } from '../posix.js';
import { Tmpfs } from '../tmpfs/tmpfs.js';
import type { Stat, Statfs } from '../types.js';
import { ALL_CAPS, userCreds, ROOT_CREDS } from '../types.js';

/** The capabilities setfsuid(2) to a non-zero uid drops (CAP_FS_MASK, bits below 32). */
const FS_CAPS = (1 << 0) | (1 << 1) | (1 << 2) | (1 << 3) | (1 << 4) | (1 << 9) | (1 << 27);

/** One operation; strings are byte strings (latin1). */
export type Op =
  | ['open', string, number, number]
  | ['openat', number, string, number, number]
  /** openat2(dir handle or -100 for AT_FDCWD, path, flags, mode, resolve): the file's mode and size, then close. */
  | ['openat2', number, string, number, number, number]
  /** Mount a fresh tmpfs (mode 0755) on a directory. */
  | ['mounttmpfs', string]
  /** statfs(path): blocks, bfree, bavail, files, ffree. */
  | ['statfs', string]
  /** The entries of a directory with their lstat (mode, nlink, uid, gid, size), no handle kept. */
  | ['ls', string]
  | ['close', number]
  | ['read', number, number]
  | ['pread', number, number, number]
  | ['write', number, string]
  | ['pwrite', number, string, number]
  | ['lseek', number, number, number]
  | ['stat', string, number]
  | ['fstat', number]
  | ['mkdir', string, number]
  | ['mknod', string, number, number]
  | ['unlinkat', string, number]
  | ['rename', string, string, number]
  | ['symlink', string, string]
  | ['readlink', string]
  | ['link', string, string, number]
  | ['access', string, number, number]
  | ['chmod', string, number]
  | ['fchmod', number, number]
  | ['chown', string, number, number, number]
  | ['truncate', string, number]
  | ['ftruncate', number, number]
  | ['chdir', string]
  | ['fchdir', number]
  | ['getcwd']
  | ['utimens', string, number, number, number, number, boolean, number]
  | ['getdents', number]
  | ['umask', number]
  | ['as', number, number, ...number[]]
  | ['capdrop', number]
  | ['pipe', number]
  | ['fcntl', number, number, number]
  | ['flock', number, number]
  | ['falloc', number, number, number, number]
  | ['xset', string, string, string, number, boolean]
  | ['xget', string, string, boolean]
  | ['xrm', string, string, boolean]
  | ['xlist', string, boolean]
  | ['ofd', number, number, number, number, number, number];

const hex = (s: string): string => (s.length === 0 ? '-' : Buffer.from(s, 'latin1').toString('hex'));

let helper: string | null = null;

/**
 * The host-ops binary, compiled once per version of its source into a fixed directory named by
 * the source's hash (so runs and parallel workers share it and nothing piles up in /tmp).
 */
export function hostOps(): string {
  if (helper !== null) return helper;
  const src = fileURLToPath(new URL('./host-ops.c', import.meta.url));
  const hash = createHash('sha256').update(readFileSync(src)).digest('hex').slice(0, 16);
  const dir = join(tmpdir(), `tsvisor-vfs-helper-${hash}`);
  const out = join(dir, 'host-ops');
  if (!existsSync(out)) {
    mkdirSync(dir, { recursive: true });
    const tmp = `${out}.${process.pid}`;
    execFileSync('gcc', ['-O1', '-o', tmp, src]);
    renameSync(tmp, out);
  }
  helper = out;
  return out;
}

function encode(op: Op): string {
  const [name, ...args] = op;
  switch (name) {
    case 'open':
    case 'stat':
    case 'mkdir':
    case 'mknod':
    case 'unlinkat':
    case 'readlink':
    case 'access':
    case 'chmod':
    case 'chown':
    case 'truncate':
    case 'chdir':
    case 'statfs':
    case 'ls':
    case 'mounttmpfs':
      return [name, hex(args[0] as string), ...args.slice(1)].join(' ');
    case 'openat2':
      return [name, args[0], hex(args[1] as string), ...args.slice(2)].join(' ');
    case 'openat':
      return [name, args[0], hex(args[1] as string), args[2], args[3]].join(' ');
    case 'write':
    case 'pwrite':
      return [name, args[0], hex(args[1] as string), ...args.slice(2)].join(' ');
    case 'rename':
    case 'symlink':
    case 'link':
      return [name, hex(args[0] as string), hex(args[1] as string), ...args.slice(2)].join(' ');
    case 'xset': {
      const [p, n, v, fl, follow] = args as [string, string, string, number, boolean];
      return ['xset', hex(p), hex(n), hex(v), fl, follow ? 1 : 0].join(' ');
    }
    case 'xget':
    case 'xrm': {
      const [p, n, follow] = args as [string, string, boolean];
      return [name, hex(p), hex(n), follow ? 1 : 0].join(' ');
    }
    case 'xlist':
      return ['xlist', hex(args[0] as string), args[1] ? 1 : 0].join(' ');
    case 'utimens': {
      const [p, as, an, ms, mn, nul, fl] = args as [string, number, number, number, number, boolean, number];
      return ['utimens', hex(p), as, an, ms, mn, nul ? 1 : 0, fl].join(' ');
    }
    default:
      return [name, ...args].join(' ');
  }
}

/**
 * Run `ops` on the real kernel in a fresh directory: a fresh Linux tmpfs (default), the plain
 * directory (`tmpfs: false`), or a Linux overlayfs over `overlayLower` with a tmpfs upper layer.
 */
export function runHost(
  ops: readonly Op[],
  opts: {
    tmpfs?: boolean;
    tmpfsData?: string;
    dir?: string;
    overlayLower?: string;
    redirectDir?: boolean;
  } = {},
): string[] {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'tsvisor-vfs-ref-'));
  try {
    const args =
      opts.overlayLower !== undefined
        ? ['-o', opts.overlayLower, dir]
        : opts.tmpfsData !== undefined
          ? ['-T', opts.tmpfsData, dir]
          : opts.tmpfs === false
            ? [dir]
            : ['-t', dir];
    const r = spawnSync(hostOps(), args, {
      input: ops.map(encode).join('\n') + '\n',
      encoding: 'latin1',
      ...(opts.redirectDir ? { env: { ...process.env, HOST_OPS_REDIRECT_DIR: 'on' } } : {}),
    });
    if (r.status !== 0) throw new Error(`host-ops failed: ${r.stderr}`);
    return r.stdout.split('\n').slice(0, ops.length);
  } finally {
    if (opts.dir === undefined) rmSync(dir, { recursive: true, force: true });
  }
}

function statLine(st: Stat): string {
  const t = (ns: bigint): string => {
    const sec = ns / 1_000_000_000n;
    const nsec = ns % 1_000_000_000n;
    return `${sec}.${nsec.toString().padStart(9, '0')}`;
  };
  return `OK ${st.mode.toString(8)} ${st.nlink} ${st.uid} ${st.gid} ${st.size} ${st.rdev} ${t(st.atimeNs)} ${t(st.mtimeNs)}`;
}

/** Run `ops` through the facade, formatting results as host-ops does. */
export function runVfs(p: Posix, ops: readonly Op[]): string[] {
  const step = vfsStepper(p);
  return ops.map(step);
}

/**
 * A runner of single operations on `p` that keeps the handles of earlier `open`s, for
 * step-by-step comparisons; results are formatted as host-ops formats them.
 */
export function vfsStepper(p: Posix): (op: Op) => string {
  const handles: number[] = [];
  const h = (i: number): number => handles[i] ?? -1;
  const fmt = (r: unknown, value?: (x: never) => string): string => {
    if (isError(r)) return `E${r.errno}`;
    if (value !== undefined) return value(r as never);
    return 'OK';
  };
  p.umask(0o022);
  return (op: Op): string => {
    const [name] = op;
    let line = '';
    switch (name) {
      case 'open': {
        const fd = p.open(op[1], op[2], op[3]);
        if (!isError(fd)) handles.push(fd);
        line = fmt(fd);
        break;
      }
      case 'openat': {
        const fd = p.openat(h(op[1]), op[2], op[3], op[4]);
        if (!isError(fd)) handles.push(fd);
        line = fmt(fd);
        break;
      }
      case 'openat2': {
        const [, dh, path, flags, mode, resolve] = op;
        const fd = p.openat2(dh === -100 ? -100 : h(dh), path, { flags, mode, resolve });
        const st = isError(fd) ? fd : p.fstat(fd);
        line = fmt(
          st,
          (x: Stat) => `OK ${x.mode.toString(8)} ${(x.mode & 0o170000) === 0o100000 ? x.size : 0}`,
        );
        if (!isError(fd)) p.close(fd);
        break;
      }
      case 'mounttmpfs':
        line = fmt(p.vfs.mount(p.ctx, p.ctx.cwd, op[1], new Tmpfs({ mode: 0o755 })));
        break;
      case 'ls': {
        const fd = p.open(op[1], O_RDONLY | O_DIRECTORY);
        if (isError(fd)) {
          line = fmt(fd);
          break;
        }
        const list = p.getdents(fd);
        line = fmt(list, (x: { type: number; name: string }[]) => {
          let l = 'OK';
          for (const e of x) {
            l += ` ${e.type}:${Buffer.from(e.name, 'latin1').toString('hex')}`;
            if (e.name === '.' || e.name === '..') continue;
            const st = p.fstatat(fd, e.name, AT_SYMLINK_NOFOLLOW);
            if (isError(st)) continue;
            const dir = (st.mode & 0o170000) === 0o040000;
            l += `:${st.mode.toString(8)}:${st.nlink}:${st.uid}:${st.gid}:${dir ? 0 : st.size}`;
          }
          return l;
        });
        p.close(fd);
        break;
      }
      case 'statfs':
        line = fmt(
          p.statfs(op[1]),
          (f: Statfs) => `OK ${f.blocks} ${f.bfree} ${f.bavail} ${f.files} ${f.ffree}`,
        );
        break;
      case 'close':
        line = fmt(p.close(h(op[1])));
        break;
      case 'read':
      case 'pread': {
        const buf = new Uint8Array(Math.min(op[2], 1 << 20));
        const n = name === 'read' ? p.read(h(op[1]), buf) : p.pread(h(op[1]), buf, op[3] as number);
        line = fmt(n, (x: number) => `OK ${x} ${Buffer.from(buf.subarray(0, x)).toString('hex')}`);
        break;
      }
      case 'write':
      case 'pwrite': {
        const data = Buffer.from(op[2], 'latin1');
        const n = name === 'write' ? p.write(h(op[1]), data) : p.pwrite(h(op[1]), data, op[3] as number);
        line = fmt(n, (x: number) => `OK ${x}`);
        break;
      }
      case 'lseek':
        line = fmt(p.lseek(h(op[1]), op[2], op[3]), (x: number) => `OK ${x}`);
        break;
      case 'stat':
        line = fmt(p.fstatat(-100, op[1], op[2]), statLine);
        break;
      case 'fstat':
        line = fmt(p.fstat(h(op[1])), statLine);
        break;
      case 'mkdir':
        line = fmt(p.mkdir(op[1], op[2]));
        break;
      case 'mknod':
        line = fmt(p.mknodat(-100, op[1], op[2], op[3]));
        break;
      case 'unlinkat':
        line = fmt(p.unlinkat(-100, op[1], op[2]));
        break;
      case 'rename':
        line = fmt(p.renameat2(-100, op[1], -100, op[2], op[3]));
        break;
      case 'symlink':
        line = fmt(p.symlink(op[1], op[2]));
        break;
      case 'readlink':
        line = fmt(p.readlink(op[1]), (x: string) => `OK ${Buffer.from(x, 'latin1').toString('hex')}`);
        break;
      case 'link':
        line = fmt(p.linkat(-100, op[1], -100, op[2], op[3]));
        break;
      case 'access':
        line = fmt(p.faccessat(-100, op[1], op[2], op[3]));
        break;
      case 'chmod':
        line = fmt(p.chmod(op[1], op[2]));
        break;
      case 'fchmod':
        line = fmt(p.fchmod(h(op[1]), op[2]));
        break;
      case 'chown':
        line = fmt(p.fchownat(-100, op[1], op[2], op[3], op[4]));
        break;
      case 'truncate':
        line = fmt(p.truncate(op[1], op[2]));
        break;
      case 'ftruncate':
        line = fmt(p.ftruncate(h(op[1]), op[2]));
        break;
      case 'chdir':
        line = fmt(p.chdir(op[1]));
        break;
      case 'fchdir':
        line = fmt(p.fchdir(h(op[1])));
        break;
      case 'getcwd':
        line = fmt(p.getcwd(), (x: string) => `OK ${x}`);
        break;
      case 'utimens': {
        const [, path, as, an, ms, mn, nul, fl] = op;
        line = fmt(
          p.utimensat(
            -100,
            path,
            nul
              ? null
              : [
                  { sec: as, nsec: an },
                  { sec: ms, nsec: mn },
                ],
            fl,
          ),
        );
        break;
      }
      case 'getdents': {
        const r = p.getdents(h(op[1]));
        line = fmt(
          r,
          (x: { type: number; name: string }[]) =>
            'OK' + x.map((e) => ` ${e.type}:${Buffer.from(e.name, 'latin1').toString('hex')}`).join(''),
        );
        break;
      }
      case 'umask':
        line = `OK ${p.umask(op[1]).toString(8)}`;
        break;
      case 'as': {
        const [, uid, gid, ...groups] = op;
        // setfsuid(2) drops only the filesystem capabilities; the others stay effective.
        p.setCreds(uid === 0 ? ROOT_CREDS : { ...userCreds(uid, gid, groups), caps: ALL_CAPS & ~FS_CAPS });
        line = 'OK';
        break;
      }
      case 'capdrop':
        p.setCreds({ ...p.ctx.creds, caps: p.ctx.creds.caps & ~(1 << op[1]) });
        line = 'OK';
        break;
      case 'pipe': {
        const r = p.pipe2(op[1]);
        if (!isError(r)) handles.push(r[0], r[1]);
        line = fmt(r as number | LinuxError);
        break;
      }
      case 'fcntl':
        line = fmt(p.fcntl(h(op[1]), op[2], op[3]), (x: number) => `OK ${x}`);
        break;
      case 'xset':
      case 'xget':
      case 'xrm':
      case 'xlist': {
        const follow = op[0] === 'xset' ? op[5] : op[0] === 'xlist' ? op[2] : op[3];
        const loc = p.vfs.lookupat(p.ctx, p.ctx.cwd, op[1], follow ? 0 : 0x100);
        if (isError(loc)) {
          line = fmt(loc);
          break;
        }
        if (op[0] === 'xset')
          line = fmt(p.vfs.setxattr(p.ctx, loc, op[2], Buffer.from(op[3], 'latin1'), op[4]));
        else if (op[0] === 'xget')
          line = fmt(
            p.vfs.getxattr(p.ctx, loc, op[2]),
            (x: Uint8Array) => `OK ${Buffer.from(x).toString('hex')}`,
          );
        else if (op[0] === 'xrm') line = fmt(p.vfs.removexattr(p.ctx, loc, op[2]));
        else
          line = fmt(
            p.vfs.listxattr(p.ctx, loc),
            (x: string[]) => 'OK' + x.map((n) => ' ' + Buffer.from(n, 'latin1').toString('hex')).join(''),
          );
        break;
      }
      case 'falloc': {
        const f = p.file(h(op[1]));
        line = fmt(isError(f) ? f : f.fallocate(op[2], op[3], op[4]));
        break;
      }
      case 'flock':
        line = fmt(p.flock(h(op[1]), op[2]));
        break;
      case 'ofd': {
        const [, fd, cmd, type, whence, start, len] = op;
        const f = p.file(h(fd));
        const req = { type, whence, start, len, pid: 0 };
        if (isError(f)) line = fmt(f);
        else if (cmd === 36) {
          const r = getRecordLock(f, f, req);
          line = fmt(
            r,
            (x: { type: number; start: number; len: number; pid: number }) =>
              `OK ${x.type} ${x.start} ${x.len} ${x.pid}`,
          );
        } else line = fmt(setRecordLock(f, f, -1, req, false));
        break;
      }
    }
    return line;
  };
}

/** Drop timestamps from stat lines (they differ between two runs) unless `keepTimes`. */
export function normalize(lines: readonly string[], ops: readonly Op[], keepTimes = false): string[] {
  return lines.map((l, i) => {
    const op = ops[i];
    if (op === undefined) return l;
    if ((op[0] === 'stat' || op[0] === 'fstat') && l.startsWith('OK')) {
      const f = l.split(' ');
      const mode = parseInt(f[1] ?? '0', 8);
      // Directory sizes are filesystem-specific only when the reference is not tmpfs.
      return keepTimes ? l : f.slice(0, 7).join(' ') + (mode ? '' : '');
    }
    // Offsets are numbers in the VFS: beyond 2^53 - 1 (ext4 puts a directory's end near 2^63)
    // it answers 2^53 - 1, so both sides compare as "at least that".
    if (op[0] === 'lseek' && l.startsWith('OK ') && Number(l.slice(3)) >= Number.MAX_SAFE_INTEGER) {
      return 'OK >=2^53-1';
    }
    if ((op[0] === 'getdents' || op[0] === 'xlist' || op[0] === 'ls') && l.startsWith('OK')) {
      return (
        'OK' +
        l
          .slice(2)
          .split(' ')
          .filter(Boolean)
          .sort()
          .map((e) => ' ' + e)
          .join('')
      );
    }
    return l;
  });
}

/**
 * One host-ops process answering operations one at a time (for step-by-step model tests): the
 * same references as {@link runHost} (a fresh Linux tmpfs, a plain directory, or overlayfs).
 */
export class HostSession {
  private readonly child: ChildProcessWithoutNullStreams;
  private buffered = '';
  private readonly waiting: ((line: string) => void)[] = [];
  private readonly exited: Promise<void>;
  private failure: string | null = null;

  private constructor(
    /** The directory the process works in (chrooted there, or below it for overlay). */
    readonly dir: string,
    args: string[],
  ) {
    this.child = spawn(hostOps(), [...args, dir], { env: { ...process.env, HOST_OPS_LINEBUF: '1' } });
    this.child.stdout.setEncoding('latin1');
    let stderr = '';
    this.child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    this.child.stdout.on('data', (chunk: string) => {
      this.buffered += chunk;
      for (let nl = this.buffered.indexOf('\n'); nl >= 0; nl = this.buffered.indexOf('\n')) {
        const line = this.buffered.slice(0, nl);
        this.buffered = this.buffered.slice(nl + 1);
        this.waiting.shift()?.(line);
      }
    });
    this.exited = new Promise((resolve) =>
      this.child.on('exit', (code) => {
        if (code !== 0) this.failure = `host-ops exited with ${code}: ${stderr}`;
        for (const w of this.waiting.splice(0)) w(`EXIT ${this.failure ?? ''}`);
        resolve();
      }),
    );
  }

  /** Start a session on a fresh directory. */
  static start(opts: { tmpfs?: boolean; overlayLower?: string } = {}): HostSession {
    const dir = mkdtempSync(join(tmpdir(), 'tsvisor-vfs-session-'));
    const args =
      opts.overlayLower !== undefined ? ['-o', opts.overlayLower] : opts.tmpfs === false ? [] : ['-t'];
    return new HostSession(dir, args);
  }

  /** Run one operation; its result line. */
  step(op: Op): Promise<string> {
    if (this.failure !== null) return Promise.resolve(`EXIT ${this.failure}`);
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      this.child.stdin.write(encode(op) + '\n');
    });
  }

  /** End the process and remove its directory. */
  async close(): Promise<void> {
    this.child.stdin.end();
    await this.exited;
    rmSync(this.dir, { recursive: true, force: true });
  }
}
