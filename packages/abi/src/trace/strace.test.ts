// Differential test of the formatter against the real strace: a C program makes a fixed list of
// syscalls natively under `strace -f -s 32`, and also reports (side channel) the raw registers and
// memory of each call. The formatter's rendering of those calls must equal strace's lines exactly,
// pid prefix and column alignment included.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { E } from '../errno.js';
import { compileC, makeTempDir } from '../c-compiler.test-util.js';
import { formatSyscall } from './format.js';
import type { MemoryReader } from './format.js';
import { STRACE_PROGRAM } from './strace-calls.test-util.js';
import { STRACE_RANDOM_PROGRAM } from './strace-random.test-util.js';

interface Call {
  nr: number;
  args: bigint[];
  ret: bigint;
  regions: { addr: number; bytes: Uint8Array }[];
}

/** Memory dumped before the first call belongs to every call (strings that never change). */
function parseSide(text: string): Call[] {
  const calls: Call[] = [];
  const shared: Call['regions'] = [];
  for (const line of text.split('\n')) {
    const parts = line.split(' ');
    if (parts[0] === 'C') {
      const v = parts.slice(1).map((h) => BigInt.asIntN(64, BigInt('0x' + h)));
      calls.push({ nr: Number(v[0]), args: v.slice(1, 7), ret: v[7]!, regions: [...shared] });
    } else if (parts[0] === 'M') {
      const hex = parts[2] ?? '';
      (calls[calls.length - 1]?.regions ?? shared).push({
        addr: Number(BigInt('0x' + parts[1])),
        bytes: Buffer.from(hex, 'hex'),
      });
    }
  }
  return calls;
}

function readerOf(call: Call): MemoryReader {
  return (addr, len) => {
    for (const r of call.regions) {
      if (addr >= r.addr && addr + len <= r.addr + r.bytes.length)
        return r.bytes.subarray(addr - r.addr, addr - r.addr + len);
    }
    return E.EFAULT;
  };
}

const tmp = makeTempDir();
afterAll(() => tmp.dispose());

/**
 * Compiles a side-channel program, runs it under strace, and returns strace's lines for the calls
 * after the marker together with the calls the program reported.
 */
function traceBoth(name: string, source: string, args: string[], cflags: string[] = []) {
  const bin = compileC(tmp.path, name, { [`${name}.c`]: source }, cflags);
  const traceFile = join(tmp.path, `${name}.trace`);
  const side = execFileSync(
    'strace',
    ['-f', '-s', '32', '-e', 'signal=none', '-o', traceFile, bin, ...args],
    {
      cwd: tmp.path,
      maxBuffer: 1 << 26,
      timeout: 60_000,
    },
  ).toString();
  const calls = parseSide(side);
  const lines = readFileSync(traceFile, 'utf8').split('\n');
  const start = lines.findIndex((l) => /^\d+ +close\(-1000\)/.test(l));
  const end = lines.findIndex((l) => /^\d+ +exit_group\(/.test(l));
  // The side channel's own write to stdout is not one of the compared calls.
  const straced = lines.slice(start + 1, end + 1).filter((l) => !/^\d+ +write\(1, /.test(l));
  // strace -f prefixes the pid, padded to 5 columns ("1622  close(..."), as our prefix option does.
  const prefix = /^\d+ +/.exec(lines[start] ?? '')?.[0] ?? '?';
  const ours = calls.map((c) =>
    formatSyscall(c.nr, c.args, c.ret, readerOf(c), { column: 40, prefix, stringLimit: 32 }),
  );
  return { start, calls, straced, ours, side };
}

describe('formatSyscall agrees with strace', () => {
  let fixed: ReturnType<typeof traceBoth>;
  beforeAll(() => {
    fixed = traceBoth('calls', STRACE_PROGRAM, [join(tmp.path, 'data.txt'), tmp.path]);
  });

  it('sees the same calls', () => {
    expect(fixed.start).toBeGreaterThan(0);
    expect(fixed.calls.length).toBeGreaterThan(100);
    expect(fixed.straced.length, `strace lines:\n${fixed.straced.join('\n')}\nside:\n${fixed.side}`).toBe(
      fixed.calls.length,
    );
  });

  it('renders every call exactly as strace does', () => {
    expect(fixed.ours).toEqual(fixed.straced);
  });

  it('decodes random flag and enum arguments exactly as strace does', () => {
    // ABI_STRACE_SEED=<n> runs the same test with another seed (for exploring; CI uses the fixed one).
    const seed = process.env['ABI_STRACE_SEED'];
    const random = traceBoth(
      'random',
      STRACE_RANDOM_PROGRAM,
      [],
      ['-DROUNDS=100', ...(seed ? [`-DSEED=${seed}ULL`] : [])],
    );
    expect(random.calls.length).toBeGreaterThan(6000);
    expect(random.straced.length).toBe(random.calls.length);
    const diff = random.ours
      .map((line, i) => [line, random.straced[i]] as const)
      .filter(([a, b]) => a !== b)
      .map(([a, b]) => `ours:   ${a}\nstrace: ${b}`);
    expect(diff.slice(0, 40).join('\n')).toBe('');
  });
});
