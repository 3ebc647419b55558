/**
 * Attribute policies of the rtnetlink requests the sandbox serves, checked as Linux's
 * __nla_validate_parse checks them before a handler sees a request, with the extended ACK it
 * gives: "Attribute failed policy validation" (ERANGE) with the bad attribute's offset
 * (NLMSGERR_ATTR_OFFS) and the policy it failed (NLMSGERR_ATTR_POLICY, as
 * netlink_policy_dump_write_attr writes it), and in strict parsing (NETLINK_GET_STRICT_CHK)
 * "Unknown attribute type" for a type beyond the family's maximum.
 *
 * @module
 */
import { E, type LinuxError } from '@tsvisor/abi';

/** One attribute's policy: a fixed-size integer, a string of at most `len` bytes, bytes of at least `len`, or a nest. */
export type AttrPolicy =
  | { readonly type: 'u8' | 'u16' | 'u32' | 's32' }
  | { readonly type: 'string'; readonly len: number }
  | { readonly type: 'binary'; readonly len: number }
  | { readonly type: 'nested' };

/** A family's policy: its highest attribute type and the attributes it checks. */
export interface Policy {
  readonly maxType: number;
  readonly attrs: ReadonlyMap<number, AttrPolicy>;
}

/**
 * A request's error with its extended ACK: the text (NLMSGERR_ATTR_MSG), the offset of the
 * attribute at fault from the start of the request's body (the socket adds its header's length
 * for NLMSGERR_ATTR_OFFS), and the policy that attribute failed (NLMSGERR_ATTR_POLICY's nest).
 */
export interface ExtAck {
  readonly error: LinuxError;
  readonly message?: string;
  readonly offset?: number;
  readonly policy?: Uint8Array;
}

const u8: AttrPolicy = { type: 'u8' };
const u16: AttrPolicy = { type: 'u16' };
const u32: AttrPolicy = { type: 'u32' };
const s32: AttrPolicy = { type: 's32' };
const nested: AttrPolicy = { type: 'nested' };
const in6Addr: AttrPolicy = { type: 'binary', len: 16 };
/** IFNAMSIZ - 1: an interface name's longest text. */
const ifName: AttrPolicy = { type: 'string', len: 15 };
/** sizeof(struct ifa_cacheinfo). */
const ifaCacheinfo: AttrPolicy = { type: 'binary', len: 16 };
/** sizeof(struct rtnexthop). */
const rtnexthop: AttrPolicy = { type: 'binary', len: 8 };

/** rtm_ipv4_policy (net/ipv4/fib_frontend.c); RTA_MAX is RTA_FLOWLABEL. */
export const RTM_IPV4_POLICY: Policy = {
  maxType: 31,
  attrs: new Map<number, AttrPolicy>([
    [1, u32], // RTA_DST
    [2, u32], // RTA_SRC
    [3, u32], // RTA_IIF
    [4, u32], // RTA_OIF
    [5, u32], // RTA_GATEWAY
    [6, u32], // RTA_PRIORITY
    [7, u32], // RTA_PREFSRC
    [8, nested], // RTA_METRICS
    [9, rtnexthop], // RTA_MULTIPATH
    [11, u32], // RTA_FLOW
    [15, u32], // RTA_TABLE
    [16, u32], // RTA_MARK
    [21, u16], // RTA_ENCAP_TYPE
    [22, nested], // RTA_ENCAP
    [25, u32], // RTA_UID
    [27, u8], // RTA_IP_PROTO
    [28, u16], // RTA_SPORT
    [29, u16], // RTA_DPORT
    [30, u32], // RTA_NH_ID
  ]),
};

/** rtm_ipv6_policy (net/ipv6/route.c): RTA_DST and RTA_SRC are checked by the handlers. */
export const RTM_IPV6_POLICY: Policy = {
  maxType: 31,
  attrs: new Map<number, AttrPolicy>([
    [3, u32], // RTA_IIF
    [4, u32], // RTA_OIF
    [5, in6Addr], // RTA_GATEWAY
    [6, u32], // RTA_PRIORITY
    [7, in6Addr], // RTA_PREFSRC
    [8, nested], // RTA_METRICS
    [9, rtnexthop], // RTA_MULTIPATH
    [15, u32], // RTA_TABLE
    [16, u32], // RTA_MARK
    [20, u8], // RTA_PREF
    [21, u16], // RTA_ENCAP_TYPE
    [22, nested], // RTA_ENCAP
    [23, u32], // RTA_EXPIRES
    [25, u32], // RTA_UID
    [27, u8], // RTA_IP_PROTO
    [28, u16], // RTA_SPORT
    [29, u16], // RTA_DPORT
    [30, u32], // RTA_NH_ID
  ]),
};

