/*
 * Scheduling policy calls, affinity, fallocate and the other byte-range calls, fcntl(F_NOTIFY)
 * and statvfs, as Linux answers them. Run natively (as root) and under tsvisor; both must print
 * the same lines. Only deterministic facts are printed: return values, errnos, fields.
 * argv[1] is a writable directory on tmpfs (fallocate's behaviour depends on the filesystem).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <linux/sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <dirent.h>
#include <poll.h>
#include <signal.h>
#include <sys/pidfd.h>
#include <sys/sendfile.h>
#include <linux/close_range.h>
#include <linux/kcmp.h>
#include <linux/membarrier.h>
#ifndef MEMBARRIER_CMD_GET_REGISTRATIONS
#define MEMBARRIER_CMD_GET_REGISTRATIONS (1 << 9) /* Linux 6.3; the uapi headers here are 6.1 */
#endif
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct attr {
  uint32_t size, policy;
  uint64_t flags;
  int32_t nice;
  uint32_t priority;
  uint64_t runtime, deadline, period;
  uint32_t util_min, util_max;
};

static const char *en(int e) {
  switch (e) {
  case 0: return "0";
  case EINVAL: return "EINVAL";
  case EBADF: return "EBADF";
  case EFAULT: return "EFAULT";
  case EPERM: return "EPERM";
  case ESRCH: return "ESRCH";
  case E2BIG: return "E2BIG";
  case ENOTDIR: return "ENOTDIR";
  case ESPIPE: return "ESPIPE";
  case EISDIR: return "EISDIR";
  case EOPNOTSUPP: return "EOPNOTSUPP";
  case EACCES: return "EACCES";
  case ENODEV: return "ENODEV";
  case EFBIG: return "EFBIG";
  case ENOENT: return "ENOENT";
  case EXDEV: return "EXDEV";
  case EOVERFLOW: return "EOVERFLOW";
  case EAGAIN: return "EAGAIN";
  case ECHILD: return "ECHILD";
  default: return strerror(e);
  }
}

#define SHOW(label, expr)                                                                          \
  do {                                                                                             \
    errno = 0;                                                                                     \
    long r_ = (long)(expr);                                                                        \
    printf("%s = %ld %s\n", label, r_, r_ < 0 ? en(errno) : "");                                   \
  } while (0)

static long setattr(pid_t pid, struct attr *a, unsigned flags) {
  return syscall(SYS_sched_setattr, pid, a, flags);
}
static long getattr(pid_t pid, struct attr *a, unsigned size, unsigned flags) {
  return syscall(SYS_sched_getattr, pid, a, size, flags);
}

static void show_attr(const char *label, pid_t pid) {
  struct attr a;
  memset(&a, 0xee, sizeof a);
  long r = getattr(pid, &a, sizeof a, 0);
  if (r < 0) {
    printf("%s getattr %s\n", label, en(errno));
    return;
  }
  printf("%s size=%u policy=%u flags=%llu nice=%d prio=%u util=%u..%u\n", label, a.size, a.policy,
         (unsigned long long)a.flags, a.nice, a.priority, a.util_min, a.util_max);
}

static void policy_ranges(void) {
  int pols[] = {SCHED_OTHER, SCHED_FIFO, SCHED_RR, SCHED_BATCH, SCHED_IDLE, 6, 4, 7, -1};
  for (unsigned i = 0; i < sizeof pols / sizeof *pols; i++) {
    errno = 0;
    int mx = sched_get_priority_max(pols[i]);
    int ex = errno;
    errno = 0;
    int mn = sched_get_priority_min(pols[i]);
    printf("policy %d: max %d %s min %d %s\n", pols[i], mx, mx < 0 ? en(ex) : "", mn, mn < 0 ? en(errno) : "");
  }
}

/* Fields 18 (priority), 19 (nice), 40 (rt_priority) and 41 (policy) of /proc/self/stat. */
static void show_stat(const char *label) {
  char buf[2048];
  int fd = open("/proc/self/stat", O_RDONLY);
  long n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return;
  buf[n] = 0;
  char *p = strrchr(buf, ')');
  long f[64] = {0};
  int i = 3;
  for (char *tok = strtok(p + 2, " "); tok && i < 64; tok = strtok(NULL, " "), i++) f[i] = atol(tok);
  printf("%s: stat priority %ld nice %ld rt_priority %ld policy %ld\n", label, f[18], f[19], f[40], f[41]);
}

