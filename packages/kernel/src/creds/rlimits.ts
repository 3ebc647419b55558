/**
 * Resource limits (`struct rlimit` per resource) with Linux's defaults and the setrlimit rules.
 * Limits belong to the thread group; fork copies them (an immutable object shared until changed).
 *
 * @module
 */
import { E, RLIM_INFINITY, Rlimit, type LinuxError } from '@tsvisor/abi';

/** Number of resources (`RLIM_NLIMITS`). */
export const RLIM_NLIMITS = Rlimit.RLIM_NLIMITS;

/** Linux's default `fs.nr_open`: the hard ceiling for `RLIMIT_NOFILE`. */
export const NR_OPEN = 1048576;

/** One limit: soft (`cur`) and hard (`max`) as u64. */
export interface ResourceLimit {
  readonly cur: bigint;
  readonly max: bigint;
}

/** A full set of limits, indexed by resource number. */
export type Rlimits = readonly ResourceLimit[];

const inf: ResourceLimit = { cur: RLIM_INFINITY, max: RLIM_INFINITY };

/**
 * The limits a fresh init process gets from Linux (`INIT_RLIMITS`), with `nproc`/`sigpending`
 * sized for a small machine and `nofile` as systemd sets it for a session (1024 soft, 524288
 * hard), so programs that raise their soft limit can.
 */
export function defaultRlimits(): Rlimits {
  const l: ResourceLimit[] = Array.from({ length: RLIM_NLIMITS }, () => inf);
  l[Rlimit.RLIMIT_STACK] = { cur: 8n * 1024n * 1024n, max: RLIM_INFINITY };
  l[Rlimit.RLIMIT_CORE] = { cur: 0n, max: RLIM_INFINITY };
  l[Rlimit.RLIMIT_NPROC] = { cur: 95_000n, max: 95_000n };
  l[Rlimit.RLIMIT_NOFILE] = { cur: 1024n, max: 524288n };
  l[Rlimit.RLIMIT_MEMLOCK] = { cur: 8n * 1024n * 1024n, max: 8n * 1024n * 1024n };
  l[Rlimit.RLIMIT_SIGPENDING] = { cur: 95_000n, max: 95_000n };
  l[Rlimit.RLIMIT_MSGQUEUE] = { cur: 819200n, max: 819200n };
  l[Rlimit.RLIMIT_NICE] = { cur: 0n, max: 0n };
  l[Rlimit.RLIMIT_RTPRIO] = { cur: 0n, max: 0n };
  return l;
}

/**
 * The new limit set after `setrlimit(resource, value)`, or the errno: `EINVAL` for an unknown
 * resource or `cur > max`, `EPERM` for raising `max` without CAP_SYS_RESOURCE or `NOFILE` above
 * {@link NR_OPEN}.
 */
export function setRlimit(
  limits: Rlimits,
  resource: number,
  value: ResourceLimit,
  privileged: boolean,
): Rlimits | LinuxError {
  const old = limits[resource];
  if (!old || !Number.isInteger(resource)) return E.EINVAL;
  if (value.cur > value.max) return E.EINVAL;
  if (value.max > old.max && !privileged) return E.EPERM;
  if (resource === Rlimit.RLIMIT_NOFILE && value.max > BigInt(NR_OPEN)) return E.EPERM;
  const next = [...limits];
  next[resource] = { cur: value.cur, max: value.max };
  return next;
}

/** The soft limit of `resource` as a JavaScript number (`Infinity` for RLIM_INFINITY). */
export function softLimit(limits: Rlimits, resource: number): number {
  const l = limits[resource];
  if (!l) throw new RangeError(`no resource ${resource}`);
  return l.cur === RLIM_INFINITY ? Infinity : Number(l.cur);
}
