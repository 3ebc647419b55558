/**
 * Every constant group of this package by name, for tools that list or check them all (the
 * header-differential test compiles each name against the C headers).
 *
 * @module
 */
import * as open from './open.js';
import * as stat from './stat.js';
import * as mman from './mman.js';
import * as sched from './sched.js';
import * as socket from './socket.js';
import * as ioctl from './ioctl.js';
import * as poll from './poll.js';
import * as futex from './futex.js';
import * as prctl from './prctl.js';
import * as resource from './resource.js';
import * as termios from './termios.js';
import * as capability from './capability.js';
import * as misc from './misc.js';
import * as sig from '../signals.js';

/** A group of named constants: `{ O_RDONLY: 0, ... }`. */
export type ConstantGroup = Readonly<Record<string, number | bigint>>;

/** All constant groups, keyed by the name of their exported object. */
export const constantGroups: Readonly<Record<string, ConstantGroup>> = Object.freeze({
  OpenFlag: open.OpenFlag,
  FcntlCmd: open.FcntlCmd,
  FdFlag: open.FdFlag,
  Seal: open.Seal,
  LockType: open.LockType,
  OwnerType: open.OwnerType,
  At: open.At,
  AccessMode: open.AccessMode,
  Resolve: open.Resolve,
  Seek: open.Seek,
  Flock: open.Flock,
  Rename: open.Rename,
  Falloc: open.Falloc,
  Xattr: open.Xattr,
  Utime: open.Utime,
  SpliceFlag: open.SpliceFlag,
  CloseRange: open.CloseRange,
  Memfd: open.Memfd,
  Fadvise: open.Fadvise,
  Rwf: open.Rwf,
  DnotifyFlag: open.DnotifyFlag,
  MountFlag: open.MountFlag,
  UmountFlag: open.UmountFlag,
  Mode: stat.Mode,
  StatxMask: stat.StatxMask,
  StatxAttr: stat.StatxAttr,
  Prot: mman.Prot,
  MapFlag: mman.MapFlag,
  Mremap: mman.Mremap,
  Madv: mman.Madv,
  Msync: mman.Msync,
  Mcl: mman.Mcl,
  Mlock: mman.Mlock,
  CloneFlag: sched.CloneFlag,
  WaitOption: sched.WaitOption,
  IdType: sched.IdType,
  PidfdFlag: sched.PidfdFlag,
  SchedPolicy: sched.SchedPolicy,
  AddressFamily: socket.AddressFamily,
  SockType: socket.SockType,
  SocketLevel: socket.SocketLevel,
  SocketOption: socket.SocketOption,
  Scm: socket.Scm,
  IpProto: socket.IpProto,
  IpOption: socket.IpOption,
  Ipv6Option: socket.Ipv6Option,
  Ipv6OptionLinux: socket.Ipv6OptionLinux,
  TcpOption: socket.TcpOption,
  MsgFlag: socket.MsgFlag,
  Shut: socket.Shut,
  Ioctl: ioctl.Ioctl,
  PollEvent: poll.PollEvent,
  EpollCtl: poll.EpollCtl,
  EpollEventFlag: poll.EpollEventFlag,
  EpollFlag: poll.EpollFlag,
  Futex: futex.Futex,
  Futex2: futex.Futex2,
  FutexWakeOp: futex.FutexWakeOp,
  Prctl: prctl.Prctl,
  ArchPrctl: prctl.ArchPrctl,
  PrctlArg: prctl.PrctlArg,
  Rlimit: { ...resource.Rlimit, RLIM_INFINITY: resource.RLIM_INFINITY },
  RusageWho: resource.RusageWho,
  Prio: resource.Prio,
  ClockId: resource.ClockId,
  TimerFlag: resource.TimerFlag,
  Itimer: resource.Itimer,
  Iflag: termios.Iflag,
  Oflag: termios.Oflag,
  Cflag: termios.Cflag,
  Lflag: termios.Lflag,
  Cc: termios.Cc,
  Baud: termios.Baud,
  TcAction: termios.TcAction,
  Capability: capability.Capability,
  CapVersion: capability.CapVersion,
  Grnd: misc.Grnd,
  Efd: misc.Efd,
  Tfd: misc.Tfd,
  Sfd: misc.Sfd,
  Inotify: misc.Inotify,
  SaFlag: sig.SaFlag,
  SigHow: sig.SigHow,
  SigHandler: sig.SigHandler,
  SsFlag: sig.SsFlag,
  SigStack: sig.SigStack,
  SiCode: sig.SiCode,
  IllCode: sig.IllCode,
  FpeCode: sig.FpeCode,
  SegvCode: sig.SegvCode,
  BusCode: sig.BusCode,
  TrapCode: sig.TrapCode,
  CldCode: sig.CldCode,
  PollCode: sig.PollCode,
  SysCode: sig.SysCode,
  Sigev: sig.Sigev,
  Signal: Object.fromEntries(
    Object.entries(sig.Signal).filter((e): e is [string, number] => typeof e[1] === 'number'),
  ),
  SignalAlias: sig.SIGNAL_ALIASES,
});
