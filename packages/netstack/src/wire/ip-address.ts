/**
 * IP addresses, prefixes and endpoints. Addresses are small immutable objects over their bytes
 * in network order; `key` gives a string usable as a Map key (v4 and v6 never collide).
 *
 * @module
 */
import { bytesEqual } from './bytes.js';

/** An IPv4 address. */
export class Ipv4Address {
  /** Distinguishes the two address kinds. */
  readonly version = 4 as const;
  /** The four bytes in network order (treat as read-only). */
  readonly bytes: Uint8Array;

  /** @param bytes exactly 4 bytes; copied. */
  constructor(bytes: ArrayLike<number>) {
    if (bytes.length !== 4) throw new RangeError('Ipv4Address needs 4 bytes');
    this.bytes = Uint8Array.from(bytes);
  }

  /** 0.0.0.0 */
  static readonly UNSPECIFIED = new Ipv4Address([0, 0, 0, 0]);
  /** 127.0.0.1 */
  static readonly LOOPBACK = new Ipv4Address([127, 0, 0, 1]);
  /** 255.255.255.255 */
  static readonly BROADCAST = new Ipv4Address([255, 255, 255, 255]);

  /** Parses dotted-quad notation; undefined when `text` is not one. */
  static parse(text: string): Ipv4Address | undefined {
    const parts = text.split('.');
    if (parts.length !== 4) return undefined;
    const out: number[] = [];
    for (const p of parts) {
      if (!/^\d{1,3}$/.test(p)) return undefined;
      const n = Number(p);
      if (n > 255) return undefined;
      out.push(n);
    }
    return new Ipv4Address(out);
  }

  /** The address as an unsigned 32-bit number. */
  toU32(): number {
    const b = this.bytes;
    return ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
  }

  /** The address of an unsigned 32-bit number. */
  static fromU32(n: number): Ipv4Address {
    return new Ipv4Address([(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]);
  }

  /** Same address (an IPv6 address never equals an IPv4 one). */
  equals(other: IpAddress): boolean {
    if (other === this) return true; // a connection compares its own address objects per segment
    if (other.version !== 4) return false;
    const a = this.bytes;
    const b = other.bytes;
    return a[0] === b[0] && a[1] === b[1] && a[2] === b[2] && a[3] === b[3];
  }

  /** 0.0.0.0 */
  isUnspecified(): boolean {
    const b = this.bytes;
    return (b[0]! | b[1]! | b[2]! | b[3]!) === 0;
  }
  /** 127.0.0.0/8 */
  isLoopback(): boolean {
    return this.bytes[0] === 127;
  }
  /** 255.255.255.255 (directed broadcasts are checked against the interface's prefixes). */
  isBroadcast(): boolean {
    const b = this.bytes;
    return (b[0]! & b[1]! & b[2]! & b[3]!) === 0xff;
  }
  /** 224.0.0.0/4 */
  isMulticast(): boolean {
    return (this.bytes[0]! & 0xf0) === 0xe0;
  }
  /** A string unique per address, for Map keys. */
  get key(): string {
    return this.toString();
  }
  toString(): string {
    return this.bytes.join('.');
  }
}

/** An IPv6 address. */
export class Ipv6Address {
  /** Distinguishes the two address kinds. */
  readonly version = 6 as const;
  /** The sixteen bytes in network order (treat as read-only). */
  readonly bytes: Uint8Array;

  /** @param bytes exactly 16 bytes; copied. */
  constructor(bytes: ArrayLike<number>) {
    if (bytes.length !== 16) throw new RangeError('Ipv6Address needs 16 bytes');
    this.bytes = Uint8Array.from(bytes);
  }

