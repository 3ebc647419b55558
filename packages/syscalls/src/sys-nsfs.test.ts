// /proc/<pid>/ns files through the syscalls: open, fstat, read, the NS_GET_* ioctls, setns(2)
// and RTM_GETNSID's NETNSA_FD (testdata/nsfs.c checks the same against Linux).
import { CloneFlag, E, errnoName } from '@tsvisor/abi';
import { KernelProcSource } from '@tsvisor/kernel';
import { createProcfs } from '@tsvisor/procfs';
import { ROOT_CREDS } from '@tsvisor/vfs';
import { describe, expect, it } from 'vitest';
import { BUF, harness, type Harness } from './harness.test-util.js';

const enc = new TextEncoder();
const O_PATH = 0o10000000;
const F_GETFD = 1;
const NS_GET_USERNS = 0xb701;
const NS_GET_PARENT = 0xb702;
const NS_GET_NSTYPE = 0xb703;
const NS_GET_OWNER_UID = 0xb704;
const TCGETS = 0x5401;
/** PROC_NET_INIT_INO's successor and PROC_USER_INIT_INO, the numbers the sandbox shows. */
const NET_INO = 0xf0000000;
const USER_INO = 0xeffffffd;
const STAT = BUF + 0x1000;
const OUT = BUF + 0x2000;

function withProc(): Harness {
  const h = harness();
  const vfs = h.kernel.vfs!;
  const ctx = vfs.rootContext(ROOT_CREDS);
  vfs.mkdirat(ctx, ctx.cwd, '/proc', 0o555);
  vfs.mount(ctx, ctx.cwd, '/proc', createProcfs(new KernelProcSource(h.kernel)));
  return h;
}

async function open(h: Harness, path: string, flags = 0): Promise<number | unknown> {
  h.mem.write(BUF, enc.encode(`${path}\0`));
  return h.call('openat', -100, BUF, flags, 0);
}

async function fstat(
  h: Harness,
  fd: number,
): Promise<{ ino: bigint; mode: number; nlink: bigint; size: bigint }> {
  expect(await h.call('fstat', fd, STAT)).toBe(0);
  const dv = new DataView((h.mem.read(STAT, 144) as Uint8Array).buffer);
  return {
    ino: dv.getBigUint64(8, true),
    nlink: dv.getBigUint64(16, true),
    mode: dv.getUint32(24, true),
    size: dv.getBigInt64(48, true),
  };
}

