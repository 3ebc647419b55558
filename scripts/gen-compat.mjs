#!/usr/bin/env node
// Writes docs/compatibility.md from the syscall table (@tsvisor/syscalls, built). The page is
// generated, never edited by hand; scripts/compatibility.test.mjs fails when it is stale.
// Usage: node scripts/gen-compat.mjs [--check]
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { compatibilityMarkdown, createSyscallTable } from '@tsvisor/syscalls';

const out = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'compatibility.md');
const text = compatibilityMarkdown(createSyscallTable());
if (process.argv.includes('--check')) {
  const current = fs.existsSync(out) ? fs.readFileSync(out, 'utf8') : '';
  if (current !== text) {
    console.error('docs/compatibility.md is stale: run `node scripts/gen-compat.mjs`');
    process.exit(1);
  }
} else {
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, text);
  console.log(`wrote ${path.relative(process.cwd(), out)}`);
}
