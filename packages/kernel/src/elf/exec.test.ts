import { E, isError } from '@tsvisor/abi';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, openSync, readSync, readFileSync, fstatSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ELF, ELF_ET_DYN_BASE, STACK_TOP, parseElf, planLoad, type FileReader } from './elf.js';
import { layoutExec, resolveProgram, type ExecOpener } from './exec.js';
import { parseShebang, scriptArgv } from './script.js';
import { AT, buildInitialStack } from './stack.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

function hostReader(path: string): FileReader {
  const fd = openSync(path, 'r');
  const size = fstatSync(fd).size;
  return (offset, length) => {
    const n = Math.max(0, Math.min(length, size - offset));
    const buf = new Uint8Array(n);
    if (n > 0) readSync(fd, buf, 0, n, offset);
    return buf;
  };
}

function bytesReader(bytes: Uint8Array): FileReader {
  return (offset, length) => bytes.slice(offset, offset + length);
}

/** Program headers as readelf prints them: type, offset, vaddr, filesz, memsz, flags. */
function readelfLoads(
  path: string,
): { offset: number; vaddr: number; filesz: number; memsz: number; flags: string }[] {
  const out = execFileSync('readelf', ['-lW', path], { encoding: 'utf8' });
  const rows: { offset: number; vaddr: number; filesz: number; memsz: number; flags: string }[] = [];
  for (const line of out.split('\n')) {
    const m = /^\s+LOAD\s+(0x\w+)\s+(0x\w+)\s+0x\w+\s+(0x\w+)\s+(0x\w+)\s+([RWE ]+?)\s+0x\w+$/.exec(line);
    if (m)
      rows.push({
        offset: Number(m[1]),
        vaddr: Number(m[2]),
        filesz: Number(m[3]),
        memsz: Number(m[4]),
        flags: (m[5] as string).replace(/ /g, ''),
      });
  }
  return rows;
}

function readelfEntry(path: string): number {
  const out = execFileSync('readelf', ['-hW', path], { encoding: 'utf8' });
  return Number(/Entry point address:\s+(0x\w+)/.exec(out)?.[1]);
}

const flagString = (f: number): string =>
  (f & ELF.PF_R ? 'R' : '') + (f & ELF.PF_W ? 'W' : '') + (f & ELF.PF_X ? 'E' : '');

describe('parseElf on real binaries', () => {
  for (const path of ['/bin/true', '/bin/busybox', '/lib64/ld-linux-x86-64.so.2']) {
    it(`matches readelf for ${path}`, async () => {
      const elf = await parseElf(hostReader(path));
      if (isError(elf)) throw new Error(String(elf));
      expect(elf.header.entry).toBe(readelfEntry(path));
      const loads = elf.phdrs
        .filter((p) => p.type === ELF.PT_LOAD)
        .map((p) => ({
          offset: p.offset,
          vaddr: p.vaddr,
          filesz: p.filesz,
          memsz: p.memsz,
          flags: flagString(p.flags),
        }));
      expect(loads).toEqual(readelfLoads(path));
    });
  }

  it('reads the interpreter of a dynamic PIE and none for static or ld.so', async () => {
    const t = await parseElf(hostReader('/bin/true'));
    const b = await parseElf(hostReader('/bin/busybox'));
    const l = await parseElf(hostReader('/lib64/ld-linux-x86-64.so.2'));
    if (isError(t) || isError(b) || isError(l)) throw new Error('parse failed');
    expect(t.header.type).toBe(ELF.ET_DYN);
    expect(t.interp).toBe('/lib64/ld-linux-x86-64.so.2');
    expect(b.interp).toBeUndefined();
    expect(l.interp).toBeUndefined();
    expect(t.execStack).toBe(false);
  });
});

describe('parseElf validation', () => {
  const good = new Uint8Array(readFileSync('/bin/true'));
  const patched = (at: number, bytes: number[]): Uint8Array => {
    const c = new Uint8Array(good);
    c.set(bytes, at);
    return c;
  };

  it('refuses what is not an x86-64 ELF with ENOEXEC', async () => {
    expect(
      await parseElf(
        bytesReader(enc.encode('hello world, not an elf at all......................................')),
      ),
    ).toBe(E.ENOEXEC);
    expect(await parseElf(bytesReader(good.slice(0, 20)))).toBe(E.ENOEXEC);
    expect(await parseElf(bytesReader(patched(4, [1])))).toBe(E.ENOEXEC); // ELFCLASS32
    expect(await parseElf(bytesReader(patched(5, [2])))).toBe(E.ENOEXEC); // big endian
    expect(await parseElf(bytesReader(patched(18, [3, 0])))).toBe(E.ENOEXEC); // EM_386
    expect(await parseElf(bytesReader(patched(16, [1, 0])))).toBe(E.ENOEXEC); // ET_REL
    expect(await parseElf(bytesReader(patched(54, [32, 0])))).toBe(E.ENOEXEC); // phentsize
    expect(await parseElf(bytesReader(patched(56, [0, 0])))).toBe(E.ENOEXEC); // no phdrs
  });

  it('passes read errors through', async () => {
    expect(await parseElf(() => E.EIO)).toBe(E.EIO);
  });
});

