// execve from a thread that is not the thread-group leader: Linux's de_thread makes the exec'ing
// thread take over the leader's pid. The parent forks a child; the child records its pid, starts
// a thread that records its own tid and execs this program again; the new image checks that
// gettid() == getpid() == the old pid, that /proc/self/task lists only that pid, and that the
// old thread's tid names no thread any more (tgkill and kill answer ESRCH). The parent prints
// what waitpid returned, compared with the pid it forked. Every line is a 0/1 answer, so the
// output is the same natively and under tsvisor. With the argument `zombie` the leader ends first
// (pthread_exit: a zombie leader until the exec), and the thread execs a moment later.
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static char self[4096];
static char pidArg[32];
static int leaderExits;

static void *execer(void *arg) {
  (void)arg;
  if (leaderExits) usleep(50 * 1000);
  char tidArg[32];
  snprintf(tidArg, sizeof tidArg, "%ld", (long)syscall(SYS_gettid));
  char *argv[] = {self, "after", pidArg, tidArg, NULL};
  execv(self, argv);
  perror("execv");
  _exit(127);
}

static int after(long oldPid, long oldTid) {
  long pid = getpid();
  long tid = syscall(SYS_gettid);
  printf("exec'ing thread was not the leader: %d\n", oldTid != oldPid);
  printf("gettid()==getpid(): %d\n", tid == pid);
  printf("pid kept across exec: %d\n", pid == oldPid);
  DIR *d = opendir("/proc/self/task");
  if (!d) {
    perror("opendir");
    return 1;
  }
  int entries = 0, ownEntry = 0, oldEntry = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.') continue;
    entries++;
    long n = strtol(e->d_name, NULL, 10);
    if (n == pid) ownEntry = 1;
    if (n == oldTid) oldEntry = 1;
  }
  closedir(d);
  printf("/proc/self/task has one entry: %d\n", entries == 1);
  printf("/proc/self/task lists the pid: %d\n", ownEntry);
  printf("/proc/self/task lacks the old tid: %d\n", !oldEntry);
  errno = 0;
  long r = syscall(SYS_tgkill, pid, oldTid, 0);
  printf("tgkill(pid, old tid, 0) fails with ESRCH: %d\n", r == -1 && errno == ESRCH);
  errno = 0;
  r = syscall(SYS_tgkill, pid, pid, 0);
  printf("tgkill(pid, pid, 0) succeeds: %d\n", r == 0);
  errno = 0;
  r = kill((pid_t)oldTid, 0);
  printf("kill(old tid, 0) fails with ESRCH: %d\n", r == -1 && errno == ESRCH);
  fflush(stdout);
  return 7;
}

int main(int argc, char **argv) {
  if (argc == 4 && strcmp(argv[1], "after") == 0) return after(atol(argv[2]), atol(argv[3]));
  leaderExits = argc == 2 && strcmp(argv[1], "zombie") == 0;
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n < 0) {
    perror("readlink");
    return 1;
  }
  self[n] = 0;
  fflush(stdout);
  pid_t child = fork();
  if (child < 0) {
    perror("fork");
    return 1;
  }
  if (child == 0) {
    snprintf(pidArg, sizeof pidArg, "%ld", (long)getpid());
    pthread_t th;
    if (pthread_create(&th, NULL, execer, NULL) != 0) _exit(126);
    // The leader waits (the exec ends it), or ends first.
    if (leaderExits) pthread_exit(NULL);
    for (;;) pause();
  }
  int status = 0;
  pid_t w = waitpid(child, &status, 0);
  printf("waitpid returns the forked pid: %d\n", w == child);
  printf("child exited with 7: %d\n", WIFEXITED(status) && WEXITSTATUS(status) == 7);
  return 0;
}
