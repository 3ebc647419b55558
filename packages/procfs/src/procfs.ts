/**
 * Mounting procfs and sysfs: a {@link KernFs} over the declared trees.
 *
 * @module
 */

import { KernFs } from './kernfs.js';
import { procTree, sysTree } from './proc-tree.js';
import type { ProcTreeOptions } from './proc-tree.js';
import type { ProcSource } from './source.js';

/** PROC_SUPER_MAGIC, statfs's f_type for /proc. */
export const PROC_SUPER_MAGIC = 0x9fa0;
/** SYSFS_MAGIC, statfs's f_type for /sys. */
export const SYSFS_MAGIC = 0x62656572;

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

/** A minimal sysfs (CPU topology) showing `source`. */
export function createSysfs(source: ProcSource): KernFs {
  return new KernFs('sysfs', SYSFS_MAGIC, sysTree(source));
}
