/*
 * Value-level differential for the struct views: asks the real kernel to fill structs and prints
 * each one's bytes ("H name hex") and its fields as C reads them ("V name.field value").
 * Compiled and run into a temp dir by kernel-values.test.ts; the working directory is scratch.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/times.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

static void hex(const char *name, const void *p, size_t n) {
  const unsigned char *b = p;
  printf("H %s ", name);
  for (size_t i = 0; i < n; i++) printf("%02x", b[i]);
  printf("\n");
}
#define VU(name, v) printf("V %s %llu\n", name, (unsigned long long)(v))
#define VS(name, v) printf("V %s %lld\n", name, (long long)(v))

/* The kernel's struct sigaction for rt_sigaction on x86-64 (kernel source layout). */
struct ksigaction {
  void *handler;
  unsigned long flags;
  void *restorer;
  unsigned long mask;
};

static sigjmp_buf jb;
static unsigned char fault_uc[304];
static unsigned char fault_info[128];
static unsigned char fault_fp[512];
static uint32_t fault_magic2;
static void *fault_ctx, *fault_infop;

static void on_segv(int sig, siginfo_t *si, void *ctx) {
  (void)sig;
  fault_ctx = ctx;
  fault_infop = si;
  memcpy(fault_uc, ctx, sizeof fault_uc);
  memcpy(fault_info, si, sizeof fault_info);
  ucontext_t *uc = ctx;
  /* the FP frame is dead once we longjmp out, so copy it here */
  memcpy(fault_fp, uc->uc_mcontext.fpregs, sizeof fault_fp);
  uint32_t magic1, xstate_size;
  memcpy(&magic1, fault_fp + 464, 4);
  memcpy(&xstate_size, fault_fp + 464 + 16, 4);
  if (magic1 == 0x46505853U) memcpy(&fault_magic2, (char *)uc->uc_mcontext.fpregs + xstate_size, 4);
  VU("fault.rip", uc->uc_mcontext.gregs[REG_RIP]);
  VU("fault.rsp", uc->uc_mcontext.gregs[REG_RSP]);
  VU("fault.cr2", uc->uc_mcontext.gregs[REG_CR2]);
  VU("fault.trapno", uc->uc_mcontext.gregs[REG_TRAPNO]);
  VU("fault.err", uc->uc_mcontext.gregs[REG_ERR]);
  VU("fault.eflags", uc->uc_mcontext.gregs[REG_EFL]);
  VU("fault.fpstate", (uintptr_t)uc->uc_mcontext.fpregs);
  siglongjmp(jb, 1);
}

