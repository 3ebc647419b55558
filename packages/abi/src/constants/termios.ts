/**
 * Terminal constants (termios(3), asm-generic termbits.h): the c_iflag, c_oflag, c_cflag and
 * c_lflag bits, c_cc indexes, baud rates and tcsetattr/tcflush/tcflow actions.
 *
 * @module
 */
import { defineFlags } from './flagset.js';

/** `c_iflag` bits. */
export const Iflag = {
  IGNBRK: 0o1,
  BRKINT: 0o2,
  IGNPAR: 0o4,
  PARMRK: 0o10,
  INPCK: 0o20,
  ISTRIP: 0o40,
  INLCR: 0o100,
  IGNCR: 0o200,
  ICRNL: 0o400,
  IUCLC: 0o1000,
  IXON: 0o2000,
  IXANY: 0o4000,
  IXOFF: 0o10000,
  IMAXBEL: 0o20000,
  IUTF8: 0o40000,
} as const;

/** c_iflag, for decoding. */
export const iflagBits = defineFlags('c_iflag', Iflag);

/** `c_oflag` bits and delay masks. */
export const Oflag = {
  OPOST: 0o1,
  OLCUC: 0o2,
  ONLCR: 0o4,
  OCRNL: 0o10,
  ONOCR: 0o20,
  ONLRET: 0o40,
  OFILL: 0o100,
  OFDEL: 0o200,
  NLDLY: 0o400,
  NL0: 0o0,
  NL1: 0o400,
  CRDLY: 0o3000,
  CR0: 0o0,
  CR1: 0o1000,
  CR2: 0o2000,
  CR3: 0o3000,
  TABDLY: 0o14000,
  TAB0: 0o0,
  TAB1: 0o4000,
  TAB2: 0o10000,
  TAB3: 0o14000,
  XTABS: 0o14000,
  BSDLY: 0o20000,
  BS0: 0o0,
  BS1: 0o20000,
  VTDLY: 0o40000,
  VT0: 0o0,
  VT1: 0o40000,
  FFDLY: 0o100000,
  FF0: 0o0,
  FF1: 0o100000,
} as const;

/** c_oflag, for decoding (delay fields by their non-zero values). */
export const oflagBits = defineFlags('c_oflag', [
  ...['OPOST', 'OLCUC', 'ONLCR', 'OCRNL', 'ONOCR', 'ONLRET', 'OFILL', 'OFDEL'].map((name) => ({
    name,
    value: Oflag[name as keyof typeof Oflag],
  })),
  ...['NL1', 'CR3', 'CR2', 'CR1', 'TAB3', 'TAB2', 'TAB1', 'BS1', 'VT1', 'FF1'].map((name) => ({
    name,
    value: Oflag[name as keyof typeof Oflag],
  })),
]);

/** `c_cflag` bits and fields. */
export const Cflag = {
  CBAUD: 0o10017,
  CSIZE: 0o60,
  CS5: 0o0,
  CS6: 0o20,
  CS7: 0o40,
  CS8: 0o60,
  CSTOPB: 0o100,
  CREAD: 0o200,
  PARENB: 0o400,
  PARODD: 0o1000,
  HUPCL: 0o2000,
  CLOCAL: 0o4000,
  CBAUDEX: 0o10000,
  BOTHER: 0o10000,
  CIBAUD: 0o2003600000,
  CMSPAR: 0o10000000000,
  CRTSCTS: 0o20000000000,
  IBSHIFT: 16,
} as const;

/** c_cflag, for decoding (baud rate bits in CBAUD are left as a number). */
export const cflagBits = defineFlags('c_cflag', [
  { name: 'CS8', value: Cflag.CS8 },
  { name: 'CS7', value: Cflag.CS7 },
  { name: 'CS6', value: Cflag.CS6 },
  ...['CSTOPB', 'CREAD', 'PARENB', 'PARODD', 'HUPCL', 'CLOCAL', 'CMSPAR', 'CRTSCTS'].map((name) => ({
    name,
    value: Cflag[name as keyof typeof Cflag],
  })),
]);

/** `c_lflag` bits. */
export const Lflag = {
  ISIG: 0o1,
  ICANON: 0o2,
  XCASE: 0o4,
  ECHO: 0o10,
  ECHOE: 0o20,
  ECHOK: 0o40,
  ECHONL: 0o100,
  NOFLSH: 0o200,
  TOSTOP: 0o400,
  ECHOCTL: 0o1000,
  ECHOPRT: 0o2000,
  ECHOKE: 0o4000,
  FLUSHO: 0o10000,
  PENDIN: 0o40000,
  IEXTEN: 0o100000,
  EXTPROC: 0o200000,
} as const;

/** c_lflag, for decoding. */
export const lflagBits = defineFlags('c_lflag', Lflag);

/** `c_cc` indexes (kernel `struct termios` has NCCS = 19 entries). */
export const Cc = {
  VINTR: 0,
  VQUIT: 1,
  VERASE: 2,
  VKILL: 3,
  VEOF: 4,
  VTIME: 5,
  VMIN: 6,
  VSWTC: 7,
  VSTART: 8,
  VSTOP: 9,
  VSUSP: 10,
  VEOL: 11,
  VREPRINT: 12,
  VDISCARD: 13,
  VWERASE: 14,
  VLNEXT: 15,
  VEOL2: 16,
  NCCS: 19,
} as const;

/** Baud rate codes (`B*`) as stored in CBAUD. */
export const Baud = {
  B0: 0o0,
  B50: 0o1,
  B75: 0o2,
  B110: 0o3,
  B134: 0o4,
  B150: 0o5,
  B200: 0o6,
  B300: 0o7,
  B600: 0o10,
  B1200: 0o11,
  B1800: 0o12,
  B2400: 0o13,
  B4800: 0o14,
  B9600: 0o15,
  B19200: 0o16,
  B38400: 0o17,
  B57600: 0o10001,
  B115200: 0o10002,
  B230400: 0o10003,
  B460800: 0o10004,
  B500000: 0o10005,
  B576000: 0o10006,
  B921600: 0o10007,
  B1000000: 0o10010,
  B1152000: 0o10011,
  B1500000: 0o10012,
  B2000000: 0o10013,
  B2500000: 0o10014,
  B3000000: 0o10015,
  B3500000: 0o10016,
  B4000000: 0o10017,
} as const;

/** tcsetattr actions, tcflush queues and tcflow actions. */
export const TcAction = {
  TCSANOW: 0,
  TCSADRAIN: 1,
  TCSAFLUSH: 2,
  TCIFLUSH: 0,
  TCOFLUSH: 1,
  TCIOFLUSH: 2,
  TCOOFF: 0,
  TCOON: 1,
  TCIOFF: 2,
  TCION: 3,
} as const;
