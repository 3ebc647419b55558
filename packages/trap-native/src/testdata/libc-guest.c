/* A static glibc program for the pass-through test: libc start-up (TLS, brk, rseq...), stdio
   buffering, malloc and SSE/AVX string functions all run on the platform. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char** argv) {
  char* buf = malloc(100000);
  memset(buf, 'x', 99999);
  buf[99999] = 0;
  printf("argc=%d argv1=%s ppid=%d len=%zu\n", argc, argc > 1 ? argv[1] : "-", (int)getppid(), strlen(buf));
  free(buf);
  return 3;
}