describe('planLoad', () => {
  it('maps file pages, zeroes the bss tail and adds anonymous pages (busybox)', async () => {
    const elf = await parseElf(hostReader('/bin/busybox'));
    if (isError(elf)) throw new Error(String(elf));
    const plan = planLoad(elf, 0);
    expect(plan.entry).toBe(readelfEntry('/bin/busybox'));
    for (const m of plan.mappings) {
      expect(m.addr % 4096).toBe(0);
      expect(m.len % 4096).toBe(0);
      if (m.kind === 'file') expect(m.offset % 4096).toBe(0);
    }
    const rw = elf.phdrs.find((p) => p.type === ELF.PT_LOAD && p.flags & ELF.PF_W);
    if (!rw) throw new Error('no data segment');
    const fileMap = plan.mappings.find((m) => m.kind === 'file' && m.prot === 3);
    expect(fileMap && fileMap.kind === 'file' ? fileMap.zeroFrom : undefined).toBe(rw.vaddr + rw.filesz);
    expect(plan.brk).toBe(Math.ceil((rw.vaddr + rw.memsz) / 4096) * 4096);
  });
});

describe('#! scripts', () => {
  it('parses interpreter and one argument like binfmt_script', () => {
    const p = (s: string): unknown => {
      const r = parseShebang(enc.encode(s));
      return r && !isError(r) ? [dec.decode(r.interpreter), r.arg && dec.decode(r.arg)] : r;
    };
    expect(p('#!/bin/sh\necho')).toEqual(['/bin/sh', undefined]);
    expect(p('#! /usr/bin/env  python3 -u  \n')).toEqual(['/usr/bin/env', 'python3 -u']);
    expect(p('#!/bin/sh -e')).toEqual(['/bin/sh', '-e']);
    expect(p('#!\n')).toBe(E.ENOEXEC);
    expect(p('#!   \t\n')).toBe(E.ENOEXEC);
    expect(p('#!/' + 'a'.repeat(300))).toBe(E.ENOEXEC);
    expect(p('\x7fELF')).toBeUndefined();
  });

  it('rewrites argv: interpreter, arg, script path, then argv[1..]', () => {
    const line = { interpreter: enc.encode('/bin/sh'), arg: enc.encode('-e') };
    const argv = scriptArgv(
      line,
      enc.encode('/x/s.sh'),
      ['s.sh', 'a', 'b'].map((s) => enc.encode(s)),
    );
    expect(argv.map((a) => dec.decode(a))).toEqual(['/bin/sh', '-e', '/x/s.sh', 'a', 'b']);
  });

  it('follows nested scripts and stops with ELOOP', async () => {
    const files = new Map<string, Uint8Array>([
      ['/s1', enc.encode('#!/s2 one\n')],
      ['/s2', enc.encode('#!/bin/true\n')],
      ['/loop', enc.encode('#!/loop\n')],
    ]);
    const open: ExecOpener = (p) => {
      const name = dec.decode(p);
      const f = files.get(name);
      if (f) return { read: bytesReader(f) };
      if (name.startsWith('/bin/') || name.startsWith('/lib64/')) return { read: hostReader(name) };
      return E.ENOENT;
    };
    const prog = await resolveProgram(enc.encode('/s1'), [enc.encode('s1'), enc.encode('x')], open);
    if (isError(prog)) throw new Error(String(prog));
    expect(prog.argv.map((a) => dec.decode(a))).toEqual(['/bin/true', '/s2', 'one', '/s1', 'x']);
    expect(dec.decode(prog.path)).toBe('/bin/true');
    expect(dec.decode(prog.execfn)).toBe('/s1');
    expect(prog.interp && dec.decode(prog.interp.path)).toBe('/lib64/ld-linux-x86-64.so.2');
    expect(await resolveProgram(enc.encode('/loop'), [], open)).toBe(E.ELOOP);
    expect(await resolveProgram(enc.encode('/none'), [], open)).toBe(E.ENOENT);
  });

  it('reports a malformed interpreter as ELIBBAD', async () => {
    const bin = new Uint8Array(readFileSync('/bin/true'));
    const open: ExecOpener = (p) =>
      dec.decode(p) === '/bin/true'
        ? { read: bytesReader(bin) }
        : { read: bytesReader(enc.encode('garbage'.repeat(20))) };
    expect(await resolveProgram(enc.encode('/bin/true'), [], open)).toBe(E.ELIBBAD);
  });
});

