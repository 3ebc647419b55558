/*
 * Tries to leave the sandbox's view; prints one line per attempt with what happened. Run with
 * a volume at /data (holding host symlinks `abs -> /etc` and `up -> ../../../..`) and a
 * read-only volume at /ro. The test checks the host afterwards.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <unistd.h>

static void show(const char *what, long r) {
  printf("%s: %s\n", what, r < 0 ? strerrorname_np(errno) : "ok");
  fflush(stdout);
}

static long create(const char *path) {
  int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
  if (fd < 0) return -1;
  write(fd, "escaped?\n", 9);
  close(fd);
  return 0;
}

int main(int argc, char **argv) {
  const char *tag = argc > 1 ? argv[1] : "x";
  char path[256], cwd[256];
  /* An absolute host symlink inside a volume names the sandbox's /etc, not the host's. */
  snprintf(path, sizeof path, "/data/abs/tsvisor-escape-%s", tag);
  show("create through abs symlink", create(path));
  /* `..` past the volume's root stays in the sandbox's tree. */
  snprintf(path, sizeof path, "/data/up/etc/tsvisor-escape-up-%s", tag);
  show("create through up symlink", create(path));
  snprintf(path, sizeof path, "/data/../../../../etc/tsvisor-escape-dots-%s", tag);
  show("create through ..", create(path));
  /* chdir("..") from / stays at /. */
  chdir("/");
  for (int i = 0; i < 20; i++) chdir("..");
  printf("cwd after 20 x ..: %s\n", getcwd(cwd, sizeof cwd));
  /* /proc/1/root and /proc/self/root are the sandbox's root. */
  snprintf(path, sizeof path, "/proc/1/root/etc/tsvisor-escape-proc-%s", tag);
  show("create through /proc/1/root", create(path));
  snprintf(path, sizeof path, "/proc/self/root/etc/tsvisor-escape-self-%s", tag);
  show("create through /proc/self/root", create(path));
  /* Host fds of the supervisor or the stub are not the sandbox's: only 0, 1, 2 exist. */
  int open_fds = 0;
  for (int fd = 3; fd < 4096; fd++)
    if (fcntl(fd, F_GETFD) >= 0) open_fds++;
  printf("open fds above 2: %d\n", open_fds);
  /* A read-only volume refuses writes. */
  show("create in read-only volume", create("/ro/tsvisor-escape"));
  /* No tracing of the parent (the supervisor's view) or anyone. */
  printf("ptrace attach parent: %s\n", ptrace(PTRACE_ATTACH, getppid(), 0, 0) < 0 ? "refused" : "allowed");
  printf("ptrace attach 1: %s\n", ptrace(PTRACE_ATTACH, 1, 0, 0) < 0 ? "refused" : "allowed");
  printf("done\n");
  return 0;
}
