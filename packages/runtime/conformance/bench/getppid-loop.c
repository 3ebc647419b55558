/*
 * getppid-loop: calls getppid (raw syscall, never cached) for about BUDGET_MS milliseconds and
 * prints the mean cost in microseconds per call, then the number of calls:
 *     <us per call> <calls>
 * Usage: getppid-loop [BUDGET_MS]   (default 500)
 * Build: gcc -O1 -static -o getppid-loop getppid-loop.c
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

int main(int argc, char **argv) {
  double budget_us = (argc > 1 ? atof(argv[1]) : 500) * 1000;
  for (int i = 0; i < 100; i++) syscall(SYS_getppid); /* warm up */
  long calls = 0;
  double start = now_us(), elapsed = 0;
  /* the clock is read once per 64 calls, so its own cost stays in the noise */
  while (elapsed < budget_us) {
    for (int i = 0; i < 64; i++) syscall(SYS_getppid);
    calls += 64;
    elapsed = now_us() - start;
  }
  printf("%.4f %ld\n", calls ? elapsed / calls : 0.0, calls);
  return 0;
}
