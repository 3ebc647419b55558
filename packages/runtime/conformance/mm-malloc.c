/*
 * A malloc-heavy program (issue 6): ITERATIONS allocations of 128 KiB to 380 KiB, each above
 * glibc's mmap threshold (fixed at 128 KiB with mallopt, so that it does not adapt), hence one
 * mmap and one munmap apiece, with eight blocks alive at a time; every block is written on
 * three pages and read back. Prints a checksum that depends only on ITERATIONS, so a native and
 * a sandboxed run print the same. With a second argument `time` it also prints, last, the
 * nanoseconds per iteration measured inside with CLOCK_MONOTONIC (for the benchmark).
 *
 *   gcc -O1 -static -o mm-malloc mm-malloc.c && ./mm-malloc 20000 time
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LIVE 8

int main(int argc, char **argv) {
  long iterations = argc > 1 ? atol(argv[1]) : 20000;
  int timed = argc > 2 && !strcmp(argv[2], "time");
  if (iterations <= 0) return 2;
  mallopt(M_MMAP_THRESHOLD, 128 * 1024);
  char *live[LIVE] = {0};
  size_t sizes[LIVE] = {0};
  unsigned long sum = 0;
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (long i = 0; i < iterations; i++) {
    int slot = i % LIVE;
    if (live[slot]) {
      char *p = live[slot];
      sum = sum * 31 + (unsigned char)p[0] + (unsigned char)p[sizes[slot] / 2] + (unsigned char)p[sizes[slot] - 1];
      free(p);
    }
    size_t size = 128 * 1024 + (size_t)((i * 7919) % 64) * 4096;
    char *p = malloc(size);
    if (!p) {
      printf("malloc failed at %ld\n", i);
      return 1;
    }
    p[0] = (char)i;
    p[size / 2] = (char)(i >> 3);
    p[size - 1] = (char)(i >> 7);
    live[slot] = p;
    sizes[slot] = size;
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  for (int s = 0; s < LIVE; s++) free(live[s]);
  printf("iterations %ld\nchecksum %lx\n", iterations, sum);
  if (timed) {
    double ns = (double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec);
    printf("ns/iteration %.0f\n", ns / (double)iterations);
  }
  return 0;
}
