/*
 * A child burns CPU in user mode (no syscalls) for a while; the parent's wait4 rusage must show
 * it: prints "child user time >= 100 ms: yes".
 */
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
  pid_t p = fork();
  if (p == 0) {
    volatile unsigned long x = 0;
    for (unsigned long i = 0; i < 400000000ul; i++) x += i;
    _exit(0);
  }
  int st;
  struct rusage ru;
  wait4(p, &st, 0, &ru);
  long ms = ru.ru_utime.tv_sec * 1000 + ru.ru_utime.tv_usec / 1000;
  printf("child user time >= 100 ms: %s\n", ms >= 100 ? "yes" : "no");
  return 0;
}
