// Network namespaces made inside the sandbox: unshare(CLONE_NEWNET), clone(CLONE_NEWNET) and
// setns(2) through nsfs files and pidfds; what is per namespace (the stack, ports, abstract
// AF_UNIX names, /proc/<pid>/net) and what is not (path-bound AF_UNIX sockets); how long a
// namespace lives. Then UTS namespaces, the same way. (runtime's testdata/netns.c checks the
// same against Linux.)
import { CloneFlag, E } from '@tsvisor/abi';
import { KernelProcSource, type Task } from '@tsvisor/kernel';
import { createProcfs } from '@tsvisor/procfs';
import { ROOT_CREDS } from '@tsvisor/vfs';
import { describe, expect, it } from 'vitest';
import { dispatch } from './dispatch.js';
import { BUF, harness, type Harness } from './harness.test-util.js';
import { createSyscallTable } from './index.js';
import { madeUtsOf } from './sys-info.js';
import { madeNetOf } from './sys-socket-file.js';
import { procNetSource } from './sys-socket-proc.js';
import { syscallByName } from '@tsvisor/abi';
import type { SyscallResult } from './types.js';

const enc = new TextEncoder();
const dec = new TextDecoder();
const AF_UNIX = 1;
const AF_INET = 2;
const SOCK_STREAM = 1;
const SOCK_DGRAM = 2;
const SIOCGIFFLAGS = 0x8913;
const SIOCSIFFLAGS = 0x8914;
const IFF_UP = 0x1;
const IFF_LOOPBACK = 0x8;
const IFF_RUNNING = 0x40;
const NS_GET_NSTYPE = 0xb703;
const CLONE_VM = 0x100;
const CLONE_SIGHAND = 0x800;
const CLONE_THREAD = 0x10000;
const SIGCHLD = 17;

const ADDR = BUF + 0x1000;
const IFR = BUF + 0x1100;
const OUT = BUF + 0x2000;
const table = createSyscallTable();

function withProc(): Harness {
  const h = harness();
  const vfs = h.kernel.vfs!;
  const ctx = vfs.rootContext(ROOT_CREDS);
  vfs.mkdirat(ctx, ctx.cwd, '/proc', 0o555);
  const source = new KernelProcSource(h.kernel, { net: (t) => procNetSource(h.kernel, {}, t) });
  vfs.mount(ctx, ctx.cwd, '/proc', createProcfs(source));
  return h;
}

/** Runs a syscall as task `t` (which shares the harness's memory: CLONE_VM). */
async function callAs(t: Task, name: string, ...args: number[]): Promise<SyscallResult> {
  const a = [0, 1, 2, 3, 4, 5].map((i) => BigInt.asUintN(64, BigInt(args[i] ?? 0)));
  return dispatch(table, t, syscallByName(name)!.nr, a as [bigint, bigint, bigint, bigint, bigint, bigint]);
}

function sin(port: number): Uint8Array {
  const b = new Uint8Array(16);
  b[0] = AF_INET;
  b[2] = port >> 8;
  b[3] = port & 0xff;
  b.set([127, 0, 0, 1], 4);
  return b;
}

/** A TCP socket of `t` connected to 127.0.0.1:`port`: connect's result. */
async function connectFrom(h: Harness, t: Task, port: number): Promise<SyscallResult> {
  const s = (await callAs(t, 'socket', AF_INET, SOCK_STREAM, 0)) as number;
  h.mem.write(ADDR, sin(port));
  const r = await callAs(t, 'connect', s, ADDR, 16);
  await callAs(t, 'close', s);
  return r;
}

async function listenOn(h: Harness, t: Task, port: number): Promise<number> {
  const l = (await callAs(t, 'socket', AF_INET, SOCK_STREAM, 0)) as number;
  h.mem.write(ADDR, sin(port));
  expect(await callAs(t, 'bind', l, ADDR, 16)).toBe(0);
  expect(await callAs(t, 'listen', l, 4)).toBe(0);
  return l;
}

