/* Prints the initial stack as the kernel built it: the address of argc, every argv/envp
 * pointer, and the auxiliary vector in order. Run without address randomization
 * (setarch -R) the addresses are deterministic and tsvisor's loader must reproduce them. */
#include <stdio.h>
#include <elf.h>

extern char **environ;

int main(int argc, char **argv) {
  unsigned long *sp = (unsigned long *)argv - 1;
  printf("sp %lx\nargc %lu\n", (unsigned long)sp, sp[0]);
  unsigned long *p = sp + 1;
  for (; *p; p++) printf("argv %lx\n", *p);
  for (p++; *p; p++) printf("envp %lx\n", *p);
  for (p++; p[0] != AT_NULL; p += 2) printf("aux %lu %lx\n", p[0], p[1]);
  return 0;
}
