// NETLINK_SOCK_DIAG (inet_diag, unix_diag) against Linux: testdata/sock-diag.c (the protocol)
// and testdata/sock-diag-ss.c (iproute2's ss) run in a fresh network namespace (lo up) and under
// tsvisor --network none and must print the same. In network mode `host`,
// testdata/sock-diag-host.py runs ss in the sandbox on its host sockets while this test runs ss
// on the host: both must say the same of them.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  captureStdio,
  compile,
  expectSameUnderTsvisor,
  runNativeInNetns,
  testbed,
} from './c-programs.test-util.js';
import { createSandbox } from './sandbox.js';

let native = '';
const bed = testbed((dir) => {
  const exe = compile(dir, 'sock-diag', ['-O1', '-Wall', '-Werror']);
  native = runNativeInNetns(exe);
});

describe('sock-diag.c', () => {
  it('dumps and looks up the sockets it made on the host kernel', () => {
    expect(native).toContain('SO_PROTOCOL 4\n');
    expect(native).toMatch(/v4 LISTEN 127\.0\.0\.1:P\+0 -> 0\.0\.0\.0:0 .* ino=lst cookie=lst /);
    expect(native).toMatch(/v4 TIME-WAIT 127\.0\.0\.1:E -> 127\.0\.0\.1:P\+0 if=0 timer=3\+ .* cookie=other/);
    expect(native).toContain('exact srv stale cookie: error ENOENT');
    expect(native).toContain('udp exact stale: error ESTALE');
    expect(native).toContain('bc bad op: error EINVAL');
    expect(native).toMatch(/unix type=1 st=10 ino=ul cookie=ul 0=@tsvisor-diag-listener 3=upend,/);
    expect(native).toContain('unix destroy: error EOPNOTSUPP');
    expect(native).toContain('multipart: datagram 1: 3720 bytes, 30 messages\n');
    expect(native).toMatch(/TCPDIAG_GETSOCK dump: 4\n {2}\[type 18\] v4 LISTEN 127\.0\.0\.1:P\+0 /);
    expect(native).toContain(
      'unix type=2 st=7 ino=upath cookie=upath 0=/tmp/tsvisor-sock-diag.sock 1[8]ino=same,dev=same',
    );
  });

  it('prints the same under tsvisor', () => expectSameUnderTsvisor(bed, 'sock-diag', native));
});

let nativeSs = '';
const ssBed = testbed((dir) => {
  const exe = compile(dir, 'sock-diag-ss', ['-O1', '-Wall', '-Werror']);
  nativeSs = runNativeInNetns(exe);
});

describe('sock-diag-ss.c', () => {
  it('runs iproute2 ss on the host kernel', () => {
    expect(nativeSs).toContain('$ ss -tan (exit 0)\n');
    expect(nativeSs).toMatch(
      /LISTEN 1 16 127\.0\.0\.1:5000 0\.0\.0\.0:\* users:\(\("sock-diag-ss",pid=N,fd=\d+\)\) \| cubic/,
    );
    expect(nativeSs).toContain('u_str LISTEN 1 4 @tsvisor-ss-listener <ul> * 0\n');
    expect(nativeSs).toContain('TIME-WAIT 0 0 127.0.0.1:E 127.0.0.1:5000\n');
  });

  it('ss prints the same under tsvisor', () => expectSameUnderTsvisor(ssBed, 'sock-diag-ss', nativeSs));
});

interface SsRun {
  status: number;
  out: string;
  err: string;
}

interface HostReport {
  lport: number;
  uport: number;
  tan: SsRun;
  tln: SsRun;
  estab: SsRun;
  uan: SsRun;
}

/** ss output as compared: blanks collapsed (column widths follow the numbers), lines sorted. */
function lines(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trim().replace(/\s+/g, ' '))
    .filter((l) => l !== '')
    .sort();
}

const scripts = join(dirname(fileURLToPath(import.meta.url)), 'testdata');
const hostBed = testbed();

describe('sock-diag-host.py (network mode host)', () => {
  it('ss in the sandbox describes its host sockets as ss on the host does', async () => {
    const io = captureStdio(hostBed.dir);
    const running = createSandbox({
      argv: ['python3.11', '/scripts/sock-diag-host.py', '/work'],
      volumes: [
        { host: scripts, sandbox: '/scripts', readOnly: true },
        { host: hostBed.dir, sandbox: '/work' },
      ],
      network: 'host',
      stdio: io.fds,
      platform: hostBed.platform,
    }).run();
    let native: Record<string, string> = {};
    try {
      for (let i = 0; i < 800 && !io.read().stdout.includes('\n'); i++)
        await new Promise((r) => setTimeout(r, 25));
      const report = JSON.parse(io.read().stdout) as HostReport;
      const ss = (...args: string[]): string => execFileSync('ss', args, { encoding: 'utf8' });
      const { lport, uport } = report;
      native = {
        tan: ss('-tanH', `( sport = :${lport} or dport = :${lport} )`),
        tln: ss('-tlniH', `sport = :${lport}`),
        estab: ss('-tnH', 'state', 'established', `( dport = :${lport} )`),
        uan: ss('-uanH', `sport = :${uport}`),
      };
    } finally {
      writeFileSync(join(hostBed.dir, 'done'), '');
    }
    const status = await running;
    io.close();
    const { stdout, stderr } = io.read();
    expect(stderr).toBe('');
    expect(status).toBe(0);
    const report = JSON.parse(stdout) as HostReport;
    // The listener, both ends of the connection, and the UDP socket.
    expect(lines(native.tan ?? '')).toHaveLength(3);
    expect(lines(native.uan ?? '')).toHaveLength(1);
    for (const key of ['tan', 'tln', 'estab', 'uan'] as const) {
      expect(report[key].err).toBe('');
      expect(report[key].status).toBe(0);
      expect(lines(report[key].out)).toEqual(lines(native[key] ?? ''));
    }
  });
});
