import { describe, expect, it } from 'vitest';
import { BOOT_MESSAGES, Syslog, renderKmsg } from './syslog.js';
import { UtsNamespace } from './uts.js';

describe('Syslog', () => {
  it('renders syslog(2) and /dev/kmsg formats', () => {
    let now = 1_500_002;
    const log = new Syslog(() => now);
    const r = log.append(6, 'hello');
    expect(log.renderSyslog()).toBe('<6>[    1.500002] hello\n');
    expect(renderKmsg(r)).toBe('6,0,1500002,-;hello\n');
    now = 2_000_000;
    log.append(4, 'second');
    expect(log.consume(25)).toBe('<6>[    1.500002] hello\n');
    expect(log.unread()).toBe('<4>[    2.000000] second\n');
    log.clear();
    expect(log.renderSyslog()).toBe('');
  });

  it('boots with tsvisor messages and drops the oldest past capacity', () => {
    const log = new Syslog(() => 0, 200);
    log.bootLog();
    const text = log.all().map((r) => r.text);
    expect(text.at(-1)).toBe(BOOT_MESSAGES.at(-1));
    expect(log.renderSyslog().length).toBeLessThanOrEqual(200);
  });
});

describe('UtsNamespace', () => {
  it('reports a Linux 6.x release naming tsvisor and limits names to 64 bytes', () => {
    const uts = new UtsNamespace('box');
    const u = uts.uname();
    expect(u.sysname).toBe('Linux');
    expect(u.release).toMatch(/^6\.\d+\.\d+/);
    expect(u.version).toContain('tsvisor');
    expect(u.machine).toBe('x86_64');
    expect(uts.setHostname(new Uint8Array(65))).toBeDefined();
    expect(uts.setHostname(new TextEncoder().encode('x'.repeat(64)))).toBeUndefined();
    expect(uts.uname().nodename).toBe('x'.repeat(64));
  });
});
