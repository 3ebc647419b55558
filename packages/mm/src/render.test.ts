import { readFileSync } from 'node:fs';
import { isError, MapFlag, Prot } from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import { AddressSpace } from './address-space.js';
import { PAGE_SIZE } from './constants.js';
import {
  renderMaps,
  renderSmaps,
  renderStatm,
  renderStatusMemory,
  statusMemory,
  VSYSCALL_LINE,
} from './render.js';
import type { MapFile } from './types.js';

const exe: MapFile = {
  mapReadable: true,
  mapWritable: false,
  mapDevMajor: 0xfe,
  mapDevMinor: 1,
  mapInode: 2188691,
  mapPath: () => '/usr/bin/cat',
};

function loaded(): AddressSpace {
  const as = new AddressSpace();
  const fx = MapFlag.MAP_PRIVATE | MapFlag.MAP_FIXED;
  const text = as.mmap(0x555555554000, 2 * PAGE_SIZE, Prot.PROT_READ | Prot.PROT_EXEC, fx, exe, 0);
  const data = as.mmap(0x555555556000, PAGE_SIZE, Prot.PROT_READ | Prot.PROT_WRITE, fx, exe, 2 * PAGE_SIZE);
  if (isError(text) || isError(data)) throw new Error('map failed');
  as.layout.startCode = 0x555555554000;
  as.layout.endCode = 0x555555555800;
  as.initBrk(0x555555559000, { startData: 0x555555556000, endData: 0x555555556800 });
  as.brk(0x55555557a000);
  as.setupStack(0x7ffffffff000, 0x7fffffffe500);
  as.setAnonName(0, 0, undefined);
  const named = as.mmap(
    0x7ffff7fc0000,
    PAGE_SIZE,
    Prot.PROT_READ | Prot.PROT_WRITE,
    MapFlag.MAP_PRIVATE | MapFlag.MAP_ANONYMOUS | MapFlag.MAP_FIXED,
    null,
    0,
  );
  if (isError(named)) throw named;
  as.setAnonName(named, PAGE_SIZE, 'arena');
  as.mapSpecial(0x7ffff7fc1000, 2 * PAGE_SIZE, Prot.PROT_READ | Prot.PROT_EXEC, '[vdso]');
  return as;
}

describe('renderMaps', () => {
  it('formats lines like fs/proc/task_mmu.c, with the name column at 73', () => {
    expect(renderMaps(loaded())).toBe(
      [
        '555555554000-555555556000 r-xp 00000000 fe:01 2188691                    /usr/bin/cat',
        '555555556000-555555557000 rw-p 00002000 fe:01 2188691                    /usr/bin/cat',
        '555555559000-55555557a000 rw-p 00000000 00:00 0                          [heap]',
        '7ffff7fc0000-7ffff7fc1000 rw-p 00000000 00:00 0                          [anon:arena]',
        '7ffff7fc1000-7ffff7fc3000 r-xp 00000000 00:00 0                          [vdso]',
        '7ffffffde000-7ffffffff000 rw-p 00000000 00:00 0                          [stack]',
        '',
      ].join('\n'),
    );
  });

  it('ends with the vsyscall page like the host kernel when asked', () => {
    const host = readFileSync('/proc/self/maps', 'utf8').trimEnd().split('\n').at(-1);
    const mine = renderMaps(new AddressSpace(), { vsyscall: true }).trimEnd();
    if (host?.includes('[vsyscall]')) expect(mine).toBe(host);
    else expect(mine).toBe(VSYSCALL_LINE); // a host booted with vsyscall=none has no such line
  });

  it('shows shared mappings with s, and shared anonymous memory as /dev/zero (deleted)', () => {
    const as = new AddressSpace();
    as.mmap(
      0x10000000,
      PAGE_SIZE,
      Prot.PROT_READ,
      MapFlag.MAP_SHARED | MapFlag.MAP_ANONYMOUS | MapFlag.MAP_FIXED,
      null,
      0,
    );
    expect(renderMaps(as)).toMatch(/^10000000-10001000 r--s 00000000 00:01 \d+ +\/dev\/zero \(deleted\)\n$/);
  });
});

describe('status, statm, smaps', () => {
  it('has the fields and layout of the host kernel smaps', () => {
    // One VMA's block from this very process, with the numbers replaced by their padded width.
    const shape = (block: string): string[] =>
      block
        .split('\n')
        .slice(1, -1)
        .map((l) => (l.startsWith('VmFlags:') ? 'VmFlags:' : l.replace(/ +\d+/g, (m) => ` N${m.length}`)));
    const host = readFileSync('/proc/self/smaps', 'utf8').split(/\n(?=[0-9a-f]+-)/)[0] ?? '';
    const mine = renderSmaps(loaded()).split(/\n(?=[0-9a-f]+-)/)[0] ?? '';
    expect(shape(mine + '\n')).toEqual(shape(host + (host.endsWith('\n') ? '' : '\n')));
  });

  it('reports VmSize/VmData/VmStk/VmExe/VmLib as task_mem() does', () => {
    const as = loaded();
    // 2+1 file pages, 33 heap pages, 1 arena page, 2 vdso pages, 33 stack pages.
    expect(statusMemory(as)).toEqual({
      VmPeak: 72 * 4,
      VmSize: 72 * 4,
      VmLck: 0,
      VmData: (1 + 33 + 1) * 4,
      VmStk: 33 * 4,
      VmExe: 8,
      VmLib: 8,
    });
    expect(renderStatusMemory(as)).toContain('VmSize:\t     288 kB\n');
    expect(renderStatm(as, 10, 2)).toBe('72 10 2 2 0 68 0\n');
  });

  it('lists VmFlags in kernel order', () => {
    const smaps = renderSmaps(loaded());
    // A private mapping of a read-only open keeps mw (copy-on-write); the vDSO has de.
    expect(smaps).toContain('VmFlags: rd ex mr mw me \n');
    expect(smaps).toContain('VmFlags: rd ex mr mw me de \n');
    expect(smaps).toContain('VmFlags: rd wr mr mw me gd ac \n');
    expect(smaps).toMatch(/^Size: {18}8 kB$/m);
  });
});
