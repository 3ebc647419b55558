/**
 * The compatibility page, generated from the syscall table (never written by hand).
 *
 * @module
 */
import type { SyscallTable } from './table.js';

/**
 * Renders `docs/compatibility.md`: a summary line, then one row per syscall number with its
 * name, support level and note.
 */
export function compatibilityMarkdown(table: SyscallTable): string {
  const rows = table.entries();
  const count = (level: string): number => rows.filter((r) => r.support.level === level && r.handler).length;
  const missing = rows.filter((r) => !r.handler).length;
  const lines = [
    '# Syscall compatibility',
    '',
    'Generated from the syscall table of `@tsvisor/syscalls`; do not edit by hand.',
    '',
    `${count('full')} full, ${count('partial')} partial, ${count('errno')} fixed errno, ${missing} not implemented (ENOSYS).`,
    '',
    '| nr | name | support | note |',
    '| ---: | --- | --- | --- |',
  ];
  for (const r of rows) {
    const s = r.support;
    const level = !r.handler ? 'ENOSYS' : s.level === 'errno' ? s.errno.name : s.level;
    const note = s.level === 'partial' ? s.note : s.level === 'errno' ? s.reason : '';
    lines.push(`| ${r.nr} | ${r.name} | ${level} | ${note.replace(/\|/g, '\\|')} |`);
  }
  return lines.join('\n') + '\n';
}
