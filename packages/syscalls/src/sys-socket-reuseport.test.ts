import { isError } from '@tsvisor/abi';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BUF, harness, type Harness } from './harness.test-util.js';
import type { SyscallResult } from './types.js';

// The same steps as testdata/reuseport.c, whose native output is the expected one.
const AF_INET = 2;
const SOCK_STREAM = 1;
const SOCK_DGRAM = 2;
const SOL_SOCKET = 1;
const SO_REUSEPORT = 15;
const ADDR = BUF;
const LEN = BUF + 0x40;
const OPT = BUF + 0x80;

function res(r: SyscallResult): string {
  return isError(r) ? r.name : 'ok';
}

async function run(h: Harness, type: number, name: string, out: string[]): Promise<void> {
  const fd = async (): Promise<number> => (await h.call('socket', AF_INET, type, 0)) as number;
  const [s1, s2, s3] = [await fd(), await fd(), await fd()];
  h.mem.writeI32(OPT, 1);
  out.push(`${name} set: ${res(await h.call('setsockopt', s1, SOL_SOCKET, SO_REUSEPORT, OPT, 4))}`);
  h.mem.writeI32(OPT, 0);
  h.mem.writeI32(LEN, 4);
  await h.call('getsockopt', s1, SOL_SOCKET, SO_REUSEPORT, OPT, LEN);
  out.push(`${name} get: ${String(h.mem.readI32(OPT))}`);
  h.mem.writeI32(OPT, 1);
  await h.call('setsockopt', s2, SOL_SOCKET, SO_REUSEPORT, OPT, 4);
  h.mem.write(ADDR, new Uint8Array([AF_INET, 0, 0, 0, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]));
  h.mem.writeI32(LEN, 16);
  await h.call('bind', s1, ADDR, 16);
  await h.call('getsockname', s1, ADDR, LEN);
  if (type === SOCK_STREAM) out.push(`${name} listen first: ${res(await h.call('listen', s1, 1))}`);
  out.push(`${name} second bind: ${res(await h.call('bind', s2, ADDR, 16))}`);
  if (type === SOCK_STREAM) out.push(`${name} listen second: ${res(await h.call('listen', s2, 1))}`);
  out.push(`${name} bind without the option: ${res(await h.call('bind', s3, ADDR, 16))}`);
  for (const s of [s1, s2, s3]) await h.call('close', s);
}

describe('SO_REUSEPORT', () => {
  it('shares a port among sockets that all set it, as Linux', async () => {
    const here = dirname(fileURLToPath(import.meta.url));
    const dir = mkdtempSync('/var/tmp/tsvisor-reuseport-');
    try {
      const exe = join(dir, 'reuseport');
      execFileSync('gcc', ['-O1', '-Wall', '-Werror', '-o', exe, join(here, 'testdata/reuseport.c')]);
      const native = execFileSync(exe, { encoding: 'utf8', timeout: 10_000 });
      const h = harness();
      const out: string[] = [];
      await run(h, SOCK_STREAM, 'tcp', out);
      await run(h, SOCK_DGRAM, 'udp', out);
      expect(out.join('\n') + '\n').toBe(native);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
