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
  type Creds,
  type FilesystemImpl,
  type Statfs,
  type WouldBlock,
} from '@tsvisor/vfs';
import * as fs from 'node:fs';

class HostStdioFs implements FilesystemImpl {
  readonly type = 'hoststdio';
  readonly dev = anonDev();
  readonly root: Inode;
  nextIno = 2;
  constructor() {
    this.root = new HostFdInode(this, 0o040555, 1);
  }
  statfs(): Statfs {
    return {
      type: 0x48535444,
      bsize: 4096,
      blocks: 0,
      bfree: 0,
      bavail: 0,
      files: 0,
      ffree: 0,
      fsid: 0,
      namelen: 255,
      frsize: 4096,
      flags: 0,
    };
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

/** I/O on a host fd. */
class HostFdImpl extends FileDescriptionImpl {
  readonly #queue = new WaitQueue();
  #polling = false;
  #readable = false;

  constructor(
    private readonly fd: number,
    private readonly seekable: boolean,
  ) {
    super();
  }

  override get stream(): boolean {
    return !this.seekable;
  }

  override get waitQueue(): WaitQueue {
    return this.#queue;
  }

  override read(dst: Uint8Array, _offset: number, _file: FileDescription): number | LinuxError | WouldBlock {
    if (dst.length === 0) return 0;
    if (!this.seekable && !this.#readable) {
      this.#poll();
      return WOULD_BLOCK;
    }
    this.#readable = false;
    try {
      return fs.readSync(this.fd, dst, 0, dst.length, null);
    } catch (e) {
      const err = hostErrno(e);
      if (err === E.EAGAIN) {
        this.#poll();
        return WOULD_BLOCK;
      }
      return err;
    }
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
    return ((this.seekable || this.#readable ? POLLIN : 0) | POLLOUT) & mask;
  }

  override hostFd(): number | null {
    return this.fd;
  }

  /**
   * Learns when the host fd has data without blocking the event loop: a zero-length read on the
   * libuv thread pool returns once the fd is readable (terminals and pipes), then waiters wake.
   */
  #poll(): void {
    if (this.#polling) return;
    this.#polling = true;
    fs.read(this.fd, Buffer.alloc(0), 0, 0, null, () => {
      this.#polling = false;
      this.#readable = true;
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
 * has. A host fd that is not open gives a description whose I/O fails with EBADF.
 */
export function hostStdio(hostFds: readonly number[], creds: Creds): FileDescription[] {
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
    return new FileDescription(
      new HostFdImpl(fd, seekable),
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
