// The sandbox's network in network mode `none` (loopback only, served by netstack), end to end:
// C conformance programs and python3.11 socket servers and clients, each compared with the same
// run on the host kernel (in a fresh network namespace where the host's interfaces would differ).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { compile, testbed } from './c-programs.test-util.js';

const here = dirname(fileURLToPath(import.meta.url));
const syscallsTestdata = join(here, '../../syscalls/src/testdata');
const scripts = join(here, 'testdata');
const PY = 'python3.11';

/** Runs a shell command in a new network namespace whose only interface is lo, up. */
function inFreshNetns(command: string): string {
  return execFileSync('unshare', ['-n', 'sh', '-c', `ip link set lo up && ${command}`], {
    encoding: 'utf8',
    timeout: 30_000,
  });
}

const bed = testbed((dir) => {
  compile(dir, 'ifaddrs', ['-O1', '-Wall', '-Werror']);
  for (const name of ['sockets', 'mmsg', 'netlink'])
    execFileSync('gcc', [
      '-O1',
      '-Wall',
      '-Werror',
      '-o',
      join(dir, name),
      join(syscallsTestdata, `${name}.c`),
    ]);
});

async function inSandbox(argv: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  return bed.run(argv, {
    volumes: [
      { host: bed.dir, sandbox: '/test', readOnly: true },
      { host: scripts, sandbox: '/scripts', readOnly: true },
    ],
  });
}

describe('socket conformance programs under the sandbox print what Linux prints', () => {
  it.each(['sockets', 'mmsg', 'netlink'])('%s.c', async (name) => {
    const r = await inSandbox([`/test/${name}`]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(readFileSync(join(syscallsTestdata, `${name}.expected.txt`), 'utf8'));
    expect(r.status).toBe(0);
  });
});

describe('rtnetlink and interface ioctls describe the sandbox, as Linux does a netns with lo', () => {
  it('getifaddrs, if_nameindex, if_nametoindex and SIOCGIF* (ifaddrs.c)', async () => {
    const native = inFreshNetns(join(bed.dir, 'ifaddrs'));
    expect(native).toContain('lo family=2 flags=0x10049 addr=127.0.0.1 mask=255.0.0.0');
    const r = await inSandbox(['/test/ifaddrs']);
    expect(r.stdout).toBe(native);
    expect(r.status).toBe(0);
  });

  it('`ip -o addr` and `ip route show table all`', async () => {
    for (const cmd of [
      ['ip', '-o', 'addr'],
      ['ip', 'route', 'show', 'table', 'all'],
      ['ip', '-4', 'route', 'show', 'table', 'local'],
    ]) {
      const native = inFreshNetns(cmd.join(' '));
      const r = await inSandbox(cmd);
      expect(r.stdout, cmd.join(' ')).toBe(native);
      expect(r.status).toBe(0);
    }
  });

  it('`ip link` shows lo as Linux does (MTU 65536)', async () => {
    const r = await inSandbox(['ip', 'link', 'show', 'lo']);
    expect(r.stdout).toBe(inFreshNetns('ip link show lo'));
    const missing = await inSandbox(['ip', 'link', 'show', 'dev', 'eth0']);
    expect(missing.stderr).toContain('Device "eth0" does not exist.');
    expect(missing.status).not.toBe(0);
  });

  it('python3.11 socket.if_nameindex()', async () => {
    const code = 'import socket; print(socket.if_nameindex(), socket.if_nametoindex("lo"))';
    const native = inFreshNetns(`${PY} -c '${code}'`);
    const r = await inSandbox([PY, '-c', code]);
    expect(r.stdout).toBe(native);
    expect(r.stdout).toBe("[(1, 'lo')] 1\n");
  });
});

describe('python3.11 network programs under `--network none`', () => {
  it('TCP (v4, v6), UDP and Unix servers and clients in two processes, fd passing', async () => {
    const script = join(scripts, 'net-sockets.py');
    const native = execFileSync(PY, [script], { encoding: 'utf8', timeout: 30_000 });
    expect(native.trim().split('\n').at(-1)).toBe('done');
    const r = await inSandbox([PY, '/scripts/net-sockets.py']);
    expect(r.stdout).toBe(native);
    expect(r.status).toBe(0);
  });

  it('`python3.11 -m http.server` with a urllib client inside the sandbox', async () => {
    // Inside the sandbox the port is the sandbox's own: it cannot clash with the host's.
    const r = await inSandbox([PY, '/scripts/net-http.py', '8000']);
    expect(r.stdout).toBe('file True\nlisting True\nmissing 404\nserver exit -15\n');
    expect(r.status).toBe(0);
  });
});
