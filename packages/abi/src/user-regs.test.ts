import { afterAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { compileC, makeTempDir } from './c-compiler.test-util.js';
import { USER_REGS_COUNT, UserReg } from './user-regs.js';

const tmp = makeTempDir();
afterAll(() => tmp.dispose());

describe('user_regs_struct', () => {
  it('has the layout of <sys/user.h>', () => {
    const names = Object.keys(UserReg);
    const src = [
      '#include <stdio.h>',
      '#include <stddef.h>',
      '#include <sys/user.h>',
      'int main(void) {',
      '  printf("size %zu\\n", sizeof(struct user_regs_struct));',
      ...names.map((n) => `  printf("${n} %zu\\n", offsetof(struct user_regs_struct, ${n}) / 8);`),
      '  return 0;',
      '}',
    ].join('\n');
    const bin = compileC(tmp.path, 'regs', { 'regs.c': src });
    const lines = execFileSync(bin).toString().trim().split('\n');
    expect(lines[0]).toBe(`size ${USER_REGS_COUNT * 8}`);
    expect(lines.slice(1)).toEqual(names.map((n) => `${n} ${UserReg[n as keyof typeof UserReg]}`));
  });
});