static void policy_calls(void) {
  struct sched_param p = {0};
  SHOW("getscheduler(0)", sched_getscheduler(0));
  SHOW("getscheduler(-1)", sched_getscheduler(-1));
  SHOW("getscheduler(999999)", sched_getscheduler(999999));
  p.sched_priority = 5;
  SHOW("setscheduler(OTHER, 5)", sched_setscheduler(0, SCHED_OTHER, &p));
  p.sched_priority = 0;
  SHOW("setscheduler(FIFO, 0)", sched_setscheduler(0, SCHED_FIFO, &p));
  p.sched_priority = 100;
  SHOW("setscheduler(FIFO, 100)", sched_setscheduler(0, SCHED_FIFO, &p));
  p.sched_priority = -1;
  SHOW("setscheduler(RR, -1)", sched_setscheduler(0, SCHED_RR, &p));
  p.sched_priority = 1;
  SHOW("setscheduler(4, 1)", sched_setscheduler(0, 4, &p));
  SHOW("setscheduler(-5)", syscall(SYS_sched_setscheduler, 0, -5, &p));
  SHOW("setscheduler(NULL)", syscall(SYS_sched_setscheduler, 0, SCHED_OTHER, NULL));
  SHOW("setscheduler(bad ptr)", syscall(SYS_sched_setscheduler, 0, SCHED_OTHER, (void *)8));
  SHOW("setscheduler(pid -1)", sched_setscheduler(-1, SCHED_OTHER, &p));
  p.sched_priority = 0;
  SHOW("setscheduler(pid 999999)", sched_setscheduler(999999, SCHED_OTHER, &p));

  p.sched_priority = 7;
  SHOW("setscheduler(RR, 7)", sched_setscheduler(0, SCHED_RR, &p));
  SHOW("getscheduler", sched_getscheduler(0));
  show_stat("RR 7");
  p.sched_priority = -9;
  SHOW("getparam", sched_getparam(0, &p));
  printf("  priority %d\n", p.sched_priority);
  SHOW("getparam(NULL)", syscall(SYS_sched_getparam, 0, NULL));
  struct timespec ts = {-1, -1};
  SHOW("rr_get_interval(RR)", sched_rr_get_interval(0, &ts));
  printf("  %ld.%09ld\n", (long)ts.tv_sec, ts.tv_nsec);
  SHOW("rr_get_interval(-1)", sched_rr_get_interval(-1, &ts));
  SHOW("rr_get_interval(bad ptr)", syscall(SYS_sched_rr_get_interval, 0, (void *)8));
  p.sched_priority = 9;
  SHOW("setparam(9)", sched_setparam(0, &p));
  p.sched_priority = 0;
  sched_getparam(0, &p);
  printf("  priority %d\n", p.sched_priority);
  p.sched_priority = 0;
  SHOW("setparam(0) under RR", sched_setparam(0, &p));
  show_attr("attr RR", 0);

  p.sched_priority = 3;
  SHOW("setscheduler(FIFO|RESET_ON_FORK, 3)", sched_setscheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK, &p));
  SHOW("getscheduler", sched_getscheduler(0));
  show_attr("attr FIFO reset", 0);
  SHOW("setpriority(-3)", setpriority(PRIO_PROCESS, 0, -3));
  pid_t c = fork();
  if (c == 0) {
    printf("child: policy %d nice %d\n", sched_getscheduler(0), getpriority(PRIO_PROCESS, 0));
    fflush(stdout);
    _exit(0);
  }
  waitpid(c, NULL, 0);
  p.sched_priority = 3;
  SHOW("setscheduler(FIFO, 3)", sched_setscheduler(0, SCHED_FIFO, &p));
  c = fork();
  if (c == 0) {
    struct sched_param q;
    sched_getparam(0, &q);
    printf("child: policy %d prio %d nice %d\n", sched_getscheduler(0), q.sched_priority,
           getpriority(PRIO_PROCESS, 0));
    fflush(stdout);
    _exit(0);
  }
  waitpid(c, NULL, 0);

  p.sched_priority = 0;
  SHOW("setscheduler(BATCH)", sched_setscheduler(0, SCHED_BATCH, &p));
  SHOW("getscheduler", sched_getscheduler(0));
  SHOW("rr_get_interval(BATCH)", sched_rr_get_interval(0, &ts));
  printf("  under a second: %d\n", ts.tv_sec == 0 && ts.tv_nsec >= 0 && ts.tv_nsec < 1000000000);
  SHOW("setscheduler(IDLE)", sched_setscheduler(0, SCHED_IDLE, &p));
  show_attr("attr IDLE", 0);
  show_stat("IDLE");
  SHOW("setscheduler(OTHER)", sched_setscheduler(0, SCHED_OTHER, &p));
  SHOW("setpriority(0)", setpriority(PRIO_PROCESS, 0, 0));
}

static void attr_calls(void) {
  struct attr a;
  memset(&a, 0, sizeof a);
  a.size = sizeof a;
  a.policy = SCHED_OTHER;
  a.nice = 5;
  SHOW("setattr(OTHER nice 5)", setattr(0, &a, 0));
  printf("  getpriority %d\n", getpriority(PRIO_PROCESS, 0));
  show_attr("attr nice 5", 0);
  SHOW("setattr(flags 1)", setattr(0, &a, 1));
  SHOW("setattr(NULL)", setattr(0, NULL, 0));
  a.size = 20;
  SHOW("setattr(size 20)", setattr(0, &a, 0));
  printf("  size now %u\n", a.size);
  a.size = 0;
  a.nice = 30;
  SHOW("setattr(size 0, nice 30)", setattr(0, &a, 0));
  printf("  getpriority %d\n", getpriority(PRIO_PROCESS, 0));
  char big[128];
  memset(big, 0, sizeof big);
  memcpy(big, &a, sizeof a);
  ((struct attr *)big)->size = sizeof big;
  ((struct attr *)big)->nice = 2;
  SHOW("setattr(size 128, zero tail)", setattr(0, (struct attr *)big, 0));
  big[100] = 1;
  SHOW("setattr(size 128, non-zero tail)", setattr(0, (struct attr *)big, 0));
  printf("  size now %u\n", ((struct attr *)big)->size);
  memset(&a, 0, sizeof a);
  a.size = sizeof a;
  a.policy = SCHED_RR;
  a.priority = 4;
  a.flags = 1; /* SCHED_FLAG_RESET_ON_FORK */
  SHOW("setattr(RR 4 reset)", setattr(0, &a, 0));
  show_attr("attr RR 4 reset", 0);
  a.flags = 0x100;
  SHOW("setattr(unknown flag)", setattr(0, &a, 0));
  a.flags = 0x10; /* KEEP_PARAMS */
  a.policy = SCHED_FIFO;
  a.priority = 50;
  SHOW("setattr(FIFO keep params)", setattr(0, &a, 0));
  show_attr("attr keep params", 0);
  a.flags = 0x08; /* KEEP_POLICY */
  a.priority = 20;
  SHOW("setattr(keep policy prio 20)", setattr(0, &a, 0));
  show_attr("attr keep policy", 0);
  memset(&a, 0, sizeof a);
  a.size = sizeof a;
  a.policy = SCHED_OTHER;
  SHOW("setattr(OTHER)", setattr(0, &a, 0));
  SHOW("getattr(size 40)", getattr(0, &a, 40, 0));
  SHOW("getattr(size 5000)", getattr(0, &a, 5000, 0));
  SHOW("getattr(flags 1)", getattr(0, &a, sizeof a, 1));
  SHOW("getattr(pid 999999)", getattr(999999, &a, sizeof a, 0));
  memset(&a, 0xee, sizeof a);
  SHOW("getattr(size 48)", getattr(0, &a, 48, 0));
  printf("  size=%u util_max=%x\n", a.size, a.util_max);
}

