// A supervisor that dies without cleaning up must take its sandboxes with it: this runs a
// supervisor in a child Node process (the built package), SIGKILLs it, and checks that every
// host process of its sandbox disappears.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const dist = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'index.js');

function state(pid: number): string {
  try {
    return /^\d+ \(.*\) (\S)/.exec(readFileSync(`/proc/${pid}/stat`, 'utf8'))?.[1] ?? '?';
  } catch {
    return 'gone';
  }
}

describe('teardown', () => {
  it('kills every host process of a sandbox when the supervisor is SIGKILLed', async () => {
    const script = `
      import { Platform } from ${JSON.stringify(dist)};
      const platform = Platform.create();
      const stub = platform.createStub();
      const child = stub.task.fork();
      const thread = stub.task.newThread();
      console.log(JSON.stringify([stub.pid, child.tid, thread.tid]));
      setTimeout(() => process.kill(process.pid, 'SIGKILL'), 50);
    `;
    const node = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    node.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const signal = await new Promise<NodeJS.Signals | null>((r) => node.on('exit', (_code, sig) => r(sig)));
    expect(signal).toBe('SIGKILL');
    const pids = JSON.parse(out) as number[];
    expect(pids).toHaveLength(3);
    // PTRACE_O_EXITKILL fires as the tracer exits. The dead processes are then reparented to
    // init, which reaps them on its own schedule (a dead supervisor cannot): so dead, a zombie
    // of init or already gone, is what this checks.
    const dead = (p: number) => ['Z', 'X', 'gone'].includes(state(p));
    for (let i = 0; i < 100 && !pids.every(dead); i++) await new Promise((r) => setTimeout(r, 10));
    expect(pids.map(dead)).toEqual([true, true, true]);
  });
});
