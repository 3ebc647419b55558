/**
 * ioctl(2) request numbers of terminals and generic file descriptors (x86-64, asm-generic
 * ioctls.h), with `_IOC` helpers for computing others.
 *
 * @module
 */
import { defineEnum } from './flagset.js';

/** `_IOC` direction bits. */
export const IocDir = { _IOC_NONE: 0, _IOC_WRITE: 1, _IOC_READ: 2 } as const;

/** Builds an ioctl number like the kernel's `_IOC(dir, type, nr, size)`. */
export function _IOC(dir: number, type: number, nr: number, size: number): number {
  return ((dir << 30) | (size << 16) | (type << 8) | nr) >>> 0;
}

/** ioctl request numbers. */
export const Ioctl = {
  TCGETS: 0x5401,
  TCSETS: 0x5402,
  TCSETSW: 0x5403,
  TCSETSF: 0x5404,
  TCGETA: 0x5405,
  TCSETA: 0x5406,
  TCSETAW: 0x5407,
  TCSETAF: 0x5408,
  TCSBRK: 0x5409,
  TCXONC: 0x540a,
  TCFLSH: 0x540b,
  TIOCEXCL: 0x540c,
  TIOCNXCL: 0x540d,
  TIOCSCTTY: 0x540e,
  TIOCGPGRP: 0x540f,
  TIOCSPGRP: 0x5410,
  TIOCOUTQ: 0x5411,
  TIOCSTI: 0x5412,
  TIOCGWINSZ: 0x5413,
  TIOCSWINSZ: 0x5414,
  TIOCMGET: 0x5415,
  TIOCMBIS: 0x5416,
  TIOCMBIC: 0x5417,
  TIOCMSET: 0x5418,
  TIOCGSOFTCAR: 0x5419,
  TIOCSSOFTCAR: 0x541a,
  FIONREAD: 0x541b,
  TIOCINQ: 0x541b,
  TIOCLINUX: 0x541c,
  TIOCCONS: 0x541d,
  TIOCGSERIAL: 0x541e,
  TIOCSSERIAL: 0x541f,
  TIOCPKT: 0x5420,
  FIONBIO: 0x5421,
  TIOCNOTTY: 0x5422,
  TIOCSETD: 0x5423,
  TIOCGETD: 0x5424,
  TCSBRKP: 0x5425,
  TIOCSBRK: 0x5427,
  TIOCCBRK: 0x5428,
  TIOCGSID: 0x5429,
  /** `_IOR('T', 0x2A, struct termios2)`. */
  TCGETS2: 0x802c542a,
  TCSETS2: 0x402c542b,
  TCSETSW2: 0x402c542c,
  TCSETSF2: 0x402c542d,
  TIOCGRS485: 0x542e,
  TIOCSRS485: 0x542f,
  /** `_IOR('T', 0x30, unsigned int)`: the pty number of a ptmx fd. */
  TIOCGPTN: 0x80045430,
  /** `_IOW('T', 0x31, int)`: lock or unlock the pty slave. */
  TIOCSPTLCK: 0x40045431,
  TIOCGDEV: 0x80045432,
  TCGETX: 0x5432,
  TCSETX: 0x5433,
  TCSETXF: 0x5434,
  TCSETXW: 0x5435,
  TIOCSIG: 0x40045436,
  TIOCVHANGUP: 0x5437,
  TIOCGPKT: 0x80045438,
  TIOCGPTLCK: 0x80045439,
  TIOCGEXCL: 0x80045440,
  TIOCGPTPEER: 0x5441,
  TIOCGISO7816: 0x80285442,
  TIOCSISO7816: 0xc0285443,
  FIONCLEX: 0x5450,
  FIOCLEX: 0x5451,
  FIOASYNC: 0x5452,
  TIOCSERCONFIG: 0x5453,
  TIOCSERGWILD: 0x5454,
  TIOCSERSWILD: 0x5455,
  TIOCGLCKTRMIOS: 0x5456,
  TIOCSLCKTRMIOS: 0x5457,
  TIOCSERGSTRUCT: 0x5458,
  TIOCSERGETLSR: 0x5459,
  TIOCSERGETMULTI: 0x545a,
  TIOCSERSETMULTI: 0x545b,
  TIOCMIWAIT: 0x545c,
  TIOCGICOUNT: 0x545d,
  FIOQSIZE: 0x5460,
  FIOSETOWN: 0x8901,
  SIOCSPGRP: 0x8902,
  FIOGETOWN: 0x8903,
  SIOCGPGRP: 0x8904,
  SIOCATMARK: 0x8905,
  SIOCGSTAMP_OLD: 0x8906,
  SIOCGSTAMPNS_OLD: 0x8907,
} as const;

/** ioctl requests, for decoding (unsigned: the kernel takes `unsigned int cmd`). */
export const ioctlRequests = defineEnum(
  'ioctl',
  Object.entries(Ioctl)
    .filter(([n]) => n !== 'TIOCINQ')
    .map(([name, value]) => ({ name, value })),
  { signed: false },
);
