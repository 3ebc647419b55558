// AF_UNIX sockets of the host stay out of reach of a sandbox in every network mode: its abstract
// names are the sandbox's own, a host socket file inside a volume cannot be connected to, and a
// socket the sandbox binds in a volume cannot be reached from the host.
import { mkdirSync, readFileSync } from 'node:fs';
import { createServer, connect, type Server } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { captureStdio, testbed } from './c-programs.test-util.js';
import { createSandbox, type SandboxConfig } from './sandbox.js';

const here = dirname(fileURLToPath(import.meta.url));
const bed = testbed();

function listen(path: string, seen: string[]): Promise<Server> {
  const server = createServer((c) => {
    seen.push(path);
    c.destroy();
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve(server));
  });
}

/** Connects from the host to a unix socket path: 'connected' or the error code. */
function hostConnect(path: string): Promise<string> {
  return new Promise((resolve) => {
    const c = connect(path);
    c.once('connect', () => {
      c.destroy();
      resolve('connected');
    });
    c.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
}

describe('host AF_UNIX sockets are out of reach', () => {
  for (const network of ['none', 'host', 'sandbox'] as const) {
    it(`network mode ${network}`, async () => {
      const vol = join(bed.dir, `vol-${network}`);
      mkdirSync(vol);
      const abstract = `tsvisor-isolation-${process.pid}-${network}`;
      const seen: string[] = [];
      const servers = [await listen(`\0${abstract}`, seen), await listen(join(vol, 'host.sock'), seen)];
      const io = captureStdio(bed.dir);
      const config: SandboxConfig = {
        argv: ['python3.11', '/scripts/unix-isolation.py', abstract, join(vol, 'host.sock'), '1'],
        volumes: [
          { host: join(here, 'testdata'), sandbox: '/scripts', readOnly: true },
          { host: vol, sandbox: '/data' },
        ],
        network,
        stdio: io.fds,
        platform: bed.platform,
        log: () => undefined,
      };
      try {
        const running = createSandbox(config).run();
        const stdout = (): string => readFileSync(join(bed.dir, 'stdout'), 'utf8');
        for (let i = 0; i < 400 && !stdout().includes('bound'); i++)
          await new Promise((r) => setTimeout(r, 25));
        // The sandbox's socket shows in the host directory, but nothing listens behind it there.
        expect(await hostConnect(join(vol, 'sandbox.sock'))).toBe('ECONNREFUSED');
        expect(await running).toBe(0);
      } finally {
        for (const s of servers) s.close();
      }
      io.close();
      const out = io.read();
      expect(out.stderr).toBe('');
      expect(out.stdout).toBe(
        [
          'abstract Connection refused',
          'abstract dgram Connection refused',
          'volume socket file is a socket True',
          'volume socket Connection refused',
          'volume socket dgram Connection refused',
          // The host's path of the volume's socket: the sandbox's /tmp is its own tmpfs.
          'outside path No such file or directory',
          'own socket in the volume inside',
          'bound',
          '',
        ].join('\n'),
      );
      expect(seen).toEqual([]);
    });
  }
});
