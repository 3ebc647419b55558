/**
 * Terminal structs as the kernel's ioctls take them: `termios` with NCCS = 19 (asm/termbits.h,
 * not glibc's 32-entry user-space struct), `termios2` with explicit speeds, and `winsize`.
 *
 * @module
 */

import { at, bytes, defineStruct, u16, u32, u8, type StructValue } from './layout.js';

/** Number of control characters in the kernel's termios (asm/termbits.h). */
export const KERNEL_NCCS = 19;

const termiosFields = {
  c_iflag: at(0, u32),
  c_oflag: at(4, u32),
  c_cflag: at(8, u32),
  c_lflag: at(12, u32),
  c_line: at(16, u8),
  /** The 19 control characters, indexed by VINTR, VQUIT, ... */
  c_cc: at(17, bytes(KERNEL_NCCS)),
};

/** The kernel's `struct termios` (36 bytes), for TCGETS/TCSETS*. */
export const termios = defineStruct('termios', 36, termiosFields);
/** A kernel `struct termios` value. */
export type Termios = StructValue<typeof termios>;

/** `struct termios2` (44 bytes), for TCGETS2/TCSETS2: termios plus input and output speeds. */
export const termios2 = defineStruct('termios2', 44, {
  ...termiosFields,
  c_ispeed: at(36, u32),
  c_ospeed: at(40, u32),
});
/** A `struct termios2` value. */
export type Termios2 = StructValue<typeof termios2>;

/** `struct winsize` (8 bytes), for TIOCGWINSZ/TIOCSWINSZ. */
export const winsize = defineStruct('winsize', 8, {
  ws_row: at(0, u16),
  ws_col: at(2, u16),
  ws_xpixel: at(4, u16),
  ws_ypixel: at(6, u16),
});
/** A `struct winsize` value. */
export type Winsize = StructValue<typeof winsize>;
