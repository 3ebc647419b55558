import { E, errorOf, isError } from '@tsvisor/abi';
import fc from 'fast-check';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BPF_MAXINSNS,
  checkClassicProgram,
  decodeSockFilters,
  encodeSockFilters,
  runClassicFilter,
  SKF_AD_OFF,
  SKF_LL_OFF,
  SKF_NET_OFF,
  SkfAd,
  SocketFilter,
  type ClassicProgram,
  type FilterPacket,
  type SockFilter,
} from './cbpf.js';

// ---- instruction builders (the BPF_STMT / BPF_JUMP macros) ----
const stmt = (code: number, k: number): SockFilter => ({ code, jt: 0, jf: 0, k: k >>> 0 });
const jump = (code: number, k: number, jt: number, jf: number): SockFilter => ({ code, jt, jf, k: k >>> 0 });
const RET_K = 0x06;
const RET_A = 0x16;
const LD_W_ABS = 0x20;
const LD_H_ABS = 0x28;
const LD_B_ABS = 0x30;
const LD_W_IND = 0x40;
const LD_B_IND = 0x50;
const LDX_MSH = 0xb1;
const LD_LEN = 0x80;
const LD_IMM = 0x00;
const LDX_IMM = 0x01;
const LD_MEM = 0x60;
const ST = 0x02;
const JEQ_K = 0x15;
const JA = 0x05;

function check(insns: SockFilter[]): ClassicProgram {
  const p = checkClassicProgram(encodeSockFilters(insns));
  if (isError(p)) throw new Error(`rejected: ${p.name}`);
  return p;
}

function packet(bytes: number[] | Uint8Array, extra: Partial<FilterPacket> = {}): FilterPacket {
  return { bytes: Uint8Array.from(bytes), data: 0, ...extra };
}

const hex = (b: Uint8Array): string => (b.length === 0 ? '-' : Buffer.from(b).toString('hex'));

/** The host kernel's answers to lines of cbpf.test-util.c's protocol, one per line. */
let host: (lines: string[]) => string[];
const dir = mkdtempSync(join(tmpdir(), 'tsvisor-cbpf-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeAll(() => {
  const bin = join(dir, 'cbpf');
  execFileSync('gcc', ['-O0', '-w', '-o', bin, join(import.meta.dirname, 'cbpf.test-util.c')]);
  host = (lines) =>
    execFileSync(bin, { input: lines.join('\n') + '\n', maxBuffer: 1 << 26 })
      .toString()
      .trimEnd()
      .split('\n');
});

/** What the checker answers, as the C program prints it (0 or the errno number). */
function ours(bytes: Uint8Array): string {
  const p = checkClassicProgram(bytes);
  return isError(p) ? String(p.errno) : '0';
}

