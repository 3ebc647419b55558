// /proc/sys/net/ipv4/ping_group_range: its default and its parsing of writes, compared with the
// host kernel in fresh network namespaces.
import { describe, expect, it } from 'vitest';
import { E, isError, OpenFlag, type LinuxError } from '@tsvisor/abi';
import { userCreds, type Posix } from '@tsvisor/vfs';
import { FixtureProcSource } from './fixture.js';
import { mounted, nativeSysctlWrites, putText, readAll } from './mount.test-util.js';
import type { ProcNetSysctl, ProcNetSysctlWrite } from './net.js';
import { DEFAULT_NET_SYSCTL, parsePingGroupRange } from './sys-net-ipv4.js';

const FILE = '/proc/sys/net/ipv4/ping_group_range';

function put(p: Posix, text: string): number | LinuxError {
  return putText(p, FILE, text);
}

/** Each is written after `100 200`; the outcome is compared with Linux's. */
const INPUTS = [
  '10 20',
  '20 10',
  '7',
  '300',
  '5 6 7',
  '8 9 -1',
  '5 6 junk',
  '  10   20  \n',
  '10\t20\n',
  '0 4294967294',
  '0 4294967295',
  '4294967296 1',
  '0 2147483648',
  '-1 5',
  '1 -1',
  '+5 6',
  'abc',
  ' ',
  '\n',
  '3 x',
  '3x 4',
  '00012 013',
  '0x10 20',
  '019 20',
  '0x 5',
  '99999999999999999999 1',
];

/** What Linux 6.x gives (the expectations when the host cannot run `unshare -n`). */
const LINUX = [
  'ok 10\t20',
  'ok 1\t0',
  'ok 7\t200',
  'ok 1\t0',
  'ok 5\t6',
  'ok 8\t9',
  'ok 5\t6',
  'ok 10\t20',
  'ok 10\t20',
  'ok 0\t4294967294',
  'err',
  'err',
  'ok 0\t2147483648',
  'err',
  'err',
  'err',
  'err',
  'err',
  'err',
  'err',
  'err',
  'ok 10\t11',
  'ok 16\t20',
  'err',
  'err',
  'err',
];

describe('/proc/sys/net/ipv4/ping_group_range', () => {
  it("starts as a fresh namespace's: 1 0, nobody; 0644, and only root may write", () => {
    const { p } = mounted();
    expect(readAll(p, FILE)).toBe('1\t0\n');
    const st = p.stat(FILE);
    if (isError(st)) throw new Error('stat');
    expect(st.mode & 0o777).toBe(0o644);
    const { p: user } = mounted(userCreds(1000, 0));
    expect(user.open(FILE, OpenFlag.O_WRONLY)).toBe(E.EACCES);
    expect(readAll(user, FILE)).toBe('1\t0\n');
  });

  it("parses writes as Linux does (compared with the host's kernel)", () => {
    const mine = INPUTS.map((text) => {
      const { p } = mounted();
      expect(put(p, '100 200')).toBe(7);
      const r = put(p, text);
      return isError(r) ? 'err' : `ok ${(readAll(p, FILE) as string).trimEnd()}`;
    });
    expect(mine).toEqual(LINUX);
    const host = nativeSysctlWrites([FILE], INPUTS, '100 200');
    if (host !== null) expect(mine).toEqual(host);
  });

  it('changes nothing on an empty write', () => {
    expect(parsePingGroupRange('', [3, 4])).toEqual({ key: 'pingGroupRange', value: [3, 4] });
    expect(DEFAULT_NET_SYSCTL.pingGroupRange).toEqual([1, 0]);
  });

  it("reads and writes the namespace's range through ProcNetSource", () => {
    const src = FixtureProcSource.sample();
    const net = src.netValue;
    if (net === null) throw new Error('fixture has a network namespace');
    let state: ProcNetSysctl = { ...DEFAULT_NET_SYSCTL, pingGroupRange: [0, 10] };
    const writes: ProcNetSysctlWrite[] = [];
    src.netValue = {
      ...net,
      sysctl: () => state,
      setSysctl: (w) => {
        writes.push(w);
        state = { ...state, [w.key]: w.value };
        return undefined;
      },
    };
    const { p } = mounted(undefined, src);
    expect(readAll(p, FILE)).toBe('0\t10\n');
    expect(put(p, '20')).toBe(2);
    expect(writes).toEqual([{ key: 'pingGroupRange', value: [1, 0] }]);
    expect(readAll(p, FILE)).toBe('1\t0\n');
  });
});
