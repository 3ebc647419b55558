/**
 * The sandbox's fds 0, 1 and 2: file descriptions over host fds, so a sandboxed program reads the
 * terminal or pipe `tsvisor do` was given and writes to its stdout and stderr.
 *
 * Each description sits on an inode of a small internal filesystem whose type and mode follow the
 * host fd (a character device for a terminal, a FIFO for a pipe, a regular file for a redirect).
 * Reads and writes go straight to the host fd at its own position (the host keeps the offset, as
 * the description is shared with the host). A read waits only when the host has nothing yet: the
 * host fd is polled without blocking Node, and the reading task is parked until data or EOF.
 *
 * @module
 */
import { E, errorOf, type LinuxError } from '@tsvisor/abi';
import {
  FileDescription,
  FileDescriptionImpl,
  Inode,
  Mount,
  O_RDONLY,
  O_RDWR,
  O_WRONLY,
  POLLIN,
  POLLOUT,
  S_IFCHR,
  S_IFIFO,
  S_IFREG,
  S_IFSOCK,
  WOULD_BLOCK,
  WaitQueue,
  anonDev,
  simpleStatfs,
  type Creds,
  type FilesystemImpl,
  type Statfs,
  type WouldBlock,
} from '@tsvisor/vfs';
import * as fs from 'node:fs';
import { isatty } from 'node:tty';

class HostStdioFs implements FilesystemImpl {
  readonly type = 'hoststdio';
  readonly dev = anonDev();
  readonly root: Inode;
  nextIno = 2;
  constructor() {
    this.root = new HostFdInode(this, 0o040555, 1);
  }
  statfs(): Statfs {
    return simpleStatfs(0x48535444);
  }
}

class HostFdInode extends Inode {
  constructor(
    readonly fs: HostStdioFs,
    mode: number,
    ino: number,
  ) {
    super();
    this.mode = mode;
    this.ino = ino;
  }
}

/**
 * I/O on a host fd. Writes go straight to the host fd. Reads of a regular file do too; reads of a
 * pipe or terminal are done ahead on the libuv thread pool (so the event loop never blocks on
 * them) into a buffer the sandbox then reads from; a read finding it empty waits for it.
 */
/**
 * Runs a terminal ioctl on a host fd on behalf of the calling task, inside its host process, so
 * that the host kernel reads and writes the task's own memory at `arg`. Returns the result or
 * the errno.
 */
export type HostIoctl = (hostFd: number, cmd: number, arg: bigint) => number | LinuxError;

/**
 * Terminal ioctls passed to a host terminal: get and set its modes, read its window size. Others
 * (process groups, sessions, input injection) concern the host's processes and are refused.
 */
const TTY_IOCTLS: ReadonlySet<number> = new Set([
  0x5401, // TCGETS
  0x5402, // TCSETS
  0x5403, // TCSETSW
  0x5404, // TCSETSF
  0x5413, // TIOCGWINSZ
]);

class HostFdImpl extends FileDescriptionImpl {
  readonly #queue = new WaitQueue();
  /** Bytes read from the host and not yet given to the sandbox. */
  #buffered: Uint8Array = new Uint8Array(0);
  #eof = false;
  #error: LinuxError | undefined;
  #reading = false;

  constructor(
    private readonly fd: number,
    private readonly seekable: boolean,
    private readonly terminal: boolean,
    private readonly hostIoctl: HostIoctl | undefined,
  ) {
    super();
  }

  override ioctl(cmd: number, arg: bigint, _file: FileDescription): number | LinuxError {
    if (!this.terminal || !this.hostIoctl || !TTY_IOCTLS.has(cmd)) return E.ENOTTY;
    return this.hostIoctl(this.fd, cmd, arg);
  }

  override get stream(): boolean {
    return !this.seekable;
  }

  override get waitQueue(): WaitQueue {
    return this.#queue;
  }

