/**
 * Test helper: compiles src/mm-helper.c with gcc into a temp dir and runs a sequence of mm
 * syscalls in it inside a PROT_NONE-reserved region, returning each call's result and the
 * /proc/self/maps lines that intersect the region afterwards.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MapFile } from './types.js';

export interface OracleStep {
  /** "-errno" or the hex result. */
  result: string;
  maps: string[];
}

export class LinuxOracle {
  readonly dir: string;
  readonly helper: string;
  readonly file: string;
  /** The file opened O_RDWR (index 0) and O_RDONLY (index 1) in the helper. */
  readonly files: [MapFile, MapFile];

  constructor(
    readonly base: number,
    readonly size: number,
  ) {
    this.dir = realpathSync(mkdtempSync(join(tmpdir(), 'tsvisor-mm-')));
    this.helper = join(this.dir, 'mm-helper');
    const src = join(dirname(fileURLToPath(import.meta.url)), 'mm-helper.c');
    execFileSync('gcc', ['-O1', '-o', this.helper, src]);
    this.file = join(this.dir, 'data');
    writeFileSync(this.file, Buffer.alloc(64 * 4096));
    const st = statSync(this.file);
    const major = (st.dev >> 8) & 0xfff;
    const minor = (st.dev & 0xff) | ((st.dev >> 12) & 0xfff00);
    const mk = (writable: boolean): MapFile => ({
      mapReadable: true,
      mapWritable: writable,
      mapDevMajor: major,
      mapDevMinor: minor,
      mapInode: st.ino,
      mapPath: () => this.file,
    });
    this.files = [mk(true), mk(false)];
  }

  /** Runs the command lines in a fresh helper process. */
  run(lines: readonly string[]): OracleStep[] {
    return this.exec(this.base.toString(16), lines).steps;
  }

  /**
   * Runs the command lines with the region placed where the kernel's next top-down mmap goes
   * (between two PROT_NONE pages of the file, at file offset 0); `@OFFSET` in a line stands for
   * the region's base + OFFSET. Returns the base the helper chose.
   */
  runPlaced(lines: readonly string[]): { base: number; steps: OracleStep[] } {
    const r = this.exec('auto', lines);
    if (r.base === undefined) throw new Error('mm-helper did not report its base');
    return { base: r.base, steps: r.steps };
  }

  private exec(baseArg: string, lines: readonly string[]): { base: number | undefined; steps: OracleStep[] } {
    const r = spawnSync(this.helper, [baseArg, this.size.toString(16), this.file], {
      input: lines.join('\n') + '\n',
      encoding: 'utf8',
    });
    if (r.status !== 0)
      throw new Error(`mm-helper failed: status ${r.status} signal ${r.signal} ${r.stderr}`);
    const steps: OracleStep[] = [];
    let cur: OracleStep | undefined;
    let base: number | undefined;
    for (const line of r.stdout.split('\n')) {
      if (line.startsWith('B ')) base = parseInt(line.slice(2), 16);
      else if (line.startsWith('R ')) cur = { result: line.slice(2), maps: [] };
      else if (line.startsWith('M ') && cur) cur.maps.push(line.slice(2));
      else if (line === 'E' && cur) {
        steps.push(cur);
        cur = undefined;
      }
    }
    if (steps.length !== lines.length)
      throw new Error(`mm-helper answered ${steps.length} of ${lines.length}`);
    return { base, steps };
  }

  dispose(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
