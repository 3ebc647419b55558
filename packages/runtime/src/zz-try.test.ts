import { it } from 'vitest';
import { appendFileSync, closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { createSandbox } from './sandbox.js';
it('try', async () => {
  const argv = JSON.parse(process.env.TRY_ARGV ?? '[]') as string[];
  const fds: [number, number, number] = [
    openSync('/dev/null', 'r'),
    openSync('/tmp/try.out', 'w'),
    openSync('/tmp/try.err', 'w'),
  ];
  const lines: string[] = [];
  writeFileSync('/tmp/try.trace', '');
  const t0 = Date.now();
  const status = await createSandbox({
    argv,
    stdio: fds,
    env: ['PATH=/usr/bin:/bin', 'HOME=/root'],
    ...(process.env.TRY_VOL ? { volumes: [{ host: process.env.TRY_VOL, sandbox: '/data' }] } : {}),
    log: (l) => {
      lines.push('LOG ' + l);
      appendFileSync('/tmp/try.trace', 'LOG ' + l + '\n');
    },
    ...(process.env.TRY_STRACE
      ? {
          strace: (l: string) => {
            lines.push(l);
            appendFileSync('/tmp/try.trace', l + '\n');
          },
        }
      : {}),
  }).run();
  fds.forEach(closeSync);
  console.log(
    `STATUS ${status} in ${Date.now() - t0} ms\n--- stdout\n${readFileSync('/tmp/try.out', 'utf8')}--- stderr\n${readFileSync('/tmp/try.err', 'utf8')}--- log\n${lines.slice(-60).join('\n')}`,
  );
}, 15000);
