// inotify conformance: run as root in a private mount namespace (natively under `unshare -m`,
// or under tsvisor). argv[1] is an empty directory; a tmpfs is mounted on it so that Linux's
// event order is tmpfs's in both runs. Prints every event read as: watch name, event names,
// cookie (0, or the same letter for the two halves of a rename) and the name.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char base[512];
static int wds[16];
static const char *wdnames[16];
static int nwds;
static unsigned cookies[16];
static int ncookies;

static const char *p(const char *rel) {
  static char bufs[4][600];
  static int i;
  char *b = bufs[i++ % 4];
  snprintf(b, 600, "%s/%s", base, rel);
  return b;
}

static const char *ename(int rc) {
  if (rc >= 0) return "ok";
  switch (errno) {
  case EINVAL: return "EINVAL";
  case EBADF: return "EBADF";
  case ENOENT: return "ENOENT";
  case ENOTDIR: return "ENOTDIR";
  case EEXIST: return "EEXIST";
  case EAGAIN: return "EAGAIN";
  case EFAULT: return "EFAULT";
  default: return strerror(errno);
  }
}

static void named(int wd, const char *name) {
  wds[nwds] = wd;
  wdnames[nwds++] = name;
}

static const char *wdname(int wd) {
  for (int i = 0; i < nwds; i++)
    if (wds[i] == wd) return wdnames[i];
  return wd == -1 ? "-1" : "?";
}

static void masknames(unsigned m) {
  static const struct { unsigned bit; const char *name; } names[] = {
      {IN_ACCESS, "ACCESS"}, {IN_MODIFY, "MODIFY"}, {IN_ATTRIB, "ATTRIB"},
      {IN_CLOSE_WRITE, "CLOSE_WRITE"}, {IN_CLOSE_NOWRITE, "CLOSE_NOWRITE"}, {IN_OPEN, "OPEN"},
      {IN_MOVED_FROM, "MOVED_FROM"}, {IN_MOVED_TO, "MOVED_TO"}, {IN_CREATE, "CREATE"},
      {IN_DELETE, "DELETE"}, {IN_DELETE_SELF, "DELETE_SELF"}, {IN_MOVE_SELF, "MOVE_SELF"},
      {IN_UNMOUNT, "UNMOUNT"}, {IN_Q_OVERFLOW, "Q_OVERFLOW"}, {IN_IGNORED, "IGNORED"},
      {IN_ISDIR, "ISDIR"}};
  const char *sep = "";
  for (unsigned i = 0; i < sizeof names / sizeof *names; i++)
    if (m & names[i].bit) { printf("%s%s", sep, names[i].name); sep = "|"; m &= ~names[i].bit; }
  if (m) printf("%s0x%x", sep, m);
}

static char cookiename(unsigned c) {
  if (c == 0) return '0';
  for (int i = 0; i < ncookies; i++)
    if (cookies[i] == c) return 'A' + i;
  cookies[ncookies] = c;
  return 'A' + ncookies++;
}

// Reads and prints what is queued (the fd is non-blocking).
static void drain(int fd, const char *title) {
  char buf[4096] __attribute__((aligned(8)));
  printf("-- %s\n", title);
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0) { if (errno != EAGAIN) printf("read: %s\n", ename(-1)); break; }
    for (char *q = buf; q < buf + n;) {
      struct inotify_event *ev = (struct inotify_event *)q;
      printf("%s ", wdname(ev->wd));
      masknames(ev->mask);
      printf(" %c %s\n", cookiename(ev->cookie), ev->len ? ev->name : "-");
      q += sizeof *ev + ev->len;
    }
  }
}