/** lo's flags through SIOCGIFFLAGS on a socket of `t`. */
async function loFlags(h: Harness, t: Task): Promise<number> {
  const s = (await callAs(t, 'socket', AF_INET, SOCK_DGRAM, 0)) as number;
  h.mem.write(IFR, new Uint8Array(40));
  h.mem.write(IFR, enc.encode('lo\0'));
  expect(await callAs(t, 'ioctl', s, SIOCGIFFLAGS, IFR)).toBe(0);
  await callAs(t, 'close', s);
  return (h.mem.read(IFR + 16, 2) as Uint8Array).reduce((a, b, i) => a | (b << (8 * i)), 0);
}

async function setLoUp(h: Harness, t: Task): Promise<SyscallResult> {
  const s = (await callAs(t, 'socket', AF_INET, SOCK_DGRAM, 0)) as number;
  h.mem.write(IFR, new Uint8Array(40));
  h.mem.write(IFR, enc.encode('lo\0'));
  h.mem.write(IFR + 16, new Uint8Array([IFF_UP | IFF_LOOPBACK, 0]));
  const r = await callAs(t, 'ioctl', s, SIOCSIFFLAGS, IFR);
  await callAs(t, 'close', s);
  return r;
}

async function readlink(h: Harness, t: Task, path: string): Promise<string> {
  h.mem.write(ADDR, enc.encode(`${path}\0`));
  const n = (await callAs(t, 'readlinkat', -100, ADDR, OUT, 64)) as number;
  return dec.decode(h.mem.read(OUT, n) as Uint8Array);
}

async function open(h: Harness, t: Task, path: string): Promise<number> {
  h.mem.write(ADDR, enc.encode(`${path}\0`));
  return (await callAs(t, 'openat', -100, ADDR, 0, 0)) as number;
}

async function readFile(h: Harness, t: Task, path: string): Promise<string> {
  const fd = await open(h, t, path);
  const n = (await callAs(t, 'read', fd, OUT, 4096)) as number;
  await callAs(t, 'close', fd);
  return dec.decode(h.mem.read(OUT, n) as Uint8Array);
}

/** A child process sharing the harness's memory (CLONE_VM), with extra clone `flags`. */
async function child(h: Harness, flags: number): Promise<Task> {
  const tid = await h.call('clone', CLONE_VM | SIGCHLD | flags, 0x7fff0000, 0, 0, 0);
  if (typeof tid !== 'number' || tid < 0) throw new Error(`clone: ${String(tid)}`);
  return h.kernel.task(tid) as Task;
}

const inumOf = (link: string): number => Number(/^net:\[(\d+)\]$/.exec(link)?.[1]);

describe('unshare(CLONE_NEWNET)', () => {
  it('gives the caller a stack of its own: lo down and unreachable until brought up, then refusing', async () => {
    const h = withProc();
    const t = h.task;
    const l = await listenOn(h, t, 7200);
    const before = await readlink(h, t, '/proc/self/ns/net');
    expect(await h.call('unshare', CloneFlag.CLONE_NEWNET)).toBe(0);
    const after = await readlink(h, t, '/proc/self/ns/net');
    expect(after).toMatch(/^net:\[\d+\]$/);
    expect(after).not.toBe(before);
    expect(await loFlags(h, t)).toBe(IFF_LOOPBACK);
    expect(await connectFrom(h, t, 7200)).toBe(E.ENETUNREACH);
    expect(await setLoUp(h, t)).toBe(0);
    expect(await loFlags(h, t)).toBe(IFF_UP | IFF_LOOPBACK | IFF_RUNNING);
    // The listener is the initial namespace's: here nothing listens on the port.
    expect(await connectFrom(h, t, 7200)).toBe(E.ECONNREFUSED);
    // Ports are per namespace: the same one binds here.
    const again = await listenOn(h, t, 7200);
    expect(await connectFrom(h, t, 7200)).toBe(0);
    await h.call('close', again);
    await h.call('close', l);
  });

  it('is EPERM without CAP_SYS_ADMIN, as clone(CLONE_NEWNET) is; other namespace flags stay EPERM', async () => {
    const h = withProc();
    expect(await h.call('unshare', CloneFlag.CLONE_NEWIPC)).toBe(E.EPERM);
    expect(await h.call('setuid', 1000)).toBe(0);
    expect(await h.call('unshare', CloneFlag.CLONE_NEWNET)).toBe(E.EPERM);
    expect(await h.call('clone', CLONE_VM | SIGCHLD | CloneFlag.CLONE_NEWNET, 0x7fff0000, 0, 0, 0)).toBe(
      E.EPERM,
    );
    expect(h.task.netns).toBeUndefined();
  });

  it('moves only the calling thread', async () => {
    const h = withProc();
    const tid = (await h.call(
      'clone',
      CLONE_VM | CLONE_SIGHAND | CLONE_THREAD,
      0x7fff0000,
      0,
      0,
      0,
    )) as number;
    const thread = h.kernel.task(tid) as Task;
    expect(await h.call('unshare', CloneFlag.CLONE_NEWNET)).toBe(0);
    const mine = await readlink(h, h.task, `/proc/self/task/${h.task.tid}/ns/net`);
    const its = await readlink(h, h.task, `/proc/self/task/${tid}/ns/net`);
    expect(mine).not.toBe(its);
    expect(thread.netns).toBeUndefined();
  });
});