static void unprivileged(void) {
  pid_t c = fork();
  if (c == 0) {
    struct rlimit zero = {0, 0};
    setrlimit(RLIMIT_RTPRIO, &zero);
    setrlimit(RLIMIT_NICE, &zero);
    if (setresuid(65534, 65534, 65534) != 0) {
      printf("setresuid failed\n");
      _exit(1);
    }
    struct sched_param p = {1};
    SHOW("user setscheduler(FIFO 1)", sched_setscheduler(0, SCHED_FIFO, &p));
    p.sched_priority = 0;
    SHOW("user setscheduler(BATCH)", sched_setscheduler(0, SCHED_BATCH, &p));
    SHOW("user setscheduler(IDLE)", sched_setscheduler(0, SCHED_IDLE, &p));
    SHOW("user setscheduler(OTHER) from IDLE", sched_setscheduler(0, SCHED_OTHER, &p));
    SHOW("user setscheduler(BATCH|RESET)", sched_setscheduler(0, SCHED_BATCH | SCHED_RESET_ON_FORK, &p));
    SHOW("user setscheduler(BATCH) drops reset", sched_setscheduler(0, SCHED_BATCH, &p));
    SHOW("user setscheduler(init)", sched_setscheduler(1, SCHED_OTHER, &p));
    SHOW("user setpriority(5)", setpriority(PRIO_PROCESS, 0, 5));
    SHOW("user setpriority(2)", setpriority(PRIO_PROCESS, 0, 2));
    struct attr a;
    memset(&a, 0, sizeof a);
    a.size = sizeof a;
    a.nice = 1;
    SHOW("user setattr(nice 1)", setattr(0, &a, 0));
    a.nice = 10;
    SHOW("user setattr(nice 10)", setattr(0, &a, 0));
    printf("  getpriority %d\n", getpriority(PRIO_PROCESS, 0));
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(0, &set);
    SHOW("user setaffinity(init)", sched_setaffinity(1, sizeof set, &set));
    fflush(stdout);
    _exit(0);
  }
  waitpid(c, NULL, 0);
}

static void affinity(void) {
  long n = sysconf(_SC_NPROCESSORS_CONF);
  cpu_set_t set, got;
  CPU_ZERO(&set);
  CPU_SET(0, &set);
  SHOW("setaffinity({0})", sched_setaffinity(0, sizeof set, &set));
  CPU_ZERO(&got);
  SHOW("getaffinity > 0", sched_getaffinity(0, sizeof got, &got) == 0);
  printf("  count %d cpu0 %d\n", CPU_COUNT(&got), CPU_ISSET(0, &got));
  pid_t c = fork();
  if (c == 0) {
    CPU_ZERO(&got);
    sched_getaffinity(0, sizeof got, &got);
    printf("child affinity count %d\n", CPU_COUNT(&got));
    fflush(stdout);
    _exit(0);
  }
  waitpid(c, NULL, 0);
  CPU_ZERO(&set);
  SHOW("setaffinity({})", sched_setaffinity(0, sizeof set, &set));
  CPU_ZERO(&set);
  for (long i = 0; i < n; i++) CPU_SET(i, &set);
  SHOW("setaffinity(all)", sched_setaffinity(0, sizeof set, &set));
  sched_getaffinity(0, sizeof got, &got);
  printf("  all restored %d\n", CPU_COUNT(&got) == n);
  SHOW("setaffinity(bad ptr)", syscall(SYS_sched_setaffinity, 0, sizeof set, (void *)8));
  SHOW("setaffinity(pid 999999)", sched_setaffinity(999999, sizeof set, &set));
}

static void fileops(const char *dir) {
  char path[4096];
  snprintf(path, sizeof path, "%s/falloc", dir);
  int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
  struct stat st;
  SHOW("fallocate(0, 0, 10000)", fallocate(fd, 0, 0, 10000));
  fstat(fd, &st);
  printf("  size %lld blocks %lld\n", (long long)st.st_size, (long long)st.st_blocks);
  SHOW("fallocate(KEEP_SIZE, 10000, 8192)", fallocate(fd, FALLOC_FL_KEEP_SIZE, 10000, 8192));
  fstat(fd, &st);
  printf("  size %lld blocks %lld\n", (long long)st.st_size, (long long)st.st_blocks);
  SHOW("fallocate(PUNCH|KEEP, 0, 4096)", fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 4096));
  fstat(fd, &st);
  printf("  size %lld blocks %lld\n", (long long)st.st_size, (long long)st.st_blocks);
  SHOW("fallocate(PUNCH alone)", fallocate(fd, FALLOC_FL_PUNCH_HOLE, 0, 4096));
  SHOW("fallocate(len 0)", fallocate(fd, 0, 0, 0));
  SHOW("fallocate(offset -1)", fallocate(fd, 0, -1, 10));
  SHOW("fallocate(huge)", fallocate(fd, 0, INT64_MAX - 10, 100));
  SHOW("fallocate(mode 0x100)", fallocate(fd, 0x100, 0, 10));
  SHOW("fallocate(bad fd)", fallocate(-1, 0, 0, 10));
  SHOW("posix_fallocate", -posix_fallocate(fd, 0, 20000));
  fstat(fd, &st);
  printf("  size %lld\n", (long long)st.st_size);
  int ro = open(path, O_RDONLY);
  SHOW("fallocate(read-only)", fallocate(ro, 0, 0, 10));
  SHOW("posix_fallocate(read-only)", -posix_fallocate(ro, 0, 10));
  SHOW("readahead", readahead(ro, 0, 4096));
  SHOW("sync_file_range", sync_file_range(fd, 0, 4096, SYNC_FILE_RANGE_WRITE));
  SHOW("sync_file_range(flags 8)", sync_file_range(fd, 0, 4096, 8));
  SHOW("sync_file_range(offset -1)", sync_file_range(fd, -1, 4096, 0));
  SHOW("sync_file_range(bad fd)", sync_file_range(-1, 0, 4096, 0));
  int dfd = open(dir, O_RDONLY | O_DIRECTORY);
  SHOW("fallocate(dir)", fallocate(dfd, 0, 0, 10));
  SHOW("readahead(dir)", readahead(dfd, 0, 10));
  SHOW("F_NOTIFY(dir, DN_MULTISHOT)", syscall(SYS_fcntl, dfd, F_NOTIFY, 0x80000000UL));
  SHOW("F_NOTIFY(dir, DN_CREATE)", fcntl(dfd, F_NOTIFY, DN_CREATE));
  SHOW("F_NOTIFY(dir, 0)", fcntl(dfd, F_NOTIFY, 0));
  SHOW("F_NOTIFY(file, DN_MULTISHOT)", fcntl(fd, F_NOTIFY, DN_MULTISHOT));
  SHOW("F_NOTIFY(file, DN_CREATE)", fcntl(fd, F_NOTIFY, DN_CREATE));
  int pfd = open(dir, O_PATH);
  SHOW("F_NOTIFY(O_PATH)", fcntl(pfd, F_NOTIFY, 0));
  int pp[2];
  pipe(pp);
  SHOW("fallocate(pipe)", fallocate(pp[1], 0, 0, 10));
  SHOW("sync_file_range(pipe)", sync_file_range(pp[0], 0, 10, 0));
  SHOW("readahead(pipe)", readahead(pp[0], 0, 10));
  close(pp[0]);
  close(pp[1]);
  close(pfd);
  close(dfd);
  close(ro);
  close(fd);
  unlink(path);
}