  override read(dst: Uint8Array, _offset: number, _file: FileDescription): number | LinuxError | WouldBlock {
    if (dst.length === 0) return 0;
    if (this.seekable) {
      try {
        return fs.readSync(this.fd, dst, 0, dst.length, null);
      } catch (e) {
        return hostErrno(e);
      }
    }
    if (this.#buffered.length > 0) {
      const n = Math.min(dst.length, this.#buffered.length);
      dst.set(this.#buffered.subarray(0, n));
      this.#buffered = this.#buffered.subarray(n);
      return n;
    }
    if (this.#error) {
      const e = this.#error;
      this.#error = undefined;
      return e;
    }
    if (this.#eof) {
      // A terminal's end of file (^D) is one read of 0; later reads wait for more input.
      this.#eof = false;
      return 0;
    }
    this.#readAhead();
    return WOULD_BLOCK;
  }

  override write(src: Uint8Array, _offset: number, _file: FileDescription): number | LinuxError | WouldBlock {
    let done = 0;
    try {
      while (done < src.length) done += fs.writeSync(this.fd, src, done, src.length - done);
      return done;
    } catch (e) {
      if (done > 0) return done;
      return hostErrno(e);
    }
  }

  override readiness(mask: number): number {
    const readable = this.seekable || this.#buffered.length > 0 || this.#eof || this.#error !== undefined;
    if (!readable && (mask & POLLIN) !== 0) this.#readAhead();
    return ((readable ? POLLIN : 0) | POLLOUT) & mask;
  }

  override hostFd(): number | null {
    return this.fd;
  }

  /** Starts one read of the host fd on the thread pool; waiters wake when it completes. */
  #readAhead(): void {
    if (this.#reading) return;
    this.#reading = true;
    const buf = Buffer.alloc(65536);
    fs.read(this.fd, buf, 0, buf.length, null, (err, n) => {
      if (err && hostErrno(err) === E.EAGAIN) {
        // The host fd is non-blocking (its flags are shared with the host): look again soon.
        setTimeout(() => {
          this.#reading = false;
          this.#readAhead();
        }, 10);
        return;
      }
      this.#reading = false;
      if (err) this.#error = hostErrno(err);
      else if (n === 0) this.#eof = true;
      else this.#buffered = new Uint8Array(buf.buffer, buf.byteOffset, n);
      this.#queue.notify(POLLIN);
    });
  }
}

function hostErrno(e: unknown): LinuxError {
  const errno = (e as { errno?: unknown }).errno;
  return typeof errno === 'number' && errno < 0 ? errorOf(-errno) : E.EIO;
}

let stdioFs: HostStdioFs | undefined;
let stdioMount: Mount | undefined;

/**
 * Opens file descriptions over host fds (typically 0, 1, 2), with the access mode the host fd
 * has. A host fd that is not open gives a description whose I/O fails with EBADF. On a host
 * terminal, the terminal ioctls go through `hostIoctl`.
 */
export function hostStdio(
  hostFds: readonly number[],
  creds: Creds,
  hostIoctl?: HostIoctl,
): FileDescription[] {
  stdioFs ??= new HostStdioFs();
  stdioMount ??= new Mount(stdioFs, stdioFs.root, null, null, 0);
  return hostFds.map((fd) => {
    const fsys = stdioFs as HostStdioFs;
    let mode = S_IFCHR | 0o620;
    let flags = O_RDWR;
    try {
      const st = fs.fstatSync(fd);
      mode = st.isFIFO()
        ? S_IFIFO | 0o600
        : st.isFile()
          ? S_IFREG | (st.mode & 0o777)
          : st.isSocket()
            ? S_IFSOCK | 0o777
            : S_IFCHR | (st.mode & 0o777);
      const fl = hostAccessMode(fd);
      if (fl !== undefined) flags = fl;
    } catch {
      // Not open on the host: the sandbox sees an fd whose I/O fails.
    }
    const inode = new HostFdInode(fsys, mode, fsys.nextIno++);
    const seekable = (mode & 0o170000) === S_IFREG;
    const terminal = (mode & 0o170000) === S_IFCHR && isatty(fd);
    return new FileDescription(
      new HostFdImpl(fd, seekable, terminal, hostIoctl),
      { mount: stdioMount as Mount, inode },
      flags,
      creds,
    );
  });
}

/** The host fd's access mode, from /proc/self/fdinfo. */
function hostAccessMode(fd: number): number | undefined {
  try {
    const info = fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8');
    const m = /^flags:\s+([0-7]+)/m.exec(info);
    if (!m?.[1]) return undefined;
    const acc = parseInt(m[1], 8) & 3;
    return acc === 0 ? O_RDONLY : acc === 1 ? O_WRONLY : O_RDWR;
  } catch {
    return undefined;
  }
}
