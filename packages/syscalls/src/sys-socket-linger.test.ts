import { isError } from '@tsvisor/abi';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { BUF, harness, type Harness } from './harness.test-util.js';
import type { SyscallResult } from './types.js';

// The same steps as testdata/linger.c, whose native output is the expected one.
const AF_INET = 2;
const SOCK_STREAM = 1;
const SOCK_NONBLOCK = 0o4000;
const SOL_SOCKET = 1;
const SO_LINGER = 13;
const IPPROTO_TCP = 6;
const TCP_INFO = 11;
const TCP_CONGESTION = 13;

const ADDR = BUF;
const LEN = BUF + 0x100;
const OPT = BUF + 0x200;
const DATA = BUF + 0x1000;
const DATA_LEN = 0x8000;

function res(r: SyscallResult): string {
  return isError(r) ? r.name : String(r);
}

async function settled<T>(p: Promise<T>): Promise<{ done: boolean; value?: T }> {
  let state: { done: boolean; value?: T } = { done: false };
  void p.then((value) => (state = { done: true, value }));
  // A few real milliseconds: the stack runs on real timers while the kernel's clock is manual.
  await new Promise((r) => setTimeout(r, 30));
  return state;
}

async function tsvisorRun(h: Harness): Promise<string> {
  const out: string[] = [];
  const num = (r: SyscallResult): number => r as number;
  const l = num(await h.call('socket', AF_INET, SOCK_STREAM, 0));
  h.mem.write(ADDR, new Uint8Array([AF_INET, 0, 0, 0, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]));
  h.mem.writeI32(LEN, 16);
  expect(await h.call('bind', l, ADDR, 16)).toBe(0);
  expect(await h.call('listen', l, 1)).toBe(0);
  expect(await h.call('getsockname', l, ADDR, LEN)).toBe(0);
  const c = num(await h.call('socket', AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0));
  await h.call('connect', c, ADDR, 16);
  const s = num(await h.call('accept', l, 0, 0));

  h.mem.writeI32(OPT, 1);
  h.mem.writeI32(OPT + 4, 1);
  out.push(`linger optlen 4: ${res(await h.call('setsockopt', c, SOL_SOCKET, SO_LINGER, OPT, 4))}`);
  out.push(`linger: ${res(await h.call('setsockopt', c, SOL_SOCKET, SO_LINGER, OPT, 8))}`);
  h.mem.write(OPT, new Uint8Array(8));
  h.mem.writeI32(LEN, 8);
  let r = await h.call('getsockopt', c, SOL_SOCKET, SO_LINGER, OPT, LEN);
  out.push(
    `get linger: ${res(r)} ${String(h.mem.readI32(OPT))} ${String(h.mem.readI32(OPT + 4))} len ${String(h.mem.readI32(LEN))}`,
  );
  h.mem.write(OPT, new TextEncoder().encode('reno\0bogus\0'));
  out.push(`congestion optlen 0: ${res(await h.call('setsockopt', c, IPPROTO_TCP, TCP_CONGESTION, OPT, 0))}`);
  out.push(
    `congestion bogus: ${res(await h.call('setsockopt', c, IPPROTO_TCP, TCP_CONGESTION, OPT + 5, 5))}`,
  );
  out.push(`congestion reno: ${res(await h.call('setsockopt', c, IPPROTO_TCP, TCP_CONGESTION, OPT, 4))}`);
  h.mem.write(OPT, new Uint8Array(32));
  h.mem.writeI32(LEN, 32);
  r = await h.call('getsockopt', c, IPPROTO_TCP, TCP_CONGESTION, OPT, LEN);
  const name = h.mem.read(OPT, 32) as Uint8Array;
  const text = new TextDecoder().decode(name.subarray(0, name.indexOf(0)));
  out.push(`get congestion: ${res(r)} ${text} len ${String(h.mem.readI32(LEN))}`);
  h.mem.write(OPT, new Uint8Array(8));
  h.mem.writeI32(LEN, 8);
  r = await h.call('getsockopt', c, IPPROTO_TCP, TCP_INFO, OPT, LEN);
  out.push(
    `tcp_info: ${res(r)} state ${String((h.mem.read(OPT, 1) as Uint8Array)[0])} len ${String(h.mem.readI32(LEN))}`,
  );

  // Fill the peer's window (it never reads): write until EAGAIN persists after the stack ran.
  // Fill the peer's window (it never reads): write until EAGAIN three times in a row with the
  // stack given time to move data and window updates in between.
  for (let idle = 0; idle < 3;) {
    if (!isError(await h.call('write', c, DATA, DATA_LEN))) {
      idle = 0;
      continue;
    }
    idle++;
    await new Promise((r) => setTimeout(r, 100));
  }
  const closing = h.call('close', c);
  const atFirst = await settled(closing);
  h.time.advance(999_000_000n);
  const before = await settled(closing);
  h.time.advance(2_000_000n);
  const after = await settled(closing);
  const waited = !atFirst.done && !before.done && after.done ? 'the linger time' : 'wrong';
  out.push(`lingering close: ${after.done ? res(after.value as SyscallResult) : 'pending'} waited ${waited}`);

  const d = num(await h.call('socket', AF_INET, SOCK_STREAM, 0));
  await h.call('connect', d, ADDR, 16);
  const e = num(await h.call('accept', l, 0, 0));
  h.mem.writeI32(OPT, 1);
  h.mem.writeI32(OPT + 4, 1);
  await h.call('setsockopt', d, SOL_SOCKET, SO_LINGER, OPT, 8);
  await h.call('write', d, DATA, 2);
  await h.call('read', e, DATA, 2);
  await new Promise((res) => setTimeout(res, 20));
  const quick = await settled(h.call('close', d));
  out.push(
    `acknowledged close: ${quick.done ? res(quick.value as SyscallResult) : 'pending'} waited ${quick.done ? 'nothing' : 'wrong'}`,
  );
  for (const fd of [s, e, l]) await h.call('close', fd);
  return out.join('\n') + '\n';
}

describe('SO_LINGER, TCP_CONGESTION and TCP_INFO through the syscalls', () => {
  it('behaves as Linux, including a close that lingers on unacknowledged data', async () => {
    const here = dirname(fileURLToPath(import.meta.url));
    const dir = mkdtempSync('/var/tmp/tsvisor-linger-');
    try {
      const exe = join(dir, 'linger');
      execFileSync('gcc', ['-O1', '-Wall', '-Werror', '-o', exe, join(here, 'testdata/linger.c')]);
      // The native run lingers one real second; tsvisor's runs on the harness's manual clock meanwhile.
      const native = promisify(execFile)(exe, { encoding: 'utf8', timeout: 10_000 });
      const ours = await tsvisorRun(harness());
      expect(ours).toBe((await native).stdout);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
