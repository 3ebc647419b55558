import { describe, expect, it } from 'vitest';
import { cStructs, compileAndRun, unitPreludes, type CStruct } from './c-headers.test-util.js';
import type { StructLayout } from './layout.js';
import { structRegistry } from './registry.js';

/** The structs the brief lists; the registry must hold each of them. */
const required = [
  'stat',
  'statx',
  'statx_timestamp',
  'statfs',
  'linux_dirent64',
  'timespec',
  'timeval',
  'itimerspec',
  'itimerval',
  'timezone',
  'rusage',
  'tms',
  'utsname',
  'sysinfo',
  'iovec',
  'msghdr',
  'cmsghdr',
  'sockaddr',
  'sockaddr_in',
  'sockaddr_in6',
  'sockaddr_un',
  'sockaddr_nl',
  'sockaddr_storage',
  'linger',
  'ucred',
  'pollfd',
  'epoll_event',
  'kernel_sigaction',
  'siginfo',
  'sigset',
  'stack_t',
  'ucontext',
  'sigcontext',
  'fpstate',
  'xstate_header',
  'rt_sigframe',
  'rlimit',
  'termios',
  'termios2',
  'winsize',
  'clone_args',
  'open_how',
  'robust_list_head',
  'sched_param',
  'cap_user_header',
  'cap_user_data',
];

/** One unit's C program: prints `S <name> <sizeof>` and `F <name> <field> <offsetof> <sizeof|-1>`. */
function program(unit: CStruct['unit'], entries: [StructLayout, CStruct][]): string {
  const lines: string[] = [unitPreludes[unit], 'int main(void) {'];
  for (const [s, c] of entries) {
    lines.push(`  printf("S ${s.name} %zu\\n", sizeof(${c.ctype}));`);
    for (const f of s.fields) {
      const m = c.members?.[f.name] ?? f.name;
      const size = f.flexible ? '(size_t)-1' : `sizeof(((${c.ctype} *)0)->${m})`;
      lines.push(
        `  printf("F ${s.name} ${f.name} %zu %zd\\n", offsetof(${c.ctype}, ${m}), (ssize_t)${size});`,
      );
    }
  }
  lines.push('  return 0;', '}', '');
  return lines.join('\n');
}

function runAll(): { sizes: Map<string, number>; fields: Map<string, [number, number]> } {
  const sizes = new Map<string, number>();
  const fields = new Map<string, [number, number]>();
  for (const unit of ['glibc', 'uapi'] as const) {
    const entries: [StructLayout, CStruct][] = [];
    for (const s of structRegistry.values()) {
      const c = cStructs[s.name];
      if (c?.unit === unit) entries.push([s, c]);
    }
    const out = compileAndRun(program(unit, entries));
    for (const line of out.trim().split('\n')) {
      const parts = line.split(' ');
      if (parts[0] === 'S') sizes.set(parts[1] as string, Number(parts[2]));
      else fields.set(`${parts[1]}.${parts[2]}`, [Number(parts[3]), Number(parts[4])]);
    }
  }
  return { sizes, fields };
}

describe('struct layouts against the C headers', () => {
  it('registers every struct of the brief and gives each a C counterpart', () => {
    for (const name of required) expect(structRegistry.has(name), name).toBe(true);
    for (const name of structRegistry.keys())
      expect(cStructs[name], `C counterpart of ${name}`).toBeDefined();
    for (const name of Object.keys(cStructs))
      expect(structRegistry.has(name), `registry entry ${name}`).toBe(true);
  });

  it('matches sizeof and every offsetof/sizeof from gcc', () => {
    const c = runAll();
    let checked = 0;
    for (const s of structRegistry.values()) {
      expect(c.sizes.get(s.name), `sizeof ${s.name}`).toBe(s.size);
      for (const f of s.fields) {
        const got = c.fields.get(`${s.name}.${f.name}`);
        expect(got, `${s.name}.${f.name} printed`).toBeDefined();
        expect(got?.[0], `offsetof ${s.name}.${f.name}`).toBe(f.offset);
        if (!f.flexible) expect(got?.[1], `sizeof ${s.name}.${f.name}`).toBe(f.size);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(250);
  });

  it('leaves no bytes uncovered except the C padding listed here (a forgotten member would show)', () => {
    // Alignment padding of the C definitions; sigset is a scalar and the dirent name is flexible.
    const padding: Record<string, string> = {
      linux_dirent64: '[19,5]',
      sysinfo: '[84,4] [108,4]',
      msghdr: '[12,4] [52,4]',
      stack_t: '[12,4]',
      sigset: '[0,8]',
    };
    for (const s of structRegistry.values()) {
      if (s.name === 'siginfo') continue;
      const sorted = [...s.fields].sort((a, b) => a.offset - b.offset);
      const gaps: string[] = [];
      let p = 0;
      for (const f of sorted) {
        if (f.offset > p) gaps.push(`[${p},${f.offset - p}]`);
        p = Math.max(p, f.offset + f.size);
      }
      if (p < s.size) gaps.push(`[${p},${s.size - p}]`);
      expect(gaps.join(' '), s.name).toBe(padding[s.name] ?? '');
    }
  });

  it('has fields that do not overlap, except in the siginfo union', () => {
    for (const s of structRegistry.values()) {
      if (s.name === 'siginfo') continue;
      const sorted = [...s.fields].sort((a, b) => a.offset - b.offset);
      for (let i = 1; i < sorted.length; i++) {
        const prev = sorted[i - 1]!;
        expect(sorted[i]!.offset, `${s.name}.${sorted[i]!.name} after ${prev.name}`).toBeGreaterThanOrEqual(
          prev.offset + prev.size,
        );
      }
    }
  });
});