struct old_dirent {
  unsigned long d_ino;
  unsigned long d_off;
  unsigned short d_reclen;
  char d_name[];
};

static void legacy(const char *dir) {
  char path[4096], sub[4096];
  snprintf(path, sizeof path, "%s/legacy", dir);
  mkdir(path, 0755);
  snprintf(sub, sizeof sub, "%s/legacy/file", dir);
  close(open(sub, O_CREAT | O_WRONLY, 0644));
  snprintf(sub, sizeof sub, "%s/legacy/sub", dir);
  mkdir(sub, 0755);
  struct timeval tv[2] = {{1000000, 250000}, {2000000, 999999}};
  struct stat st;
  snprintf(sub, sizeof sub, "%s/legacy/file", dir);
  SHOW("utimes", syscall(SYS_utimes, sub, tv));
  stat(sub, &st);
  printf("  atime %ld.%09ld mtime %ld.%09ld\n", (long)st.st_atim.tv_sec, st.st_atim.tv_nsec,
         (long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
  tv[0].tv_usec = 1000000;
  SHOW("utimes(usec 1000000)", syscall(SYS_utimes, sub, tv));
  tv[0].tv_usec = -1;
  SHOW("utimes(usec -1)", syscall(SYS_utimes, sub, tv));
  SHOW("utimes(missing)", syscall(SYS_utimes, "/nonexistent/x", NULL));
  SHOW("utimes(bad times)", syscall(SYS_utimes, sub, (void *)8));
  long ub[2] = {3000000, 4000000};
  SHOW("utime", syscall(SYS_utime, sub, ub));
  stat(sub, &st);
  printf("  atime %ld.%09ld mtime %ld.%09ld\n", (long)st.st_atim.tv_sec, st.st_atim.tv_nsec,
         (long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
  int dfd = open(path, O_RDONLY | O_DIRECTORY);
  struct timeval tv2[2] = {{5000000, 1}, {6000000, 2}};
  SHOW("futimesat(dfd, file)", syscall(SYS_futimesat, dfd, "file", tv2));
  stat(sub, &st);
  printf("  atime %ld.%09ld mtime %ld.%09ld\n", (long)st.st_atim.tv_sec, st.st_atim.tv_nsec,
         (long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
  int ffd = open(sub, O_RDONLY);
  SHOW("futimesat(fd, NULL)", syscall(SYS_futimesat, ffd, NULL, tv));
  tv[0].tv_usec = 7;
  SHOW("futimesat(fd, NULL)", syscall(SYS_futimesat, ffd, NULL, tv));
  SHOW("futimesat(AT_FDCWD, NULL)", syscall(SYS_futimesat, AT_FDCWD, NULL, tv));
  fstat(ffd, &st);
  printf("  atime %ld.%09ld\n", (long)st.st_atim.tv_sec, st.st_atim.tv_nsec);
  close(ffd);

  char buf[4096];
  long n = syscall(SYS_getdents, dfd, buf, sizeof buf);
  int names = 0, types = 0;
  for (long off = 0; off < n;) {
    struct old_dirent *d = (struct old_dirent *)(buf + off);
    char type = buf[off + d->d_reclen - 1];
    if (strcmp(d->d_name, "file") == 0 && type == DT_REG) types++;
    if (strcmp(d->d_name, "sub") == 0 && type == DT_DIR) types++;
    if (strcmp(d->d_name, ".") == 0 && type == DT_DIR) types++;
    if (d->d_reclen % 8 != 0) printf("  misaligned reclen %u\n", d->d_reclen);
    names++;
    off += d->d_reclen;
  }
  printf("getdents: %d entries, %d with the right d_type\n", names, types);
  SHOW("getdents(at end)", syscall(SYS_getdents, dfd, buf, sizeof buf));
  lseek(dfd, 0, SEEK_SET);
  SHOW("getdents(tiny buffer)", syscall(SYS_getdents, dfd, buf, 10));
  SHOW("getdents(bad buffer)", syscall(SYS_getdents, dfd, (void *)8, sizeof buf));
  SHOW("getdents(file)", syscall(SYS_getdents, open(sub, O_RDONLY), buf, sizeof buf));
  close(dfd);
  unlink(sub);
  snprintf(sub, sizeof sub, "%s/legacy/sub", dir);
  rmdir(sub);
  rmdir(path);
}

static void copies(const char *dir) {
  char a[4096], b[4096];
  snprintf(a, sizeof a, "%s/cfr-a", dir);
  snprintf(b, sizeof b, "%s/cfr-b", dir);
  int fa = open(a, O_RDWR | O_CREAT | O_TRUNC, 0600);
  int fb = open(b, O_RDWR | O_CREAT | O_TRUNC, 0600);
  write(fa, "0123456789abcdefghij", 20);
  loff_t oi = 5, oo = 2;
  SHOW("copy_file_range(5.., 2.., 10)", copy_file_range(fa, &oi, fb, &oo, 10, 0));
  printf("  off_in %lld off_out %lld pos_b %lld\n", (long long)oi, (long long)oo, (long long)lseek(fb, 0, SEEK_CUR));
  char got[64] = {0};
  pread(fb, got, sizeof got - 1, 0);
  printf("  b[2..] = %s size %lld\n", got + 2, (long long)lseek(fb, 0, SEEK_END));
  lseek(fa, 15, SEEK_SET);
  lseek(fb, 0, SEEK_SET);
  SHOW("copy_file_range(positions, 100)", copy_file_range(fa, NULL, fb, NULL, 100, 0));
  printf("  pos_a %lld pos_b %lld\n", (long long)lseek(fa, 0, SEEK_CUR), (long long)lseek(fb, 0, SEEK_CUR));
  SHOW("copy_file_range(at EOF)", copy_file_range(fa, NULL, fb, NULL, 100, 0));
  SHOW("copy_file_range(flags 1)", copy_file_range(fa, NULL, fb, NULL, 1, 1));
  SHOW("copy_file_range(bad fd)", copy_file_range(-1, NULL, fb, NULL, 1, 0));
  oi = 0;
  oo = 5;
  SHOW("copy_file_range(overlap)", copy_file_range(fa, &oi, fa, &oo, 10, 0));
  oo = 10;
  SHOW("copy_file_range(same file, apart)", copy_file_range(fa, &oi, fa, &oo, 10, 0));
  oi = -1;
  SHOW("copy_file_range(off -1)", copy_file_range(fa, &oi, fb, NULL, 10, 0));
  SHOW("copy_file_range(bad off ptr)", copy_file_range(fa, (loff_t *)8, fb, NULL, 10, 0));
  int ro = open(b, O_RDONLY);
  SHOW("copy_file_range(to read-only)", copy_file_range(fa, NULL, ro, NULL, 10, 0));
  int ap = open(b, O_WRONLY | O_APPEND);
  SHOW("copy_file_range(to O_APPEND)", copy_file_range(fa, NULL, ap, NULL, 10, 0));
  int dfd = open(dir, O_RDONLY | O_DIRECTORY);
  SHOW("copy_file_range(from dir)", copy_file_range(dfd, NULL, fb, NULL, 10, 0));
  int pp[2];
  pipe(pp);
  SHOW("copy_file_range(to pipe)", copy_file_range(fa, NULL, pp[1], NULL, 10, 0));
  SHOW("copy_file_range(huge len)", copy_file_range(fa, NULL, fb, NULL, (size_t)-1, 0));

  /* splice */
  lseek(fa, 0, SEEK_SET);
  SHOW("splice(file -> pipe, 8)", splice(fa, NULL, pp[1], NULL, 8, 0));
  printf("  pos_a %lld\n", (long long)lseek(fa, 0, SEEK_CUR));
  loff_t so = 10;
  SHOW("splice(file@10 -> pipe, 4)", splice(fa, &so, pp[1], NULL, 4, 0));
  printf("  off %lld pos_a %lld\n", (long long)so, (long long)lseek(fa, 0, SEEK_CUR));
  int q[2];
  pipe(q);
  SHOW("splice(pipe -> pipe, 5)", splice(pp[0], NULL, q[1], NULL, 5, 0));
  so = 0;
  SHOW("splice(pipe -> file@0, 100)", splice(q[0], NULL, fb, &so, 100, 0));
  printf("  off %lld\n", (long long)so);
  SHOW("splice(pipe -> file, 100)", splice(pp[0], NULL, fb, NULL, 100, 0));
  memset(got, 0, sizeof got);
  pread(fb, got, sizeof got - 1, 0);
  printf("  b = %s\n", got);
  SHOW("splice(empty pipe, NONBLOCK)", splice(pp[0], NULL, fb, NULL, 10, SPLICE_F_NONBLOCK));
  SHOW("splice(len 0)", splice(pp[0], NULL, fb, NULL, 0, 0));
  SHOW("splice(flags 0x10)", splice(pp[0], NULL, fb, NULL, 1, 0x10));
  SHOW("splice(offset on pipe)", splice(pp[0], &so, fb, NULL, 1, 0));
  SHOW("splice(file -> file)", splice(fa, NULL, fb, NULL, 1, 0));
  SHOW("splice(same pipe)", splice(pp[0], NULL, pp[1], NULL, 1, 0));
  SHOW("splice(pipe -> O_APPEND)", splice(pp[0], NULL, ap, NULL, 1, 0));
  SHOW("splice(write end as input)", splice(pp[1], NULL, fb, NULL, 1, 0));
  int t1[2], t2[2];
  pipe(t1);
  pipe(t2);
  write(t1[1], "teedata", 7);
  SHOW("tee(4)", tee(t1[0], t2[1], 4, 0));
  memset(got, 0, sizeof got);
  SHOW("read(tee output)", read(t2[0], got, sizeof got - 1));
  printf("  %s\n", got);
  memset(got, 0, sizeof got);
  SHOW("read(tee input)", read(t1[0], got, sizeof got - 1));
  printf("  %s\n", got);
  SHOW("tee(empty, NONBLOCK)", tee(t1[0], t2[1], 4, SPLICE_F_NONBLOCK));
  SHOW("tee(same pipe)", tee(t1[0], t1[1], 4, 0));
  SHOW("tee(file)", tee(fa, t2[1], 4, 0));
  SHOW("tee(flags 0x10)", tee(t1[0], t2[1], 4, 0x10));
  SHOW("tee(write end as input)", tee(t1[1], t2[1], 4, 0));
  struct iovec iv[2] = {{"vm", 2}, {"splice", 6}};
  SHOW("vmsplice(to pipe)", vmsplice(t1[1], iv, 2, 0));
  char o1[3] = {0}, o2[10] = {0};
  struct iovec ov[2] = {{o1, 2}, {o2, sizeof o2 - 1}};
  SHOW("vmsplice(from pipe)", vmsplice(t1[0], ov, 2, 0));
  printf("  %s|%s\n", o1, o2);
  SHOW("vmsplice(empty, NONBLOCK)", vmsplice(t1[0], ov, 2, SPLICE_F_NONBLOCK));
  SHOW("vmsplice(file)", vmsplice(fa, iv, 2, 0));
  SHOW("vmsplice(flags 0x10)", vmsplice(t1[1], iv, 2, 0x10));
  SHOW("vmsplice(0 segs)", vmsplice(t1[1], iv, 0, 0));
  SHOW("vmsplice(2000 segs)", vmsplice(t1[1], iv, 2000, 0));
  struct iovec bad[1] = {{(void *)8, 4}};
  SHOW("vmsplice(bad base)", vmsplice(t1[1], bad, 1, 0));
  close(t1[1]);
  SHOW("tee(no writers)", tee(t1[0], t2[1], 4, 0));
  SHOW("vmsplice(no writers)", vmsplice(t1[0], ov, 2, 0));
  close(t1[0]);
  close(t2[0]);
  close(t2[1]);
  close(pp[1]);
  SHOW("splice(no writers)", splice(pp[0], NULL, fb, NULL, 10, 0));
  close(pp[0]);
  close(q[0]);
  close(q[1]);
  close(dfd);
  close(ap);
  close(ro);
  close(fa);
  close(fb);
  unlink(a);
  unlink(b);
}

static void pidfds(void) {
  SHOW("pidfd_open(0)", syscall(SYS_pidfd_open, 0, 0));
  SHOW("pidfd_open(flags 1)", syscall(SYS_pidfd_open, getpid(), 1));
  SHOW("pidfd_open(999999)", syscall(SYS_pidfd_open, 999999, 0));
  int pp[2];
  pipe(pp);
  pid_t c = fork();
  if (c == 0) {
    char b;
    read(pp[0], &b, 1);
    _exit(7);
  }
  int pfd = syscall(SYS_pidfd_open, c, 0);
  printf("pidfd_open(child) ok %d cloexec %d\n", pfd >= 0, (fcntl(pfd, F_GETFD) & FD_CLOEXEC) != 0);
  struct pollfd p = {pfd, POLLIN, 0};
  SHOW("poll(running child)", poll(&p, 1, 0));
  char buf[8];
  SHOW("read(pidfd)", read(pfd, buf, sizeof buf));
  int nb = syscall(SYS_pidfd_open, c, PIDFD_NONBLOCK);
  siginfo_t si;
  memset(&si, 0, sizeof si);
  SHOW("waitid(P_PIDFD nonblock, running)", waitid(P_PIDFD, nb, &si, WEXITED));
  SHOW("waitid(P_PIDFD, WNOHANG, running)", waitid(P_PIDFD, pfd, &si, WEXITED | WNOHANG));
  int got = syscall(SYS_pidfd_getfd, pfd, pp[1], 0);
  printf("pidfd_getfd ok %d cloexec %d\n", got >= 0, (fcntl(got, F_GETFD) & FD_CLOEXEC) != 0);
  SHOW("pidfd_getfd(bad fd)", syscall(SYS_pidfd_getfd, pfd, 999, 0));
  SHOW("pidfd_getfd(flags)", syscall(SYS_pidfd_getfd, pfd, pp[1], 1));
  SHOW("pidfd_getfd(not a pidfd)", syscall(SYS_pidfd_getfd, pp[0], 0, 0));
  SHOW("pidfd_send_signal(0)", syscall(SYS_pidfd_send_signal, pfd, 0, NULL, 0));
  SHOW("pidfd_send_signal(THREAD)", syscall(SYS_pidfd_send_signal, pfd, 0, NULL, 1));
  SHOW("pidfd_send_signal(flags 3)", syscall(SYS_pidfd_send_signal, pfd, 0, NULL, 3));
  SHOW("pidfd_send_signal(flags 8)", syscall(SYS_pidfd_send_signal, pfd, 0, NULL, 8));
  SHOW("pidfd_send_signal(not a pidfd)", syscall(SYS_pidfd_send_signal, pp[0], 0, NULL, 0));
  {
    // A /proc/<tgid> directory fd works as a pidfd for pidfd_send_signal; other /proc dirs do not.
    int procdir = open("/proc/self", O_RDONLY | O_DIRECTORY);
    SHOW("pidfd_send_signal(/proc/self dir)", syscall(SYS_pidfd_send_signal, procdir, 0, NULL, 0));
    int fddir = open("/proc/self/fd", O_RDONLY | O_DIRECTORY);
    SHOW("pidfd_send_signal(/proc/self/fd dir)", syscall(SYS_pidfd_send_signal, fddir, 0, NULL, 0));
    close(procdir);
    close(fddir);
  }
  write(got, "x", 1);
  p.revents = 0;
  SHOW("poll(exiting child, 5 s)", poll(&p, 1, 5000));
  printf("  revents %#x\n", p.revents);
  SHOW("pidfd_send_signal(zombie)", syscall(SYS_pidfd_send_signal, pfd, SIGTERM, NULL, 0));
  SHOW("pidfd_getfd(zombie)", syscall(SYS_pidfd_getfd, pfd, pp[1], 0));
  memset(&si, 0, sizeof si);
  SHOW("waitid(P_PIDFD)", waitid(P_PIDFD, pfd, &si, WEXITED));
  printf("  pid ok %d code %d status %d\n", si.si_pid == c, si.si_code, si.si_status);
  p.revents = 0;
  SHOW("poll(reaped)", poll(&p, 1, 0));
  printf("  revents %#x\n", p.revents);
  SHOW("waitid(P_PIDFD, reaped)", waitid(P_PIDFD, pfd, &si, WEXITED));
  SHOW("pidfd_send_signal(reaped)", syscall(SYS_pidfd_send_signal, pfd, 0, NULL, 0));
  SHOW("waitid(P_PIDFD, not a pidfd)", waitid(P_PIDFD, pp[0], &si, WEXITED));
  close(got);
  close(nb);
  close(pfd);
  close(pp[0]);
  close(pp[1]);

  int cfd = -1;
  long r = syscall(SYS_clone, CLONE_PIDFD | SIGCHLD, 0, &cfd, 0, 0);
  if (r == 0) _exit(3);
  printf("clone(CLONE_PIDFD) ok %d pidfd ok %d cloexec %d\n", r > 0, cfd >= 0,
         (fcntl(cfd, F_GETFD) & FD_CLOEXEC) != 0);
  memset(&si, 0, sizeof si);
  SHOW("waitid(P_PIDFD, clone pidfd)", waitid(P_PIDFD, cfd, &si, WEXITED));
  printf("  pid ok %d status %d\n", si.si_pid == r, si.si_status);
  close(cfd);
  SHOW("clone(CLONE_PIDFD|CLONE_PARENT_SETTID)",
       syscall(SYS_clone, CLONE_PIDFD | CLONE_PARENT_SETTID | SIGCHLD, 0, &cfd, 0, 0));
  struct {
    uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
  } ca;
  memset(&ca, 0, sizeof ca);
  int c3fd = -1, ptid = 0;
  ca.flags = CLONE_PIDFD | CLONE_PARENT_SETTID;
  ca.pidfd = (uint64_t)(uintptr_t)&c3fd;
  ca.parent_tid = (uint64_t)(uintptr_t)&ptid;
  ca.exit_signal = SIGCHLD;
  r = syscall(SYS_clone3, &ca, sizeof ca);
  if (r == 0) _exit(4);
  printf("clone3(CLONE_PIDFD|PARENT_SETTID) ok %d pidfd ok %d ptid ok %d\n", r > 0, c3fd >= 0, ptid == r);
  memset(&si, 0, sizeof si);
  SHOW("waitid(P_PIDFD, clone3 pidfd)", waitid(P_PIDFD, c3fd, &si, WEXITED));
  printf("  status %d\n", si.si_status);
  close(c3fd);
  ca.pidfd = 8;
  SHOW("clone3(CLONE_PIDFD, bad pidfd pointer)", syscall(SYS_clone3, &ca, sizeof ca));
}

static void membarriers(void) {
  SHOW("membarrier(QUERY)", syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0, 0));
  SHOW("membarrier(QUERY, flags 1)", syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 1, 0));
  SHOW("membarrier(GLOBAL)", syscall(SYS_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0));
  SHOW("membarrier(PRIVATE_EXPEDITED)", syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0));
  SHOW("membarrier(GET_REGISTRATIONS)", syscall(SYS_membarrier, MEMBARRIER_CMD_GET_REGISTRATIONS, 0, 0));
  SHOW("membarrier(REGISTER_PRIVATE_EXPEDITED)",
       syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0));
  SHOW("membarrier(PRIVATE_EXPEDITED)", syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0));
  SHOW("membarrier(PRIVATE_EXPEDITED, FLAG_CPU)",
       syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, MEMBARRIER_CMD_FLAG_CPU, 0));
  SHOW("membarrier(SYNC_CORE unregistered)",
       syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE, 0, 0));
  SHOW("membarrier(REGISTER_SYNC_CORE)",
       syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE, 0, 0));
  SHOW("membarrier(GET_REGISTRATIONS)", syscall(SYS_membarrier, MEMBARRIER_CMD_GET_REGISTRATIONS, 0, 0));
  SHOW("membarrier(3)", syscall(SYS_membarrier, 3, 0, 0));
  pid_t c = fork();
  if (c == 0) {
    SHOW("child membarrier(GET_REGISTRATIONS)", syscall(SYS_membarrier, MEMBARRIER_CMD_GET_REGISTRATIONS, 0, 0));
    fflush(stdout);
    _exit(0);
  }
  waitpid(c, NULL, 0);
}

