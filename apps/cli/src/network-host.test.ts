// `tsvisor do --network host` end to end through main(): a sandboxed python3.11 reaches a TCP
// server this test runs on 127.0.0.1 with a host socket, and sees the host's `lo`.
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { main } from './main.js';

it('do --network host: a TCP client reaches the host loopback; -p is refused in this mode', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsvisor-cli-host-'));
  const server = createServer((c) => c.on('data', (d) => c.end(d.toString().toUpperCase())));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const fds: [number, number, number] = [
    openSync('/dev/null', 'r'),
    openSync(join(dir, 'out'), 'w'),
    openSync(join(dir, 'err'), 'w'),
  ];
  try {
    const script = [
      'import socket',
      `c = socket.create_connection(("127.0.0.1", ${port}), timeout=20)`,
      'c.sendall(b"hello host")',
      'print(c.recv(100).decode(), c.getpeername()[1] == ' + String(port) + ')',
      'print(socket.if_nametoindex("lo"))',
    ].join('\n');
    const status = await main(['do', '--network', 'host', 'python3.11', '-c', script], {
      stdio: fds,
      env: { PATH: '/usr/bin:/bin' },
    });
    expect(readFileSync(join(dir, 'err'), 'utf8')).toBe('');
    expect(readFileSync(join(dir, 'out'), 'utf8')).toBe('HELLO HOST True\n1\n');
    expect(status).toBe(0);
    expect(await main(['do', '--network', 'host', '-p', '1:2', 'true'], { stdio: fds })).not.toBe(0);
  } finally {
    fds.forEach((fd) => closeSync(fd));
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
