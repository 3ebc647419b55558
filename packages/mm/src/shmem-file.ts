/**
 * Shared anonymous memory. Linux backs `mmap(MAP_SHARED|MAP_ANONYMOUS)` with an unlinked shmem
 * file per mapping (shown as `/dev/zero (deleted)` on device 00:01); the model does the same so
 * that merging, mremap and fork behave alike. The platform backs each object with one memfd.
 *
 * @module
 */
import type { MapFile } from './types.js';

let nextInode = 1;

/** The object behind one `MAP_SHARED|MAP_ANONYMOUS` mapping (and all its fork-shared copies). */
export class ShmemFile implements MapFile {
  readonly mapReadable = true;
  readonly mapWritable = true;
  readonly mapDevMajor = 0;
  readonly mapDevMinor = 1;
  /** A shmem inode number, unique within this process of the model. */
  readonly mapInode: number;

  constructor(
    /** Size in bytes at creation (the mapping length). */
    readonly size: number,
  ) {
    this.mapInode = nextInode++;
  }

  mapPath(): string {
    return '/dev/zero (deleted)';
  }
}
