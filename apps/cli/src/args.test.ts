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
    });
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
