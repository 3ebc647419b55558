// mount(2)/umount2(2) conformance: run as root in a private mount namespace (natively under
// `unshare -m`, or under tsvisor). argv[1] is an empty directory; everything happens below it.
// Prints each call's result and the mountinfo lines below the directory, with the directory
// shown as BASE, peer group numbers renumbered in order of appearance and superblock options
// left out (the host's tmpfs shows its own), so the native and sandboxed runs can be compared.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "mount-util.h"

#define M(what, src, dst, type, flags, data) show(what, mount(src, dst, type, flags, data))
#define U(what, dst, flags) show(what, umount2(dst, flags))

// Peer group ids differ between machines; number them in order of appearance.
static void mode(const char *rel) {
  struct stat st;
  if (stat(p(rel), &st) != 0) printf("stat %s: %s\n", rel, ename(errno));
  else printf("mode %s: %o\n", rel, st.st_mode & 07777);
}

static void create(const char *what, const char *rel) {
  int fd = open(p(rel), O_CREAT | O_WRONLY, 0644);
  printf("%s: %s\n", what, fd >= 0 ? "0" : ename(errno));
  if (fd >= 0) close(fd);
}

int main(int argc, char **argv) {
  if (argc != 2) return 2;
  snprintf(base, sizeof base, "%s", argv[1]);
  setvbuf(stdout, NULL, _IOLBF, 0);
  mkdir(base, 0755);

  M("base tmpfs", "conf", base, "tmpfs", 0, "size=1m");
  const char *dirs[] = {"a", "b", "c", "d", "e", "m"};
  for (unsigned i = 0; i < sizeof dirs / sizeof *dirs; i++) mkdir(p(dirs[i]), 0755);
  close(open(p("f"), O_CREAT | O_WRONLY, 0644));

  // New mounts and their errors.
  M("tmpfs on a", "scratch", p("a"), "tmpfs", MS_NOSUID | MS_NODEV, "mode=0700");
  mode("a");
  M("missing target", "x", p("nope"), "tmpfs", 0, NULL);
  M("file target", "x", p("f"), "tmpfs", 0, NULL);
  M("unknown type", "x", p("b"), "nosuchfs", 0, NULL);
  M("empty type", "x", p("b"), "", 0, NULL);
  M("null type", "x", p("b"), NULL, 0, NULL);
  M("bad size", "x", p("b"), "tmpfs", 0, "size=lots");
  M("MS_NOUSER", "x", p("b"), "tmpfs", MS_NOUSER, NULL);
  M("ext4 missing device", p("sda1"), p("b"), "ext4", 0, NULL);
  M("ext4 on a file", p("f"), p("b"), "ext4", 0, NULL);
  M("ext4 without source", NULL, p("b"), "ext4", 0, NULL);
  M("bad type pointer", "x", p("b"), (const char *)1, 0, NULL);
  M("bad target pointer", "x", (const char *)1, "tmpfs", 0, NULL);
  M("bad data pointer", "x", p("b"), "tmpfs", 0, (const void *)1);
  M("tmpfs ro noatime on b", NULL, p("b"), "tmpfs", MS_RDONLY | MS_NOATIME, NULL);
  create("create in ro b", "b/x");
  M("remount b rw", NULL, p("b"), NULL, MS_REMOUNT, "rw");
  create("create in b", "b/x");
  M("remount non-root", NULL, p("c"), NULL, MS_REMOUNT | MS_BIND, NULL);
  show_mountinfo("new mounts");

  // Bind mounts and per-mount read-only.
  mkdir(p("a/sub"), 0755);
  mkdir(p("a/sub/under"), 0755);
  M("tmpfs on a/sub", "inner", p("a/sub"), "tmpfs", MS_NOEXEC, NULL);
  mkdir(p("a/sub/inner-dir"), 0755);
  M("bind a on c", p("a"), p("c"), NULL, MS_BIND | MS_RDONLY, NULL);
  M("rbind a on d", p("a"), p("d"), NULL, MS_BIND | MS_REC, NULL);
  mode("c/sub/under");
  mode("d/sub/inner-dir");
  M("remount c ro", NULL, p("c"), NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID, NULL);
  create("create in ro c", "c/y");
  create("create in a", "a/y");
  mode("c/y");
  M("bind missing", p("nope"), p("e"), NULL, MS_BIND, NULL);
  M("bind null source", NULL, p("e"), NULL, MS_BIND, NULL);
  M("bind file on dir", p("f"), p("e"), NULL, MS_BIND, NULL);
  show_mountinfo("binds");

  // Moves.
  M("move e (not a mount)", p("e"), p("m"), NULL, MS_MOVE, NULL);
  M("move d into itself", p("d"), p("d/sub"), NULL, MS_MOVE, NULL);
  M("move d to e", p("d"), p("e"), NULL, MS_MOVE, NULL);
  show_mountinfo("moved");

  // Propagation types.
  M("shared a", NULL, p("a"), NULL, MS_SHARED, NULL);
  M("bind a on m", p("a"), p("m"), NULL, MS_BIND, NULL);
  M("two types", NULL, p("a"), NULL, MS_SHARED | MS_PRIVATE, NULL);
  M("type and flag", NULL, p("a"), NULL, MS_PRIVATE | MS_NOSUID, NULL);
  M("type on non-root", NULL, p("a/sub/inner-dir"), NULL, MS_PRIVATE, NULL);
  show_mountinfo("shared");
  M("slave m", NULL, p("m"), NULL, MS_SLAVE, NULL);
  M("shared m again", NULL, p("m"), NULL, MS_SHARED, NULL);
  M("unbindable e", NULL, p("e"), NULL, MS_UNBINDABLE, NULL);
  M("bind unbindable", p("e"), p("b"), NULL, MS_BIND, NULL);
  show_mountinfo("slave");
  M("rprivate base", NULL, base, NULL, MS_PRIVATE | MS_REC, NULL);
  show_mountinfo("private");

  // umount2.
  int fd = open(p("b/x"), O_RDONLY);
  U("umount busy b", p("b"), 0);
  close(fd);
  U("umount b", p("b"), 0);
  U("umount b again", p("b"), 0);
  U("umount missing", p("nope"), 0);
  U("umount bad flags", p("a"), 0x10);
  U("umount bad pointer", (const char *)1, 0);
  U("umount a with children", p("a"), 0);
  U("expire with detach", p("c"), MNT_EXPIRE | MNT_DETACH);
  U("expire non-mount", p("c/sub"), MNT_EXPIRE);
  U("expire c", p("c"), MNT_EXPIRE);
  U("expire c again", p("c"), MNT_EXPIRE);
  if (chdir(p("e/sub")) != 0) perror("chdir");
  U("umount cwd mount", p("e/sub"), 0);
  U("detach e", p("e"), MNT_DETACH);
  fd = open("made-in-detached-cwd", O_CREAT | O_WRONLY, 0644);
  printf("create in detached cwd: %s\n", fd >= 0 ? "0" : ename(errno));
  if (fd >= 0) close(fd);
  if (chdir("/") != 0) perror("chdir /");
  show_mountinfo("unmounted");
  U("detach base", base, MNT_DETACH);
  show_mountinfo("end");

  // pivot_root(".", ".") in a chroot whose root is a mount, then a lazy unmount of the old root.
  M("jail", "jail", base, "tmpfs", 0, NULL);
  mkdir(p("new"), 0755);
  M("new root", "newroot", p("new"), "tmpfs", MS_NOSUID, NULL);
  mkdir(p("new/proc"), 0755);
  mkdir(p("other"), 0755);
  if (chroot(base) != 0 || chdir("/new") != 0) { perror("chroot"); return 1; }
  show("pivot not a mount root", syscall(SYS_pivot_root, "/new/proc", "/new/proc"));
  show("pivot put_old on root mount", syscall(SYS_pivot_root, "/new", "/other"));
  show("pivot new_root is root mount", syscall(SYS_pivot_root, "/other", "/new"));
  show("pivot . .", syscall(SYS_pivot_root, ".", "."));
  U("umount old root", ".", MNT_DETACH);
  if (chdir("/") != 0) perror("chdir");
  M("proc", "proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
  snprintf(base, sizeof base, "%s", "");
  show_mountinfo("pivoted");
  return 0;
}
