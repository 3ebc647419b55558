// Model-based differential tests with fc.commands: random command sequences (opens kept across
// steps, reads and writes, truncation, links, renames with RENAME_NOREPLACE/EXCHANGE, mkdir and
// rmdir, symlinks, chmod/chown under several fsuids, utimensat, getdents, xattrs, flock and OFD
// locks) run step by step on the real kernel (a host-ops process on a fresh Linux tmpfs, a plain
// host directory, or overlayfs) and on tsvisor's tmpfs, hostfs and overlay. After every command
// the result line and a listing with lstat of `/` and `/a` must match.
//
// A failure prints fast-check's seed, path and the shrunk command list with a replayPath
// comment. To replay it (all three are needed: fc.commands records which commands ran):
//   VFS_FUZZ_SEED=<seed> VFS_FUZZ_PATH=<path> VFS_FUZZ_REPLAY=<replayPath> \
//     npx vitest run src/model-commands.test.ts -t <filesystem>
// VFS_FUZZ_RUNS_SCALE multiplies the number of runs (default: a few seconds in all).
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { Hostfs, Overlayfs, Posix, ROOT_CREDS, Tmpfs, Vfs } from './index.js';
import { HostSession, normalize, vfsStepper } from './testing/differential.test-util.js';
import type { Op } from './testing/differential.test-util.js';
import { helperHostCalls } from './testing/host-calls.test-util.js';
import { opArbHostCalls, opArbWithMknod } from './testing/model.test-util.js';

interface Real {
  host: HostSession;
  mine: (op: Op) => string;
}

/** What the model tracks: how many handles the opens so far gave (the ops index them). */
interface Model {
  handles: number;
}

const HANDLE_OPS = new Set<string>([
  'read',
  'write',
  'pread',
  'pwrite',
  'ftruncate',
  'fstat',
  'getdents',
  'close',
  'fchdir',
  'fchmod',
  'lseek',
  'falloc',
  'flock',
  'ofd',
]);

const CHECKS: Op[] = [
  ['ls', '/'],
  ['ls', '/a'],
];

/** One operation, run on both sides and compared, then the listings compared. */
class OpCommand implements fc.AsyncCommand<Model, Real> {
  constructor(readonly op: Op) {}

  /** Operations on handles use the ones opened so far (and one past them, for EBADF). */
  check(m: Readonly<Model>): boolean {
    const op = this.op;
    return !HANDLE_OPS.has(op[0]) || (op[1] as number) <= m.handles;
  }

  async run(m: Model, r: Real): Promise<void> {
    const op = this.op;
    const host = normalize([await r.host.step(op)], [op])[0];
    const mine = normalize([r.mine(op)], [op])[0];
    expect({ op, result: mine }).toEqual({ op, result: host });
    if ((op[0] === 'open' || op[0] === 'openat') && host?.startsWith('OK') === true) m.handles++;
    for (const c of CHECKS) {
      const h = normalize([await r.host.step(c)], [c])[0];
      const v = normalize([r.mine(c)], [c])[0];
      expect({ after: op, check: c, result: v }).toEqual({ after: op, check: c, result: h });
    }
  }

  toString(): string {
    return JSON.stringify(this.op);
  }
}

const handle = fc.integer({ min: 0, max: 3 });
const lockOp: fc.Arbitrary<Op> = fc.oneof(
  // Never a blocking request: the host process would wait forever.
  fc.tuple(fc.constant('flock' as const), handle, fc.constantFrom(5, 6, 8, 0)),
  fc.tuple(
    fc.constant('ofd' as const),
    handle,
    fc.constantFrom(36, 37),
    fc.constantFrom(0, 1, 2),
    fc.constant(0),
    fc.constantFrom(0, 5, 10),
    fc.constantFrom(0, 1, 10),
  ),
);

