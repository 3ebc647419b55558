import { describe, expect, it } from 'vitest';
import { mergeEnv, parseArgs, parseVolume } from './args.js';

describe('parseArgs', () => {
  it('reads do with every option and the program after --', () => {
    expect(
      parseArgs([
        'do',
        '--strace',
        '--cwd',
        '/tmp',
        '--env',
        'A=1',
        '--env=B=2',
        '-v',
        '/h:/s:ro',
        '--volume',
        '/x:/y',
        '--',
        'ls',
        '-la',
      ]),
    ).toEqual({
      kind: 'do',
      argv: ['ls', '-la'],
      strace: true,
      straceLog: undefined,
      log: undefined,
      cwd: '/tmp',
      env: ['A=1', 'B=2'],
      volumes: [
        { host: '/h', sandbox: '/s', readOnly: true },
        { host: '/x', sandbox: '/y', readOnly: false },
      ],
      network: 'sandbox',
      ports: [],
    });
  });

  it('--network and -p: the mode and the port forwards', () => {
    expect(parseArgs(['do', '--network', 'none', 'true'])).toMatchObject({ network: 'none', ports: [] });
    expect(parseArgs(['do', '-p', '8080:80', '--publish=5353:53/udp', 'true'])).toMatchObject({
      network: 'sandbox',
      ports: [
        { host: 8080, sandbox: 80, protocol: 'tcp' },
        { host: 5353, sandbox: 53, protocol: 'udp' },
      ],
    });
    expect(parseArgs(['do', '--network=bridge', 'true'])).toMatchObject({ kind: 'error' });
    expect(parseArgs(['do', '--network', 'host', 'true'])).toMatchObject({ kind: 'do', network: 'host' });
    expect(parseArgs(['do', '--network', 'host', '-p', '1:2', 'true'])).toMatchObject({ kind: 'error' });
    expect(parseArgs(['do', '--network', 'none', '-p', '1:2', 'true'])).toEqual({
      kind: 'error',
      message: '-p needs --network sandbox',
    });
    expect(parseArgs(['do', '--ipv6', 'true'])).toMatchObject({ kind: 'do', network: 'sandbox', ipv6: true });
    expect(parseArgs(['do', 'true'])).not.toHaveProperty('ipv6');
    expect(parseArgs(['do', '--network', 'none', '--ipv6', 'true'])).toEqual({
      kind: 'error',
      message: '--ipv6 needs --network sandbox',
    });
    for (const bad of ['80', '0:80', '80:70000', 'a:b', '80:80/sctp'])
      expect(parseArgs(['do', '-p', bad, 'true'])).toMatchObject({ kind: 'error' });
  });

  it('starts the program at the first non-option, so its own options stay its own', () => {
    const c = parseArgs(['do', '/bin/ls', '--strace', '-v']);
    expect(c).toMatchObject({ kind: 'do', argv: ['/bin/ls', '--strace', '-v'], strace: false });
  });

  it('--log names the sandbox log file', () => {
    expect(parseArgs(['do', '--log=/tmp/l', 'true'])).toMatchObject({ log: '/tmp/l', strace: false });
  });

  it('--strace-log implies --strace', () => {
    expect(parseArgs(['do', '--strace-log', '/tmp/t', 'true'])).toMatchObject({
      strace: true,
      straceLog: '/tmp/t',
    });
  });

  it('asks for help', () => {
    expect(parseArgs([])).toEqual({ kind: 'help', topic: 'main' });
    expect(parseArgs(['--help'])).toEqual({ kind: 'help', topic: 'main' });
    expect(parseArgs(['do', '--help'])).toEqual({ kind: 'help', topic: 'do' });
  });

  it('rejects what it does not understand', () => {
    expect(parseArgs(['run'])).toMatchObject({ kind: 'error' });
    expect(parseArgs(['do'])).toMatchObject({ kind: 'error' });
    expect(parseArgs(['do', '--frobnicate', 'x'])).toMatchObject({ kind: 'error' });
    expect(parseArgs(['do', '--cwd'])).toMatchObject({ kind: 'error' });
    expect(parseArgs(['do', '--cwd', 'relative', 'x'])).toMatchObject({ kind: 'error' });
    expect(parseArgs(['do', '--env', 'NOEQUALS', 'x'])).toMatchObject({ kind: 'error' });
  });
});

describe('parseVolume', () => {
  it('takes HOST:SANDBOX with an optional :ro or :rw', () => {
    expect(parseVolume('/a:/b')).toEqual({ host: '/a', sandbox: '/b', readOnly: false });
    expect(parseVolume('/a:/b:ro')).toEqual({ host: '/a', sandbox: '/b', readOnly: true });
    expect(parseVolume('/a:/b:rw')).toEqual({ host: '/a', sandbox: '/b', readOnly: false });
    expect(typeof parseVolume('/a')).toBe('string');
    expect(typeof parseVolume('a:/b')).toBe('string');
    expect(typeof parseVolume('/a:/b:xx')).toBe('string');
  });
});

describe('mergeEnv', () => {
  it('starts from the host environment and lets --env override', () => {
    expect(mergeEnv({ A: '1', B: '2', C: undefined }, ['B=3', 'D=x=y'])).toEqual(['A=1', 'B=3', 'D=x=y']);
  });
});