/** ifa_ipv4_policy (net/ipv4/devinet.c); IFA_MAX is IFA_PROTO. */
export const IFA_IPV4_POLICY: Policy = {
  maxType: 11,
  attrs: new Map<number, AttrPolicy>([
    [1, u32], // IFA_ADDRESS
    [2, u32], // IFA_LOCAL
    [3, ifName], // IFA_LABEL
    [4, u32], // IFA_BROADCAST
    [6, ifaCacheinfo], // IFA_CACHEINFO
    [8, u32], // IFA_FLAGS
    [9, u32], // IFA_RT_PRIORITY
    [10, s32], // IFA_TARGET_NETNSID
    [11, u8], // IFA_PROTO
  ]),
};

/** ifa_ipv6_policy (net/ipv6/addrconf.c): its u32s are checked as bytes. */
export const IFA_IPV6_POLICY: Policy = {
  maxType: 11,
  attrs: new Map<number, AttrPolicy>([
    [1, in6Addr], // IFA_ADDRESS
    [2, in6Addr], // IFA_LOCAL
    [6, ifaCacheinfo], // IFA_CACHEINFO
    [8, { type: 'binary', len: 4 }], // IFA_FLAGS
    [9, { type: 'binary', len: 4 }], // IFA_RT_PRIORITY
    [10, s32], // IFA_TARGET_NETNSID
    [11, u8], // IFA_PROTO
  ]),
};

/** The attributes of ifla_policy (net/core/rtnetlink.c) that `ip link set` sends. */
export const IFLA_POLICY: Policy = {
  maxType: 66,
  attrs: new Map<number, AttrPolicy>([
    [3, ifName], // IFLA_IFNAME
    [4, u32], // IFLA_MTU
    [5, u32], // IFLA_LINK
    [10, u32], // IFLA_MASTER
    [13, u32], // IFLA_TXQLEN
    [15, u32], // IFLA_WEIGHT
    [16, u8], // IFLA_OPERSTATE
    [17, u8], // IFLA_LINKMODE
    [18, nested], // IFLA_LINKINFO
    [19, u32], // IFLA_NET_NS_PID
    [27, u32], // IFLA_GROUP
    [28, u32], // IFLA_NET_NS_FD
    [33, u8], // IFLA_CARRIER
  ]),
};

/** NL_ATTR_TYPE_* and NL_POLICY_TYPE_ATTR_* (include/uapi/linux/netlink.h). */
const NL_ATTR_TYPE = { u8: 2, u16: 3, u32: 4, s32: 8, string: 11, nested: 13 } as const;
const NL_POLICY_TYPE_ATTR_TYPE = 1;
const NL_POLICY_TYPE_ATTR_MIN_VALUE_S = 2;
const NL_POLICY_TYPE_ATTR_MAX_VALUE_S = 3;
const NL_POLICY_TYPE_ATTR_MIN_VALUE_U = 4;
const NL_POLICY_TYPE_ATTR_MAX_VALUE_U = 5;
const NL_POLICY_TYPE_ATTR_MAX_LENGTH = 7;
/** NLA_TYPE_MASK: an attribute's type without NLA_F_NESTED and NLA_F_NET_BYTEORDER. */
const NLA_TYPE_MASK = 0x3fff;

const SIZE = { u8: 1, u16: 2, u32: 4, s32: 4 } as const;
const LEFTOVER = 'bytes leftover after parsing attributes';

/** Appends attribute `type` holding `value` to `out`, padded to 4 bytes. */
function put(out: number[], type: number, value: Uint8Array): void {
  const len = 4 + value.length;
  out.push(len & 0xff, len >> 8, type & 0xff, type >> 8, ...value);
  while (out.length % 4 !== 0) out.push(0);
}