  /** :: */
  static readonly UNSPECIFIED = new Ipv6Address(new Uint8Array(16));
  /** ::1 */
  static readonly LOOPBACK = new Ipv6Address([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);

  /** Parses RFC 4291 text (with `::`, without embedded IPv4); undefined when invalid. */
  static parse(text: string): Ipv6Address | undefined {
    const halves = text.split('::');
    if (halves.length > 2) return undefined;
    const groups = (s: string): number[] | undefined => {
      if (s === '') return [];
      const out: number[] = [];
      for (const g of s.split(':')) {
        if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
        out.push(parseInt(g, 16));
      }
      return out;
    };
    const head = groups(halves[0]!);
    const tail = halves.length === 2 ? groups(halves[1]!) : [];
    if (!head || !tail) return undefined;
    const fill = 8 - head.length - tail.length;
    if (halves.length === 2 ? fill < 1 : fill !== 0) return undefined;
    const all = [...head, ...new Array<number>(fill).fill(0), ...tail];
    const bytes = new Uint8Array(16);
    all.forEach((g, i) => {
      bytes[2 * i] = g >>> 8;
      bytes[2 * i + 1] = g & 0xff;
    });
    return new Ipv6Address(bytes);
  }

  /** The IPv4-mapped address ::ffff:a.b.c.d (RFC 4291 §2.5.5.2) of `v4`. */
  static mapped(v4: Ipv4Address): Ipv6Address {
    const b = new Uint8Array(16);
    b[10] = 0xff;
    b[11] = 0xff;
    b.set(v4.bytes, 12);
    return new Ipv6Address(b);
  }

  /** The IPv4 address when this is an IPv4-mapped one (::ffff:a.b.c.d), else undefined. */
  v4Mapped(): Ipv4Address | undefined {
    const b = this.bytes;
    for (let i = 0; i < 10; i++) if (b[i] !== 0) return undefined;
    if (b[10] !== 0xff || b[11] !== 0xff) return undefined;
    return new Ipv4Address(b.subarray(12, 16));
  }

  /** Same address (an IPv4 address never equals an IPv6 one). */
  equals(other: IpAddress): boolean {
    return other === this || (other.version === 6 && bytesEqual(this.bytes, other.bytes));
  }
  /** :: */
  isUnspecified(): boolean {
    return this.bytes.every((b) => b === 0);
  }
  /** ::1 */
  isLoopback(): boolean {
    return this.equals(Ipv6Address.LOOPBACK);
  }
  /** ff00::/8 */
  isMulticast(): boolean {
    return this.bytes[0] === 0xff;
  }
  /** fe80::/10 */
  isLinkLocal(): boolean {
    return this.bytes[0] === 0xfe && (this.bytes[1]! & 0xc0) === 0x80;
  }
  /** IPv6 has no broadcast. */
  isBroadcast(): boolean {
    return false;
  }
  /** A string unique per address, for Map keys. */
  get key(): string {
    return this.toString();
  }

  /** RFC 5952 text: lower case, leading zeros dropped, the longest run of zero groups as `::`. */
  toString(): string {
    const g: number[] = [];
    for (let i = 0; i < 8; i++) g.push((this.bytes[2 * i]! << 8) | this.bytes[2 * i + 1]!);
    let bestStart = -1;
    let bestLen = 1;
    for (let i = 0; i < 8;) {
      if (g[i] !== 0) {
        i++;
        continue;
      }
      let j = i;
      while (j < 8 && g[j] === 0) j++;
      if (j - i > bestLen) {
        bestStart = i;
        bestLen = j - i;
      }
      i = j;
    }
    const hex = (xs: number[]): string => xs.map((x) => x.toString(16)).join(':');
    if (bestStart < 0) return hex(g);
    return `${hex(g.slice(0, bestStart))}::${hex(g.slice(bestStart + bestLen))}`;
  }
}

/** An IPv4 or IPv6 address. */
export type IpAddress = Ipv4Address | Ipv6Address;

/** The unspecified (any) address of a family: 0.0.0.0 or ::. */
export function unspecifiedAddress(version: 4 | 6): IpAddress {
  return version === 4 ? Ipv4Address.UNSPECIFIED : Ipv6Address.UNSPECIFIED;
}

/** Parses an IPv4 or IPv6 address; undefined when `text` is neither. */
export function parseIpAddress(text: string): IpAddress | undefined {
  return text.includes(':') ? Ipv6Address.parse(text) : Ipv4Address.parse(text);
}

/** An address with a prefix length, e.g. the interface address 10.0.0.1/24. */
export class IpCidr {
  constructor(
    /** The address (host bits kept, so it names the interface's own address too). */
    readonly address: IpAddress,
    /** The prefix length: 0..32 for IPv4, 0..128 for IPv6. */
    readonly prefixLen: number,
  ) {
    const max = address.version === 4 ? 32 : 128;
    if (!Number.isInteger(prefixLen) || prefixLen < 0 || prefixLen > max)
      throw new RangeError(`bad prefix length ${prefixLen}`);
  }

  /** Parses `addr/len`; undefined when invalid. */
  static parse(text: string): IpCidr | undefined {
    const [a, l, extra] = text.split('/');
    if (a === undefined || l === undefined || extra !== undefined || !/^\d{1,3}$/.test(l)) return undefined;
    const addr = parseIpAddress(a);
    const len = Number(l);
    if (!addr || len > (addr.version === 4 ? 32 : 128)) return undefined;
    return new IpCidr(addr, len);
  }

  /** True when `addr` is inside this prefix. */
  contains(addr: IpAddress): boolean {
    if (addr.version !== this.address.version) return false;
    let bits = this.prefixLen;
    for (let i = 0; bits > 0; i++, bits -= 8) {
      const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
      if ((addr.bytes[i]! & mask) !== (this.address.bytes[i]! & mask)) return false;
    }
    return true;
  }

  /** The IPv4 directed broadcast address of this prefix (undefined for IPv6 and /31, /32). */
  broadcast(): Ipv4Address | undefined {
    if (this.address.version !== 4 || this.prefixLen >= 31) return undefined;
    const host = this.prefixLen === 0 ? 0xffffffff : (1 << (32 - this.prefixLen)) - 1;
    return Ipv4Address.fromU32((this.address.toU32() | host) >>> 0);
  }

  toString(): string {
    return `${this.address.toString()}/${this.prefixLen}`;
  }
}

/** A transport endpoint: address and port. */
export interface IpEndpoint {
  readonly addr: IpAddress;
  readonly port: number;
}

/** `addr:port`, or `[addr]:port` for IPv6. */
export function endpointToString(ep: IpEndpoint): string {
  return ep.addr.version === 6 ? `[${ep.addr.toString()}]:${ep.port}` : `${ep.addr.toString()}:${ep.port}`;
}
