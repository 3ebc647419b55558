/**
 * Device numbers and the character device registry: opening a character device node on any
 * filesystem goes to the driver registered for its number (Linux's chrdev table), so `mknod`
 * on tmpfs makes a working /dev/null just as devfs does.
 *
 * @module
 */

import { E } from '@tsvisor/abi';
import type { LinuxError } from '@tsvisor/abi';
import type { FileDescriptionImpl } from './file.js';
import type { Creds, Location } from './types.js';

/** The user-space dev_t encoding of (major, minor), as stat's st_rdev and mknod's dev use it. */
export function makedev(major: number, minor: number): number {
  return ((minor & 0xff) | ((major & 0xfff) << 8) | ((minor & ~0xff) << 12)) >>> 0;
}

/** The major number of a dev_t. */
export function major(dev: number): number {
  return (dev >>> 8) & 0xfff;
}

/** The minor number of a dev_t. */
export function minor(dev: number): number {
  return (dev & 0xff) | ((dev >>> 12) & 0xfff00);
}

let nextAnon = 1;

/** A fresh anonymous device number (major 0) for a filesystem's st_dev, as Linux gives tmpfs. */
export function anonDev(): number {
  return makedev(0, 0x20 + nextAnon++);
}

/** A character device driver: what opening its node gives. */
export interface CharDevice {
  /** Open the device; `loc` is the node that was opened. */
  open(flags: number, loc: Location, creds: Creds): FileDescriptionImpl | LinuxError;
}

/** Character devices by number. */
export class DeviceRegistry {
  private readonly chars = new Map<number, CharDevice>();

  /** Register (or replace) the driver for character device (major, minor). */
  registerChar(maj: number, min: number, dev: CharDevice): void {
    this.chars.set(makedev(maj, min), dev);
  }

  /** Remove a driver. */
  unregisterChar(maj: number, min: number): void {
    this.chars.delete(makedev(maj, min));
  }

  /** The driver for a dev_t, if any. */
  char(rdev: number): CharDevice | undefined {
    return this.chars.get(rdev);
  }

  /** chrdev_open: ENXIO when no driver has the number. */
  openChar(rdev: number, flags: number, loc: Location, creds: Creds): FileDescriptionImpl | LinuxError {
    const d = this.chars.get(rdev);
    if (d === undefined) return E.ENXIO;
    return d.open(flags, loc, creds);
  }
}
