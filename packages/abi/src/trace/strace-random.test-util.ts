// The C program of the randomized strace differential test: many syscalls whose flag and enum
// arguments come from a fixed-seed generator, all made harmless (bad fds, NULL buffers, zero
// lengths, pids that do not exist), so strace's decoding of those words can be compared with ours.
export const STRACE_RANDOM_PROGRAM = String.raw`
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

static char side[1 << 22];
static size_t sidelen;
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
  __asm__ volatile("syscall" : "=a"(ret) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                   : "rcx", "r11", "memory");
  return ret;
}
static long call(long n, long a, long b, long c, long d, long e, long f) {
  long r = raw(n, a, b, c, d, e, f);
  emit("C %lx %lx %lx %lx %lx %lx %lx %lx\n", n, a, b, c, d, e, f, r);
  return r;
}
static void memstr(const char *s) {
  unsigned long a = (unsigned long)s;
  const unsigned char *b = (const unsigned char *)s;
  emit("M %lx ", a);
  for (unsigned long i = 0; i < 4096 - (a & 4095); i++) emit("%02x", b[i]);
  emit("\n");
}
#ifndef SEED
#define SEED 0x2545f4914f6cdd1dULL
#endif
static unsigned long long state = SEED;
static unsigned rnd32(void) {
  state ^= state << 13;
  state ^= state >> 7;
  state ^= state << 17;
  return (unsigned)(state >> 11);
}
/* Mostly bits from the known mask, sometimes anything, sometimes zero; never the bits in skew. */
static unsigned flags_skew(unsigned known, unsigned skew) {
  unsigned r = rnd32() % 8;
  if (r == 0) return 0;
  if (r == 1) return rnd32() & ~skew;
  return rnd32() & known & ~skew;
}
static unsigned flags(unsigned known) { return flags_skew(known, 0); }
/* Names this package knows but strace 6.1 predates, kept out of the comparison:
   MAP_DROPPABLE (0x8, Linux 6.11), MAP_ABOVE4G (0x80, 6.4), MFD_NOEXEC_SEAL/MFD_EXEC (0x18, 6.3),
   STATX_MNT_ID_UNIQUE..STATX_DIO_READ_ALIGN (0x3c000, 6.8-6.14).
   Linux's dynamic clock ids (CPU clocks, clock fds) print as unknown numbers in strace 6.1. */
#define MMAP_SKEW 0x88u
#define MFD_SKEW 0x18u
#define STATX_SKEW 0x3c000u
/* FALLOC_FL_WRITE_ZEROES (0x80, Linux 6.17), RWF_NOAPPEND/ATOMIC/DONTCACHE (0xe0, 6.9-6.14). */
#define RWF_SKEW 0xe0u
#define FALLOC_SKEW 0x80u
static int pick(int lo, int hi) { return lo + (int)(rnd32() % (unsigned)(hi - lo + 1)); }

#define C6(n, a, b, c, d, e, f) call(n, (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), (long)(f))
#define C3(n, ...) C3_(n, __VA_ARGS__, 0, 0, 0)
#define C3_(n, a, b, c, ...) C6(n, a, b, c, 0, 0, 0)
#define BAD 999
#define NOPID 999999

int main(void) {
  static int word = 1;
  /* The strings never change: dump them once, before the first call (memory of every call). */
  memstr("x");
  memstr("a");
  memstr("b");
  memstr("m");
  memstr("/nonexistent");
  memstr("user.x");
  static struct { long sec, nsec; } zero_ts;
  emit("M %lx 00000000000000000000000000000000\n", (unsigned long)&zero_ts);
  raw(SYS_close, -1000, 0, 0, 0, 0, 0);
  for (int i = 0; i < ROUNDS; i++) {
    C6(SYS_openat, BAD, "x", flags(037777777), 0644, 0, 0);
    C6(SYS_mmap, 0, 4096, flags(0x3000007), flags_skew(0xfc1fffef, MMAP_SKEW) | (rnd32() % 4 == 0 ? 0x40000 : 0), BAD, 0);
    C3(SYS_mprotect, 0, 0, flags(0x3000007));
    C3(SYS_madvise, 0, 0, pick(0, 26));
    C3(SYS_lseek, BAD, 0, pick(0, 6));
    C3(SYS_flock, BAD, flags(0xf));
    C3(SYS_fadvise64, BAD, 0, 0, pick(0, 7));
    C6(SYS_fallocate, BAD, flags_skew(0xff, FALLOC_SKEW), 0, 1, 0, 0);
    C3(SYS_dup3, BAD, BAD + 1, flags(02004000));
    C6(SYS_accept4, BAD, 0, 0, flags(02004000), 0, 0);
    C3(SYS_eventfd2, 0, flags(02004001));
    C3(SYS_epoll_create1, flags(02000000));
    C3(SYS_inotify_init1, flags(02004000));
    C3(SYS_timerfd_create, pick(0, 12), flags(02004000));
    C3(SYS_memfd_create, "m", flags_skew(0xfc00001f, MFD_SKEW));
    C3(SYS_pipe2, 0, flags(02044000));
    C3(SYS_getrandom, 0, 0, flags(7));
    C6(SYS_renameat2, BAD, "a", BAD, "b", flags(7), 0);
    C3(SYS_unlinkat, BAD, "a", flags(0x200));
    C6(SYS_faccessat2, BAD, "a", pick(0, 7), flags(0x1300), 0, 0);
    C6(SYS_linkat, BAD, "a", BAD, "b", flags(0x1400), 0);
    C6(SYS_fchownat, BAD, "a", pick(-1, 1000), pick(-1, 1000), flags(0x1100), 0);
    C6(SYS_statx, BAD, "a", flags(0x7900), flags_skew(0x3fff, STATX_SKEW), 0, 0);
    C6(SYS_epoll_ctl, BAD, pick(0, 4), BAD, 0, 0, 0);
    C3(SYS_kill, NOPID, pick(0, 66));
    C6(SYS_rt_sigprocmask, pick(0, 3), 0, 0, 8, 0, 0);
    C6(SYS_wait4, NOPID, 0, flags(0xe100000f), 0, 0, 0);
    C6(SYS_waitid, pick(0, 4), NOPID, 0, flags(0xe100000f), 0, 0);
    static const int fops[] = {1, 10, 0, 9, 3, 4, 5};
    word = 1;
    C6(SYS_futex, &word, fops[pick(0, 6)] | (rnd32() % 2 ? 128 : 0) | (rnd32() % 4 ? 0 : 256), 0, 0, 0, 5);
    C3(SYS_setns, BAD, flags(0x7e020080));
    C3(SYS_inotify_add_watch, BAD, "a", flags(0xf7000fff));
    C6(SYS_mremap, 0, 0, 0, flags(7), 0, 0);
    C3(SYS_msync, 0, 0, flags(7));
    C3(SYS_mlock2, 0, 0, flags(1));
    C3(SYS_shutdown, BAD, pick(0, 3));
    C6(SYS_sendto, BAD, 0, 0, flags(0x6405ffff), 0, 0);
    C3(SYS_close_range, BAD + 1, BAD, flags(6));
    C3(SYS_pidfd_open, NOPID, flags(04000));
    C6(SYS_timerfd_settime, BAD, flags(3), 0, 0, 0, 0);
    C6(SYS_prlimit64, NOPID, pick(0, 17), 0, 0, 0, 0);
    C3(SYS_getpriority, pick(0, 3), NOPID);
    C6(SYS_splice, BAD, 0, BAD, 0, 0, flags(0xf));
    C6(SYS_setxattr, "/nonexistent", "user.x", 0, 0, flags(3), 0);
    /* strace names 4 SCHED_ISO, a policy Linux never defined, and predates SCHED_EXT (7, 6.12). */
    static const int policies[] = {0, 1, 2, 3, 5, 6, 8};
    int policy = policies[pick(0, 6)] | (rnd32() % 4 ? 0 : 0x40000000);
    C3(SYS_sched_get_priority_max, policy);
    C3(SYS_clock_getres, pick(0, 12), 0);
    static const int dynclocks[] = {-2, -6, -1, -3, -7, -11, -14}; /* CPU clocks, clock fds */
    int dynclock = dynclocks[pick(0, 6)];
    C3(SYS_clock_getres, dynclock, 0);
    /* A zero timeout: with a NULL one, a CPU-time clock sleeps instead of failing with EFAULT. */
    C6(SYS_clock_nanosleep, pick(0, 12), flags(1), &zero_ts, 0, 0, 0);
    C3(SYS_socket, pick(0, 2) == 0 ? AF_UNIX : AF_INET6, pick(1, 6) | flags(02004000), 0);
    C3(SYS_socketpair, AF_UNIX, pick(1, 6) | flags(02004000), 0);
    C3(SYS_access, "/nonexistent", pick(0, 7));
    C3(SYS_umask, 022);
    C6(SYS_preadv2, BAD, 0, 0, 7, 0, flags_skew(0xff, RWF_SKEW));
    C6(SYS_pwritev, BAD, 0, 0, 9, 0, 0);
    C3(SYS_umount2, "/nonexistent", flags(0xf));
    /* Levels whose option names this package decodes, and an unknown one; options 64 and up are
       netfilter's (IPT_SO_*), which strace names and this package prints as numbers, and 63 is
       IPV6_USE_MIN_MTU, which strace names but <linux/in6.h> leaves under #if 0. */
    static const int levels[] = {1, 0, 41, 6, 999};
    /* IP_LOCAL_PORT_RANGE and IP_PROTOCOL (51, 52) are newer than strace 6.1. */
    int level = levels[pick(0, 4)], opt = pick(0, 62);
    if (level == 0 && (opt == 51 || opt == 52)) opt = 50;
    C6(SYS_setsockopt, BAD, level, opt, 0, 0, 0);
    level = levels[pick(0, 4)], opt = pick(0, 62);
    if (level == 0 && (opt == 51 || opt == 52)) opt = 50;
    C6(SYS_getsockopt, BAD, level, opt, 0, 0, 0);
    /* fcntl commands strace 6.1 names: not F_DUPFD_QUERY/F_CREATED_QUERY (6.10, 6.12) nor the
       F_*_RW_HINT commands, nor 12-14 which strace names by their 32-bit F_*LK64 meaning; plus
       two unknown ones. Seal bits stop before F_SEAL_EXEC (6.3). */
    static const int cmds[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 15, 16, 36, 37, 38,
                               1024, 1025, 1026, 1029, 1030, 1031, 1032, 1033, 1034, 17, 99};
    int cmd = cmds[pick(0, 27)];
    long farg = rnd32() % 3 ? (long)pick(0, 40) : (long)flags(0x8000001f);
    if (cmd == 5 || cmd == 6 || cmd == 7 || cmd == 36 || cmd == 37 || cmd == 38 || cmd == 15 || cmd == 16 ||
        cmd >= 1035)
      farg = 0; /* pointer arguments: NULL */
    if (cmd == 1033) farg &= ~0x20L; /* F_SEAL_EXEC */
    C3(SYS_fcntl, BAD, cmd, farg);
    C6(SYS_rt_sigaction, pick(0, 66), 0, 0, 8, 0, 0);
    C3(SYS_tgkill, NOPID, NOPID, pick(0, 66));
    C3(SYS_getrlimit, pick(0, 17), 0);
    C6(SYS_signalfd4, BAD, 0, 8, flags(02004000), 0, 0);
    C6(SYS_mount, "/nonexistent", "/nonexistent", 0, (rnd32() % 2 ? 0xc0ed0000u : 0) | flags(0x43ffffff), 0, 0);
  }
  emit("C %lx %lx %lx %lx %lx %lx %lx %lx\n", (long)SYS_exit_group, 0L, 0L, 0L, 0L, 0L, 0L, 0L);
  raw(SYS_write, 1, (long)side, sidelen, 0, 0, 0);
  raw(SYS_exit_group, 0, 0, 0, 0, 0, 0);
  return 0;
}
`;