describe('clone(CLONE_NEWNET)', () => {
  it('puts the child in a new namespace: its own ns link, /proc/<pid>/net, abstract names; paths shared', async () => {
    const h = withProc();
    const t = h.task;
    const l = await listenOn(h, t, 7300);
    const c = await child(h, CloneFlag.CLONE_NEWNET);
    expect(await readlink(h, t, `/proc/${c.tgid}/ns/net`)).not.toBe(
      await readlink(h, t, '/proc/self/ns/net'),
    );
    expect(await readlink(h, c, '/proc/self/ns/net')).toBe(await readlink(h, t, `/proc/${c.tgid}/ns/net`));
    // /proc/<pid>/net is that process's namespace; /proc/net the reader's.
    expect(await readFile(h, t, `/proc/${t.tgid}/net/tcp`)).toContain(':1C84 00000000:0000 0A');
    expect(await readFile(h, t, `/proc/${c.tgid}/net/tcp`)).not.toContain(':1C84');
    expect(await readFile(h, c, '/proc/net/tcp')).not.toContain(':1C84');
    expect(await readFile(h, c, `/proc/${t.tgid}/net/tcp`)).toContain(':1C84');
    // Abstract names: the same one binds in each namespace, and neither reaches the other's.
    const abstract = new Uint8Array([AF_UNIX, 0, 0, ...enc.encode('h100')]);
    const unixIn = async (task: Task): Promise<number> => {
      const s = (await callAs(task, 'socket', AF_UNIX, SOCK_STREAM, 0)) as number;
      h.mem.write(ADDR, abstract);
      expect(await callAs(task, 'bind', s, ADDR, abstract.length)).toBe(0);
      expect(await callAs(task, 'listen', s, 1)).toBe(0);
      return s;
    };
    await unixIn(t);
    await unixIn(c);
    // A path-bound socket is the filesystem's: the child reaches the parent's.
    const path = new Uint8Array(110);
    path.set([AF_UNIX, 0, ...enc.encode('/sock')]);
    const ps = (await h.call('socket', AF_UNIX, SOCK_STREAM, 0)) as number;
    h.mem.write(ADDR, path);
    expect(await h.call('bind', ps, ADDR, path.length)).toBe(0);
    expect(await h.call('listen', ps, 1)).toBe(0);
    const cs = (await callAs(c, 'socket', AF_UNIX, SOCK_STREAM, 0)) as number;
    h.mem.write(ADDR, path);
    expect(await callAs(c, 'connect', cs, ADDR, path.length)).toBe(0);
    await h.call('close', l);
  });
});

describe('/proc/sys/net', () => {
  it("is the reader's namespace's: a sysctl set in a made namespace leaves the initial one's alone", async () => {
    const h = withProc();
    const c = await child(h, CloneFlag.CLONE_NEWNET);
    const path = '/proc/sys/net/ipv4/ip_local_port_range';
    h.mem.write(ADDR, enc.encode(`${path}\0`));
    const w = (await callAs(c, 'openat', -100, ADDR, 1, 0)) as number;
    h.mem.write(OUT, enc.encode('40000 40100\n'));
    expect(await callAs(c, 'write', w, OUT, 12)).toBe(12);
    expect(await readFile(h, c, path)).toBe('40000\t40100\n');
    expect(await readFile(h, h.task, path)).toBe('32768\t60999\n');
  });
});