static void writefile(const char *rel, const char *s) {
  int fd = open(p(rel), O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (write(fd, s, strlen(s)) < 0) perror("write");
  if (write(fd, s, strlen(s)) < 0) perror("write");
  close(fd);
}

int main(int argc, char **argv) {
  if (argc != 2) return 2;
  snprintf(base, sizeof base, "%s", argv[1]);
  setvbuf(stdout, NULL, _IOLBF, 0);
  mkdir(base, 0755);
  if (mount("inotify-test", base, "tmpfs", 0, NULL) != 0) { perror("mount"); return 1; }

  // Errors, in Linux's order of checks.
  printf("init1 bad flags: %s\n", ename(inotify_init1(1)));
  int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  printf("init1: %s, cloexec %d, nonblock %d\n", ename(fd), fcntl(fd, F_GETFD),
         (fcntl(fd, F_GETFL) & O_NONBLOCK) != 0);
  close(open(p("file"), O_CREAT | O_WRONLY, 0644));
  int plain = open(p("file"), O_RDONLY);
  printf("mask 0: %s\n", ename(inotify_add_watch(fd, base, 0)));
  printf("unknown bit: %s\n", ename(inotify_add_watch(-1, base, IN_MODIFY | 0x8000000)));
  printf("bad fd: %s\n", ename(inotify_add_watch(-1, base, IN_MODIFY)));
  printf("not inotify: %s\n", ename(inotify_add_watch(plain, base, IN_MODIFY)));
  printf("add and create: %s\n", ename(inotify_add_watch(fd, base, IN_MODIFY | IN_MASK_ADD | IN_MASK_CREATE)));
  printf("missing: %s\n", ename(inotify_add_watch(fd, p("nope"), IN_MODIFY)));
  printf("bad path: %s\n", ename(inotify_add_watch(fd, (const char *)1, IN_MODIFY)));
  printf("onlydir on file: %s\n", ename(inotify_add_watch(fd, p("file"), IN_MODIFY | IN_ONLYDIR)));
  printf("rm unknown: %s\n", ename(inotify_rm_watch(fd, 99)));
  close(plain);
  char buf[64];
  printf("empty read: %s\n", ename((int)read(fd, buf, sizeof buf)));

  int dir = inotify_add_watch(fd, base, IN_ALL_EVENTS);
  named(dir, "dir");
  printf("dir watch: %s\n", ename(dir));
  printf("same again: %d\n", inotify_add_watch(fd, base, IN_ALL_EVENTS) == dir);
  printf("mask create again: %s\n", ename(inotify_add_watch(fd, base, IN_ALL_EVENTS | IN_MASK_CREATE)));

  // Create, write twice (one MODIFY: identical events merge), close.
  writefile("f", "abc");
  int avail = 0;
  ioctl(fd, FIONREAD, &avail);
  printf("FIONREAD: %d\n", avail);
  struct pollfd pfd = {fd, POLLIN, 0};
  int ready = poll(&pfd, 1, 0);
  printf("poll: %d revents %x\n", ready, pfd.revents);
  printf("read into 8 bytes: %s\n", ename((int)read(fd, buf, 8)));
  drain(fd, "create and write");
  printf("poll after drain: %d\n", poll(&pfd, 1, 0));

  int wf = inotify_add_watch(fd, p("f"), IN_ALL_EVENTS);
  named(wf, "f");
  int r = open(p("f"), O_RDONLY);
  if (read(r, buf, sizeof buf) < 0) perror("read f");
  close(r);
  chmod(p("f"), 0600);
  truncate(p("f"), 1);
  drain(fd, "read, chmod, truncate f");

  rename(p("f"), p("g"));
  link(p("g"), p("h"));
  unlink(p("h"));
  drain(fd, "rename, link, unlink a link");
  unlink(p("g"));
  drain(fd, "unlink the last link");

  // An unlinked file that is still open ends at its last close.
  close(open(p("kept"), O_CREAT | O_WRONLY, 0644));
  int wk = inotify_add_watch(fd, p("kept"), IN_ALL_EVENTS);
  named(wk, "kept");
  int kept = open(p("kept"), O_RDONLY);
  unlink(p("kept"));
  drain(fd, "unlink an open file");
  close(kept);
  drain(fd, "close it");

  mkdir(p("sub"), 0755);
  int ws = inotify_add_watch(fd, p("sub"), IN_ALL_EVENTS);
  named(ws, "sub");
  close(open(p("sub/x"), O_CREAT | O_WRONLY, 0644));
  rename(p("sub/x"), p("x"));
  rename(p("sub"), p("sub2"));
  unlink(p("x"));
  rmdir(p("sub2"));
  drain(fd, "subdirectory");

  // IN_ONESHOT, IN_MASK_ADD, inotify_rm_watch.
  inotify_rm_watch(fd, dir);
  drain(fd, "rm_watch dir");
  close(open(p("o"), O_CREAT | O_WRONLY, 0644));
  int wo = inotify_add_watch(fd, p("o"), IN_MODIFY | IN_ONESHOT);
  named(wo, "o");
  writefile("o", "1");
  writefile("o", "2");
  drain(fd, "oneshot");
  wo = inotify_add_watch(fd, p("o"), IN_MODIFY);
  wds[nwds - 1] = wo;
  printf("mask add: %d\n", inotify_add_watch(fd, p("o"), IN_ATTRIB | IN_MASK_ADD) == wo);
  chmod(p("o"), 0640);
  writefile("o", "3");
  inotify_rm_watch(fd, wo);
  drain(fd, "mask add, then rm_watch");

  // Queue overflow at fs.inotify.max_queued_events.
  FILE *lim = fopen("/proc/sys/fs/inotify/max_queued_events", "r");
  int max = 0;
  if (!lim || fscanf(lim, "%d", &max) != 1) { printf("no max_queued_events\n"); return 1; }
  fclose(lim);
  int wq = inotify_add_watch(fd, p("o"), IN_ATTRIB | IN_MODIFY);
  named(wq, "o");
  int w = open(p("o"), O_WRONLY);
  for (int i = 0; i < max / 2 + 10; i++) {
    if (write(w, "x", 1) != 1) perror("write o");
    fchmod(w, (i & 1) ? 0600 : 0644);
  }
  close(w);
  int events = 0, overflow = 0, last_wd = 0;
  for (;;) {
    static char big[65536] __attribute__((aligned(8)));
    ssize_t n = read(fd, big, sizeof big);
    if (n <= 0) break;
    for (char *q = big; q < big + n;) {
      struct inotify_event *ev = (struct inotify_event *)q;
      if (ev->mask & IN_Q_OVERFLOW) overflow++, last_wd = ev->wd;
      else events++;
      q += sizeof *ev + ev->len;
    }
  }
  printf("overflow: events==max %d, overflow events %d, wd %d\n", events == max, overflow, last_wd);
  inotify_rm_watch(fd, wq);
  drain(fd, "after overflow");

  // A blocking read wakes when a child makes an event.
  int bfd = inotify_init();
  mkdir(p("wait"), 0755);
  int wwait = inotify_add_watch(bfd, p("wait"), IN_CREATE);
  named(wwait, "wait");
  pid_t child = fork();
  if (child == 0) {
    usleep(50000);
    mkdir(p("wait/made"), 0755);
    _exit(0);
  }
  char ebuf[256] __attribute__((aligned(8)));
  ssize_t n = read(bfd, ebuf, sizeof ebuf);
  struct inotify_event *ev = (struct inotify_event *)ebuf;
  printf("blocking read: %zd bytes, ", n);
  masknames(ev->mask);
  printf(" %s\n", ev->name);
  waitpid(child, NULL, 0);

  // Unmounting the filesystem of a watched file.
  mkdir(p("mnt"), 0755);
  mount("inner", p("mnt"), "tmpfs", 0, NULL);
  mkdir(p("mnt/d"), 0755);
  int wm = inotify_add_watch(fd, p("mnt/d"), IN_ALL_EVENTS);
  named(wm, "mnt/d");
  umount2(p("mnt"), 0);
  drain(fd, "unmount");
  close(fd);
  close(bfd);
  umount2(base, MNT_DETACH);
  return 0;
}
