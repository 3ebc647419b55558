/**
 * Terminal settings as Linux keeps them (`struct ktermios`) and as TCGETS/TCSETS copy them
 * (`struct termios` of asm-generic: four flag words, the line discipline, 19 control chars),
 * with the flag bits and control-char indices of x86-64.
 *
 * @module
 */

import { Baud, Cc, Cflag, Iflag, Lflag, Oflag } from '@tsvisor/abi';

/** Indices into `c_cc` (`@tsvisor/abi`'s {@link Cc}), by their C names. */
export const {
  VINTR,
  VQUIT,
  VERASE,
  VKILL,
  VEOF,
  VTIME,
  VMIN,
  VSTART,
  VSTOP,
  VSUSP,
  VEOL,
  VREPRINT,
  VWERASE,
  VLNEXT,
  VEOL2,
  NCCS,
} = Cc;

/** The byte size of `struct termios` as TCGETS/TCSETS copy it. */
export const TERMIOS_SIZE = 36;

/** One terminal's settings. */
export class Termios {
  constructor(
    public iflag: number,
    public oflag: number,
    public cflag: number,
    public lflag: number,
    public line: number,
    readonly cc: Uint8Array,
  ) {}

  /**
   * A pty slave's settings when its pair is made: Linux's `tty_std_termios` with the pty
   * driver's `B38400 | CS8 | CREAD` (^C ^\ DEL ^U ^D, VMIN 1, ^Q ^S ^Z, ^R ^O ^W ^V).
   */
  static ptySlave(): Termios {
    const cc = Uint8Array.of(3, 28, 127, 21, 4, 0, 1, 0, 17, 19, 26, 0, 18, 15, 23, 22, 0, 0, 0);
    return new Termios(
      Iflag.ICRNL | Iflag.IXON,
      Oflag.OPOST | Oflag.ONLCR,
      Baud.B38400 | Cflag.CS8 | Cflag.CREAD,
      Lflag.ISIG |
        Lflag.ICANON |
        Lflag.ECHO |
        Lflag.ECHOE |
        Lflag.ECHOK |
        Lflag.ECHOCTL |
        Lflag.ECHOKE |
        Lflag.IEXTEN,
      0,
      cc,
    );
  }

  /** The `struct termios` bytes TCGETS writes. */
  encode(): Uint8Array {
    const out = new Uint8Array(TERMIOS_SIZE);
    const v = new DataView(out.buffer);
    v.setUint32(0, this.iflag, true);
    v.setUint32(4, this.oflag, true);
    v.setUint32(8, this.cflag, true);
    v.setUint32(12, this.lflag, true);
    out[16] = this.line;
    out.set(this.cc, 17);
    return out;
  }

  /** The settings in `bytes` (a `struct termios` from TCSETS*), at least {@link TERMIOS_SIZE} long. */
  static decode(bytes: Uint8Array): Termios {
    if (bytes.length < TERMIOS_SIZE) throw new RangeError('struct termios is 36 bytes');
    const v = new DataView(bytes.buffer, bytes.byteOffset, TERMIOS_SIZE);
    return new Termios(
      v.getUint32(0, true),
      v.getUint32(4, true),
      v.getUint32(8, true),
      v.getUint32(12, true),
      bytes[16] ?? 0,
      bytes.slice(17, 17 + NCCS),
    );
  }

  /** A copy. */
  clone(): Termios {
    return new Termios(this.iflag, this.oflag, this.cflag, this.lflag, this.line, this.cc.slice());
  }
}

/** The terminal size (`struct winsize`, TIOCGWINSZ/TIOCSWINSZ): rows, columns, pixels. */
export interface Winsize {
  readonly row: number;
  readonly col: number;
  readonly xpixel: number;
  readonly ypixel: number;
}

/** `struct winsize`'s bytes (four u16). */
export function encodeWinsize(w: Winsize): Uint8Array {
  const out = new Uint8Array(8);
  const v = new DataView(out.buffer);
  v.setUint16(0, w.row, true);
  v.setUint16(2, w.col, true);
  v.setUint16(4, w.xpixel, true);
  v.setUint16(6, w.ypixel, true);
  return out;
}

/** A `struct winsize` from 8 bytes. */
export function decodeWinsize(bytes: Uint8Array): Winsize {
  const v = new DataView(bytes.buffer, bytes.byteOffset, 8);
  return {
    row: v.getUint16(0, true),
    col: v.getUint16(2, true),
    xpixel: v.getUint16(4, true),
    ypixel: v.getUint16(6, true),
  };
}
