// Extended attribute syscalls against Linux: run natively on a tmpfs (/dev/shm) and under tsvisor
// (on its /tmp tmpfs); both must print the same lines. Usage: xattr <dir on a tmpfs>, or
// xattr --ro <path>... to try changes on read-only mounts.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

struct xargs {
  uint64_t value;
  uint32_t size;
  uint32_t flags;
};
#define NR_setxattrat 463
#define NR_getxattrat 464
#define NR_listxattrat 465
#define NR_removexattrat 466

static void show(const char *what, long r) {
  if (r < 0)
    printf("%s = -1 %s\n", what, strerrorname_np(errno));
  else
    printf("%s = %ld\n", what, r);
}

/* Prints a NUL-separated name list sorted (order is the filesystem's business). */
static void names(const char *what, const char *buf, long n) {
  const char *v[64];
  int c = 0;
  for (long i = 0; i < n && c < 64; i += (long)strlen(buf + i) + 1) v[c++] = buf + i;
  for (int i = 0; i < c; i++)
    for (int j = i + 1; j < c; j++)
      if (strcmp(v[j], v[i]) < 0) {
        const char *s = v[i];
        v[i] = v[j];
        v[j] = s;
      }
  printf("  %s:", what);
  for (int i = 0; i < c; i++) printf(" %s", v[i]);
  printf("\n");
}

static char path[600], dir[512], link_[600], fifo[600], ufile[600];
/* An address nothing maps, hidden from gcc's buffer-size checks. */
static void *volatile bad = (void *)1;

static void as_user(void) {
  pid_t pid = fork();
  if (pid == 0) {
    char buf[64];
    if (setresgid(1000, 1000, 1000) || setresuid(1000, 1000, 1000)) _exit(9);
    show("user getxattr(0600 root file)", getxattr(path, "user.a", buf, sizeof buf));
    show("user setxattr(0600 root file)", setxattr(path, "user.n", "v", 1, 0));
    show("user getxattr(trusted.t)", getxattr(path, "trusted.t", buf, sizeof buf));
    show("user setxattr(trusted.u)", setxattr(ufile, "trusted.u", "v", 1, 0));
    show("user setxattr(security.s)", setxattr(ufile, "security.s", "v", 1, 0));
    show("user getxattr(security.s)", getxattr(path, "security.s", buf, sizeof buf));
    show("user setxattr(own file)", setxattr(ufile, "user.mine", "v", 1, 0));
    chmod(ufile, 0400);
    show("user setxattr(own 0400 file)", setxattr(ufile, "user.mine2", "v", 1, 0));
    show("user getxattr(own 0400 file)", getxattr(ufile, "user.mine", buf, sizeof buf));
    chmod(ufile, 0200);
    show("user getxattr(own 0200 file)", getxattr(ufile, "user.mine", buf, sizeof buf));
    chmod(path, 0644);
    long n = listxattr(path, buf, sizeof buf);
    show("user listxattr(root file)", n);
    if (n > 0) names("names", buf, n);
    chmod(path, 0600);
    fflush(stdout);
    _exit(0);
  }
  int st;
  waitpid(pid, &st, 0);
  printf("user child status %d\n", WEXITSTATUS(st));
}

