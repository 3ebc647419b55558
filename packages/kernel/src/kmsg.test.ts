import { E, Mode, OpenFlag } from '@tsvisor/abi';
import { ROOT_CREDS, Tmpfs, Vfs, WOULD_BLOCK, makedev } from '@tsvisor/vfs';
import { describe, expect, it } from 'vitest';
import { kmsgDevice } from './kmsg.js';
import { Syslog } from './syslog.js';

function setup(): { log: Syslog; open: (flags: number) => ReturnType<Vfs['openat']> } {
  const log = new Syslog(() => 1500);
  log.append(6, 'first');
  log.append(3, 'second');
  const vfs = new Vfs(new Tmpfs());
  vfs.devices.registerChar(1, 11, kmsgDevice(log));
  const ctx = vfs.rootContext(ROOT_CREDS);
  expect(vfs.mknodat(ctx, ctx.cwd, '/kmsg', Mode.S_IFCHR | 0o644, makedev(1, 11))).toBeUndefined();
  return { log, open: (flags) => vfs.openat(ctx, ctx.cwd, '/kmsg', flags) };
}

const dec = new TextDecoder();

describe('/dev/kmsg', () => {
  it('reads one record per read, then would block; writes append', () => {
    const { log, open } = setup();
    const f = open(OpenFlag.O_RDWR);
    if (!('read' in f)) throw new Error(String(f));
    const buf = new Uint8Array(256);
    let n = f.read(buf) as number;
    expect(dec.decode(buf.subarray(0, n))).toBe('6,0,1500,-;first\n');
    expect(f.read(new Uint8Array(5))).toBe(E.EINVAL);
    n = f.read(buf) as number;
    expect(dec.decode(buf.subarray(0, n))).toBe('3,1,1500,-;second\n');
    expect(f.read(buf)).toBe(WOULD_BLOCK);
    expect(f.readiness(1)).toBe(0);
    expect(f.write(new TextEncoder().encode('<2>hello\n'))).toBe(9);
    expect(log.all().at(-1)).toMatchObject({ level: 2, text: 'hello' });
    expect(f.readiness(1)).toBe(1);
    n = f.read(buf) as number;
    expect(dec.decode(buf.subarray(0, n))).toBe('2,2,1500,-;hello\n');
    expect(f.lseek(0, 0)).toBe(0);
    n = f.read(buf) as number;
    expect(dec.decode(buf.subarray(0, n))).toContain('first');
  });

  it('answers EAGAIN with OpenFlag.O_NONBLOCK at the end', () => {
    const { open } = setup();
    const f = open(OpenFlag.O_RDWR | OpenFlag.O_NONBLOCK);
    if (!('read' in f)) throw new Error(String(f));
    f.lseek(0, 2);
    expect(f.read(new Uint8Array(100))).toBe(E.EAGAIN);
  });
});