static void sendfile_close_range(const char *dir) {
  char a[4096], b[4096];
  snprintf(a, sizeof a, "%s/sf-a", dir);
  snprintf(b, sizeof b, "%s/sf-b", dir);
  int fa = open(a, O_RDWR | O_CREAT | O_TRUNC, 0600);
  int fb = open(b, O_RDWR | O_CREAT | O_TRUNC, 0600);
  write(fa, "abcdefghij", 10);
  off_t off = 3;
  SHOW("sendfile(file@3 -> file, 4)", sendfile(fb, fa, &off, 4));
  printf("  off %lld pos_a %lld pos_b %lld\n", (long long)off, (long long)lseek(fa, 0, SEEK_CUR),
         (long long)lseek(fb, 0, SEEK_CUR));
  SHOW("sendfile(count 0)", sendfile(fb, fa, NULL, 0));
  off = -1;
  SHOW("sendfile(off -1)", sendfile(fb, fa, &off, 4));
  int pp[2];
  pipe(pp);
  write(pp[1], "xyz", 3);
  SHOW("sendfile(pipe -> file)", sendfile(fb, pp[0], NULL, 10));
  off = 0;
  SHOW("sendfile(pipe with offset)", sendfile(fb, pp[0], &off, 10));
  int ap = open(b, O_WRONLY | O_APPEND);
  SHOW("sendfile(to O_APPEND)", sendfile(ap, fa, NULL, 1));
  lseek(fa, 0, SEEK_SET);
  SHOW("sendfile(file -> pipe)", sendfile(pp[1], fa, NULL, 5));
  SHOW("sendfile(bad fd)", sendfile(-1, fa, NULL, 5));
  int ro = open(b, O_RDONLY);
  SHOW("sendfile(to read-only)", sendfile(ro, fa, NULL, 5));
  SHOW("close_range(first > last)", syscall(SYS_close_range, 10, 5, 0));
  SHOW("close_range(bad flags)", syscall(SYS_close_range, 100, 200, 1));
  int hi = dup2(fa, 200);
  SHOW("close_range(CLOEXEC 200..)", syscall(SYS_close_range, 200, ~0U, CLOSE_RANGE_CLOEXEC));
  printf("  fd 200 cloexec %d\n", (fcntl(hi, F_GETFD) & FD_CLOEXEC) != 0);
  SHOW("close_range(200..)", syscall(SYS_close_range, 200, ~0U, 0));
  SHOW("fcntl(200) after", fcntl(200, F_GETFD));
  close(ro);
  close(ap);
  close(pp[0]);
  close(pp[1]);
  close(fa);
  close(fb);
  unlink(a);
  unlink(b);
}

