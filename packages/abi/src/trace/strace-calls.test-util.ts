// The C program of the strace differential test: it makes a fixed list of raw syscalls with
// deterministic arguments and prints, after a marker, what it called (number, six raw argument
// registers, raw return value) and the memory the formatter will need (strings, buffers, structs),
// so the TypeScript formatter can render the very same calls strace saw.
export const STRACE_PROGRAM = String.raw`
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <linux/futex.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/random.h>
#include <sys/timerfd.h>
#include <linux/falloc.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sched.h>

static char side[1 << 20];
static size_t sidelen;

static void emit(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#include <stdarg.h>
static void emit(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(side + sidelen, sizeof side - sidelen, fmt, ap);
  va_end(ap);
  if (n < 0 || (size_t)n >= sizeof side - sidelen) _exit(3); /* side channel full */
  sidelen += n;
}

static long raw(long n, long a, long b, long c, long d, long e, long f) {
  long ret;
  register long r10 __asm__("r10") = d;
  register long r8 __asm__("r8") = e;
  register long r9 __asm__("r9") = f;
  __asm__ volatile("syscall"
                   : "=a"(ret)
                   : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                   : "rcx", "r11", "memory");
  return ret;
}

static long call(long n, long a, long b, long c, long d, long e, long f) {
  long r = raw(n, a, b, c, d, e, f);
  emit("C %lx %lx %lx %lx %lx %lx %lx %lx\n", n, a, b, c, d, e, f, r);
  return r;
}

static void mem(const void *p, size_t len) {
  const unsigned char *b = p;
  emit("M %lx ", (unsigned long)p);
  for (size_t i = 0; i < len; i++) emit("%02x", b[i]);
  emit("\n");
}

/* A NUL-terminated string: dump it to the end of its page, as a page-wise reader would see it. */
static void memstr(const char *s) {
  unsigned long a = (unsigned long)s;
  mem(s, 4096 - (a & 4095));
}

#define C6(n, a, b, c, d, e, f) call(n, (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), (long)(f))
/* Up to three arguments; the missing ones are 0. */
#define C3(n, ...) C3_(n, __VA_ARGS__, 0, 0, 0)
#define C3_(n, a, b, c, ...) C6(n, a, b, c, 0, 0, 0)

int main(int argc, char **argv) {
  const char *file = argv[1];
  const char *dir = argv[2];
  static char text[] = "hello\tworld\n\"quoted\" back\\slash \001\002\0003\0008 \177\200\377end";
  static char longtext[] = "0123456789abcdefghijklmnopqrstuvwxyz0123";
  static char buf[4096], buf2[64], buf3[64], cwd[4096];
  static int fds[2];
  static int futexword;
  static unsigned long set = (1UL << (SIGINT - 1)) | (1UL << (SIGTERM - 1)), old;
  static struct timespec ts = {0, 1000}, now;

  long pid = getpid();
  raw(SYS_close, -1000, 0, 0, 0, 0, 0); /* marker: the calls below are compared */

  C3(SYS_openat, AT_FDCWD, "/nonexistent/file", O_RDONLY | O_CLOEXEC);
  memstr("/nonexistent/file");
  long fd = C6(SYS_openat, AT_FDCWD, file, O_WRONLY | O_CREAT | O_TRUNC, 0644, 0, 0);
  memstr(file);
  C3(SYS_write, fd, text, sizeof text - 1);
  mem(text, sizeof text - 1);
  C3(SYS_write, fd, longtext, sizeof longtext - 1);
  mem(longtext, sizeof longtext - 1);
  C3(SYS_write, fd, longtext, 32);
  mem(longtext, 32);
  C3(SYS_close, fd, 0, 0);
  fd = C3(SYS_openat, AT_FDCWD, file, O_RDONLY);
  memstr(file);
  long n = C3(SYS_read, fd, buf, sizeof buf);
  mem(buf, n > 0 ? n : 0);
  n = C3(SYS_read, fd, buf2, sizeof buf2);
  C3(SYS_lseek, fd, 0, SEEK_SET);
  n = C3(SYS_read, fd, buf3, 5);
  mem(buf3, 5);
  C3(SYS_lseek, fd, -3, SEEK_END);
  C3(SYS_lseek, fd, 5, 77);
  C3(SYS_close, fd, 0, 0);
  C3(SYS_close, 99, 0, 0);
  C3(SYS_read, 99, buf, 10);
  C3(SYS_write, -1, 0, 5);
  C3(SYS_write, -1, 16, 5);
  fd = C6(SYS_openat, AT_FDCWD, file, O_RDWR | 0x80000000, 0, 0, 0);
  memstr(file);
  C3(SYS_close, fd, 0, 0);
  fd = C3(SYS_openat, AT_FDCWD, dir, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_DIRECTORY);
  memstr(dir);
  C3(SYS_close, fd, 0, 0);
  C6(SYS_openat, AT_FDCWD, 16, O_RDONLY, 0, 0, 0);
  C6(SYS_openat, 5, 0, O_RDONLY | O_CREAT, 0, 0, 0);

  long p = C6(SYS_mmap, 0, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  C3(SYS_mprotect, p, 4096, PROT_READ);
  C3(SYS_mprotect, p, 4096, PROT_NONE);
  C3(SYS_munmap, p, 8192, 0);
  p = C6(SYS_mmap, 0, 4096, PROT_READ, MAP_SHARED | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
  C3(SYS_munmap, p, 4096, 0);
  C6(SYS_mmap, 0, 8192, 0x10, 0x4 | MAP_PRIVATE, 3, 0x1000);
  C6(SYS_mmap, 0, 8192, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_NORESERVE | MAP_ANONYMOUS | MAP_STACK, -1, 0);

  C3(SYS_pipe2, fds, O_CLOEXEC, 0);
  mem(fds, sizeof fds);
  C3(SYS_dup3, fds[0], 10, O_CLOEXEC);
  C3(SYS_fcntl, 10, F_SETFD, FD_CLOEXEC);
  C3(SYS_fcntl, 10, F_SETFL, O_RDONLY | O_NONBLOCK);
  C3(SYS_fcntl, 10, F_DUPFD_CLOEXEC, 20);
  C3(SYS_close, 20, 0, 0);
  C3(SYS_close, 10, 0, 0);
  C3(SYS_close, fds[0], 0, 0);
  C3(SYS_close, fds[1], 0, 0);

  n = C3(SYS_getcwd, cwd, sizeof cwd, 0);
  memstr(cwd);
  C3(SYS_mkdirat, AT_FDCWD, "sub", 0755);
  memstr("sub");
  C3(SYS_unlinkat, AT_FDCWD, "sub", AT_REMOVEDIR);
  memstr("sub");
  C3(SYS_unlinkat, AT_FDCWD, file, 0);
  memstr(file);
  C3(SYS_umask, 022, 0, 0);
  C3(SYS_umask, 077, 0, 0);

  C6(SYS_rt_sigprocmask, SIG_BLOCK, &set, &old, 8, 0, 0);
  mem(&set, 8);
  mem(&old, 8);
  C6(SYS_rt_sigprocmask, SIG_SETMASK, &old, 0, 8, 0, 0);
  mem(&old, 8);
  C3(SYS_nanosleep, &ts, 0, 0);
  mem(&ts, sizeof ts);
  C3(SYS_clock_gettime, CLOCK_MONOTONIC, &now, 0);
  mem(&now, sizeof now);
  C3(SYS_kill, pid, 0, 0);
  C3(SYS_kill, pid, SIGCHLD, 0);
  C3(SYS_kill, -pid, 77, 0);
  C3(SYS_futex, &futexword, FUTEX_WAKE_PRIVATE, 1);
  fd = C3(SYS_socket, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  C3(SYS_close, fd, 0, 0);
  C3(SYS_getpid, 0, 0, 0);
  C3(400, 1, 2, 3); /* unassigned on x86-64 */

  /* A second batch: more argument kinds and flag sets. */
  static char rnd[16], link[64], pbuf[16];
  static int sv[2];
  C3(SYS_access, "/", R_OK | X_OK, 0);
  memstr("/");
  C3(SYS_access, "/", F_OK, 0);
  memstr("/");
  C6(SYS_faccessat2, AT_FDCWD, "/", W_OK, AT_EACCESS | AT_SYMLINK_NOFOLLOW, 0, 0);
  memstr("/");
  fd = C3(SYS_eventfd2, 5, EFD_CLOEXEC | EFD_NONBLOCK);
  C3(SYS_close, fd, 0, 0);
  fd = C3(SYS_epoll_create1, EPOLL_CLOEXEC, 0);
  C3(SYS_close, fd, 0, 0);
  fd = C3(SYS_timerfd_create, CLOCK_BOOTTIME, TFD_CLOEXEC);
  C3(SYS_close, fd, 0, 0);
  fd = C3(SYS_inotify_init1, IN_NONBLOCK, 0);
  C3(SYS_inotify_add_watch, fd, dir, IN_CREATE | IN_DELETE | IN_ONLYDIR);
  memstr(dir);
  C3(SYS_close, fd, 0, 0);
  fd = C3(SYS_memfd_create, "memfd-name", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  memstr("memfd-name");
  C3(SYS_fcntl, fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW);
  C3(SYS_ftruncate, fd, 4096, 0);
  C6(SYS_pwrite64, fd, "abc", 3, 100, 0, 0);
  memstr("abc");
  C6(SYS_pread64, fd, pbuf, 3, 100, 0, 0);
  mem(pbuf, 3);
  C6(SYS_fallocate, fd, FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE, 0, 4096, 0, 0);
  C3(SYS_flock, fd, LOCK_EX | LOCK_NB, 0);
  C3(SYS_flock, fd, LOCK_UN, 0);
  C3(SYS_fsync, fd, 0, 0);
  C3(SYS_dup, fd, 0, 0);
  C3(SYS_dup2, fd, 30, 0);
  C3(SYS_close, 30, 0, 0);
  C3(SYS_close, fd + 1, 0, 0);
  C3(SYS_close, fd, 0, 0);
  C3(SYS_getrandom, rnd, sizeof rnd, GRND_NONBLOCK);
  mem(rnd, sizeof rnd);
  C6(SYS_socketpair, AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, sv, 0, 0);
  mem(sv, sizeof sv);
  C3(SYS_shutdown, sv[0], SHUT_WR, 0);
  C6(SYS_sendto, sv[1], "ping", 4, MSG_DONTWAIT | MSG_NOSIGNAL, 0, 0);
  memstr("ping");
  C6(SYS_recvfrom, sv[0], rnd, sizeof rnd, MSG_DONTWAIT, 0, 0);
  mem(rnd, 4);
  C3(SYS_close, sv[0], 0, 0);
  C3(SYS_close, sv[1], 0, 0);
  C3(SYS_symlinkat, "target", AT_FDCWD, "lnk");
  memstr("target");
  memstr("lnk");
  C6(SYS_readlinkat, AT_FDCWD, "lnk", link, sizeof link, 0, 0);
  memstr("lnk");
  mem(link, 6);
  C6(SYS_renameat2, AT_FDCWD, "lnk", AT_FDCWD, "lnk2", RENAME_NOREPLACE, 0);
  memstr("lnk");
  memstr("lnk2");
  C6(SYS_fchmodat, AT_FDCWD, dir, 0700, 0, 0, 0);
  memstr(dir);
  C3(SYS_unlinkat, AT_FDCWD, "lnk2", 0);
  memstr("lnk2");
  static struct stat st;
  static char wa[] = "hello", wb[] = " world\n", ra[4], rb[64];
  static struct iovec wv[2], rv[2];
  fd = C6(SYS_openat, AT_FDCWD, "wv.txt", O_RDWR | O_CREAT | O_TRUNC, 0600, 0, 0);
  memstr("wv.txt");
  wv[0].iov_base = wa; wv[0].iov_len = 5; wv[1].iov_base = wb; wv[1].iov_len = 7;
  C3(SYS_writev, fd, wv, 2);
  mem(wv, sizeof wv);
  mem(wa, 5);
  mem(wb, 7);
  C3(SYS_fstat, fd, &st);
  mem(&st, sizeof st);
  C3(SYS_lseek, fd, 0, SEEK_SET);
  rv[0].iov_base = ra; rv[0].iov_len = sizeof ra; rv[1].iov_base = rb; rv[1].iov_len = sizeof rb;
  C3(SYS_readv, fd, rv, 2);
  mem(rv, sizeof rv);
  mem(ra, sizeof ra);
  mem(rb, sizeof rb);
  C3(SYS_close, fd);
  C3(SYS_unlinkat, AT_FDCWD, "wv.txt", 0);
  memstr("wv.txt");
  C6(SYS_newfstatat, AT_FDCWD, "/dev/null", &st, 0, 0, 0);
  memstr("/dev/null");
  mem(&st, sizeof st);
  C6(SYS_newfstatat, AT_FDCWD, dir, &st, AT_SYMLINK_NOFOLLOW, 0, 0);
  memstr(dir);
  mem(&st, sizeof st);
  C6(SYS_newfstatat, AT_FDCWD, "/nonexistent", &st, 0, 0, 0);
  memstr("/nonexistent");
  /* clone with flag combinations the kernel refuses, so no child is made. */
  static int ptid = 77, ctid;
  C6(SYS_clone, CLONE_SIGHAND, 0, 0, 0, 0, 0);
  C6(SYS_clone, CLONE_THREAD | SIGCHLD, 0x1000, 0, 0, 0, 0);
  C6(SYS_clone, CLONE_THREAD | CLONE_PARENT_SETTID | CLONE_SETTLS | CLONE_CHILD_CLEARTID | SIGCHLD, 0x1000, &ptid,
     &ctid, 0x2000, 0);
  mem(&ptid, 4);
  C6(SYS_clone, CLONE_PIDFD | CLONE_PARENT_SETTID | CLONE_CHILD_SETTID, 0, &ptid, &ctid, 0, 0);
  mem(&ptid, 4);
  C6(SYS_clone, CLONE_VFORK | CLONE_THREAD | 0x40000000 | SIGUSR1, 0, 0, 0, 0, 0);
  C6(SYS_clone, CLONE_SIGHAND | 0, 0, 0, 0, 0, 0);
  C3(SYS_sched_yield, 0, 0, 0);
  C3(SYS_getppid, 0, 0, 0);
  C3(SYS_madvise, 0, 0, MADV_DONTNEED);
  C3(SYS_msync, 0, 0, MS_ASYNC);

  emit("C %lx %lx %lx %lx %lx %lx %lx %lx\n", (long)SYS_exit_group, 0L, 0L, 0L, 0L, 0L, 0L, 0L);
  raw(SYS_write, 1, (long)side, sidelen, 0, 0, 0);
  raw(SYS_exit_group, 0, 0, 0, 0, 0, 0);
  return 0;
}
`;