describe('checker', () => {
  // A table of invalid programs with the errno Linux gives each, checked against the kernel too.
  const table: [string, SockFilter[], number][] = [
    ['accepts a plain return', [stmt(RET_K, 0xffff)], 0],
    ['empty program', [], E.EINVAL.errno],
    ['unknown opcode', [stmt(0xff, 0), stmt(RET_K, 0)], E.EINVAL.errno],
    ['RET X is not classic', [stmt(0x0e, 0)], E.EINVAL.errno],
    ['NEG with X bit', [stmt(0x8c, 0), stmt(RET_K, 0)], E.EINVAL.errno],
    ['division by constant 0', [stmt(0x34, 0), stmt(RET_K, 0)], E.EINVAL.errno],
    ['modulo by constant 0', [stmt(0x94, 0), stmt(RET_K, 0)], E.EINVAL.errno],
    ['division by X is fine', [stmt(0x3c, 0), stmt(RET_K, 0)], 0],
    ['shift by 32', [stmt(0x64, 32), stmt(RET_K, 0)], E.EINVAL.errno],
    ['shift by 31', [stmt(0x74, 31), stmt(RET_K, 0)], 0],
    ['M[16]', [stmt(ST, 16), stmt(RET_K, 0)], E.EINVAL.errno],
    ['uninitialised M[3]', [stmt(LD_MEM, 3), stmt(RET_K, 0)], E.EINVAL.errno],
    ['initialised M[3]', [stmt(ST, 3), stmt(LD_MEM, 3), stmt(RET_A, 0)], 0],
    [
      'M[3] set on one path only',
      [jump(JEQ_K, 1, 0, 1), stmt(ST, 3), stmt(LD_MEM, 3), stmt(RET_A, 0)],
      E.EINVAL.errno,
    ],
    [
      'M[3] set on both paths',
      [stmt(ST, 3), jump(JEQ_K, 1, 0, 1), stmt(ST, 3), stmt(LD_MEM, 3), stmt(RET_A, 0)],
      0,
    ],
    ['JA past the end', [stmt(JA, 1), stmt(RET_K, 0)], E.EINVAL.errno],
    ['JA to the last', [stmt(JA, 0), stmt(RET_K, 0)], 0],
    ['JA of -1', [stmt(JA, 0xffffffff), stmt(RET_K, 0)], E.EINVAL.errno],
    ['conditional past the end', [jump(JEQ_K, 0, 1, 0), stmt(RET_K, 0)], E.EINVAL.errno],
    ['last is not a return', [stmt(LD_IMM, 1)], E.EINVAL.errno],
    ['last is a jump', [stmt(RET_K, 0), jump(JEQ_K, 0, 0, 0)], E.EINVAL.errno],
    ['unknown ancillary load', [stmt(LD_W_ABS, SKF_AD_OFF + 64), stmt(RET_K, 0)], E.EINVAL.errno],
    ['known ancillary load as a byte', [stmt(LD_B_ABS, SKF_AD_OFF + SkfAd.PROTOCOL), stmt(RET_A, 0)], 0],
    ['SKF_NET_OFF load', [stmt(LD_W_ABS, SKF_NET_OFF), stmt(RET_A, 0)], 0],
    ['ancillary offset in an indirect load', [stmt(LD_W_IND, SKF_AD_OFF + 64), stmt(RET_K, 0)], 0],
    ['4096 instructions', Array.from({ length: BPF_MAXINSNS }, () => stmt(RET_K, 1)), 0],
    ['4097 instructions', Array.from({ length: BPF_MAXINSNS + 1 }, () => stmt(RET_K, 1)), E.EINVAL.errno],
  ];

  it.each(table)('%s', (_name, insns, errno) => {
    const bytes = encodeSockFilters(insns);
    expect(ours(bytes)).toBe(String(errno));
    expect(host([`C ${hex(bytes)}`])).toEqual([String(errno)]);
  });

  it('agrees with the kernel on random programs', () => {
    const progs = fc.sample(programArb(true), { numRuns: 400, seed: 64 });
    const bytes = progs.map(encodeSockFilters);
    const kernel = host(bytes.map((b) => `C ${hex(b)}`));
    expect(bytes.map(ours)).toEqual(kernel);
    // The sample exercises both answers.
    expect(kernel.filter((r) => r === '0').length).toBeGreaterThan(50);
    expect(kernel.filter((r) => r !== '0').length).toBeGreaterThan(50);
  });

  it('keeps the bytes it was given', () => {
    const insns = [jump(JEQ_K, 7, 0, 1), stmt(RET_K, 0), stmt(RET_K, 0x40000)];
    const p = check(insns);
    expect(decodeSockFilters(p.bytes)).toEqual(insns);
  });
});

