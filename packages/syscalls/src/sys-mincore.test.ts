// mincore(2): the model's checks in Linux's order (compared with the host kernel), residency
// from the platform.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { E } from '@tsvisor/abi';
import { SparseMemory, type PlatformPort, type PlatformTask } from '@tsvisor/kernel';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakePlatform } from './fake-platform.test-util.js';
import { BUF, asC, harness } from './harness.test-util.js';

const PAGE = 4096;
const TOP = 2n ** 47n; // the end of the user address space plus one page
const PROT_RW = 3;
const MAP_PRIVATE_ANON = 0x22;

/** An address: relative to the four-page mapping A (page 2 unmapped), or absolute. */
type Where = { a: number } | { abs: bigint };
/** The vector: the writable buffer, a read-only page, or an absolute address. */
type Vec = 'buf' | 'readonly' | bigint;

interface Case {
  name: string;
  start: Where;
  len: bigint;
  vec: Vec;
}

const CASES: readonly Case[] = [
  { name: 'unaligned', start: { a: 1 }, len: 4096n, vec: 'buf' },
  { name: 'null vec', start: { a: 0 }, len: 4096n, vec: 0n },
  { name: 'hole, vec outside user space', start: { a: 0 }, len: 4n * 4096n, vec: 2n ** 64n - 4096n },
  { name: 'hole', start: { a: 0 }, len: 4n * 4096n, vec: 'buf' },
  { name: 'zero length, vec outside user space', start: { a: 0 }, len: 0n, vec: 2n ** 64n - 4096n },
  { name: 'zero length, kernel vec', start: { a: 0 }, len: 0n, vec: 0xffff800000000000n },
  { name: 'zero length, unmapped start', start: { abs: 0x1000n }, len: 0n, vec: 'buf' },
  { name: 'unaligned, bad vec', start: { a: 1 }, len: 4096n, vec: 2n ** 64n - 4096n },
  { name: 'huge length', start: { a: 0 }, len: 2n ** 64n - 4096n, vec: 'buf' },
  { name: 'last user page', start: { abs: TOP - 4096n }, len: 4096n, vec: 'buf' },
  { name: 'last user page, zero length', start: { abs: TOP - 4096n }, len: 0n, vec: 'buf' },
  { name: 'past user space', start: { abs: TOP }, len: 0n, vec: 'buf' },
  { name: 'unmapped, kernel vec', start: { abs: 0x1000n }, len: 4096n, vec: 0xffff800000000000n },
  { name: 'one byte', start: { a: 0 }, len: 1n, vec: 'buf' },
  { name: 'two pages', start: { a: 0 }, len: 8192n, vec: 'buf' },
  { name: 'last page after the hole', start: { a: 3 * PAGE }, len: 4096n, vec: 'buf' },
  { name: 'one page then the hole', start: { a: PAGE }, len: 3n * 4096n, vec: 'buf' },
  { name: 'starting in the hole', start: { a: 2 * PAGE }, len: 2n * 4096n, vec: 'buf' },
  { name: 'hole, read-only vec', start: { a: 0 }, len: 4n * 4096n, vec: 'readonly' },
  { name: 'vec crosses the end of user space', start: { a: 0 }, len: 8192n, vec: TOP - 4096n - 1n },
  { name: 'read-only vec', start: { a: 0 }, len: 4096n, vec: 'readonly' },
];

function cExpr(w: Where): string {
  return 'a' in w ? `a + ${w.a}UL` : `${w.abs}UL`;
}

function cVec(v: Vec): string {
  if (v === 'buf') return '(unsigned long)vec';
  if (v === 'readonly') return '(unsigned long)ro';
  return `${v}UL`;
}

const C_SOURCE = `#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
static unsigned char vec[16];
/* How many bytes of vec mincore wrote (residency bytes are 0 or 1, never the 0xff put there). */
static int written(void) {
  int n = 0;
  for (unsigned i = 0; i < sizeof vec; i++) n += vec[i] != 0xff;
  return n;
}
int main(void) {
  char *m = mmap(0, 4 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  char *ro = mmap(0, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED || ro == MAP_FAILED || munmap(m + 2 * 4096, 4096)) return 1;
  unsigned long a = (unsigned long)m;
${CASES.map((c) => `  { memset(vec, 0xff, sizeof vec); long r = syscall(SYS_mincore, ${cExpr(c.start)}, ${c.len}UL, ${cVec(c.vec)}); printf("%ld %d %d\\n", r, r < 0 ? errno : 0, written()); }`).join('\n')}
  return 0;
}
`;

