// docs/compatibility.md must be exactly what the syscall table generates.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { compatibilityMarkdown, createSyscallTable } from '@tsvisor/syscalls';

test('docs/compatibility.md is generated from the current syscall table', () => {
  const file = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'compatibility.md');
  const committed = fs.readFileSync(file, 'utf8');
  assert.equal(committed, compatibilityMarkdown(createSyscallTable()), 'run: node scripts/gen-compat.mjs');
});
