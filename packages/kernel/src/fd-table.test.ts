import { E } from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import { FdTable, O_CLOEXEC } from './fd-table.js';

function counted(): { refs: Map<string, number>; table: FdTable<string> } {
  const refs = new Map<string, number>();
  const table = new FdTable<string>({
    retain: (f) => refs.set(f, (refs.get(f) ?? 0) + 1),
    release: (f) => refs.set(f, (refs.get(f) ?? 0) - 1),
  });
  return { refs, table };
}

describe('FdTable', () => {
  it('tells the refs which table closed a descriptor (close, dup2 over it, close-on-exec), before release', () => {
    const events: string[] = [];
    const table = new FdTable<string>({
      retain: () => {},
      release: (f) => events.push(`release ${f}`),
      closed: (f, t) => events.push(`closed ${f} ${t === table ? 'by table' : 'by another'}`),
    });
    table.install('a', { limit: 10 });
    table.install('b', { limit: 10, cloexec: true });
    table.install('c', { limit: 10 });
    const child = table.fork();
    table.close(0);
    expect(table.dup2(2, 1, 10)).toBe(1);
    table.closeOnExec();
    expect(events).toEqual(['closed a by table', 'release a', 'closed b by table', 'release b']);
    events.length = 0;
    child.closeAll();
    expect(events.filter((e) => e.startsWith('closed'))).toEqual([
      'closed a by another',
      'closed b by another',
      'closed c by another',
    ]);
  });

  it('installs at the lowest free descriptor and reports EMFILE at the limit', () => {
    const { table } = counted();
    expect(table.install('a', { limit: 3 })).toBe(0);
    expect(table.install('b', { limit: 3 })).toBe(1);
    expect(table.install('c', { limit: 3 })).toBe(2);
    expect(table.install('d', { limit: 3 })).toBe(E.EMFILE);
    table.close(1);
    expect(table.install('e', { limit: 3 })).toBe(1);
    expect(table.close(7)).toBe(E.EBADF);
  });

  it('dup2 and dup3 follow Linux', () => {
    const { table, refs } = counted();
    table.install('a', { limit: 10 });
    table.install('b', { limit: 10, cloexec: true });
    expect(table.dup2(0, 0, 10)).toBe(0);
    expect(table.dup2(5, 0, 10)).toBe(E.EBADF);
    expect(table.dup2(0, 10, 10)).toBe(E.EBADF);
    expect(table.dup2(0, -1, 10)).toBe(E.EBADF);
    expect(table.dup2(0, 1, 10)).toBe(1);
    expect(table.get(1)).toBe('a');
    expect(table.entry(1)?.cloexec).toBe(false);
    expect(refs.get('b')).toBe(0);
    expect(table.dup3(0, 0, 0, 10)).toBe(E.EINVAL);
    expect(table.dup3(0, 4, 1, 10)).toBe(E.EINVAL);
    expect(table.dup3(0, 4, O_CLOEXEC, 10)).toBe(4);
    expect(table.entry(4)?.cloexec).toBe(true);
  });

  it('F_DUPFD picks the lowest free at or above the minimum', () => {
    const { table } = counted();
    table.install('a', { limit: 10 });
    expect(table.dupMin(0, 3, false, 10)).toBe(3);
    expect(table.dupMin(0, 3, true, 10)).toBe(4);
    expect(table.entry(4)?.cloexec).toBe(true);
    expect(table.dupMin(0, 10, false, 10)).toBe(E.EINVAL);
    expect(table.dupMin(9, 0, false, 10)).toBe(E.EBADF);
  });

  it('close-on-exec closes only marked descriptors', () => {
    const { table, refs } = counted();
    table.install('a', { limit: 10 });
    table.install('b', { limit: 10, cloexec: true });
    table.setCloexec(0, true);
    table.setCloexec(1, false);
    table.closeOnExec();
    expect(table.fds()).toEqual([1]);
    expect(refs.get('a')).toBe(0);
    expect(table.setCloexec(5, true)).toBe(E.EBADF);
  });

  it('fork copies descriptors and takes references; closing one copy keeps the file', () => {
    const { table, refs } = counted();
    table.install('a', { limit: 10 });
    const child = table.fork();
    expect(refs.get('a')).toBe(2);
    child.close(0);
    expect(refs.get('a')).toBe(1);
    expect(table.get(0)).toBe('a');
  });

  it('close_range closes or marks a range', () => {
    const { table } = counted();
    for (const f of ['a', 'b', 'c', 'd']) table.install(f, { limit: 10 });
    expect(table.closeRange(3, 1, 0)).toBe(E.EINVAL);
    expect(table.closeRange(0, 1, 8)).toBe(E.EINVAL);
    table.closeRange(2, 0xffffffff, 4);
    expect(table.entry(3)?.cloexec).toBe(true);
    table.closeRange(1, 2, 0);
    expect(table.fds()).toEqual([0, 3]);
  });
});
