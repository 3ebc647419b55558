/*
 * Programs for the cgroup limits (memory.max, cpu.max, pids.max):
 *   oom MB     allocate and touch MB megabytes in 1 MB chunks, then print "survived"
 *   busy MS    spin for MS ms of wall time, then print "cpu_ms <n> wall_ms <n>" (getrusage)
 *   threads N  start up to N threads that sleep; print "started <n> errno <name>"
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void *sleeper(void *arg) {
  (void)arg;
  sleep(5);
  return NULL;
}

int main(int argc, char **argv) {
  if (argc < 3) return 2;
  long n = atol(argv[2]);
  if (strcmp(argv[1], "oom") == 0) {
    for (long i = 0; i < n; i++) {
      char *p = malloc(1 << 20);
      if (!p) {
        printf("malloc failed at %ld MB\n", i);
        return 1;
      }
      memset(p, 1, 1 << 20);
    }
    printf("survived\n");
    return 0;
  }
  if (strcmp(argv[1], "busy") == 0) {
    long start = now_ms();
    volatile unsigned long x = 0;
    while (now_ms() - start < n)
      for (int i = 0; i < 100000; i++) x += i;
    long wall = now_ms() - start;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    long cpu = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000 + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000;
    printf("cpu_ms %ld wall_ms %ld\n", cpu, wall);
    return 0;
  }
  if (strcmp(argv[1], "threads") == 0) {
    long started = 0;
    int err = 0;
    for (; started < n; started++) {
      pthread_t t;
      err = pthread_create(&t, NULL, sleeper, NULL);
      if (err != 0) break;
    }
    printf("started %ld errno %s\n", started, err == EAGAIN ? "EAGAIN" : err == 0 ? "none" : strerror(err));
    fflush(stdout);
    _exit(0);
  }
  return 2;
}