describe('interpreter', () => {
  it('loads words, halves and bytes in network order', () => {
    const bytes = [0x12, 0x34, 0x56, 0x78, 0x9a];
    expect(runClassicFilter(check([stmt(LD_W_ABS, 1), stmt(RET_A, 0)]), packet(bytes))).toBe(0x3456789a);
    expect(runClassicFilter(check([stmt(LD_H_ABS, 3), stmt(RET_A, 0)]), packet(bytes))).toBe(0x789a);
    expect(runClassicFilter(check([stmt(LD_B_ABS, 4), stmt(RET_A, 0)]), packet(bytes))).toBe(0x9a);
  });

  it('ends with 0 on a load past the packet', () => {
    expect(runClassicFilter(check([stmt(LD_W_ABS, 2), stmt(RET_K, 9)]), packet([1, 2, 3, 4, 5]))).toBe(0);
    expect(runClassicFilter(check([stmt(LD_W_ABS, 1), stmt(RET_K, 9)]), packet([1, 2, 3, 4, 5]))).toBe(9);
  });

  it('does indirect and MSH loads', () => {
    // An IPv4 header of 24 bytes (IHL 6), then a byte to read through X.
    const bytes = new Uint8Array(30);
    bytes[0] = 0x46;
    bytes[24 + 3] = 0xab;
    const p = check([stmt(LDX_MSH, 0), stmt(LD_B_IND, 3), stmt(RET_A, 0)]);
    expect(runClassicFilter(p, packet(bytes))).toBe(0xab);
  });

  it('reaches the network and link headers through negative offsets', () => {
    // link header 2 bytes, network header 3 bytes, then skb->data
    const pk = packet([0xa0, 0xa1, 0xb0, 0xb1, 0xb2, 0xc0], { data: 5, network: 2, link: 0 });
    expect(runClassicFilter(check([stmt(LD_B_ABS, SKF_NET_OFF + 1), stmt(RET_A, 0)]), pk)).toBe(0xb1);
    expect(runClassicFilter(check([stmt(LD_H_ABS, SKF_LL_OFF), stmt(RET_A, 0)]), pk)).toBe(0xa0a1);
    expect(runClassicFilter(check([stmt(LD_B_ABS, 0), stmt(RET_A, 0)]), pk)).toBe(0xc0);
    // A link-layer load runs on past the link header, up to the tail.
    expect(runClassicFilter(check([stmt(LD_H_ABS, SKF_LL_OFF + 4), stmt(RET_A, 0)]), pk)).toBe(0xb2c0);
    expect(runClassicFilter(check([stmt(LD_H_ABS, SKF_LL_OFF + 5), stmt(RET_K, 3)]), pk)).toBe(0);
    // A packet without a link header: the load fails.
    expect(runClassicFilter(check([stmt(LD_B_ABS, SKF_LL_OFF), stmt(RET_K, 5)]), packet([1]))).toBe(0);
  });

  it('answers the ancillary loads from the packet', () => {
    const pk = packet([1, 2, 3], { protocol: 0x0800, pktType: 5, ifindex: 1, hatype: 772, mark: 9 });
    const anc = (ad: number): number =>
      runClassicFilter(check([stmt(LD_W_ABS, SKF_AD_OFF + ad), stmt(RET_A, 0)]), pk);
    expect(anc(SkfAd.PROTOCOL)).toBe(0x0800);
    expect(anc(SkfAd.PKTTYPE)).toBe(5);
    expect(anc(SkfAd.IFINDEX)).toBe(1);
    expect(anc(SkfAd.HATYPE)).toBe(772);
    expect(anc(SkfAd.MARK)).toBe(9);
    expect(anc(SkfAd.VLAN_TAG_PRESENT)).toBe(0);
    expect(runClassicFilter(check([stmt(LD_LEN, 0), stmt(RET_A, 0)]), pk)).toBe(3);
    expect(
      runClassicFilter(check([stmt(LD_W_ABS, SKF_AD_OFF + SkfAd.RANDOM), stmt(RET_A, 0)]), pk, () => 77),
    ).toBe(77);
    // No device: the program exits with A as it stands.
    const noDev = check([stmt(LD_IMM, 42), stmt(LD_W_ABS, SKF_AD_OFF + SkfAd.IFINDEX), stmt(RET_K, 1)]);
    expect(runClassicFilter(noDev, packet([1]))).toBe(42);
  });

  it('finds netlink attributes', () => {
    // Two attributes at offset 4: type 1 (len 5, padded to 8), type 2 nesting type 7.
    const b = [0, 0, 0, 0, 5, 0, 1, 0, 0xee, 0, 0, 0, 12, 0, 2, 0, 8, 0, 7, 0, 1, 2, 3, 4];
    const find = (ad: number, a: number, x: number): number =>
      runClassicFilter(
        check([stmt(LD_IMM, a), stmt(LDX_IMM, x), stmt(LD_W_ABS, SKF_AD_OFF + ad), stmt(RET_A, 0)]),
        packet(b),
      );
    expect(find(SkfAd.NLATTR, 4, 2)).toBe(12);
    expect(find(SkfAd.NLATTR, 4, 1)).toBe(4);
    expect(find(SkfAd.NLATTR, 4, 7)).toBe(0);
    expect(find(SkfAd.NLATTR_NEST, 12, 7)).toBe(16);
    expect(find(SkfAd.NLATTR, 100, 1)).toBe(0);
  });

  it('matches the kernel on random programs and payloads (AF_UNIX datagrams)', () => {
    const cases = fc.sample(fc.tuple(programArb(false), fc.uint8Array({ minLength: 0, maxLength: 40 })), {
      numRuns: 400,
      seed: 6464,
    });
    const lines = cases.map(([insns, payload]) => `R ${hex(encodeSockFilters(insns))} ${hex(payload)}`);
    const kernel = host(lines);
    const mine = cases.map(([insns, payload]) => {
      const p = checkClassicProgram(encodeSockFilters(insns));
      if (isError(p)) return `E${p.errno}`;
      const f = new SocketFilter();
      f.program = p;
      // An AF_UNIX datagram: the payload alone, no device, protocol 0 (sk_filter_trim_cap, cap 1).
      const keep = f.keep({ bytes: payload, data: 0 }, 1);
      return keep < 0 ? 'D' : String(keep);
    });
    expect(mine).toEqual(kernel);
    expect(kernel.filter((r) => /^\d+$/.test(r)).length).toBeGreaterThan(100);
    expect(kernel.filter((r) => r === 'D').length).toBeGreaterThan(20);
  });

  it('agrees with a reference model', () => {
    fc.assert(
      fc.property(programArb(false), fc.uint8Array({ maxLength: 48 }), fc.nat(40), (insns, bytes, netAt) => {
        const p = checkClassicProgram(encodeSockFilters(insns));
        fc.pre(!isError(p));
        const nl = [SKF_AD_OFF + SkfAd.NLATTR, SKF_AD_OFF + SkfAd.NLATTR_NEST].map((v) => v >>> 0);
        fc.pre(!insns.some((i) => (i.code & 0xe7) === 0x20 && nl.includes(i.k)));
        const network = Math.min(netAt, bytes.length);
        const pk: FilterPacket = {
          bytes,
          data: network,
          network,
          protocol: 0x86dd,
          pktType: 2,
          ifindex: 3,
          hatype: 1,
        };
        expect(runClassicFilter(p as ClassicProgram, pk, () => 5)).toBe(model(insns, pk));
      }),
      { numRuns: 500, seed: 42 },
    );
  });

  it('never throws on random checked programs', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 8, maxLength: 8 * 24 }),
        fc.uint8Array({ maxLength: 64 }),
        (raw, bytes) => {
          // Random bytes with a return at the end, so that some pass the checker.
          const prog = Uint8Array.from([...raw.subarray(0, raw.length & ~7), 0x06, 0, 0, 0, 1, 0, 0, 0]);
          const p = checkClassicProgram(prog);
          if (isError(p)) return;
          const r = runClassicFilter(p, { bytes, data: 0, network: 0 });
          expect(Number.isInteger(r) && r >= 0 && r <= 0xffffffff).toBe(true);
        },
      ),
      { numRuns: 3000, seed: 7 },
    );
  });
});