function commands(ops: fc.Arbitrary<Op>): fc.Arbitrary<Iterable<fc.AsyncCommand<Model, Real>>> {
  const replayPath = process.env['VFS_FUZZ_REPLAY'];
  return fc.commands(
    [
      fc
        .oneof({ weight: 6, arbitrary: ops }, { weight: 1, arbitrary: lockOp })
        .map((op) => new OpCommand(op)),
    ],
    {
      maxCommands: 30,
      size: 'max',
      ...(replayPath !== undefined ? { replayPath } : {}),
    },
  );
}

/** Scaled runs take longer than vitest's default 30 s. */
const TIMEOUT = 30_000 * Math.max(1, Number(process.env['VFS_FUZZ_RUNS_SCALE'] ?? 1));
const runs = (n: number): number =>
  Math.max(1, Math.round(n * Number(process.env['VFS_FUZZ_RUNS_SCALE'] ?? 1)));
const replay = (): { seed?: number; path?: string } => {
  const seed = process.env['VFS_FUZZ_SEED'];
  const path = process.env['VFS_FUZZ_PATH'];
  return {
    ...(seed !== undefined ? { seed: Number(seed) } : {}),
    ...(path !== undefined ? { path } : {}),
  };
};

async function check(
  ops: fc.Arbitrary<Op>,
  numRuns: number,
  setup: () => { host: HostSession; posix: Posix; done?: () => void },
): Promise<void> {
  await fc.assert(
    fc.asyncProperty(commands(ops), async (cmds) => {
      const { host, posix, done } = setup();
      try {
        await fc.asyncModelRun(
          () => ({ model: { handles: 0 }, real: { host, mine: vfsStepper(posix) } }),
          cmds,
        );
      } finally {
        posix.closeAll();
        await host.close();
        done?.();
      }
    }),
    { numRuns: runs(numRuns), ...replay() },
  );
}

const base = mkdtempSync(join(tmpdir(), 'tsvisor-vfs-model-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));

describe('fc.commands against the kernel', () => {
  it(
    'tmpfs behaves as Linux tmpfs',
    async () => {
      await check(opArbWithMknod, 60, () => ({
        host: HostSession.start(),
        posix: new Posix(new Vfs(new Tmpfs()), ROOT_CREDS),
      }));
    },
    TIMEOUT,
  );

  it(
    'hostfs (with HostCalls: mknod, user.* xattrs, renameat2) behaves as the host directory it serves',
    async () => {
      const hostCalls = helperHostCalls();
      await check(opArbHostCalls, 40, () => {
        const served = mkdtempSync(join(base, 'served-'));
        return {
          host: HostSession.start({ tmpfs: false }),
          posix: new Posix(new Vfs(new Hostfs(served, { hostCalls })), ROOT_CREDS),
          done: () => rmSync(served, { recursive: true, force: true }),
        };
      });
    },
    TIMEOUT,
  );

  it(
    'overlay behaves as Linux overlayfs over the same lower layer',
    async () => {
      const lower = mkdtempSync(join(base, 'lower-'));
      mkdirSync(join(lower, 'a'), { mode: 0o755 });
      mkdirSync(join(lower, 'a', 'b'), { mode: 0o755 });
      writeFileSync(join(lower, 'a', 'c'), 'lower a/c');
      writeFileSync(join(lower, 'b'), 'lower b contents');
      symlinkSync('a/c', join(lower, 'c'));
      const hostCalls = helperHostCalls();
      // Lower files with user.* attributes, so copy-up must carry them.
      const dirFd = openSync(lower, 'r');
      try {
        expect(hostCalls.setxattr(dirFd, 'b', 'user.a', Buffer.from('lower'), 0)).toBe(0);
        expect(hostCalls.setxattr(dirFd, 'a', 'user.b', Buffer.from('dir'), 0)).toBe(0);
      } finally {
        closeSync(dirFd);
      }
      await check(opArbHostCalls, 40, () => ({
        host: HostSession.start({ overlayLower: lower }),
        posix: new Posix(
          new Vfs(
            new Overlayfs(new Hostfs(lower, { readOnly: true, hostCalls }), new Tmpfs({ mode: 0o755 })),
          ),
          ROOT_CREDS,
        ),
      }));
    },
    TIMEOUT,
  );
});