function le(bits: 32 | 64, v: bigint): Uint8Array {
  const b = new Uint8Array(bits / 8);
  const dv = new DataView(b.buffer);
  if (bits === 32) dv.setUint32(0, Number(v), true);
  else dv.setBigUint64(0, BigInt.asUintN(64, v), true);
  return b;
}

/**
 * netlink_policy_dump_write_attr's nest for `p`, or undefined for a policy it writes nothing for
 * (bytes of a least length: NLA_UNSPEC).
 */
function policyNest(p: AttrPolicy): Uint8Array | undefined {
  const out: number[] = [];
  switch (p.type) {
    case 'u8':
    case 'u16':
    case 'u32':
      put(out, NL_POLICY_TYPE_ATTR_MIN_VALUE_U, le(64, 0n));
      put(out, NL_POLICY_TYPE_ATTR_MAX_VALUE_U, le(64, (1n << BigInt(8 * SIZE[p.type])) - 1n));
      break;
    case 's32':
      put(out, NL_POLICY_TYPE_ATTR_MIN_VALUE_S, le(64, -(1n << 31n)));
      put(out, NL_POLICY_TYPE_ATTR_MAX_VALUE_S, le(64, (1n << 31n) - 1n));
      break;
    case 'string':
      put(out, NL_POLICY_TYPE_ATTR_MAX_LENGTH, le(32, BigInt(p.len)));
      break;
    case 'nested':
      break;
    case 'binary':
      return undefined;
  }
  put(out, NL_POLICY_TYPE_ATTR_TYPE, le(32, BigInt(NL_ATTR_TYPE[p.type])));
  return Uint8Array.from(out);
}

/** validate_nla: true when `value` meets `p`. */
function meets(p: AttrPolicy, value: Uint8Array): boolean {
  switch (p.type) {
    case 'u8':
    case 'u16':
    case 'u32':
    case 's32':
      return value.length >= SIZE[p.type];
    case 'string': {
      // A string may end in its NUL beyond the longest text.
      const len = value.length > 0 && value[value.length - 1] === 0 ? value.length - 1 : value.length;
      return len <= p.len;
    }
    case 'binary':
      return value.length >= p.len;
    case 'nested':
      return value.length === 0 || value.length >= 4;
  }
}

/**
 * Checks the attributes after the `fixed` bytes of `body` (a request without its netlink header)
 * against `policy`, in the order they come, as nlmsg_parse_deprecated (`strict` false: unknown
 * types and bytes after the last whole attribute are passed over) and
 * nlmsg_parse_deprecated_strict (`strict`) do. Undefined when they pass.
 */
export function checkPolicy(
  body: Uint8Array,
  fixed: number,
  policy: Policy,
  strict: boolean,
): ExtAck | undefined {
  const dv = new DataView(body.buffer, body.byteOffset, body.byteLength);
  let off = (fixed + 3) & ~3;
  while (off + 4 <= body.length) {
    const len = dv.getUint16(off, true);
    if (len < 4 || off + len > body.length) break;
    const type = dv.getUint16(off + 2, true) & NLA_TYPE_MASK;
    if (type === 0 || type > policy.maxType) {
      if (strict) return { error: E.EINVAL, message: 'Unknown attribute type', offset: off };
    } else {
      const p = policy.attrs.get(type);
      if (p && !meets(p, body.subarray(off + 4, off + len))) {
        const nest = policyNest(p);
        return {
          error: E.ERANGE,
          message: 'Attribute failed policy validation',
          offset: off,
          ...(nest ? { policy: nest } : {}),
        };
      }
    }
    off += (len + 3) & ~3;
  }
  if (strict && off < body.length) return { error: E.EINVAL, message: LEFTOVER };
  return undefined;
}

/**
 * __nla_validate_parse's warning for bytes after the last whole attribute of `body` (after its
 * `fixed` part), which liberal parsing passes over and the ACK of a request that succeeds
 * carries as its text.
 */
export function leftover(body: Uint8Array, fixed: number): string | undefined {
  const dv = new DataView(body.buffer, body.byteOffset, body.byteLength);
  let off = (fixed + 3) & ~3;
  while (off + 4 <= body.length) {
    const len = dv.getUint16(off, true);
    if (len < 4 || off + len > body.length) break;
    off += (len + 3) & ~3;
  }
  return off < body.length ? LEFTOVER : undefined;
}