describe('SocketFilter', () => {
  const all = encodeSockFilters([stmt(RET_K, 0xffffffff)]);
  const four = encodeSockFilters([stmt(RET_K, 4)]);

  it('attaches, replaces, detaches and locks as sk_attach_filter and friends', () => {
    const f = new SocketFilter();
    expect(f.detach()).toBe(E.ENOENT);
    expect(f.attach(all)).toBe(0);
    expect(f.attach(four)).toBe(0);
    expect(f.keep(packet([1, 2, 3, 4, 5, 6]), 1)).toBe(4);
    expect(f.attach(new Uint8Array(0))).toBe(E.EINVAL);
    expect(f.program?.bytes).toEqual(four); // a failed attach keeps the old program
    expect(f.lock(true)).toBe(0);
    expect(f.attach(all)).toBe(E.EPERM);
    expect(f.detach()).toBe(E.EPERM);
    expect(f.lock(false)).toBe(E.EPERM);
    expect(f.lock(true)).toBe(0);
  });

  it('trims no lower than the cap and drops on 0', () => {
    const f = new SocketFilter();
    expect(f.keep(packet([1, 2, 3]), 8)).toBe(3); // no filter: everything
    f.attach(encodeSockFilters([stmt(RET_K, 2)]));
    expect(f.keep(packet(new Array<number>(20).fill(0)), 8)).toBe(8);
    expect(f.keep(packet([1, 2, 3]), 8)).toBe(3);
    f.attach(encodeSockFilters([stmt(RET_K, 0)]));
    expect(f.keep(packet([1, 2, 3]), 1)).toBe(-1);
    expect(errorOf(E.EPERM.errno)).toBe(E.EPERM);
  });
});

// ---- generators ----