int main(void) {
  /* ---- stat / statx / statfs of a file with known contents and times ---- */
  int fd = open("f", O_CREAT | O_RDWR | O_TRUNC, 0600);
  if (fd < 0 || write(fd, "hello", 5) != 5 || fchmod(fd, 0640) != 0) return 1;
  struct timespec times[2] = {{1234567890, 123456789}, {1700000000, 500000000}};
  if (futimens(fd, times) != 0) return 1;
  unsigned char kst[144];
  memset(kst, 0, sizeof kst);
  if (syscall(SYS_fstat, fd, kst) != 0) return 1;
  hex("stat", kst, sizeof kst);
  struct stat st;
  fstat(fd, &st);
  VU("stat.st_dev", st.st_dev);
  VU("stat.st_ino", st.st_ino);
  VU("stat.st_nlink", st.st_nlink);
  VU("stat.st_mode", st.st_mode);
  VU("stat.st_uid", st.st_uid);
  VU("stat.st_gid", st.st_gid);
  VS("stat.st_size", st.st_size);
  VS("stat.st_blksize", st.st_blksize);
  VS("stat.st_blocks", st.st_blocks);
  VS("stat.st_atime", st.st_atim.tv_sec);
  VS("stat.st_atime_nsec", st.st_atim.tv_nsec);
  VS("stat.st_mtime", st.st_mtim.tv_sec);
  VS("stat.st_mtime_nsec", st.st_mtim.tv_nsec);
  VS("stat.st_ctime", st.st_ctim.tv_sec);

  unsigned char kstx[256];
  memset(kstx, 0, sizeof kstx);
  if (syscall(SYS_statx, AT_FDCWD, "f", 0, STATX_BASIC_STATS | STATX_BTIME, kstx) != 0) return 1;
  hex("statx", kstx, sizeof kstx);
  struct statx stx;
  statx(AT_FDCWD, "f", 0, STATX_BASIC_STATS | STATX_BTIME, &stx);
  VU("statx.stx_ino", stx.stx_ino);
  VU("statx.stx_size", stx.stx_size);
  VU("statx.stx_mode", stx.stx_mode);
  VU("statx.stx_nlink", stx.stx_nlink);
  VS("statx.stx_atime.tv_sec", stx.stx_atime.tv_sec);
  VU("statx.stx_atime.tv_nsec", stx.stx_atime.tv_nsec);
  VS("statx.stx_mtime.tv_sec", stx.stx_mtime.tv_sec);
  VU("statx.stx_dev_major", stx.stx_dev_major);
  VU("statx.stx_dev_minor", stx.stx_dev_minor);

  struct statfs sfs;
  memset(&sfs, 0, sizeof sfs);
  if (statfs(".", &sfs) != 0) return 1;
  hex("statfs", &sfs, sizeof sfs);
  VS("statfs.f_type", sfs.f_type);
  VS("statfs.f_bsize", sfs.f_bsize);
  VU("statfs.f_blocks", sfs.f_blocks);
  VU("statfs.f_files", sfs.f_files);
  VS("statfs.f_namelen", sfs.f_namelen);
  VS("statfs.f_flags", sfs.f_flags);

  /* ---- getdents64 ---- */
  if (mkdir("d", 0755) != 0) return 1;
  const char *names[] = {"d/a", "d/bb", "d/a-longer-name-of-20", "d/1234567"};
  for (int i = 0; i < 4; i++) close(open(names[i], O_CREAT | O_WRONLY, 0644));
  int dfd = open("d", O_RDONLY | O_DIRECTORY);
  unsigned char dbuf[4096];
  memset(dbuf, 0, sizeof dbuf);
  long n = syscall(SYS_getdents64, dfd, dbuf, sizeof dbuf);
  VS("getdents64.n", n);
  hex("getdents64", dbuf, n > 0 ? (size_t)n : 0);
  lseek(dfd, 0, SEEK_SET);
  long small = syscall(SYS_getdents64, dfd, dbuf, 16);
  VS("getdents64.small_errno", small < 0 ? errno : 0);
  close(dfd);

  /* ---- termios from a pty after cfmakeraw, read back with the kernel's TCGETS ---- */
  int m = posix_openpt(O_RDWR | O_NOCTTY);
  if (m >= 0 && grantpt(m) == 0 && unlockpt(m) == 0) {
    int s = open(ptsname(m), O_RDWR | O_NOCTTY);
    struct termios t;
    tcgetattr(s, &t);
    cfmakeraw(&t);
    t.c_cc[VMIN] = 3;
    t.c_cc[VTIME] = 7;
    tcsetattr(s, TCSANOW, &t);
    struct termios t2;
    tcgetattr(s, &t2);
    unsigned char kt[36], kt2[44];
    memset(kt, 0, sizeof kt);
    ioctl(s, TCGETS, kt);
    hex("termios", kt, sizeof kt);
    memset(kt2, 0, sizeof kt2);
    ioctl(s, _IOR('T', 0x2A, unsigned char[44]), kt2); /* TCGETS2 */
    hex("termios2", kt2, sizeof kt2);
    VU("termios.c_iflag", t2.c_iflag);
    VU("termios.c_oflag", t2.c_oflag);
    VU("termios.c_cflag", t2.c_cflag);
    VU("termios.c_lflag", t2.c_lflag);
    VU("termios.c_line", t2.c_line);
    hex("termios.c_cc", t2.c_cc, 19);
    struct winsize ws = {24, 80, 640, 480};
    ioctl(s, TIOCSWINSZ, &ws);
    unsigned char kws[8];
    ioctl(s, TIOCGWINSZ, kws);
    hex("winsize", kws, sizeof kws);
    close(s);
    close(m);
  }

  /* ---- sockaddrs: a filled sockaddr_in6, and AF_UNIX names the kernel reports ---- */
  struct sockaddr_in6 s6;
  memset(&s6, 0, sizeof s6);
  s6.sin6_family = AF_INET6;
  s6.sin6_port = htons(8080);
  s6.sin6_flowinfo = htonl(0x12345);
  inet_pton(AF_INET6, "2001:db8::1", &s6.sin6_addr);
  s6.sin6_scope_id = 7;
  hex("sockaddr_in6", &s6, sizeof s6);

  int in = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in sin;
  memset(&sin, 0, sizeof sin);
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  VS("bind_in_15.errno", bind(in, (struct sockaddr *)&sin, 15) < 0 ? errno : 0);
  VS("bind_in_16.errno", bind(in, (struct sockaddr *)&sin, 16) < 0 ? errno : 0);
  socklen_t sl = sizeof sin;
  getsockname(in, (struct sockaddr *)&sin, &sl);
  VU("getsockname_in.len", sl);
  hex("getsockname_in", &sin, sl);
  VU("getsockname_in.port", ntohs(sin.sin_port));
  close(in);

  struct sockaddr_un un;
  socklen_t ul;
  int u1 = socket(AF_UNIX, SOCK_STREAM, 0);
  ul = sizeof un;
  memset(&un, 0xee, sizeof un);
  getsockname(u1, (struct sockaddr *)&un, &ul);
  VU("unbound.len", ul);
  hex("unbound", &un, ul);
  memset(&un, 0, sizeof un);
  un.sun_family = AF_UNIX;
  VS("connect_2.errno", connect(u1, (struct sockaddr *)&un, 2) < 0 ? errno : 0);
  VS("bind_1.errno", bind(u1, (struct sockaddr *)&un, 1) < 0 ? errno : 0);
  VS("bind_111.errno", bind(u1, (struct sockaddr *)&un, 111) < 0 ? errno : 0);
  VS("autobind.errno", bind(u1, (struct sockaddr *)&un, 2) < 0 ? errno : 0);
  ul = sizeof un;
  getsockname(u1, (struct sockaddr *)&un, &ul);
  VU("autobind.len", ul);
  hex("autobind", &un, ul);
  int u2 = socket(AF_UNIX, SOCK_STREAM, 0);
  memset(&un, 0, sizeof un);
  un.sun_family = AF_UNIX;
  strcpy(un.sun_path, "sock");
  VS("bind_path.errno", bind(u2, (struct sockaddr *)&un, sizeof un) < 0 ? errno : 0);
  ul = sizeof un;
  memset(&un, 0xee, sizeof un);
  getsockname(u2, (struct sockaddr *)&un, &ul);
  VU("bound_path.len", ul);
  hex("bound_path", &un, ul);
  int u3 = socket(AF_UNIX, SOCK_STREAM, 0);
  memset(&un, 0, sizeof un);
  un.sun_family = AF_UNIX;
  memcpy(un.sun_path, "\0tsv\0x", 6);
  char abs_name[32];
  snprintf(abs_name, sizeof abs_name, "%d", (int)getpid());
  memcpy(un.sun_path + 6, abs_name, strlen(abs_name));
  VS("bind_abstract.errno",
     bind(u3, (struct sockaddr *)&un, 2 + 6 + strlen(abs_name)) < 0 ? errno : 0);
  ul = sizeof un;
  memset(&un, 0xee, sizeof un);
  getsockname(u3, (struct sockaddr *)&un, &ul);
  VU("bound_abstract.len", ul);
  hex("bound_abstract", &un, ul);
  close(u1);
  close(u2);
  close(u3);

  /* ---- SCM_RIGHTS through recvmsg with ample, short and tiny control buffers ---- */
  int sp[2];
  socketpair(AF_UNIX, SOCK_DGRAM, 0, sp);
  int sizes[3] = {CMSG_SPACE(3 * sizeof(int)), 20, 10};
  for (int k = 0; k < 3; k++) {
    int fds[3] = {open("/dev/null", O_RDONLY), open("/dev/null", O_RDONLY), open("/dev/null", O_RDONLY)};
    union {
      char buf[CMSG_SPACE(3 * sizeof(int))];
      struct cmsghdr align;
    } ctl;
    struct iovec iov = {"x", 1};
    struct msghdr mh = {0};
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = ctl.buf;
    mh.msg_controllen = CMSG_SPACE(3 * sizeof(int));
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(3 * sizeof(int));
    memcpy(CMSG_DATA(c), fds, sizeof fds);
    if (k == 0) hex("cmsg_send", ctl.buf, mh.msg_controllen);
    sendmsg(sp[0], &mh, 0);
    for (int i = 0; i < 3; i++) close(fds[i]);
    char rb[1];
    struct iovec riov = {rb, 1};
    unsigned char rctl[64];
    memset(rctl, 0xaa, sizeof rctl);
    struct msghdr rh = {0};
    rh.msg_iov = &riov;
    rh.msg_iovlen = 1;
    rh.msg_control = rctl;
    rh.msg_controllen = sizes[k];
    recvmsg(sp[1], &rh, 0);
    char key[32];
    snprintf(key, sizeof key, "cmsg_recv%d.controllen", k);
    VU(key, rh.msg_controllen);
    snprintf(key, sizeof key, "cmsg_recv%d.flags", k);
    VS(key, rh.msg_flags);
    snprintf(key, sizeof key, "cmsg_recv%d", k);
    hex(key, rctl, rh.msg_controllen);
  }

  /* ---- SCM_CREDENTIALS: the kernel attaches the sender's ucred when SO_PASSCRED is on ---- */
  {
    int cp[2], one = 1;
    socketpair(AF_UNIX, SOCK_DGRAM, 0, cp);
    setsockopt(cp[1], SOL_SOCKET, SO_PASSCRED, &one, sizeof one);
    send(cp[0], "c", 1, 0);
    char rb[1];
    struct iovec riov = {rb, 1};
    unsigned char rctl[64];
    memset(rctl, 0, sizeof rctl);
    struct msghdr rh = {0};
    rh.msg_iov = &riov;
    rh.msg_iovlen = 1;
    rh.msg_control = rctl;
    rh.msg_controllen = sizeof rctl;
    recvmsg(cp[1], &rh, 0);
    hex("cmsg_creds", rctl, rh.msg_controllen);
    VS("cmsg_creds.pid", getpid());
    VU("cmsg_creds.uid", getuid());
    VU("cmsg_creds.gid", getgid());
    close(cp[0]);
    close(cp[1]);
  }

  /* ---- rt_sigaction with the kernel's struct ---- */
  struct ksigaction ka = {(void *)0x401000, 0x04000000UL | 0x10000000UL | 0x4, (void *)0x402000,
                          (1UL << (SIGINT - 1)) | (1UL << (SIGTERM - 1)) | (1UL << (SIGKILL - 1))};
  struct ksigaction kold;
  syscall(SYS_rt_sigaction, SIGUSR1, &ka, NULL, 8);
  memset(&kold, 0, sizeof kold);
  syscall(SYS_rt_sigaction, SIGUSR1, NULL, &kold, 8);
  hex("kernel_sigaction", &kold, sizeof kold);
  VU("kernel_sigaction.sa_handler", (uintptr_t)kold.handler);
  VU("kernel_sigaction.sa_flags", kold.flags);
  VU("kernel_sigaction.sa_restorer", (uintptr_t)kold.restorer);
  VU("kernel_sigaction.sa_mask", kold.mask);
  signal(SIGUSR1, SIG_DFL);

  /* ---- siginfo: child exit, queued rt signal, timer ---- */
  pid_t child = fork();
  if (child == 0) _exit(7);
  siginfo_t si;
  memset(&si, 0, sizeof si);
  waitid(P_PID, child, &si, WEXITED);
  hex("siginfo_chld", &si, sizeof si);
  VS("siginfo_chld.si_signo", si.si_signo);
  VS("siginfo_chld.si_code", si.si_code);
  VS("siginfo_chld.si_pid", si.si_pid);
  VU("siginfo_chld.si_uid", si.si_uid);
  VS("siginfo_chld.si_status", si.si_status);

  sigset_t ss;
  sigemptyset(&ss);
  sigaddset(&ss, SIGUSR2);
  sigaddset(&ss, SIGRTMIN + 1);
  sigprocmask(SIG_BLOCK, &ss, NULL);
  union sigval sv;
  sv.sival_ptr = (void *)0x1234567890abcdefUL;
  sigqueue(getpid(), SIGUSR2, sv);
  memset(&si, 0, sizeof si);
  sigwaitinfo(&ss, &si);
  hex("siginfo_rt", &si, sizeof si);
  VS("siginfo_rt.si_signo", si.si_signo);
  VS("siginfo_rt.si_code", si.si_code);
  VS("siginfo_rt.si_pid", si.si_pid);
  VU("siginfo_rt.si_uid", si.si_uid);
  VU("siginfo_rt.si_value", (uintptr_t)si.si_value.sival_ptr);

  struct sigevent sev;
  memset(&sev, 0, sizeof sev);
  sev.sigev_notify = SIGEV_SIGNAL;
  sev.sigev_signo = SIGRTMIN + 1;
  sev.sigev_value.sival_int = 42;
  timer_t tid;
  timer_create(CLOCK_MONOTONIC, &sev, &tid);
  struct itimerspec its = {{0, 0}, {0, 1000000}};
  timer_settime(tid, 0, &its, NULL);
  memset(&si, 0, sizeof si);
  sigwaitinfo(&ss, &si);
  hex("siginfo_timer", &si, sizeof si);
  VS("siginfo_timer.si_signo", si.si_signo);
  VS("siginfo_timer.si_code", si.si_code);
  VS("siginfo_timer.si_tid", si.si_timerid);
  VS("siginfo_timer.si_overrun", si.si_overrun);
  VU("siginfo_timer.si_value", (unsigned long)si.si_value.sival_ptr);
  timer_delete(tid);

  /* ---- a real SIGSEGV: the frame the kernel built (ucontext, siginfo, fpstate) ---- */
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_segv;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGSEGV, &sa, NULL);
  if (sigsetjmp(jb, 1) == 0) {
    *(volatile int *)0x1000 = 1;
  }
  hex("fault_ucontext", fault_uc, sizeof fault_uc);
  hex("fault_siginfo", fault_info, sizeof fault_info);
  VU("fault.ctx", (uintptr_t)fault_ctx);
  VU("fault.info", (uintptr_t)fault_infop);
  hex("fault_fpstate", fault_fp, sizeof fault_fp);
  VU("fault.magic2", fault_magic2);

  /* ---- epoll_event and pollfd from the kernel ---- */
  int pfd[2];
  pipe(pfd);
  write(pfd[1], "z", 1);
  int ep = epoll_create1(0);
  struct epoll_event ev = {EPOLLIN | EPOLLET, {.u64 = 0x1122334455667788ULL}};
  epoll_ctl(ep, EPOLL_CTL_ADD, pfd[0], &ev);
  unsigned char evs[24];
  memset(evs, 0, sizeof evs);
  VS("epoll_wait.n", epoll_wait(ep, (struct epoll_event *)evs, 2, 0));
  hex("epoll_event", evs, 12);
  struct pollfd pf[2] = {{pfd[0], POLLIN | POLLOUT, 0}, {pfd[1], POLLOUT, 0}};
  poll(pf, 2, 0);
  hex("pollfd", pf, sizeof pf);

  /* ---- extensible structs: the size rules of openat2 and clone3 ---- */
  static unsigned char big[4097 + 64];
  memset(big, 0, sizeof big);
  /* open_how = { O_RDONLY, 0, 0 } */
  VS("openat2_23.errno", syscall(SYS_openat2, AT_FDCWD, "f", big, 23) < 0 ? errno : 0);
  VS("openat2_4097.errno", syscall(SYS_openat2, AT_FDCWD, "f", big, 4097) < 0 ? errno : 0);
  long ofd = syscall(SYS_openat2, AT_FDCWD, "f", big, 32);
  VS("openat2_32zero.errno", ofd < 0 ? errno : 0);
  if (ofd >= 0) close(ofd);
  big[31] = 1;
  VS("openat2_32tail.errno", syscall(SYS_openat2, AT_FDCWD, "f", big, 32) < 0 ? errno : 0);
  big[31] = 0;
  VS("clone3_63.errno", syscall(SYS_clone3, big, 63) < 0 ? errno : 0);
  VS("clone3_4097.errno", syscall(SYS_clone3, big, 4097) < 0 ? errno : 0);
  big[95] = 1;
  VS("clone3_96tail.errno", syscall(SYS_clone3, big, 96) < 0 ? errno : 0);
  big[95] = 0;

  /* ---- small fixed structs the kernel fills ---- */
  struct rlimit rl;
  getrlimit(RLIMIT_NOFILE, &rl);
  hex("rlimit", &rl, sizeof rl);
  VU("rlimit.rlim_cur", rl.rlim_cur);
  VU("rlimit.rlim_max", rl.rlim_max);
  struct rlimit rli = {RLIM_INFINITY, RLIM_INFINITY};
  setrlimit(RLIMIT_CORE, &rli);
  getrlimit(RLIMIT_CORE, &rl);
  hex("rlimit_core", &rl, sizeof rl);
  struct utsname uts;
  memset(&uts, 0, sizeof uts);
  uname(&uts);
  hex("utsname", &uts, sizeof uts);
  printf("T utsname.sysname %s\nT utsname.release %s\nT utsname.machine %s\n", uts.sysname, uts.release,
         uts.machine);
  return 0;
}
