// Random sequences of mount operations against Linux: fast-check generates scripts (a fixed seed,
// so a failure reproduces) of new tmpfs mounts, binds and recursive binds of directories and
// files, moves, every propagation type with and without MS_REC, unmounts and lazy unmounts, and
// walks; testdata/mount-ops.c runs them natively as root in a fresh mount namespace
// (`unshare -m`) and under tsvisor, printing every result and each case's mountinfo in a
// canonical form, and both must print the same.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compile, testbed } from './c-programs.test-util.js';

const DIRS = ['x', 'y', 'z', 'x/a', 'y/a', 'x/a/a'];
const FILES = ['f', 'x/f', 'y/f', 'x/a/f'];
const TYPES = ['shared', 'slave', 'slave', 'private', 'unbindable'];
const KINDS = [
  'tmpfs',
  'bind',
  'bind',
  'rbind',
  'bindfile',
  'move',
  'type',
  'type',
  'type',
  'umount',
  'lazy',
  'who',
];

/** One operation as random choices; {@link script} turns them into a line. */
const choice = fc.record({
  kind: fc.constantFrom(...KINDS),
  a: fc.nat(),
  b: fc.nat(),
  type: fc.constantFrom(...TYPES),
  rec: fc.boolean(),
});

type Choice = typeof choice extends fc.Arbitrary<infer T> ? T : never;

/**
 * A case's lines. Type changes, unmounts and moves mostly take a path mounted on earlier in the
 * case, so that they meet mount roots rather than failing with EINVAL.
 */
function lines(choices: readonly Choice[], tmpfs: () => string): string[] {
  const mounted: string[] = ['.'];
  const pick = <T>(list: readonly T[], n: number): T => list[n % list.length] as T;
  const target = (n: number): string => (n % 4 === 0 ? pick(DIRS, n >> 2) : pick(mounted, n >> 2));
  return choices.map(({ kind, a, b, type, rec }) => {
    switch (kind) {
      case 'tmpfs': {
        const d = pick(DIRS, a);
        mounted.push(d);
        return `tmpfs ${tmpfs()} ${d}`;
      }
      case 'bind':
      case 'rbind': {
        const d = pick(DIRS, b);
        mounted.push(d);
        return `${kind} ${pick(DIRS, a)} ${d}`;
      }
      case 'bindfile': {
        const d = pick(FILES, b);
        mounted.push(d);
        return `bind ${pick(FILES, a)} ${d}`;
      }
      case 'move':
        return `move ${target(a)} ${pick([...DIRS, ...FILES], b)}`;
      case 'type':
        return `${rec ? 'r' : ''}${type} ${target(a)}`;
      case 'umount':
      case 'lazy':
        return `${kind} ${target(a)}`;
      default:
        return `who ${pick([...DIRS, ...FILES], a)}`;
    }
  });
}

// Each case starts with the case's tmpfs shared, so that something propagates.
// MOUNT_OPS_SEED and MOUNT_OPS_CASES explore other scripts; the suite runs the fixed ones.
const SEED = Number(process.env['MOUNT_OPS_SEED'] ?? 20261129);
const CASES = Number(process.env['MOUNT_OPS_CASES'] ?? 80);
const cases = fc.sample(fc.array(choice, { minLength: 6, maxLength: 14 }), { seed: SEED, numRuns: CASES });
let tmpfsCount = 0;
const script = cases
  .map((c, i) =>
    [`case ${i}`, 'shared .', ...lines(c, () => `t${tmpfsCount++}`), 'who x', 'who y/a'].join('\n'),
  )
  .join('\n');

let native = '';
const bed = testbed((work) => {
  const exe = compile(work, 'mount-ops', ['-O1', '-Wall', '-Werror']);
  writeFileSync(join(work, 'mount-ops.script'), script + '\n');
  mkdirSync(join(work, 'native-base'));
  native = execFileSync('unshare', ['-m', exe, join(work, 'native-base'), join(work, 'mount-ops.script')], {
    encoding: 'utf8',
    timeout: 60_000,
    maxBuffer: 64 << 20,
  });
});

describe('mount-ops.c with random scripts', () => {
  it('prints what Linux answers', () => {
    // Enough of the operations must succeed for the comparison to mean something.
    const ok = native
      .split('\n')
      .filter((l) =>
        /^(bind|rbind|tmpfs|move|r?(shared|slave|private|unbindable)|umount|lazy) .*: 0$/.test(l),
      );
    expect(ok.length).toBeGreaterThan(100);
    expect(native).toMatch(/shared:\[/);
    expect(native).toMatch(/master:\[/);
    expect(native).toContain(`== case ${CASES - 1}\n`);
  });

  it('prints the same under tsvisor', async () => {
    const got = await bed.run(['/test/mount-ops', '/tmp/mount-ops', '/test/mount-ops.script'], {
      volumes: [{ host: bed.dir, sandbox: '/test', readOnly: true }],
    });
    expect(got.stderr).toBe('');
    expect(got.stdout).toBe(native);
    expect(got.status).toBe(0);
  }, 60_000);
});