/** Codes the generator draws from: the classic set and a few Linux refuses. */
const CODES = [
  0x00, 0x01, 0x02, 0x03, 0x04, 0x0c, 0x14, 0x1c, 0x24, 0x2c, 0x34, 0x3c, 0x44, 0x4c, 0x54, 0x5c, 0x64, 0x6c,
  0x74, 0x7c, 0x84, 0x94, 0x9c, 0xa4, 0xac, 0x20, 0x28, 0x30, 0x40, 0x48, 0x50, 0x60, 0x61, 0x80, 0x81, 0xb1,
  0x07, 0x87, 0x05, 0x15, 0x1d, 0x25, 0x2d, 0x35, 0x3d, 0x45, 0x4d, 0x06, 0x16,
];
const BAD_CODES = [0x0e, 0x8c, 0x08, 0x21, 0xff, 0x100, 0xb0, 0x17];

/**
 * Random programs biased toward ones the checker takes: small constants, in-range jumps and
 * scratch cells, loads near a short packet, some ancillary ones. `wild` adds codes, constants
 * and jumps Linux refuses.
 */
function programArb(wild: boolean): fc.Arbitrary<SockFilter[]> {
  const ancillary = [
    SkfAd.PROTOCOL,
    SkfAd.PKTTYPE,
    SkfAd.MARK,
    SkfAd.QUEUE,
    SkfAd.ALU_XOR_X,
    SkfAd.VLAN_TAG,
    SkfAd.VLAN_TAG_PRESENT,
    SkfAd.VLAN_TPID,
    SkfAd.IFINDEX,
    SkfAd.HATYPE,
    SkfAd.NLATTR,
    SkfAd.NLATTR_NEST,
    SkfAd.CPU,
  ];
  const k = fc.oneof(
    { weight: 6, arbitrary: fc.nat(48) },
    { weight: 2, arbitrary: fc.nat(16) },
    { weight: 1, arbitrary: fc.constantFrom(...ancillary.map((a) => (SKF_AD_OFF + a) >>> 0)) },
    { weight: wild ? 2 : 1, arbitrary: fc.nat({ max: 0xffffffff }) },
    { weight: 1, arbitrary: fc.constantFrom(0, 31, 32, 0xffffffff, 0x80000000) },
  );
  const code = wild
    ? fc.oneof(
        { weight: 10, arbitrary: fc.constantFrom(...CODES) },
        { weight: 1, arbitrary: fc.constantFrom(...BAD_CODES) },
      )
    : fc.constantFrom(...CODES);
  const insn = fc.record({ code, jt: fc.nat(wild ? 8 : 4), jf: fc.nat(wild ? 8 : 4), k });
  const ret = fc.record({
    code: fc.constantFrom(RET_K, RET_A),
    jt: fc.constant(0),
    jf: fc.constant(0),
    k: fc.oneof(fc.nat(64), fc.constant(0xffffffff)),
  });
  return fc.tuple(fc.array(insn, { maxLength: 14 }), ret).map(([body, last]) => {
    const insns = [...body, last];
    if (wild) return insns;
    // Keep jumps in range and scratch cells below 16 so most programs pass the checker.
    return insns.map((i, pc) => {
      const room = insns.length - pc - 2;
      if (i.code === JA) return { ...i, k: room < 0 ? 0 : i.k % (room + 1) };
      if ((i.code & 7) === 5)
        return { ...i, jt: room < 0 ? 0 : i.jt % (room + 1), jf: room < 0 ? 0 : i.jf % (room + 1) };
      if (i.code === 0x60 || i.code === 0x61 || i.code === 0x02 || i.code === 0x03)
        return { ...i, k: i.k % 16 };
      return i;
    });
  });
}

// ---- the reference model: classic BPF as filter.rst describes it, decoded field by field ----

