import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isError } from '../errno.js';
import { siginfoArb, structArb } from './arbitrary.test-util.js';
import { dirent64RecLen, Dirent64Writer, linux_dirent64, type Dirent64 } from './dirent.js';
import { parseIovecs } from './io.js';
import { dataView, parseArray, emitArray, structView, type FixedStruct } from './layout.js';
import { structRegistry } from './registry.js';
import { siginfo, siginfoLayout } from './signal.js';
import {
  CmsgWriter,
  cmsgsBufferLen,
  encodeScmRights,
  encodeSockaddr,
  parseCmsgs,
  parseScmCredentials,
  parseScmRights,
  parseSockaddr,
  sockaddrLen,
  sockaddr_un,
  type Cmsg,
  type Sockaddr,
} from './socket.js';
import { stat } from './stat.js';
import { clone_args, copyStructFromUser, open_how, parseCloneArgs, parseOpenHow } from './versioned.js';

const RUNS = { numRuns: 60 };

/** The fixed-size structs of the registry (all but the variable-length dirent record). */
const fixed = [...structRegistry.values()].filter(
  (s): s is FixedStruct<unknown> => 'encode' in s && typeof (s as FixedStruct<unknown>).encode === 'function',
);

describe('parse(emit(x)) equals x', () => {
  it('covers every fixed-size struct of the registry', () => {
    expect(fixed.length).toBe(structRegistry.size - 1);
  });

  for (const def of fixed) {
    it(def.name, () => {
      fc.assert(
        fc.property(structArb(def), fc.integer({ min: 0, max: 9 }), (value, off) => {
          const buf = new Uint8Array(off + def.size + 3).fill(0xcc);
          expect(def.emit(value, buf, off)).toBe(def.size);
          expect(def.parse(buf, off)).toEqual(value);
          // emit never touches bytes outside the struct
          expect(buf[off - 1] ?? 0xcc).toBe(0xcc);
          expect(buf[off + def.size]).toBe(0xcc);
          // encode and emit agree on the bytes
          expect(def.encode(value)).toEqual(buf.subarray(off, off + def.size));
        }),
        RUNS,
      );
    });
  }

  it('siginfo picks the layout the kernel would from (signo, code)', () => {
    fc.assert(
      fc.property(siginfoArb, (v) => {
        expect(siginfoLayout(v.si_signo, v.si_code)).toBe(v.layout);
        expect(siginfo.parse(siginfo.encode(v))).toEqual(v);
      }),
      RUNS,
    );
  });

  const nameBytes = fc.uint8Array({ minLength: 1, maxLength: 255 }).filter((n) => !n.includes(0));
  const direntArb: fc.Arbitrary<Dirent64> = fc.record({
    d_ino: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
    d_off: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
    d_type: fc.integer({ min: 0, max: 255 }),
    d_name: nameBytes,
  });

  it('linux_dirent64 records, and the writer packs as many as fit', () => {
    fc.assert(
      fc.property(fc.array(direntArb, { maxLength: 8 }), fc.integer({ min: 0, max: 1200 }), (ents, cap) => {
        for (const d of ents) {
          const one = new Uint8Array(linux_dirent64.bufferLen(d));
          expect(linux_dirent64.emit(d, one)).toBe(one.length);
          expect(one.length % 8).toBe(0);
          expect(linux_dirent64.parse(one)).toEqual(d);
        }
        const buf = new Uint8Array(cap);
        const w = new Dirent64Writer(buf);
        let fit = 0;
        for (const d of ents) {
          if (!w.add(d.d_ino, d.d_off, d.d_type, d.d_name)) break;
          fit++;
        }
        const expected = ents.slice(0, fit);
        expect(w.written).toBe(expected.reduce((n, d) => n + dirent64RecLen(d.d_name.length), 0));
        // the first entry that did not fit really would not have fit
        if (fit < ents.length)
          expect(w.written + dirent64RecLen(ents[fit]!.d_name.length)).toBeGreaterThan(cap);
        expect(linux_dirent64.parseAll(buf, 0, w.written)).toEqual(expected);
      }),
      RUNS,
    );
  });

  const bytesN = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });
  const noNul = (max: number) =>
    fc.uint8Array({ minLength: 1, maxLength: max }).filter((p) => !p.includes(0));
  const sockaddrArb: fc.Arbitrary<Sockaddr> = fc.oneof(
    fc.record({
      kind: fc.constant('in' as const),
      port: fc.integer({ min: 0, max: 0xffff }),
      addr: bytesN(4),
    }),
    fc.record({
      kind: fc.constant('in6' as const),
      port: fc.integer({ min: 0, max: 0xffff }),
      flowinfo: fc.integer({ min: 0, max: 0xffffffff }),
      addr: bytesN(16),
      scope_id: fc.integer({ min: 0, max: 0xffffffff }),
    }),
    fc.record({ kind: fc.constant('unix-path' as const), path: noNul(107) }),
    fc.record({ kind: fc.constant('unix-abstract' as const), name: fc.uint8Array({ maxLength: 107 }) }),
    fc.constant({ kind: 'unix-unnamed' as const }),
    fc.record({
      kind: fc.constant('nl' as const),
      pid: fc.integer({ min: 0, max: 0xffffffff }),
      groups: fc.integer({ min: 0, max: 0xffffffff }),
    }),
    fc.record({
      kind: fc.constant('other' as const),
      family: fc.constantFrom(3, 4, 17, 40, 0xffff),
      data: fc.uint8Array({ maxLength: 126 }),
    }),
  );

  it('socket addresses, with the addrlen the kernel reports', () => {
    fc.assert(
      fc.property(sockaddrArb, (a) => {
        const bytes = encodeSockaddr(a);
        expect(bytes.length).toBe(sockaddrLen(a));
        expect(parseSockaddr(bytes, 0, bytes.length)).toEqual(a);
      }),
      RUNS,
    );
  });

  const cmsgArb: fc.Arbitrary<Cmsg> = fc.record({
    level: fc.integer({ min: -0x80000000, max: 0x7fffffff }),
    type: fc.integer({ min: -0x80000000, max: 0x7fffffff }),
    data: fc.uint8Array({ maxLength: 40 }),
  });

  it('control messages: packed with enough room they parse back; with less they truncate', () => {
    fc.assert(
      fc.property(fc.array(cmsgArb, { maxLength: 5 }), fc.integer({ min: 0, max: 300 }), (msgs, cap) => {
        const need = cmsgsBufferLen(msgs);
        const buf = new Uint8Array(Math.max(need, cap));
        const w = new CmsgWriter(buf, 0, need);
        for (const m of msgs) expect(w.put(m.level, m.type, m.data)).toBe(true);
        expect(w.written).toBe(need);
        expect(w.flags).toBe(0);
        expect(parseCmsgs(buf, 0, need)).toEqual(msgs);

        const small = new CmsgWriter(new Uint8Array(cap), 0, cap);
        let whole = true;
        for (const m of msgs) whole = small.put(m.level, m.type, m.data) && whole;
        expect(small.written).toBeLessThanOrEqual(cap);
        expect(small.flags !== 0).toBe(!whole);
        if (cap >= need) expect(whole).toBe(true);
      }),
      RUNS,
    );
  });

  it('SCM_RIGHTS and SCM_CREDENTIALS payloads', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 0x7fffffff }), { maxLength: 253 }), (fds) => {
        expect(parseScmRights(encodeScmRights(fds))).toEqual(fds);
      }),
      RUNS,
    );
    expect(isError(parseScmRights(new Uint8Array(254 * 4)))).toBe(true);
    expect(isError(parseScmCredentials(new Uint8Array(11)))).toBe(true);
  });

  it('iovec arrays and parseArray/emitArray', () => {
    const iov = structRegistry.get('iovec') as FixedStruct<{ iov_base: number; iov_len: number }>;
    fc.assert(
      fc.property(fc.array(structArb(iov), { maxLength: 20 }), (vs) => {
        const buf = new Uint8Array(vs.length * 16);
        expect(emitArray(iov, vs, buf)).toBe(buf.length);
        expect(parseArray(iov, buf, 0, vs.length)).toEqual(vs);
        expect(parseIovecs(buf, 0, vs.length)).toEqual(vs);
      }),
      RUNS,
    );
  });

  it('clone_args and open_how at every version size', () => {
    fc.assert(
      fc.property(structArb(clone_args), fc.constantFrom(64, 80, 88), (v, usize) => {
        const full = clone_args.encode(v);
        const got = parseCloneArgs(full, 0, usize);
        const expected = clone_args.parse(
          new Uint8Array([...full.subarray(0, usize), ...new Uint8Array(88 - usize)]),
        );
        expect(got).toEqual(expected);
        if (usize === 88) expect(got).toEqual(v);
      }),
      RUNS,
    );
    fc.assert(
      fc.property(structArb(open_how), (v) => {
        expect(parseOpenHow(open_how.encode(v), 0, 24)).toEqual(v);
      }),
      RUNS,
    );
  });
});