describe('setns into a network namespace', () => {
  it('joins by an nsfs file opened before or a pidfd; sockets stay in the namespace they were made in', async () => {
    const h = withProc();
    const t = h.task;
    const l = await listenOn(h, t, 7400);
    const initial = await open(h, t, '/proc/self/ns/net');
    expect(await h.call('unshare', CloneFlag.CLONE_NEWNET)).toBe(0);
    expect(await setLoUp(h, t)).toBe(0);
    const made = await open(h, t, '/proc/self/ns/net');
    expect(await h.call('ioctl', made, NS_GET_NSTYPE, 0)).toBe(CloneFlag.CLONE_NEWNET);
    const inner = await readlink(h, t, '/proc/self/ns/net');
    // Made here, before going back: it stays in this namespace.
    const early = (await h.call('socket', AF_INET, SOCK_STREAM, 0)) as number;
    expect(await h.call('setns', initial, CloneFlag.CLONE_NEWUTS)).toBe(E.EINVAL);
    expect(await h.call('setns', initial, 0)).toBe(0);
    expect(await readlink(h, t, '/proc/self/ns/net')).not.toBe(inner);
    expect(await connectFrom(h, t, 7400)).toBe(0);
    h.mem.write(ADDR, sin(7400));
    expect(await h.call('connect', early, ADDR, 16)).toBe(E.ECONNREFUSED);
    // Back in by the file of the made namespace, then out by a pidfd of a process in the initial one.
    expect(await h.call('setns', made, CloneFlag.CLONE_NEWNET)).toBe(0);
    expect(await readlink(h, t, '/proc/self/ns/net')).toBe(inner);
    expect(await connectFrom(h, t, 7400)).toBe(E.ECONNREFUSED);
    const c = await child(h, 0);
    expect(await callAs(c, 'setns', initial, 0)).toBe(0);
    const pidfd = (await h.call('pidfd_open', c.tgid, 0)) as number;
    expect(await h.call('setns', pidfd, CloneFlag.CLONE_NEWNET)).toBe(0);
    expect(await connectFrom(h, t, 7400)).toBe(0);
    expect(await h.call('setuid', 1000)).toBe(0);
    expect(await h.call('setns', made, 0)).toBe(E.EPERM);
    await h.call('close', l);
  });

  it("accept gives a socket of the listener's namespace, whichever one the caller joined since", async () => {
    const h = withProc();
    const t = h.task;
    const initial = await open(h, t, '/proc/self/ns/net');
    expect(await h.call('unshare', CloneFlag.CLONE_NEWNET)).toBe(0);
    const made = await open(h, t, '/proc/self/ns/net');
    expect(await setLoUp(h, t)).toBe(0);
    const l = await listenOn(h, t, 7600);
    const c = (await h.call('socket', AF_INET, SOCK_STREAM, 0)) as number;
    h.mem.write(ADDR, sin(7600));
    expect(await h.call('connect', c, ADDR, 16)).toBe(0);
    expect(await h.call('setns', initial, 0)).toBe(0);
    const a = (await h.call('accept', l, 0, 0)) as number;
    expect(a).toBeGreaterThan(0);
    expect(await h.call('fstat', a, OUT)).toBe(0);
    const ino = Number(new DataView((h.mem.read(OUT, 16) as Uint8Array).buffer).getBigUint64(8, true));
    // /proc/net/tcp's inode column names the socket's file in the namespace it belongs to.
    expect(await readFile(h, t, '/proc/self/net/tcp')).not.toMatch(new RegExp(` ${ino} `));
    expect(await h.call('setns', made, 0)).toBe(0);
    expect(await readFile(h, t, '/proc/self/net/tcp')).toMatch(new RegExp(` ${ino} `));
  });

  it('a namespace lives while a process, an nsfs file or a socket holds it', async () => {
    const h = withProc();
    const t = h.task;
    const initial = await open(h, t, '/proc/self/ns/net');
    expect(await h.call('unshare', CloneFlag.CLONE_NEWNET)).toBe(0);
    const inum = inumOf(await readlink(h, t, '/proc/self/ns/net'));
    const fd = await open(h, t, '/proc/self/ns/net');
    expect(await setLoUp(h, t)).toBe(0);
    const l = await listenOn(h, t, 7500);
    expect(await h.call('setns', initial, 0)).toBe(0);
    expect(madeNetOf(inum)).toBeDefined();
    expect(await h.call('close', fd)).toBe(0);
    // The listener still holds it: a process that joins again finds it working.
    expect(madeNetOf(inum)).toBeDefined();
    expect(await h.call('close', l)).toBe(0);
    expect(madeNetOf(inum)).toBeUndefined();
    // A child made in a new namespace holds its own until it is gone.
    const c = await child(h, CloneFlag.CLONE_NEWNET);
    const its = inumOf(await readlink(h, t, `/proc/${c.tgid}/ns/net`));
    expect(madeNetOf(its)).toBeDefined();
    await callAs(c, 'exit_group', 0);
    expect(madeNetOf(its)).toBeUndefined();
  });
});