function model(insns: readonly SockFilter[], p: FilterPacket): number {
  const M = new Array<number>(16).fill(0);
  let A = 0;
  let X = 0;
  const u = (v: number): number => ((v % 2 ** 32) + 2 ** 32) % 2 ** 32;
  const byteAt = (i: number): number | undefined => (i >= 0 && i < p.bytes.length ? p.bytes[i] : undefined);
  const load = (off: number, size: number): number | undefined => {
    const signed = off >= 2 ** 31 ? off - 2 ** 32 : off;
    let base: number | undefined;
    if (signed >= 0) base = p.data + signed;
    else if (signed >= -0x100000 && p.network !== undefined) base = p.network + signed + 0x100000;
    else if (signed >= -0x200000 && signed < -0x100000 && p.link !== undefined)
      base = p.link + signed + 0x200000;
    if (base === undefined) return undefined;
    let v = 0;
    for (let i = 0; i < size; i++) {
      const b = byteAt(base + i);
      if (b === undefined) return undefined;
      v = v * 256 + b;
    }
    return v;
  };
  for (let pc = 0; ; pc++) {
    const { code, jt, jf, k } = insns[pc]!;
    const cls = code & 7;
    const size = [4, 2, 1][(code >> 3) & 3]!;
    const mode = code & 0xe0;
    const src = code & 8 ? X : k;
    if (cls === 6) return (code & 0x18) === 0x10 ? A : k;
    if (cls === 0 || cls === 1) {
      let v: number | undefined;
      if (mode === 0x00) v = k;
      else if (mode === 0x60) v = M[k];
      else if (mode === 0x80) v = p.bytes.length - p.data;
      else if (mode === 0x20 && k >= 0xfffff000) {
        const ad = k - 0xfffff000;
        const anc: Record<number, number> = {
          [SkfAd.PROTOCOL]: p.protocol ?? 0,
          [SkfAd.PKTTYPE]: p.pktType ?? 0,
          [SkfAd.IFINDEX]: p.ifindex ?? 0,
          [SkfAd.HATYPE]: p.hatype ?? 0,
          [SkfAd.ALU_XOR_X]: u(A ^ X),
          [SkfAd.RANDOM]: 5,
        };
        // The generator of this property leaves the netlink loads out (see 'finds netlink attributes').
        if (ad === SkfAd.NLATTR || ad === SkfAd.NLATTR_NEST) throw new Error('model: no netlink loads');
        v = anc[ad] ?? 0;
      } else if (mode === 0x20) v = load(k, size);
      else if (mode === 0x40) v = load(u(X + k), size);
      else if (mode === 0xa0) {
        const b = load(k, 1);
        if (b === undefined) return 0;
        X = (b & 15) * 4;
        continue;
      }
      if (v === undefined) return 0;
      if (cls === 0) A = v;
      else X = v;
    } else if (cls === 2) M[k] = A;
    else if (cls === 3) M[k] = X;
    else if (cls === 7) {
      if (code & 0x80) A = X;
      else X = A;
    } else if (cls === 4) {
      const op = code & 0xf0;
      if ((op === 0x30 || op === 0x90) && src === 0) return 0;
      A = u(
        [
          A + src,
          A - src,
          Number((BigInt(A) * BigInt(src)) % 2n ** 32n),
          Math.trunc(A / src),
          A | src,
          A & src,
          Number((BigInt(A) << BigInt(src % 32)) % 2n ** 32n),
          Math.trunc(A / 2 ** (src % 32)),
          -A,
          A % src,
          A ^ src,
        ][op >> 4]!,
      );
    } else {
      const op = code & 0xf0;
      if (op === 0) pc += k;
      else pc += [A === src, A > src, A >= src, (A & src) !== 0][(op >> 4) - 1] ? jt : jf;
    }
  }
}

describe('README example', () => {
  it('socket filters through the public entry point', async () => {
    const { AddressFamily, SockType } = await import('@tsvisor/abi');
    const pub = await import('../index.js');
    const stack = new pub.Stack({ device: new pub.LoopbackDevice(), addresses: [pub.cidr('127.0.0.1/8')] });
    const udp = pub.InetSocket.create(stack, AddressFamily.AF_INET, SockType.SOCK_DGRAM, 0);
    if (isError(udp)) throw udp;
    expect(
      udp.filter.attach(
        pub.encodeSockFilters([
          { code: 0x28, jt: 0, jf: 0, k: 2 },
          { code: 0x15, jt: 0, jf: 1, k: 53 },
          { code: 0x06, jt: 0, jf: 0, k: 8 + 4 },
          { code: 0x06, jt: 0, jf: 0, k: 0 },
        ]),
      ),
    ).toBe(0);
    udp.bind(pub.emitSockaddr({ addr: pub.Ipv4Address.LOOPBACK, port: 53 }));
    const sender = pub.InetSocket.create(stack, AddressFamily.AF_INET, SockType.SOCK_DGRAM, 0);
    if (isError(sender)) throw sender;
    sender.sendto(new Uint8Array(100), 0, pub.emitSockaddr({ addr: pub.Ipv4Address.LOOPBACK, port: 53 }));
    for (let i = 0; i < 4; i++) stack.poll(0);
    const got = udp.recvfrom(new Uint8Array(200));
    expect(isError(got) || typeof got !== 'object' ? got : got.n).toBe(4);
  });
});
