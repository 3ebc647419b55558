// Bind mounts of files onto files: run as root in a private mount namespace (natively under
// `unshare -m`, or under tsvisor). argv[1] is an empty directory; everything happens below it.
// Prints each call's result, what path walks see, and the mountinfo lines below the directory
// (the directory shown as BASE, without ids, device numbers and superblock options).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mount-util.h"

#define M(what, src, dst, type, flags) show(what, mount(src, dst, type, flags, NULL))
#define U(what, dst, flags) show(what, umount2(dst, flags))

static void put(const char *rel, const char *text) {
  int fd = open(p(rel), O_CREAT | O_WRONLY | O_TRUNC, 0644);
  if (fd < 0 || write(fd, text, strlen(text)) < 0) perror(rel);
  if (fd >= 0) close(fd);
}

// What a path walk ending on `rel` finds: its contents (or the errno).
static void cat(const char *rel) {
  char buf[64];
  int fd = open(p(rel), O_RDONLY);
  if (fd < 0) {
    printf("cat %s: %s\n", rel, ename(errno));
    return;
  }
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  buf[n < 0 ? 0 : n] = 0;
  printf("cat %s: '%s'\n", rel, buf);
}

int main(int argc, char **argv) {
  if (argc != 2) return 2;
  snprintf(base, sizeof base, "%s", argv[1]);
  setvbuf(stdout, NULL, _IOLBF, 0);
  mkdir(base, 0755);
  M("base tmpfs", "filebind", base, "tmpfs", 0);
  put("one", "one");
  put("two", "two");
  put("three", "three");
  mkdir(p("d"), 0755);
  mkdir(p("d/sub"), 0755);
  put("d/sub/deep", "deep");
  mkdir(p("e"), 0755);
  put("e/x", "e-x");
  mkdir(p("r"), 0755);
  mkdir(p("nr"), 0755);
  if (link(p("two"), p("two-link")) != 0) perror("link");

  // A file onto a file: the walk sees the bound file, a second link of the covered one does not.
  M("bind one on two", p("one"), p("two"), NULL, MS_BIND);
  cat("two");
  cat("two-link");
  struct stat a, b;
  if (stat(p("one"), &a) == 0 && stat(p("two"), &b) == 0)
    printf("same inode: %s\n", a.st_ino == b.st_ino ? "yes" : "no");
  put("two", "written-through");
  cat("one");
  // Directories and files do not mix.
  M("bind dir on file", p("d"), p("three"), NULL, MS_BIND);
  M("bind file on dir", p("one"), p("d"), NULL, MS_BIND);
  M("tmpfs on file", "x", p("three"), "tmpfs", 0);
  M("bind missing on file", p("nope"), p("three"), NULL, MS_BIND);
  M("bind file on missing", p("one"), p("nope"), NULL, MS_BIND);
  M("bind file in dir on file", p("d/sub/deep"), p("three"), NULL, MS_BIND | MS_REC);
  cat("three");
  show_mountinfo("file binds");

  // A mount point cannot be removed or renamed, in either role; the bound source can.
  show("unlink mount point", unlink(p("two")));
  show("rename mount point", rename(p("two"), p("moved")));
  show("rename over mount point", rename(p("e/x"), p("two")));
  show("rmdir-style on file", rmdir(p("two")));
  show("link through mount", link(p("two"), p("new-link")));
  show("rename source", rename(p("one"), p("one-renamed")));
  show("rename source back", rename(p("one-renamed"), p("one")));
  show("unlink other link", unlink(p("two-link")));

  // Stacked binds and read-only remounts of a file mount.
  M("bind three on two", p("three"), p("two"), NULL, MS_BIND);
  cat("two");
  M("remount two ro", NULL, p("two"), NULL, MS_REMOUNT | MS_BIND | MS_RDONLY);
  int fd = open(p("two"), O_WRONLY);
  printf("write open on ro file mount: %s\n", fd >= 0 ? "0" : ename(errno));
  if (fd >= 0) close(fd);
  show_mountinfo("stacked");
  U("umount two (top)", p("two"), 0);
  cat("two");

  // Binding a directory that holds a file mount: only MS_REC brings the file mount along.
  M("bind one on e/x", p("one"), p("e/x"), NULL, MS_BIND);
  M("rbind e on r", p("e"), p("r"), NULL, MS_BIND | MS_REC);
  M("bind e on nr", p("e"), p("nr"), NULL, MS_BIND);
  cat("r/x");
  cat("nr/x");
  show_mountinfo("rbind");
  U("umount r/x", p("r/x"), 0);
  cat("r/x");
  U("umount r", p("r"), 0);
  U("umount nr", p("nr"), 0);
  U("umount e/x", p("e/x"), 0);
  cat("e/x");

  // Unmounting: busy while a file is open through the mount, lazily even then.
  fd = open(p("two"), O_RDONLY);
  U("umount busy file mount", p("two"), 0);
  U("detach busy file mount", p("two"), MNT_DETACH);
  char buf[16] = {0};
  printf("read after detach: %zd '%s'\n", pread(fd, buf, sizeof buf - 1, 0), buf);
  close(fd);
  cat("two");
  U("umount plain file", p("two"), 0);
  U("umount three", p("three"), 0);
  cat("three");
  show("unlink after umount", unlink(p("two")));
  show_mountinfo("after umount");

  // A device node onto a file (the usual way to mask one).
  M("bind /dev/null on three", "/dev/null", p("three"), NULL, MS_BIND);
  cat("three");
  fd = open(p("three"), O_WRONLY);
  printf("write to masked file: %zd\n", fd < 0 ? -1 : write(fd, "zz", 2));
  if (fd >= 0) close(fd);
  U("umount masked", p("three"), 0);
  cat("three");
  U("umount base", base, MNT_DETACH);
  return 0;
}