static void ioprios(void) {
  pid_t c = fork();
  if (c == 0) {
    setsid();
    /* The starting value depends on the parent's I/O context history: not printed. */
    SHOW("ioprio_get(4)", syscall(SYS_ioprio_get, 4, 0));
    SHOW("ioprio_get(999999)", syscall(SYS_ioprio_get, 1, 999999));
    SHOW("ioprio_set(BE 3)", syscall(SYS_ioprio_set, 1, 0, (2 << 13) | 3));
    SHOW("ioprio_get(PROCESS)", syscall(SYS_ioprio_get, 1, 0));
    SHOW("ioprio_set(IDLE 7)", syscall(SYS_ioprio_set, 1, 0, (3 << 13) | 7));
    SHOW("ioprio_get(PROCESS)", syscall(SYS_ioprio_get, 1, 0));
    SHOW("ioprio_set(RT 0)", syscall(SYS_ioprio_set, 1, 0, (1 << 13) | 0));
    SHOW("ioprio_set(NONE 1)", syscall(SYS_ioprio_set, 1, 0, 1));
    SHOW("ioprio_set(class 4)", syscall(SYS_ioprio_set, 1, 0, 4 << 13));
    SHOW("ioprio_set(which 0)", syscall(SYS_ioprio_set, 0, 0, 0));
    SHOW("ioprio_set(PGRP BE 5)", syscall(SYS_ioprio_set, 2, 0, (2 << 13) | 5));
    SHOW("ioprio_get(PGRP)", syscall(SYS_ioprio_get, 2, 0));
    pid_t g = fork();
    if (g == 0) {
      SHOW("grandchild ioprio_get(PROCESS)", syscall(SYS_ioprio_get, 1, 0));
      fflush(stdout);
      _exit(0);
    }
    waitpid(g, NULL, 0);
    if (setresuid(65534, 65534, 65534) == 0) {
      SHOW("user ioprio_set(RT)", syscall(SYS_ioprio_set, 1, 0, (1 << 13) | 0));
      SHOW("user ioprio_set(BE 0)", syscall(SYS_ioprio_set, 1, 0, (2 << 13) | 0));
      SHOW("user ioprio_set(init)", syscall(SYS_ioprio_set, 1, 1, (2 << 13) | 0));
    }
    fflush(stdout);
    _exit(0);
  }
  waitpid(c, NULL, 0);
}

