/**
 * The part ICMPv4 (RFC 792) and ICMPv6 (RFC 4443) share: the header (type, code, checksum and
 * a 4-byte rest whose meaning depends on the type) and the echo message, whose identifier and
 * sequence number sit at the same offsets in both. What differs (type numbers, checksum
 * coverage, the rest-of-header fields of errors) stays with each version.
 *
 * @module
 */
import { get16, set16 } from './bytes.js';
import { WireError } from './error.js';

/** Field offsets of the shared ICMP header and echo message. */
export const ICMP_FIELD = { TYPE: 0, CODE: 1, CHECKSUM: 2, IDENT: 4, SEQ: 6, DATA: 8 } as const;

/** An echo request or reply, alike in both versions. */
export interface IcmpEcho {
  readonly type: 'echoRequest' | 'echoReply';
  readonly ident: number;
  readonly seqNo: number;
  readonly data: Uint8Array;
}

/** A zero-copy view of the fields common to ICMPv4 and ICMPv6 messages. */
export abstract class IcmpHeaderView {
  protected constructor(readonly buffer: Uint8Array) {}
  get msgType(): number {
    return this.buffer[ICMP_FIELD.TYPE]!;
  }
  get code(): number {
    return this.buffer[ICMP_FIELD.CODE]!;
  }
  get checksum(): number {
    return get16(this.buffer, ICMP_FIELD.CHECKSUM);
  }
  get echoIdent(): number {
    return get16(this.buffer, ICMP_FIELD.IDENT);
  }
  get echoSeqNo(): number {
    return get16(this.buffer, ICMP_FIELD.SEQ);
  }
  get data(): Uint8Array {
    return this.buffer.subarray(ICMP_FIELD.DATA);
  }
}

/** Decodes an echo message whose type is `requestType` or its reply (code must be 0). */
export function parseEcho(p: IcmpHeaderView, requestType: number): IcmpEcho | WireError {
  if (p.code !== 0) return WireError.Malformed;
  return {
    type: p.msgType === requestType ? 'echoRequest' : 'echoReply',
    ident: p.echoIdent,
    seqNo: p.echoSeqNo,
    data: p.data,
  };
}

/** Writes an echo message's type, identifier, sequence number and data (not the checksum). */
export function emitEcho(b: Uint8Array, repr: IcmpEcho, requestType: number, replyType: number): void {
  b[ICMP_FIELD.TYPE] = repr.type === 'echoRequest' ? requestType : replyType;
  set16(b, ICMP_FIELD.IDENT, repr.ident);
  set16(b, ICMP_FIELD.SEQ, repr.seqNo);
  b.set(repr.data, ICMP_FIELD.DATA);
}