let linux: string[] = [];
let dir = '';
beforeAll(() => {
  dir = mkdtempSync('/var/tmp/tsvisor-mincore-');
  writeFileSync(join(dir, 'mincore.c'), C_SOURCE);
  execFileSync('gcc', ['-O1', '-Wall', '-Werror', '-o', join(dir, 'mincore'), join(dir, 'mincore.c')]);
  linux = execFileSync(join(dir, 'mincore'), { encoding: 'utf8' }).trimEnd().split('\n');
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A platform whose host reports a chosen residency and records what it was asked. */
function residencyPlatform(resident: (page: number) => number): {
  asked: { tid: number; start: number; pages: number }[];
  platform: PlatformPort;
} {
  const asked: { tid: number; start: number; pages: number }[] = [];
  return {
    asked,
    platform: {
      applyMemoryOps: () => undefined,
      createTask: () => undefined,
      execAddressSpace: () => new SparseMemory(),
      destroyTask: () => undefined,
      mincore: (t: PlatformTask, start: number, pages: number) => {
        asked.push({ tid: t.tid, start, pages });
        return Uint8Array.from({ length: pages }, (_, i) => resident(start / PAGE + i));
      },
    },
  };
}

/** A harness with mapping A (four pages, page 2 unmapped) and a read-only page, as in the C program. */
async function setUp(
  platform: PlatformPort,
): Promise<{ h: ReturnType<typeof harness>; a: number; ro: number }> {
  const h = harness({ platform });
  const a = (await h.call('mmap', 0, 4 * PAGE, PROT_RW, MAP_PRIVATE_ANON, -1, 0)) as number;
  const ro = (await h.call('mmap', 0, PAGE, 1, MAP_PRIVATE_ANON, -1, 0)) as number;
  expect(await h.call('munmap', a + 2 * PAGE, PAGE)).toBe(0);
  h.mem.map(ro, PAGE, { read: true, write: false }); // the fake host memory behind the model
  return { h, a, ro };
}

describe('mincore', () => {
  it('gives the errors and results Linux gives, in its order of checks', async () => {
    const { platform } = residencyPlatform(() => 1);
    const { h, a, ro } = await setUp(platform);
    const got: string[] = [];
    for (const c of CASES) {
      const start = 'a' in c.start ? BigInt(a + c.start.a) : c.start.abs;
      const vec = c.vec === 'buf' ? BigInt(BUF) : c.vec === 'readonly' ? BigInt(ro) : c.vec;
      h.mem.write(BUF, new Uint8Array(16).fill(0xff));
      const [r, errno] = asC(await h.call('mincore', start, c.len, vec));
      const written = [...h.mem.peek(BUF, 16)].filter((b) => b !== 0xff).length;
      got.push(`${r} ${errno} ${written}`);
    }
    expect(got.map((g, i) => `${CASES[i]?.name}: ${g}`)).toEqual(
      linux.map((l, i) => `${CASES[i]?.name}: ${l}`),
    );
  });

  it('writes the residency the platform reports, asked only for fully mapped ranges', async () => {
    const { asked, platform } = residencyPlatform((page) => page % 2);
    const { h, a } = await setUp(platform);
    h.mem.write(BUF, new Uint8Array(8).fill(0xee));
    expect(await h.call('mincore', a, 2 * PAGE, BUF)).toBe(0);
    const first = (a / PAGE) % 2;
    expect([...h.mem.peek(BUF, 3)]).toEqual([first, 1 - first, 0xee]);
    expect(asked).toEqual([{ tid: h.task.tid, start: a, pages: 2 }]);
    // A range with a hole: the mapped prefix is asked and written, then ENOMEM.
    h.mem.write(BUF, new Uint8Array(8).fill(0xee));
    expect(await h.call('mincore', a, 4 * PAGE, BUF)).toBe(E.ENOMEM);
    expect([...h.mem.peek(BUF, 3)]).toEqual([first, 1 - first, 0xee]);
    expect(asked[1]).toEqual({ tid: h.task.tid, start: a, pages: 2 });
    // An unaligned start, a bad vector, an empty range or a range starting in a hole never
    // reach the host.
    expect(await h.call('mincore', a + 1, PAGE, BUF)).toBe(E.EINVAL);
    expect(await h.call('mincore', a, PAGE, 2n ** 64n - 4096n)).toBe(E.EFAULT);
    expect(await h.call('mincore', a, 0, BUF)).toBe(0);
    expect(await h.call('mincore', a + 2 * PAGE, 2 * PAGE, BUF)).toBe(E.ENOMEM);
    expect(asked).toHaveLength(2);
  });

  it("passes on the host's errno when the host does not map what the model does", async () => {
    const platform = new FakePlatform();
    const { h, a } = await setUp(platform);
    // FakePlatform's host maps what the model journaled: resident.
    expect(await h.call('mincore', a, 2 * PAGE, BUF)).toBe(0);
    expect([...h.mem.peek(BUF, 2)]).toEqual([1, 1]);
    platform.memoryOf(h.task).unmap(a, PAGE);
    expect(await h.call('mincore', a, 2 * PAGE, BUF)).toBe(E.ENOMEM);
  });

  it('without a platform, reports every mapped page resident', async () => {
    const h = harness();
    const a = (await h.call('mmap', 0, 3 * PAGE, PROT_RW, MAP_PRIVATE_ANON, -1, 0)) as number;
    expect(await h.call('mincore', a, 3 * PAGE, BUF)).toBe(0);
    expect([...h.mem.peek(BUF, 3)]).toEqual([1, 1, 1]);
  });
});