static void kcmps(void) {
  pid_t me = getpid();
  int fd = open("/", O_RDONLY | O_DIRECTORY);
  int same = dup(fd);
  int other = open("/", O_RDONLY | O_DIRECTORY);
  SHOW("kcmp(FILE, dup)", syscall(SYS_kcmp, me, me, KCMP_FILE, fd, same));
  long r = syscall(SYS_kcmp, me, me, KCMP_FILE, fd, other);
  printf("kcmp(FILE, other open) differs %d\n", r == 1 || r == 2);
  long back = syscall(SYS_kcmp, me, me, KCMP_FILE, other, fd);
  printf("kcmp order reverses %d\n", (r == 1 && back == 2) || (r == 2 && back == 1));
  SHOW("kcmp(FILE, bad fd)", syscall(SYS_kcmp, me, me, KCMP_FILE, fd, 999));
  SHOW("kcmp(VM, self)", syscall(SYS_kcmp, me, me, KCMP_VM, 0, 0));
  SHOW("kcmp(type 99)", syscall(SYS_kcmp, me, me, 99, 0, 0));
  SHOW("kcmp(pid 999999)", syscall(SYS_kcmp, me, 999999, KCMP_VM, 0, 0));
  int pp[2];
  pipe(pp);
  pid_t c = fork();
  if (c == 0) {
    char b;
    read(pp[0], &b, 1);
    _exit(0);
  }
  r = syscall(SYS_kcmp, me, c, KCMP_VM, 0, 0);
  printf("kcmp(VM, forked child) differs %d\n", r == 1 || r == 2);
  SHOW("kcmp(FILE, inherited fd)", syscall(SYS_kcmp, me, c, KCMP_FILE, fd, fd));
  r = syscall(SYS_kcmp, me, c, KCMP_FILES, 0, 0);
  printf("kcmp(FILES, forked child) differs %d\n", r == 1 || r == 2);
  write(pp[1], "x", 1);
  waitpid(c, NULL, 0);
  close(pp[0]);
  close(pp[1]);
  close(fd);
  close(same);
  close(other);
}

static void disk_usage(void) {
  struct statvfs s;
  SHOW("statvfs(/)", statvfs("/", &s));
  printf("  total>0 %d used>0 %d free<=total %d\n", s.f_blocks > 0, s.f_blocks > s.f_bfree,
         s.f_bfree <= s.f_blocks);
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc < 2) return 2;
  policy_ranges();
  policy_calls();
  attr_calls();
  unprivileged();
  affinity();
  fileops(argv[1]);
  legacy(argv[1]);
  copies(argv[1]);
  pidfds();
  membarriers();
  sendfile_close_range(argv[1]);
  ioprios();
  kcmps();
  disk_usage();
  return 0;
}
