// The host calls of a hostfs volume (mknodat, xattrs, renameat2, fallocate), run under tsvisor on
// a volume: prints each result; the test then checks the host directory. Escapes through a
// symlink or ".." must stay inside the sandbox. Usage: hostfs-calls <volume dir>
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

static void show(const char *what, long r) {
  if (r < 0)
    printf("%s = -1 %s\n", what, strerrorname_np(errno));
  else
    printf("%s = %ld\n", what, r);
}

int main(int argc, char **argv) {
  if (argc < 2 || chdir(argv[1])) return perror("chdir"), 1;
  char buf[64];
  show("mkfifo(fifo)", mkfifo("fifo", 0640));
  show("mknod(dev, char 1:3)", mknod("dev", S_IFCHR | 0600, makedev(1, 3)));
  int fd = open("f", O_CREAT | O_RDWR, 0644);
  show("open(f)", fd < 0 ? -1 : 0);
  show("setxattr(f, user.x)", setxattr("f", "user.x", "v", 1, 0));
  show("setxattr(f, user.x, CREATE)", setxattr("f", "user.x", "v", 1, XATTR_CREATE));
  long n = getxattr("f", "user.x", buf, sizeof buf);
  show("getxattr(f, user.x)", n);
  show("fsetxattr(f, user.y)", fsetxattr(fd, "user.y", "yy", 2, 0));
  show("listxattr(f)", listxattr("f", buf, sizeof buf));
  show("removexattr(f, user.y)", removexattr("f", "user.y"));
  show("setxattr(., user.dir)", setxattr(".", "user.dir", "D", 1, 0));
  show("setxattr(f, trusted.x)", setxattr("f", "trusted.x", "T", 1, 0));
  show("fallocate(f, 0, 0, 8192)", fallocate(fd, 0, 0, 8192));
  struct stat st;
  fstat(fd, &st);
  printf("  size %ld\n", (long)st.st_size);
  show("fallocate(f, KEEP_SIZE, 8192, 4096)", fallocate(fd, FALLOC_FL_KEEP_SIZE, 8192, 4096));
  fstat(fd, &st);
  printf("  size %ld\n", (long)st.st_size);
  close(fd);
  int a = open("a", O_CREAT | O_WRONLY, 0644);
  show("write(a)", write(a, "A", 1));
  close(a);
  int b = open("b", O_CREAT | O_WRONLY, 0644);
  show("write(b)", write(b, "B", 1));
  close(b);
  show("renameat2(a, b, EXCHANGE)", renameat2(AT_FDCWD, "a", AT_FDCWD, "b", RENAME_EXCHANGE));
  show("renameat2(a, b, NOREPLACE)", renameat2(AT_FDCWD, "a", AT_FDCWD, "b", RENAME_NOREPLACE));
  // Escapes: ".." of the volume root is the sandbox's /, and a symlink resolves in the sandbox.
  show("symlink(esc -> ../outside)", symlink("../outside", "esc"));
  show("setxattr(esc, user.x)", setxattr("esc", "user.x", "v", 1, 0));
  show("lsetxattr(esc, user.x)", lsetxattr("esc", "user.x", "v", 1, 0));
  show("setxattr(../outside, user.x)", setxattr("../outside", "user.x", "v", 1, 0));
  show("mkfifo(../fifo2)", mkfifo("../fifo2", 0640));
  return 0;
}