/** uname(2)'s nodename as task `t` sees it. */
async function nodename(h: Harness, t: Task): Promise<string> {
  expect(await callAs(t, 'uname', OUT)).toBe(0);
  const field = h.mem.read(OUT + 65, 65) as Uint8Array;
  return dec.decode(field.subarray(0, field.indexOf(0)));
}

async function sethostname(h: Harness, t: Task, name: string): Promise<SyscallResult> {
  h.mem.write(ADDR, enc.encode(name));
  return callAs(t, 'sethostname', ADDR, name.length);
}

describe('UTS namespaces', () => {
  it('unshare and clone(CLONE_NEWUTS) copy the names, then keep their own; setns goes back', async () => {
    const h = withProc();
    const t = h.task;
    const initial = await open(h, t, '/proc/self/ns/uts');
    const before = await readlink(h, t, '/proc/self/ns/uts');
    const c = await child(h, CloneFlag.CLONE_NEWUTS);
    expect(await readlink(h, c, '/proc/self/ns/uts')).not.toBe(before);
    expect(await nodename(h, c)).toBe('tsvisor');
    expect(await sethostname(h, c, 'inner')).toBe(0);
    expect(await nodename(h, c)).toBe('inner');
    expect(await readFile(h, c, '/proc/sys/kernel/hostname')).toBe('inner\n');
    expect(await nodename(h, t)).toBe('tsvisor');
    expect(await readFile(h, t, '/proc/sys/kernel/hostname')).toBe('tsvisor\n');
    expect(await h.call('unshare', CloneFlag.CLONE_NEWUTS)).toBe(0);
    const mine = await readlink(h, t, '/proc/self/ns/uts');
    expect(mine).not.toBe(before);
    expect(await sethostname(h, t, 'mine')).toBe(0);
    expect(await nodename(h, c)).toBe('inner');
    // By a pidfd of the child, then back by the file of the initial namespace.
    const pidfd = (await h.call('pidfd_open', c.tgid, 0)) as number;
    expect(await h.call('setns', pidfd, CloneFlag.CLONE_NEWUTS)).toBe(0);
    expect(await nodename(h, t)).toBe('inner');
    expect(await h.call('setns', initial, CloneFlag.CLONE_NEWUTS)).toBe(0);
    expect(await nodename(h, t)).toBe('tsvisor');
    expect(await readlink(h, t, '/proc/self/ns/uts')).toBe(before);
    // Nothing holds the unshared namespace any more; the child holds its own until it goes.
    expect(madeUtsOf(Number(/\d+/.exec(mine)?.[0]))).toBeUndefined();
    const its = Number(/\d+/.exec(await readlink(h, t, `/proc/${c.tgid}/ns/uts`))?.[0]);
    expect(madeUtsOf(its)).toBeDefined();
    await callAs(c, 'exit_group', 0);
    expect(madeUtsOf(its)).toBeUndefined();
    expect(await h.call('setuid', 1000)).toBe(0);
    expect(await h.call('unshare', CloneFlag.CLONE_NEWUTS)).toBe(E.EPERM);
  });
});