describe('random and truncated bytes never throw', () => {
  const bytesArb = fc.uint8Array({ maxLength: 600 });
  const off = fc.integer({ min: -3, max: 700 });
  const len = fc.oneof(fc.integer({ min: -5, max: 700 }), fc.constantFrom(0.5, NaN, 2 ** 60));

  it('every registry parse, on random bytes and on every truncation of a valid encoding', () => {
    fc.assert(
      fc.property(bytesArb, off, (b, o) => {
        for (const s of structRegistry.values()) {
          const r = s.parse(b, o);
          if (o < 0 || o + s.size > b.length) {
            if (s.name !== 'linux_dirent64') expect(isError(r), s.name).toBe(true);
          }
        }
      }),
      RUNS,
    );
    for (const def of fixed) {
      const full = fc.sample(structArb(def), 1)[0];
      const bytes = def.encode(full as never);
      for (let n = 0; n < bytes.length; n++)
        expect(isError(def.parse(bytes.subarray(0, n))), def.name).toBe(true);
    }
  });

  it('variable-length and sized parsers', () => {
    fc.assert(
      fc.property(bytesArb, off, len, (b, o, l) => {
        for (const r of [
          parseSockaddr(b, o, l),
          parseCmsgs(b, o, l),
          parseIovecs(b, o, l),
          parseArray(stat, b, o, l),
          linux_dirent64.parse(b, o),
          linux_dirent64.parseAll(b, o, l),
          parseCloneArgs(b, o, l),
          parseOpenHow(b, o, l),
          copyStructFromUser(open_how, b, o, l),
          parseScmRights(b),
          parseScmCredentials(b),
        ]) {
          expect(r).toBeDefined();
        }
      }),
      { numRuns: 300 },
    );
  });

  it('random sockaddrs of every family: what parses re-encodes to bytes that parse the same', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(0, 1, 2, 10, 16, 40),
        fc.uint8Array({ minLength: 128, maxLength: 128 }),
        fc.integer({ min: 0, max: 128 }),
        (fam, b, l) => {
          dataView(b).setUint16(0, fam, true);
          const r = parseSockaddr(b, 0, l);
          if (isError(r)) return;
          const again = encodeSockaddr(r);
          // A path of all 108 bytes encodes with its NUL (111 bytes, what Linux reports too), one
          // past what a call may pass in; it is given back at the struct's size.
          const len = r.kind === 'unix-path' ? Math.min(again.length, sockaddr_un.size) : again.length;
          expect(parseSockaddr(again, 0, len)).toEqual(r);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('views', () => {
  it('read and write the bytes in place', () => {
    const Stat = structView(stat);
    fc.assert(
      fc.property(structArb(stat), (v) => {
        const buf = new Uint8Array(160);
        const view = new Stat(dataView(buf), 8);
        for (const k of Object.keys(v) as (keyof typeof v)[]) (view as Record<string, unknown>)[k] = v[k];
        expect(stat.parse(buf, 8)).toEqual(v);
        expect(view.st_size).toBe(v.st_size);
        expect(view.st_atime_nsec).toBe(v.st_atime_nsec);
      }),
      RUNS,
    );
  });
});
