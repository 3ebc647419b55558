/**
 * Stock parts for an open directory, in the spirit of Linux's libfs: {@link DirFileImpl} is what
 * every directory file shares (generic_read_dir's EISDIR, `.` and `..` at offsets 0 and 1, a
 * no-op fsync), and {@link SnapshotDirFile} serves a directory whose entries come as a list taken
 * again at each rewind.
 *
 * @module
 */

import { E, isError } from '@tsvisor/abi';
import type { LinuxError } from '@tsvisor/abi';
import { DT_DIR } from './constants.js';
import { FileDescriptionImpl } from './file.js';
import type { Inode } from './inode.js';
import type { DirentSink } from './types.js';

/**
 * An open directory: read and write give EISDIR, fsync has nothing to flush, and getdents emits
 * `.` (offset 0) and `..` (offset 1, the directory itself at a root) before handing the rest to
 * {@link DirFileImpl.entriesFrom}. Offsets given to the sink are the position after each entry.
 */
export abstract class DirFileImpl extends FileDescriptionImpl {
  /** The directory this file was opened on. */
  protected abstract readonly dir: Inode;

  /** generic_read_dir: EISDIR. */
  override read(): number | LinuxError {
    return E.EISDIR;
  }

  /** A directory is never written through a file: EISDIR. */
  override write(): number | LinuxError {
    return E.EISDIR;
  }

  override getdents(pos: number, sink: DirentSink): number | LinuxError {
    const dir = this.dir;
    if (pos === 0) {
      if (!sink(dir.ino, 1, DT_DIR, '.')) return 0;
      pos = 1;
    }
    if (pos === 1) {
      if (!sink((dir.parent ?? dir).ino, 2, DT_DIR, '..')) return 1;
      pos = 2;
    }
    return this.entriesFrom(pos, sink);
  }

  /**
   * Emit the entries after `.` and `..`, from directory offset `pos` (at least 2), until `sink`
   * refuses one or the directory ends; return the offset to continue from.
   */
  protected abstract entriesFrom(pos: number, sink: DirentSink): number | LinuxError;

  /** Nothing is buffered in a directory file. */
  override fsync(): LinuxError | undefined {
    return undefined;
  }
}

/** One entry of a {@link SnapshotDirFile} listing. */
export interface DirListEntry {
  name: string;
  ino: number;
  /** The DT_* type. */
  type: number;
}

/**
 * A directory read from a listing that is taken at offset 0 (and on the first read) and then
 * indexed by position, so a getdents loop sees one consistent snapshot: entry `i` of the listing
 * sits at offset `i + 2`.
 */
export abstract class SnapshotDirFile extends DirFileImpl {
  private listing: DirListEntry[] | null = null;

  /** The directory's entries now, without `.` and `..`. */
  protected abstract list(): DirListEntry[] | LinuxError;

  override getdents(pos: number, sink: DirentSink): number | LinuxError {
    if (pos === 0 || this.listing === null) {
      const list = this.list();
      if (isError(list)) return list;
      this.listing = list;
    }
    return super.getdents(pos, sink);
  }

  protected override entriesFrom(pos: number, sink: DirentSink): number | LinuxError {
    const list = this.listing ?? [];
    for (let i = pos - 2; i < list.length; i++) {
      const e = list[i];
      if (e === undefined) break;
      if (!sink(e.ino, i + 3, e.type, e.name)) return i + 2;
    }
    return list.length + 2;
  }
}
