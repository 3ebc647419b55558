// Memory conformance (issue 6): conformance/mm-*.c print the same natively and under tsvisor,
// and /proc/self/maps inside the sandbox is @tsvisor/mm's model of the reading process.
import { execFileSync, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { testbed, type SandboxRun } from './c-programs.test-util.js';

const here = dirname(fileURLToPath(import.meta.url));
const conformance = join(here, '..', 'conformance');
const PROGRAMS = ['mm-calls', 'mm-malloc', 'mm-maps'] as const;
const bed = testbed((dir) => {
  for (const p of PROGRAMS)
    execFileSync('gcc', ['-O1', '-static', '-Wall', '-o', join(dir, p), join(conformance, `${p}.c`)]);
  // A dynamic build too: ld.so and libc mapped from the sandbox's files.
  execFileSync('gcc', ['-O1', '-Wall', '-o', join(dir, 'mm-maps-dynamic'), join(conformance, 'mm-maps.c')]);
});

const ENV = ['PATH=/usr/local/bin:/usr/bin:/bin', 'HOME=/root', 'LC_ALL=C'];

/**
 * Where tsvisor still answers conformance/mm-calls.c otherwise than Linux: each line as Linux
 * prints it and as tsvisor does, why, and where the fix belongs. The test fails when a new
 * difference appears and also when one of these is fixed (then delete its entry).
 */
const KNOWN_MM_CALLS_DIFFERENCES: readonly {
  linux: string;
  tsvisor: string;
  cause: string;
  fixIn: string;
}[] = [];

function sandboxed(argv: string[]): Promise<SandboxRun> {
  return bed.run(argv, { env: ENV, volumes: [{ host: bed.dir, sandbox: '/work', readOnly: true }] });
}

function native(argv: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(argv[0] as string, argv.slice(1), { encoding: 'utf8', env: { LC_ALL: 'C' } });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

describe('memory conformance programs', () => {
  it('conformance/mm-calls.c prints the same natively and under tsvisor, but for the known list', async () => {
    const want = native([join(bed.dir, 'mm-calls')]);
    expect(want).toMatchObject({ status: 0, stderr: '' });
    expect(want.stdout.endsWith('\ndone\n')).toBe(true);
    const got = await sandboxed(['/work/mm-calls']);
    expect(got).toMatchObject({ status: 0, stderr: '' });
    const linuxLines = want.stdout.split('\n');
    const inSandbox = got.stdout.split('\n');
    expect(inSandbox.length).toBe(linuxLines.length);
    const differing = linuxLines.flatMap((line, i) =>
      line === inSandbox[i] ? [] : [{ linux: line, tsvisor: inSandbox[i] ?? '' }],
    );
    expect(differing).toEqual(KNOWN_MM_CALLS_DIFFERENCES.map(({ linux, tsvisor }) => ({ linux, tsvisor })));
  });

  it('conformance/mm-malloc.c (many mmap/munmap through malloc) prints the same natively and under tsvisor', async () => {
    const argv = ['mm-malloc', '2000'];
    const want = native([join(bed.dir, argv[0] as string), ...argv.slice(1)]);
    expect(want).toMatchObject({ status: 0, stderr: '' });
    const got = await sandboxed([`/work/${argv[0]}`, ...argv.slice(1)]);
    expect(got.stderr).toBe('');
    expect(got.stdout).toBe(want.stdout);
    expect(got.status).toBe(0);
  });

  it('/proc/self/maps inside is what the host process really has mapped (static and dynamic)', async () => {
    for (const p of ['mm-maps', 'mm-maps-dynamic']) {
      expect(native([join(bed.dir, p)])).toMatchObject({ status: 0, stdout: 'ok\n', stderr: '' });
      const got = await sandboxed([`/work/${p}`]);
      expect(got, p).toMatchObject({ status: 0, stdout: 'ok\n', stderr: '' });
    }
  });

  it('cat /proc/self/maps: the files, heap and stack of a native run, and the stub reserved', async () => {
    const got = await sandboxed(['/bin/cat', '/proc/self/maps']);
    expect(got).toMatchObject({ status: 0, stderr: '' });
    const want = native(['/bin/cat', '/proc/self/maps']);
    // Permissions and names of the named lines, in order. Anonymous lines are left out (their
    // number depends on where malloc's arenas fall). The host vDSO's pages are compared apart:
    // natively they sit where ASLR put them, in the sandbox where the stub (no ASLR) has them.
    const special = /^\[(vdso|vvar|vvar_vclock)\]$/;
    const fields = (text: string): string[][] =>
      text
        .trim()
        .split('\n')
        .map((l) => l.split(/\s+/));
    const named = (text: string): string[] =>
      fields(text)
        .filter(
          (f) =>
            (f[5] ?? '') !== '' && !special.test(f[5] ?? '') && !/^\[(vsyscall|tsvisor)\]$/.test(f[5] ?? ''),
        )
        .map((f) => `${f[1]} ${f.slice(5).join(' ')}`);
    const vdso = (text: string): string[] =>
      fields(text)
        .filter((f) => special.test(f[5] ?? ''))
        .map((f) => `${f[1]} ${f[5] ?? ''}`)
        .sort();
    expect(named(got.stdout)).toEqual(named(want.stdout));
    expect(vdso(want.stdout)).toContain('r-xp [vdso]');
    expect(vdso(got.stdout)).toEqual(vdso(want.stdout));
    const lines = got.stdout.trim().split('\n');
    expect(lines.filter((l) => l.endsWith('[tsvisor]'))).toEqual([
      expect.stringMatching(/^7ffffff00000-7ffffff01000 r-xp 00000000 00:00 0 +\[tsvisor\]$/),
      expect.stringMatching(/^7ffffff01000-7ffffff02000 rw-p 00000000 00:00 0 +\[tsvisor\]$/),
    ]);
    expect(lines[lines.length - 1]).toMatch(/\[tsvisor\]$/);
  });
});
