import { E, isError } from '@tsvisor/abi';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FdTable, O_CLOEXEC } from './fd-table.js';

/** A straightforward model of Linux's fd table: an array of (file, cloexec) slots. */
type Slot = { file: string; cloexec: boolean } | undefined;

/** Operations on a table of `limit` descriptors (the bitmap holds 32 to a word: try both sides). */
function opsFor(limit: number) {
  const fdArb = fc.integer({ min: -1, max: limit + 1 });
  return fc.oneof(
    fc.record({ op: fc.constant('open' as const), cloexec: fc.boolean() }),
    fc.record({ op: fc.constant('close' as const), fd: fdArb }),
    fc.record({ op: fc.constant('dup' as const), fd: fdArb }),
    fc.record({ op: fc.constant('dupmin' as const), fd: fdArb, min: fdArb }),
    fc.record({ op: fc.constant('dup2' as const), fd: fdArb, to: fdArb }),
    fc.record({ op: fc.constant('dup3' as const), fd: fdArb, to: fdArb, cloexec: fc.boolean() }),
    fc.record({ op: fc.constant('exec' as const) }),
    fc.record({ op: fc.constant('fork' as const) }),
  );
}

function lowest(model: Slot[], min = 0): number {
  let fd = min;
  while (model[fd]) fd++;
  return fd;
}

describe('FdTable against a model', () => {
  it.each([
    [8, 40],
    [100, 400],
  ])('agrees on results, contents and reference counts for any sequence (limit %i)', (LIMIT, maxOps) => {
    fc.assert(
      fc.property(fc.array(opsFor(LIMIT), { maxLength: maxOps }), (ops) => {
        const refs = new Map<string, number>();
        let table = new FdTable<string>({
          retain: (f) => refs.set(f, (refs.get(f) ?? 0) + 1),
          release: (f) => refs.set(f, (refs.get(f) ?? 0) - 1),
        });
        const model: Slot[] = [];
        let n = 0;
        for (const o of ops) {
          let expected: number | typeof E.EBADF;
          let got: unknown;
          switch (o.op) {
            case 'open': {
              const file = `f${n++}`;
              const fd = lowest(model);
              expected = fd >= LIMIT ? E.EMFILE : fd;
              if (!isError(expected)) model[fd] = { file, cloexec: o.cloexec };
              got = table.install(file, { limit: LIMIT, cloexec: o.cloexec });
              break;
            }
            case 'close':
              expected = model[o.fd] ? 0 : E.EBADF;
              if (model[o.fd]) model[o.fd] = undefined;
              got = isError(table.close(o.fd)) ? E.EBADF : 0;
              break;
            case 'dup': {
              const s = model[o.fd];
              const fd = lowest(model);
              expected = !s ? E.EBADF : fd >= LIMIT ? E.EMFILE : fd;
              if (s && !isError(expected)) model[fd] = { file: s.file, cloexec: false };
              got = table.dup(o.fd, LIMIT);
              break;
            }
            case 'dup2':
            case 'dup3': {
              const s = model[o.fd];
              const flags = o.op === 'dup3' && o.cloexec ? O_CLOEXEC : 0;
              if (o.op === 'dup3' && o.fd === o.to) expected = E.EINVAL;
              else if (!s) expected = E.EBADF;
              else if (o.op === 'dup2' && o.fd === o.to) expected = o.to;
              else if (o.to < 0 || o.to >= LIMIT) expected = E.EBADF;
              else {
                expected = o.to;
                model[o.to] = { file: s.file, cloexec: flags !== 0 };
              }
              got = o.op === 'dup2' ? table.dup2(o.fd, o.to, LIMIT) : table.dup3(o.fd, o.to, flags, LIMIT);
              break;
            }
            case 'dupmin': {
              const s = model[o.fd];
              const fd = lowest(model, Math.max(o.min, 0));
              expected = !s ? E.EBADF : o.min < 0 || o.min >= LIMIT ? E.EINVAL : fd >= LIMIT ? E.EMFILE : fd;
              if (s && !isError(expected)) model[fd] = { file: s.file, cloexec: false };
              got = table.dupMin(o.fd, o.min, false, LIMIT);
              break;
            }
            case 'fork': {
              // The child's table goes on; the parent's is closed (references must balance).
              const child = table.fork();
              table.closeAll();
              table = child;
              expected = 0;
              got = 0;
              break;
            }
            case 'exec':
              for (let fd = 0; fd < model.length; fd++) if (model[fd]?.cloexec) model[fd] = undefined;
              table.closeOnExec();
              expected = 0;
              got = 0;
              break;
          }
          expect(got).toBe(expected);
        }
        for (let fd = 0; fd < LIMIT; fd++) {
          expect(table.entry(fd)).toEqual(model[fd]);
          expect(table.lowestFree(fd)).toBe(lowest(model, fd));
        }
        let top = -1;
        for (let fd = 0; fd < model.length; fd++) if (model[fd]) top = fd;
        expect(table.highest()).toBe(top);
        // Every file's reference count equals the number of descriptors naming it.
        for (const [file, count] of refs) {
          expect(count).toBe(model.filter((s) => s?.file === file).length);
        }
      }),
      { numRuns: 300 },
    );
  });
});