/* Changes on a read-only mount: EROFS, after the arguments are copied. */
static int read_only(int argc, char **argv) {
  for (int i = 2; i < argc; i++) {
    printf("%s:\n", argv[i]);
    show("  setxattr(user.x)", setxattr(argv[i], "user.x", "v", 1, 0));
    show("  setxattr(user.x, flags 4)", setxattr(argv[i], "user.x", "v", 1, 4));
    show("  removexattr(user.x)", removexattr(argv[i], "user.x"));
    show("  getxattr(user.x)", getxattr(argv[i], "user.x", NULL, 0));
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "--ro") == 0) return read_only(argc, argv);
  const char *base = argc > 1 ? argv[1] : "/tmp";
  char buf[256];
  char big[70000];
  memset(big, 'x', sizeof big);
  snprintf(dir, sizeof dir, "%s/xattr-test.%d", base, (int)getpid());
  if (mkdir(dir, 0755)) return perror("mkdir"), 1;
  snprintf(path, sizeof path, "%s/f", dir);
  snprintf(link_, sizeof link_, "%s/l", dir);
  snprintf(fifo, sizeof fifo, "%s/p", dir);
  snprintf(ufile, sizeof ufile, "%s/u", dir);
  close(open(path, O_CREAT | O_WRONLY, 0600));
  close(open(ufile, O_CREAT | O_WRONLY, 0600));
  if (chown(ufile, 1000, 1000)) perror("chown");
  symlink("f", link_);
  mkfifo(fifo, 0644);

  // Set, get, sizes.
  show("setxattr(user.a)", setxattr(path, "user.a", "hello", 5, 0));
  show("getxattr(size 0)", getxattr(path, "user.a", NULL, 0));
  long n = getxattr(path, "user.a", buf, sizeof buf);
  show("getxattr", n);
  if (n > 0) printf("  value %.*s\n", (int)n, buf);
  show("getxattr(size 2)", getxattr(path, "user.a", buf, 2));
  show("getxattr(bad buffer)", getxattr(path, "user.a", bad, 64));
  show("getxattr(missing)", getxattr(path, "user.missing", buf, sizeof buf));
  show("getxattr(unknown namespace)", getxattr(path, "foo.bar", buf, sizeof buf));
  show("setxattr(unknown namespace)", setxattr(path, "foo.bar", "v", 1, 0));
  show("setxattr(no dot)", setxattr(path, "user", "v", 1, 0));
  show("setxattr(empty value)", setxattr(path, "user.empty", "", 0, 0));
  show("getxattr(empty value)", getxattr(path, "user.empty", buf, sizeof buf));
  show("setxattr(CREATE existing)", setxattr(path, "user.a", "x", 1, XATTR_CREATE));
  show("setxattr(REPLACE missing)", setxattr(path, "user.b", "x", 1, XATTR_REPLACE));
  show("setxattr(REPLACE existing)", setxattr(path, "user.a", "world!", 6, XATTR_REPLACE));
  show("setxattr(CREATE new)", setxattr(path, "user.b", "b", 1, XATTR_CREATE));
  show("setxattr(flags 4)", setxattr(path, "user.c", "c", 1, 4));
  show("setxattr(flags 4, empty name)", setxattr(path, "", "c", 1, 4));
  show("setxattr(empty name)", setxattr(path, "", "c", 1, 0));
  show("setxattr(bad name)", setxattr(path, (const char *)1, "c", 1, 0));
  show("setxattr(bad value)", setxattr(path, "user.c", bad, 4, 0));
  char longname[300];
  memset(longname, 'n', sizeof longname);
  memcpy(longname, "user.", 5);
  longname[255] = 0;
  show("setxattr(255-byte name)", setxattr(path, longname, "L", 1, 0));
  show("getxattr(255-byte name)", getxattr(path, longname, buf, sizeof buf));
  longname[255] = 'n';
  longname[256] = 0;
  show("setxattr(256-byte name)", setxattr(path, longname, "L", 1, 0));
  show("getxattr(256-byte name)", getxattr(path, longname, buf, sizeof buf));
  show("getxattr(256-byte name, missing file)", getxattr("/nonexistent", longname, buf, sizeof buf));
  show("getxattr(empty name, missing file)", getxattr("/nonexistent", "", buf, sizeof buf));
  show("setxattr(65537 bytes)", setxattr(path, "user.big", big, 65537, 0));
  show("setxattr(2000 bytes)", setxattr(path, "user.big", big, 2000, 0));
  show("getxattr(2000, size 0)", getxattr(path, "user.big", NULL, 0));
  show("removexattr(user.big)", removexattr(path, "user.big"));
  show("removexattr(longname)", removexattr(path, "user.nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn"));
  show("setxattr(trusted.t)", setxattr(path, "trusted.t", "T", 1, 0));
  show("setxattr(security.s)", setxattr(path, "security.s", "S", 1, 0));

  // Lists.
  show("listxattr(size 0)", listxattr(path, NULL, 0));
  n = listxattr(path, buf, sizeof buf);
  show("listxattr", n);
  if (n > 0) names("names", buf, n);
  show("listxattr(size 3)", listxattr(path, buf, 3));
  show("listxattr(bad buffer)", listxattr(path, bad, 200));
  show("listxattr(missing file)", listxattr("/nonexistent", buf, sizeof buf));

  // Remove.
  show("removexattr(user.b)", removexattr(path, "user.b"));
  show("removexattr(user.b again)", removexattr(path, "user.b"));
  show("removexattr(empty name)", removexattr(path, ""));
  show("removexattr(unknown namespace)", removexattr(path, "foo.bar"));

  // Symlinks, fifos, directories.
  show("getxattr(symlink, follows)", getxattr(link_, "user.a", buf, sizeof buf));
  show("lgetxattr(symlink)", lgetxattr(link_, "user.a", buf, sizeof buf));
  show("lsetxattr(symlink, user.a)", lsetxattr(link_, "user.a", "v", 1, 0));
  show("lsetxattr(symlink, trusted.a)", lsetxattr(link_, "trusted.a", "v", 1, 0));
  show("lgetxattr(symlink, trusted.a)", lgetxattr(link_, "trusted.a", buf, sizeof buf));
  show("llistxattr(symlink)", llistxattr(link_, buf, sizeof buf));
  show("lremovexattr(symlink, user.a)", lremovexattr(link_, "user.a"));
  show("setxattr(fifo, user.a)", setxattr(fifo, "user.a", "v", 1, 0));
  show("getxattr(fifo, user.a)", getxattr(fifo, "user.a", buf, sizeof buf));
  show("setxattr(fifo, trusted.a)", setxattr(fifo, "trusted.a", "v", 1, 0));
  show("setxattr(dir, user.d)", setxattr(dir, "user.d", "D", 1, 0));
  show("getxattr(dir, user.d)", getxattr(dir, "user.d", buf, sizeof buf));
  chmod(dir, 01777);
  show("setxattr(sticky dir, root)", setxattr(dir, "user.s", "D", 1, 0));
  chmod(dir, 0755);

  // fd variants.
  int fd = open(path, O_RDONLY);
  show("fsetxattr(user.f)", fsetxattr(fd, "user.f", "F", 1, 0));
  show("fgetxattr(user.f)", fgetxattr(fd, "user.f", buf, sizeof buf));
  show("fgetxattr(size 0)", fgetxattr(fd, "user.f", NULL, 0));
  show("flistxattr(size 0)", flistxattr(fd, NULL, 0));
  show("fremovexattr(user.f)", fremovexattr(fd, "user.f"));
  show("fgetxattr(bad fd, empty name)", fgetxattr(999, "", buf, sizeof buf));
  show("fsetxattr(bad fd, flags 4)", fsetxattr(999, "user.x", "x", 1, 4));
  show("fgetxattr(fd, empty name)", fgetxattr(fd, "", buf, sizeof buf));
  show("fsetxattr(fd, flags 8)", fsetxattr(fd, "user.x", "x", 1, 8));
  show("flistxattr(bad fd)", flistxattr(999, buf, sizeof buf));
  show("fremovexattr(bad fd)", fremovexattr(999, "user.x"));
  int pfd = open(path, O_PATH);
  show("fgetxattr(O_PATH)", fgetxattr(pfd, "user.a", buf, sizeof buf));
  show("fsetxattr(O_PATH)", fsetxattr(pfd, "user.p", "P", 1, 0));
  show("flistxattr(O_PATH)", flistxattr(pfd, buf, sizeof buf));
  show("fremovexattr(O_PATH)", fremovexattr(pfd, "user.p"));
  int pipefd[2];
  if (pipe(pipefd) == 0) {
    show("fsetxattr(pipe)", fsetxattr(pipefd[0], "user.p", "P", 1, 0));
    show("fgetxattr(pipe)", fgetxattr(pipefd[0], "user.p", buf, sizeof buf));
    show("flistxattr(pipe)", flistxattr(pipefd[0], buf, sizeof buf));
  }

  // The *xattrat calls (Linux 6.13).
  struct xargs xa = {(uint64_t)(uintptr_t) "at!", 3, 0};
  show("setxattrat", syscall(NR_setxattrat, AT_FDCWD, path, 0, "user.at", &xa, sizeof xa));
  xa.flags = XATTR_CREATE;
  show("setxattrat(CREATE existing)", syscall(NR_setxattrat, AT_FDCWD, path, 0, "user.at", &xa, sizeof xa));
  xa.flags = 0;
  show("setxattrat(usize 8)", syscall(NR_setxattrat, AT_FDCWD, path, 0, "user.at", &xa, 8));
  struct { struct xargs a; uint64_t tail; } ext = {{(uint64_t)(uintptr_t) "ext", 3, 0}, 0};
  show("setxattrat(usize 24, zero tail)", syscall(NR_setxattrat, AT_FDCWD, path, 0, "user.ext", &ext, sizeof ext));
  ext.tail = 1;
  show("setxattrat(usize 24, tail)", syscall(NR_setxattrat, AT_FDCWD, path, 0, "user.ext", &ext, sizeof ext));
  show("setxattrat(usize 8192)", syscall(NR_setxattrat, AT_FDCWD, path, 0, "user.ext", &ext, 8192));
  show("setxattrat(bad args)", syscall(NR_setxattrat, AT_FDCWD, path, 0, "user.ext", (void *)1, 16));
  show("setxattrat(at_flags 1)", syscall(NR_setxattrat, AT_FDCWD, path, 1, "user.ext", &xa, sizeof xa));
  show("setxattrat(symlink, NOFOLLOW)",
       syscall(NR_setxattrat, AT_FDCWD, link_, AT_SYMLINK_NOFOLLOW, "user.ext", &xa, sizeof xa));
  int dfd = open(dir, O_RDONLY | O_DIRECTORY);
  xa.value = (uint64_t)(uintptr_t) "rel";
  show("setxattrat(dirfd, f)", syscall(NR_setxattrat, dfd, "f", 0, "user.rel", &xa, sizeof xa));
  show("setxattrat(fd, \"\", EMPTY_PATH)",
       syscall(NR_setxattrat, fd, "", AT_EMPTY_PATH, "user.empty_path", &xa, sizeof xa));
  show("setxattrat(fd, NULL, EMPTY_PATH)",
       syscall(NR_setxattrat, fd, NULL, AT_EMPTY_PATH, "user.null_path", &xa, sizeof xa));
  show("setxattrat(fd, \"\", 0)", syscall(NR_setxattrat, fd, "", 0, "user.e", &xa, sizeof xa));
  show("setxattrat(O_PATH, \"\", EMPTY_PATH)",
       syscall(NR_setxattrat, pfd, "", AT_EMPTY_PATH, "user.o", &xa, sizeof xa));
  memset(buf, 0, sizeof buf);
  struct xargs ga = {(uint64_t)(uintptr_t)buf, sizeof buf, 0};
  n = syscall(NR_getxattrat, AT_FDCWD, path, 0, "user.rel", &ga, sizeof ga);
  show("getxattrat", n);
  if (n > 0) printf("  value %.*s\n", (int)n, buf);
  ga.size = 0;
  show("getxattrat(size 0)", syscall(NR_getxattrat, AT_FDCWD, path, 0, "user.rel", &ga, sizeof ga));
  ga.size = 1;
  show("getxattrat(size 1)", syscall(NR_getxattrat, AT_FDCWD, path, 0, "user.rel", &ga, sizeof ga));
  ga.size = sizeof buf;
  ga.flags = 1;
  show("getxattrat(flags 1)", syscall(NR_getxattrat, AT_FDCWD, path, 0, "user.rel", &ga, sizeof ga));
  ga.flags = 0;
  show("getxattrat(O_PATH, EMPTY_PATH)", syscall(NR_getxattrat, pfd, "", AT_EMPTY_PATH, "user.a", &ga, sizeof ga));
  show("getxattrat(fd, EMPTY_PATH)", syscall(NR_getxattrat, fd, "", AT_EMPTY_PATH, "user.empty_path", &ga, sizeof ga));
  show("getxattrat(usize 4)", syscall(NR_getxattrat, AT_FDCWD, path, 0, "user.rel", &ga, 4));
  n = syscall(NR_listxattrat, AT_FDCWD, path, 0, buf, sizeof buf);
  show("listxattrat", n);
  if (n > 0) names("names", buf, n);
  show("listxattrat(symlink, NOFOLLOW)", syscall(NR_listxattrat, AT_FDCWD, link_, AT_SYMLINK_NOFOLLOW, buf, sizeof buf));
  show("listxattrat(at_flags 0x2)", syscall(NR_listxattrat, AT_FDCWD, path, 2, buf, sizeof buf));
  show("listxattrat(fd, EMPTY_PATH, size 0)", syscall(NR_listxattrat, fd, "", AT_EMPTY_PATH, NULL, 0));
  show("removexattrat", syscall(NR_removexattrat, AT_FDCWD, path, 0, "user.rel"));
  show("removexattrat(again)", syscall(NR_removexattrat, AT_FDCWD, path, 0, "user.rel"));
  show("removexattrat(dirfd, f)", syscall(NR_removexattrat, dfd, "f", 0, "user.ext"));
  show("removexattrat(fd, EMPTY_PATH)", syscall(NR_removexattrat, fd, "", AT_EMPTY_PATH, "user.empty_path"));
  show("removexattrat(at_flags 1)", syscall(NR_removexattrat, AT_FDCWD, path, 1, "user.at"));
  show("removexattrat(empty name)", syscall(NR_removexattrat, AT_FDCWD, path, 0, ""));

  // Unprivileged rules.
  fflush(stdout);
  as_user();

  n = listxattr(path, buf, sizeof buf);
  show("final listxattr", n);
  if (n > 0) names("names", buf, n);
  unlink(path);
  unlink(ufile);
  unlink(link_);
  unlink(fifo);
  rmdir(dir);
  return 0;
}