describe('nsfs files through the syscalls', () => {
  it('open and fstat give the namespace inode; read is EINVAL; /proc/self/fd shows net:[ino]', async () => {
    const h = withProc();
    const fd = (await open(h, '/proc/self/ns/net')) as number;
    expect(fd).toBeGreaterThanOrEqual(0);
    expect(await fstat(h, fd)).toEqual({ ino: BigInt(NET_INO), mode: 0o100444, nlink: 1n, size: 0n });
    expect(await h.call('read', fd, OUT, 64)).toBe(E.EINVAL);
    expect(await h.call('lseek', fd, 0, 0)).toBe(E.ESPIPE);
    h.mem.write(BUF, enc.encode(`/proc/self/fd/${fd}\0`));
    const n = (await h.call('readlinkat', -100, BUF, OUT, 64)) as number;
    expect(new TextDecoder().decode(h.mem.read(OUT, n) as Uint8Array)).toBe(`net:[${NET_INO}]`);
  });

  it('answers NS_GET_NSTYPE, NS_GET_PARENT, NS_GET_OWNER_UID and NS_GET_USERNS as for initial namespaces', async () => {
    const h = withProc();
    const net = (await open(h, '/proc/self/ns/net')) as number;
    const user = (await open(h, '/proc/self/ns/user')) as number;
    const pid = (await open(h, '/proc/self/ns/pid_for_children')) as number;
    expect(await h.call('ioctl', net, NS_GET_NSTYPE, 0)).toBe(CloneFlag.CLONE_NEWNET);
    expect(await h.call('ioctl', pid, NS_GET_NSTYPE, 0)).toBe(CloneFlag.CLONE_NEWPID);
    expect(await h.call('ioctl', net, NS_GET_PARENT, 0)).toBe(E.EINVAL);
    expect(await h.call('ioctl', pid, NS_GET_PARENT, 0)).toBe(E.EPERM);
    expect(await h.call('ioctl', user, NS_GET_PARENT, 0)).toBe(E.EPERM);
    expect(await h.call('ioctl', net, NS_GET_OWNER_UID, OUT)).toBe(E.EINVAL);
    h.mem.write(OUT, new Uint8Array([1, 2, 3, 4]));
    expect(await h.call('ioctl', user, NS_GET_OWNER_UID, OUT)).toBe(0);
    expect([...(h.mem.read(OUT, 4) as Uint8Array)]).toEqual([0, 0, 0, 0]);
    expect(await h.call('ioctl', user, NS_GET_OWNER_UID, 1)).toBe(E.EFAULT);
    expect(await h.call('ioctl', user, NS_GET_USERNS, 0)).toBe(E.EPERM);
    const owner = (await h.call('ioctl', net, NS_GET_USERNS, 0)) as number;
    expect(owner).toBeGreaterThan(pid);
    expect((await fstat(h, owner)).ino).toBe(BigInt(USER_INO));
    expect(await h.call('fcntl', owner, F_GETFD, 0)).toBe(1);
    expect(await h.call('ioctl', owner, NS_GET_NSTYPE, 0)).toBe(CloneFlag.CLONE_NEWUSER);
    expect(await h.call('ioctl', net, TCGETS, OUT)).toBe(E.ENOTTY);
    const path = (await open(h, '/proc/self/ns/net', O_PATH)) as number;
    expect((await fstat(h, path)).ino).toBe(BigInt(NET_INO));
    expect(await h.call('ioctl', path, NS_GET_NSTYPE, 0)).toBe(E.EBADF);
  });

  it('setns joins the namespace the caller is in: type checks, EINVAL for user, EPERM without CAP_SYS_ADMIN', async () => {
    const h = withProc();
    const net = (await open(h, '/proc/self/ns/net')) as number;
    const user = (await open(h, '/proc/self/ns/user')) as number;
    const uts = (await open(h, '/proc/self/ns/uts')) as number;
    expect(await h.call('setns', net, 0)).toBe(0);
    expect(await h.call('setns', net, CloneFlag.CLONE_NEWNET)).toBe(0);
    expect(await h.call('setns', net, CloneFlag.CLONE_NEWUTS)).toBe(E.EINVAL);
    expect(await h.call('setns', uts, 0)).toBe(0);
    expect(await h.call('setns', user, 0)).toBe(E.EINVAL);
    expect(await h.call('setns', (await open(h, '/proc/self/ns/net', O_PATH)) as number, 0)).toBe(E.EBADF);
    expect(await h.call('setns', (await open(h, '/proc/self/status')) as number, 0)).toBe(E.EINVAL);
    expect(await h.call('setns', 99, 0)).toBe(E.EBADF);
    const pidfd = (await h.call('pidfd_open', h.task.tgid, 0)) as number;
    expect(await h.call('setns', pidfd, 0)).toBe(E.EINVAL);
    expect(await h.call('setns', pidfd, CloneFlag.CLONE_NEWNET | CloneFlag.CLONE_NEWUTS)).toBe(0);
    expect(await h.call('setns', pidfd, CloneFlag.CLONE_NEWNET | CloneFlag.CLONE_NEWUSER)).toBe(E.EINVAL);
    expect(await h.call('setuid', 1000)).toBe(0);
    expect(await h.call('setns', net, 0)).toBe(E.EPERM);
    expect(await h.call('setns', user, 0)).toBe(E.EINVAL);
  });

  it('setns to the own mount namespace moves root and cwd to its root, out of a chroot', async () => {
    const h = withProc();
    const mnt = (await open(h, '/proc/self/ns/mnt')) as number;
    h.mem.write(BUF, enc.encode('/jail\0'));
    expect(await h.call('mkdir', BUF, 0o755)).toBe(0);
    expect(await h.call('chroot', BUF)).toBe(0);
    expect(await h.call('chdir', BUF)).toBe(E.ENOENT);
    expect(await open(h, '/proc/self/status')).toBe(E.ENOENT);
    expect(await h.call('setns', mnt, CloneFlag.CLONE_NEWNS)).toBe(0);
    expect(await open(h, '/proc/self/status')).toBeGreaterThanOrEqual(0);
  });
});

/** RTM_GETNSID naming the peer by NETNSA_FD `fd`: the NETNSA_NSID answered, or the errno. */
async function nsidByFd(h: Harness, nl: number, fd: number): Promise<number | string> {
  const req = new Uint8Array(28);
  const dv = new DataView(req.buffer);
  dv.setUint32(0, req.length, true);
  dv.setUint16(4, 90, true); // RTM_GETNSID
  dv.setUint16(6, 1, true); // NLM_F_REQUEST
  dv.setUint16(20, 8, true);
  dv.setUint16(22, 3, true); // NETNSA_FD
  dv.setInt32(24, fd, true);
  h.mem.write(BUF, req);
  expect(await h.call('sendto', nl, BUF, req.length, 0, 0, 0)).toBe(req.length);
  const n = (await h.call('recvfrom', nl, OUT, 4096, 0x40, 0, 0)) as number;
  const got = new DataView((h.mem.read(OUT, n) as Uint8Array).slice().buffer);
  if (got.getUint16(4, true) === 2) return errnoName(-got.getInt32(16, true)) ?? 'unknown';
  expect(got.getUint16(4, true)).toBe(88); // RTM_NEWNSID
  expect(got.getUint16(22, true)).toBe(1); // NETNSA_NSID
  return got.getInt32(24, true);
}

describe('RTM_GETNSID with NETNSA_FD', () => {
  it('names the own namespace by its nsfs file (-1: no id), EINVAL for other files, EBADF for O_PATH', async () => {
    const h = withProc();
    const nl = (await h.call('socket', 16, 3, 0)) as number;
    expect(await nsidByFd(h, nl, (await open(h, '/proc/self/ns/net')) as number)).toBe(-1);
    expect(await nsidByFd(h, nl, (await open(h, '/proc/self/ns/uts')) as number)).toBe('EINVAL');
    expect(await nsidByFd(h, nl, (await open(h, '/proc/self/ns/net', O_PATH)) as number)).toBe('EBADF');
    expect(await nsidByFd(h, nl, 77)).toBe('EBADF');
  });
});
