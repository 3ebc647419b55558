/**
 * Mounting procfs and sysfs: a {@link KernFs} over the declared trees.
 *
 * @module
 */

import { cgroupTree } from './cgroup-tree.js';
import { KernFs } from './kernfs.js';
import { procTree, sysTree } from './proc-tree.js';
import type { ProcTreeOptions } from './proc-tree.js';
import type { ProcSource } from './source.js';

/** PROC_SUPER_MAGIC, statfs's f_type for /proc. */
export const PROC_SUPER_MAGIC = 0x9fa0;
/** SYSFS_MAGIC, statfs's f_type for /sys. */
export const SYSFS_MAGIC = 0x62656572;
/** CGROUP2_SUPER_MAGIC, statfs's f_type for a cgroup v2 mount. */
export const CGROUP2_SUPER_MAGIC = 0x63677270;

/**
 * A procfs instance showing `source` (one pid namespace). Mount it into a Vfs.
 *
 * @example
 * ```ts
 * const vfs = new Vfs(new Tmpfs());
 * const ctx = vfs.rootContext(ROOT_CREDS);
 * vfs.mkdirat(ctx, ctx.cwd, '/proc', 0o555);
 * vfs.mount(ctx, ctx.cwd, '/proc', createProcfs(FixtureProcSource.sample()));
 * ```
 */
export function createProcfs(source: ProcSource, options: ProcTreeOptions = {}): KernFs {
  return new KernFs('proc', PROC_SUPER_MAGIC, procTree(source, options));
}

/**
 * A minimal sysfs showing `source`: CPU topology, transparent huge pages, the network devices
 * (`class/net`) and an empty `fs/cgroup` to mount {@link createCgroupfs} on.
 */
export function createSysfs(source: ProcSource): KernFs {
  return new KernFs('sysfs', SYSFS_MAGIC, sysTree(source));
}

/**
 * A read-only cgroup v2 filesystem (type `cgroup2`) showing the cgroup of `source`
 * ({@link ProcSource.cgroup}): mount it at /sys/fs/cgroup. Tools and runtimes that size
 * themselves from cgroup limits (memory.max, cpu.max, pids.max) read it after finding `0::/` in
 * /proc/self/cgroup.
 *
 * @example
 * ```ts
 * vfs.mount(ctx, ctx.cwd, '/sys/fs/cgroup', createCgroupfs(source), MS_RDONLY);
 * ```
 */
export function createCgroupfs(source: ProcSource): KernFs {
  return new KernFs('cgroup2', CGROUP2_SUPER_MAGIC, cgroupTree(source));
}
