/*
 * A vfork child runs in its parent's address space (on the host too: a thread of the parent's
 * host process). Its failed exec and _exit must not take the parent with it; a second child
 * that execs must leave the parent's memory intact.
 */
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
  static char canary[] = "parent memory intact";
  int st;
  pid_t p = vfork();
  if (p == 0) {
    execl("/nonexistent", "x", (char *)0);
    _exit(127);
  }
  waitpid(p, &st, 0);
  printf("failed exec: child status %d\n", WEXITSTATUS(st));
  p = vfork();
  if (p == 0) {
    execl("/bin/busybox", "busybox", "true", (char *)0);
    _exit(126);
  }
  waitpid(p, &st, 0);
  printf("exec: child status %d, %s\n", WEXITSTATUS(st), canary);
  return 0;
}