describe('initial stack compared with the real kernel', () => {
  it('reproduces the exact layout of a native run without ASLR', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsvisor-auxv-'));
    const prog = join(dir, 'auxv-dump');
    execFileSync('gcc', [
      '-O0',
      '-o',
      prog,
      new URL('../../test-programs/auxv-dump.c', import.meta.url).pathname,
    ]);
    const out = execFileSync('setarch', ['x86_64', '-R', prog, 'x', 'yy'], {
      env: { A: '1', BB: '22' },
      encoding: 'utf8',
    });
    const native = { argv: [] as number[], envp: [] as number[], aux: [] as [number, number][], sp: 0 };
    for (const line of out.trim().split('\n')) {
      const [k, a, b] = line.split(' ');
      if (k === 'sp') native.sp = parseInt(a as string, 16);
      if (k === 'argv') native.argv.push(parseInt(a as string, 16));
      if (k === 'envp') native.envp.push(parseInt(a as string, 16));
      if (k === 'aux') native.aux.push([Number(a), parseInt(b as string, 16)]);
    }
    const nat = new Map(native.aux);
    const open: ExecOpener = (p) => ({ read: hostReader(dec.decode(p)) });
    const resolved = await resolveProgram(
      enc.encode(prog),
      [prog, 'x', 'yy'].map((s) => enc.encode(s)),
      open,
    );
    if (isError(resolved)) throw new Error(String(resolved));
    const layout = layoutExec(resolved, {
      place: () => nat.get(AT.BASE) as number, // the interpreter's address is mm's choice
      stackTop: STACK_TOP,
      envp: ['A=1', 'BB=22'].map((s) => enc.encode(s)),
      random: new Uint8Array(16),
      aux: {
        uid: 0,
        euid: 0,
        gid: 0,
        egid: 0,
        secure: false,
        hwcap: nat.get(AT.HWCAP) as number,
        hwcap2: nat.get(AT.HWCAP2) as number,
        minSigStackSize: nat.get(AT.MINSIGSTKSZ) as number,
        vdso: nat.get(AT.SYSINFO_EHDR) as number,
        extra: native.aux.filter(([k]) => k === AT.RSEQ_FEATURE_SIZE || k === AT.RSEQ_ALIGN),
      },
    });
    if (isError(layout)) throw new Error(String(layout));
    expect(layout.main.bias).toBe(ELF_ET_DYN_BASE);
    expect(layout.stack.sp).toBe(native.sp);
    expect([...layout.stack.auxv]).toEqual(native.aux);
    const view = new DataView(layout.stack.bytes.buffer);
    const word = (addr: number): number => Number(view.getBigUint64(addr - layout.stack.sp, true));
    expect(word(native.sp)).toBe(3);
    expect([1, 2, 3].map((i) => word(native.sp + i * 8))).toEqual(native.argv);
    expect([5, 6].map((i) => word(native.sp + i * 8))).toEqual(native.envp);
    const str = (addr: number): string => {
      const b = layout.stack.bytes.subarray(addr - layout.stack.sp);
      return dec.decode(b.subarray(0, b.indexOf(0)));
    };
    expect(str(layout.stack.execfn)).toBe(prog);
    expect(str(layout.stack.platform)).toBe('x86_64');
    expect(layout.stack.sp % 16).toBe(0);
  });

  it('refuses oversized argument strings with E2BIG', () => {
    const r = buildInitialStack({
      top: STACK_TOP,
      argv: [new Uint8Array(32 * 4096)],
      envp: [],
      execfn: enc.encode('/x'),
      random: new Uint8Array(16),
      aux: {
        phdr: 0,
        phnum: 0,
        entry: 0,
        base: 0,
        uid: 0,
        euid: 0,
        gid: 0,
        egid: 0,
        secure: false,
        hwcap: 0,
        hwcap2: 0,
        minSigStackSize: 2048,
      },
    });
    expect(r).toBe(E.E2BIG);
  });
});
