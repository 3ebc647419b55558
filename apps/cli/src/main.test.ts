// The command end to end: in process through main() (sources), and once through bin/tsvisor.cjs
// (the built files, which nx builds before tests).
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from './main.js';

const here = dirname(fileURLToPath(import.meta.url));
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tsvisor-cli-'));
  execFileSync('gcc', [
    '-static',
    '-nostdlib',
    '-fno-pie',
    '-no-pie',
    '-O1',
    '-fno-stack-protector',
    '-fcf-protection=none',
    '-o',
    join(dir, 'echo-exit'),
    join(here, 'testdata', 'echo-exit.c'),
  ]);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs main() with stdout/stderr captured in files. */
async function run(args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  const out = join(dir, 'out');
  const err = join(dir, 'err');
  const fds: [number, number, number] = [openSync('/dev/null', 'r'), openSync(out, 'w'), openSync(err, 'w')];
  try {
    const status = await main(args, { stdio: fds, env: { PATH: '/usr/bin:/bin' } });
    return { status, stdout: readFileSync(out, 'utf8'), stderr: readFileSync(err, 'utf8') };
  } finally {
    fds.forEach((fd) => closeSync(fd));
  }
}

describe('tsvisor do', () => {
  it("passes the arguments and returns the program's exit status", async () => {
    const r = await run(['do', '-v', `${dir}:/t:ro`, '--', '/t/echo-exit', '42', 'a b', 'c']);
    expect(r.status).toBe(42);
    expect(r.stdout).toBe('a b\nc\n');
  });

  it('adds --env settings to the environment', async () => {
    const r = await run(['do', '--env', 'TSVISOR_CLI_TEST=yes', '-v', `${dir}:/t:ro`, '/t/echo-exit', '0']);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('env=yes\n');
  });

  it('--strace-log writes the trace to a file, execve first and exit_group last', async () => {
    const log = join(dir, 'trace');
    const r = await run(['do', '--strace-log', log, '-v', `${dir}:/t:ro`, '/t/echo-exit', '3', 'x']);
    expect(r.status).toBe(3);
    const lines = readFileSync(log, 'utf8').trimEnd().split('\n');
    expect(lines[0]).toMatch(
      /^execve\("\/t\/echo-exit", \["\/t\/echo-exit", "3", "x"\], 0x[0-9a-f]+ \/\* \d+ vars? \*\/\) = 0$/,
    );
    expect(lines).toContain('write(1, "x", 1) = 1');
    expect(lines.at(-2)).toBe('exit_group(3) = ?');
    expect(lines.at(-1)).toBe('+++ exited with 3 +++');
  });

  it('--log sends the sandbox log to a file, leaving stderr to the program', async () => {
    const log = join(dir, 'log');
    const r = await run([
      'do',
      '--log',
      log,
      '-v',
      `${dir}:/t:ro`,
      '/bin/busybox',
      'sh',
      '-c',
      'busybox true; echo hi >&2',
    ]);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('hi\n');
    expect(readFileSync(log, 'utf8')).toMatch(/^tsvisor: unsupported syscall /m);
  });

  it('keeps the sandbox log off stderr by default and puts it there with --log -', async () => {
    const argv = ['-v', `${dir}:/t:ro`, '/bin/busybox', 'sh', '-c', 'busybox true; echo hi >&2'];
    const quiet = await run(['do', ...argv]);
    expect(quiet.status).toBe(0);
    expect(quiet.stderr).toBe('hi\n');
    const loud = await run(['do', '--log', '-', ...argv]);
    expect(loud.status).toBe(0);
    expect(loud.stderr).toMatch(/^tsvisor: unsupported syscall /m);
    expect(loud.stderr).toMatch(/^hi$/m);
  });

  it('exits 127 with a message when the program does not exist', async () => {
    const r = await run(['do', '/no/such/program']);
    expect(r.status).toBe(127);
    expect(r.stderr).toMatch(/^tsvisor: \/no\/such\/program: No such file or directory/);
  });

  it('exits 2 when the trace file cannot be opened', async () => {
    const r = await run(['do', '--strace-log', '/no/such/dir/trace', '/bin/true']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^tsvisor: cannot open \/no\/such\/dir\/trace: /);
  });

  it('prints usage and exits 2 for a bad command line', async () => {
    const r = await run(['do', '--bogus', 'x']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/unknown option '--bogus'/);
  });

  it('prints help', async () => {
    const r = await run(['do', '--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^Usage: tsvisor do/);
  });
});

describe('bin/tsvisor.cjs', () => {
  it('runs a program and exits with its status', () => {
    const r = spawnSync(
      process.execPath,
      [join(here, '..', 'bin', 'tsvisor.cjs'), 'do', '-v', `${dir}:/t:ro`, '/t/echo-exit', '7', 'hi'],
      {
        encoding: 'utf8',
      },
    );
    expect(r.stdout).toBe('hi\n');
    expect(r.status).toBe(7);
  });

  it('forwards SIGTERM to the sandbox and exits with what the program made of it', async () => {
    const child = spawn(
      process.execPath,
      [
        join(here, '..', 'bin', 'tsvisor.cjs'),
        'do',
        '/bin/sh',
        '-c',
        'trap "exit 9" TERM; echo ready; while :; do :; done',
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    child.kill('SIGTERM');
    const status = await new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    expect(status).toBe(9);
  });

  it("passes terminal ioctls to a host terminal: the window size and modes are the terminal's", () => {
    // script(1) gives the command a pseudo-terminal as stdio.
    const bin = join(here, '..', 'bin', 'tsvisor.cjs');
    const r = spawnSync(
      'script',
      [
        '-qec',
        `stty cols 100 rows 30; ${process.execPath} ${bin} do --log /dev/null /bin/busybox stty size`,
        '/dev/null',
      ],
      { encoding: 'utf8' },
    );
    expect(r.status).toBe(0);
    expect(r.stdout.replace(/\r/g, '')).toBe('30 100\n');
  });
});
