/**
 * The UTS namespace of a sandbox: what uname(2) reports, and the host and domain names that
 * sethostname(2)/setdomainname(2) change.
 *
 * @module
 */
import { E, type LinuxError } from '@tsvisor/abi';
import type { Namespace } from './task/task.js';

/** Linux's `__NEW_UTS_LEN`: each name holds at most 64 bytes (plus the NUL). */
export const UTS_LEN = 64;

/** The release string tsvisor reports: a Linux 6.x kernel, so libcs enable modern paths. */
export const TSVISOR_RELEASE = '6.8.0-tsvisor';

/** The version string: names tsvisor, as `uname -v` shows. */
export const TSVISOR_VERSION = '#1 SMP PREEMPT_DYNAMIC tsvisor 0.1.0 (TypeScript application kernel)';

/** The six fields of `struct new_utsname`. */
export interface Utsname {
  readonly sysname: string;
  readonly nodename: string;
  readonly release: string;
  readonly version: string;
  readonly machine: string;
  readonly domainname: string;
}

/** PROC_UTS_INIT_INO: the initial UTS namespace's nsfs number. */
const UTS_INIT_INO = 0xeffffffe;

/**
 * A UTS namespace. Names are kept as bytes (as Linux does) and decoded for display. The
 * sandbox's initial one (`kernel.uts`) lives as long as the kernel; one made by
 * unshare/clone(CLONE_NEWUTS) ({@link copy}) lives while tasks or open nsfs files hold it.
 *
 * @example
 * ```ts
 * const uts = new UtsNamespace('box');
 * uts.uname().release; // '6.8.0-tsvisor'
 * ```
 */
export class UtsNamespace implements Namespace {
  private host: Uint8Array;
  private domain: Uint8Array;
  private refs = 0;

  constructor(
    hostname = 'tsvisor',
    domainname = '(none)',
    /** Its nsfs inode number (`uts:[4026531838]`). */
    readonly inum = UTS_INIT_INO,
    /** Runs when the last reference goes; none for the initial namespace, which stays. */
    private readonly freed?: () => void,
  ) {
    this.host = enc.encode(hostname).subarray(0, UTS_LEN);
    this.domain = enc.encode(domainname).subarray(0, UTS_LEN);
  }

  /** A new namespace numbered `inum` with this one's names (copy_utsname); `freed` as above. */
  copy(inum: number, freed: () => void): UtsNamespace {
    const c = new UtsNamespace('', '', inum, freed);
    c.host = this.host;
    c.domain = this.domain;
    return c;
  }

  /** Takes a reference (counted only on a namespace that can be freed). */
  get(): void {
    if (this.freed) this.refs++;
  }

  /** Drops one; the last frees a made namespace. */
  put(): void {
    if (this.freed && --this.refs === 0) this.freed();
  }

  /** The current names. */
  uname(): Utsname {
    return {
      sysname: 'Linux',
      nodename: dec.decode(this.host),
      release: TSVISOR_RELEASE,
      version: TSVISOR_VERSION,
      machine: 'x86_64',
      domainname: dec.decode(this.domain),
    };
  }

  /** The host name bytes (for uname's buffer and /proc/sys/kernel/hostname). */
  get hostnameBytes(): Uint8Array {
    return this.host;
  }

  /** The domain name bytes. */
  get domainnameBytes(): Uint8Array {
    return this.domain;
  }

  /** sethostname(2) after the pointer was read: `EINVAL` past {@link UTS_LEN} bytes. */
  setHostname(name: Uint8Array): undefined | LinuxError {
    if (name.length > UTS_LEN) return E.EINVAL;
    this.host = new Uint8Array(name);
    return undefined;
  }

  /** setdomainname(2) after the pointer was read: `EINVAL` past {@link UTS_LEN} bytes. */
  setDomainname(name: Uint8Array): undefined | LinuxError {
    if (name.length > UTS_LEN) return E.EINVAL;
    this.domain = new Uint8Array(name);
    return undefined;
  }
}

const enc = new TextEncoder();
const dec = new TextDecoder();
