/* Allocates and touches MB megabytes (argv[1]) in 1 MB chunks, then prints "survived". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 0;
  for (long i = 0; i < n; i++) {
    char *p = malloc(1 << 20);
    if (!p) return 1;
    memset(p, 1, 1 << 20);
  }
  printf("survived\n");
  return 0;
}
