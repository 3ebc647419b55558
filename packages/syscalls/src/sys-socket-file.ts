/**
 * The socket as an open file: a VFS file description over an AF_UNIX socket or an AF_INET/6
 * socket of @tsvisor/netstack, so read/write/poll/epoll/close work on socket fds. Also the
 * per-sandbox network state: one AF_UNIX namespace and one loopback netstack `Stack` driven by
 * timers on the Node event loop, and the table that keeps descriptors in flight (SCM_RIGHTS).
 *
 * @module
 */
import { E, isError, type LinuxError } from '@tsvisor/abi';
import type { FdTable, Kernel } from '@tsvisor/kernel';
import {
  InetSocket,
  LoopbackDevice,
  Stack,
  UnixDomain,
  UnixSocket,
  WOULD_BLOCK as NET_WOULD_BLOCK,
  cidr,
} from '@tsvisor/netstack';
import {
  FileDescriptionImpl,
  ROOT_CREDS,
  Tmpfs,
  Vfs,
  WOULD_BLOCK,
  WaitQueue,
  type FileDescription,
  type Location,
  type WouldBlock,
} from '@tsvisor/vfs';

const FIONREAD = 0x541b;
const SIOCOUTQ = 0x5411;

let sockLocation: Location | undefined;

/**
 * The inode socket files stand on, as Linux's sockfs: an S_IFSOCK node of mode 0777 on a
 * private filesystem no path reaches, so fstat reports a socket and FIONREAD reaches the socket
 * (the ioctl code answers regular files itself).
 */
export function socketInode(): Location {
  if (!sockLocation) {
    const vfs = new Vfs(new Tmpfs());
    const ctx = vfs.rootContext(ROOT_CREDS, 0);
    const err = vfs.mknodat(ctx, ctx.cwd, '/socket', 0o140777, 0);
    if (err) throw new Error(`socket inode: ${String(err)}`);
    const loc = vfs.lookupat(ctx, ctx.cwd, '/socket', 0);
    if (isError(loc)) throw new Error(`socket inode: ${String(loc)}`);
    sockLocation = loc;
  }
  return sockLocation;
}

/** A descriptor travelling in an SCM_RIGHTS message: held by a slot of the in-flight table. */
export interface InFlight {
  readonly file: FileDescription;
  readonly slot: number;
}

/** The network state of one sandbox (one kernel). */
export class NetState {
  /** AF_UNIX names of the sandbox. */
  readonly unix: UnixDomain;
  private stackValue: Stack | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private timerAt = Infinity;
  /** Holds one reference per descriptor in flight, so closing the sender's fd does not free it. */
  readonly inFlight: FdTable<FileDescription>;

  constructor(kernel: Kernel) {
    this.inFlight = kernel.newFdTable() as FdTable<FileDescription>;
    this.unix = new UnixDomain({
      dropRights: (refs) => {
        for (const r of refs) this.inFlight.close((r as InFlight).slot);
      },
    });
  }

  /** The loopback-only stack (network mode `none`): 127.0.0.1/8 and ::1. */
  get stack(): Stack {
    this.stackValue ??= new Stack({
      device: new LoopbackDevice(),
      addresses: [cidr('127.0.0.1/8'), cidr('::1/128')],
    });
    return this.stackValue;
  }

  /**
   * Runs the stack until nothing is due now, then arms a timer for its next deadline. Called after
   * every inet socket call; the timer is unref'd so an idle stack never keeps Node alive.
   */
  kick(): void {
    const stack = this.stackValue;
    if (!stack) return;
    let next: number | undefined;
    for (let i = 0; i < 64; i++) {
      const now = performance.now();
      next = stack.poll(now);
      if (next === undefined || next > now) break;
    }
    if (next === undefined) return;
    if (this.timer !== undefined && this.timerAt <= next) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timerAt = next;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.timerAt = Infinity;
        this.kick();
      },
      Math.max(0, next - performance.now()),
    );
    this.timer.unref?.();
  }
}

const states = new WeakMap<Kernel, NetState>();

/** The sandbox's network state, made on first use. */
export function netOf(kernel: Kernel): NetState {
  let s = states.get(kernel);
  if (!s) {
    s = new NetState(kernel);
    states.set(kernel, s);
  }
  return s;
}

/** Either kind of socket. */
export type AnySocket = UnixSocket | InetSocket;

/** Maps netstack's would-block to the VFS's. */
export function vfsBlock<T>(r: T | typeof NET_WOULD_BLOCK): T | WouldBlock {
  return r === NET_WOULD_BLOCK ? WOULD_BLOCK : (r as T);
}

/** The file side of a socket (Linux's socket_file_ops). */
export class SocketImpl extends FileDescriptionImpl {
  readonly queue = new WaitQueue();

  constructor(
    readonly sock: AnySocket,
    readonly net: NetState,
  ) {
    super();
    sock.setReadinessListener((ev) => this.queue.notify(ev));
  }

  /** Runs the stack after an inet socket call, so packets move and readiness updates. */
  settle(): void {
    if (this.sock instanceof InetSocket) this.net.kick();
  }

  override get stream(): boolean {
    return true;
  }

  override read(dst: Uint8Array): number | LinuxError | WouldBlock {
    const r = this.sock instanceof UnixSocket ? this.sock.recv(dst) : this.sock.recvfrom(dst);
    this.settle();
    if (r === NET_WOULD_BLOCK || isError(r)) return vfsBlock(r);
    return r.n;
  }

  override write(src: Uint8Array): number | LinuxError | WouldBlock {
    const r = this.sock instanceof UnixSocket ? this.sock.send(src) : this.sock.sendto(src);
    this.settle();
    return vfsBlock(r);
  }

  override readiness(mask: number): number {
    return this.sock.readiness() & mask;
  }

  override get waitQueue(): WaitQueue {
    return this.queue;
  }

  /** FIONREAD and SIOCOUTQ; other requests are not socket ioctls here (ENOTTY). */
  override ioctl(cmd: number): number | LinuxError {
    if (cmd === FIONREAD) return this.sock.inq();
    if (cmd === SIOCOUTQ) return this.sock.outq();
    return E.ENOTTY;
  }

  override release(): void {
    this.sock.close();
    this.settle();
  }
}

/** The socket behind a file, or ENOTSOCK. */
export function socketOf(file: FileDescription): SocketImpl | LinuxError {
  return file.impl instanceof SocketImpl ? file.impl : E.ENOTSOCK;
}
