// Signal-driven I/O against Linux: fcntl F_SETOWN/F_GETOWN/F_SETOWN_EX/F_GETOWN_EX/F_SETSIG/
// F_GETSIG and their errors, and the SIGIO (or F_SETSIG signal with si_code, si_band, si_fd) that a
// description with O_ASYNC (F_SETFL or FIOASYNC) sends its owner when it becomes readable: a Unix
// socketpair, a pipe, a TCP listener on loopback. Run natively and under tsvisor: the output must be
// the same.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

static volatile sig_atomic_t count, last_signo, last_code, last_fd;
static volatile long last_band;

static void on_signal(int sig, siginfo_t *si, void *uc) {
  (void)uc;
  count++;
  last_signo = sig;
  last_code = si->si_code;
  last_fd = si->si_fd;
  last_band = si->si_band;
}

static void show(const char *what, long r) {
  if (r < 0)
    printf("%s = -1 %s\n", what, strerrorname_np(errno));
  else
    printf("%s = %ld\n", what, r);
}

// Waits up to `ms` for a signal beyond `before`; prints whether one came.
static void expect_signal(const char *what, int before, int ms) {
  for (int i = 0; i < ms && count == before; i++) usleep(1000);
  printf("%s: %s\n", what, count > before ? "signalled" : "no signal");
}

static void catch(int sig) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_signal;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sigaction(sig, &sa, NULL);
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  catch(SIGIO);
  catch(SIGRTMIN + 1);
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv)) return 2;

  // Owners and their errors.
  show("F_GETOWN before any F_SETOWN", fcntl(sv[0], F_GETOWN));
  show("F_GETSIG before any F_SETSIG", fcntl(sv[0], F_GETSIG));
  show("F_SETOWN getpid()", fcntl(sv[0], F_SETOWN, getpid()));
  printf("F_GETOWN is getpid(): %d\n", fcntl(sv[0], F_GETOWN) == getpid());
  struct f_owner_ex ex;
  show("F_GETOWN_EX", fcntl(sv[0], F_GETOWN_EX, &ex));
  printf("  type %d, pid is getpid(): %d\n", ex.type, ex.pid == getpid());
  show("F_SETOWN -getpgrp()", fcntl(sv[0], F_SETOWN, -getpgrp()));
  printf("F_GETOWN is -getpgrp(): %d\n", fcntl(sv[0], F_GETOWN) == -getpgrp());
  show("F_GETOWN_EX", fcntl(sv[0], F_GETOWN_EX, &ex));
  printf("  type %d, pid is getpgrp(): %d\n", ex.type, ex.pid == getpgrp());
  ex.type = F_OWNER_TID;
  ex.pid = gettid();
  show("F_SETOWN_EX F_OWNER_TID gettid()", fcntl(sv[0], F_SETOWN_EX, &ex));
  printf("F_GETOWN is gettid(): %d\n", fcntl(sv[0], F_GETOWN) == gettid());
  show("F_SETOWN a pid nobody has", fcntl(sv[0], F_SETOWN, 0x3ffffff0));
  show("F_SETOWN INT_MIN", fcntl(sv[0], F_SETOWN, (int)0x80000000));
  ex.type = 7;
  show("F_SETOWN_EX type 7", fcntl(sv[0], F_SETOWN_EX, &ex));
  show("F_SETOWN_EX bad pointer", fcntl(sv[0], F_SETOWN_EX, (void *)16));
  show("F_GETOWN_EX bad pointer", fcntl(sv[0], F_GETOWN_EX, (void *)16));
  show("F_SETSIG 65", fcntl(sv[0], F_SETSIG, 65));
  show("F_SETSIG -1", fcntl(sv[0], F_SETSIG, -1));
  show("F_SETSIG 64", fcntl(sv[0], F_SETSIG, 64));
  show("F_GETSIG", fcntl(sv[0], F_GETSIG));
  int opath = open("/", O_PATH);
  show("F_SETOWN on O_PATH", fcntl(opath, F_SETOWN, getpid()));
  show("F_GETOWN on O_PATH", fcntl(opath, F_GETOWN));
  show("F_SETOWN 0 (no owner)", fcntl(sv[0], F_SETOWN, 0));
  show("F_GETOWN", fcntl(sv[0], F_GETOWN));

  // Plain SIGIO: O_ASYNC by F_SETFL, owner this process.
  fcntl(sv[0], F_SETSIG, 0);
  fcntl(sv[0], F_SETOWN, getpid());
  int c = count;
  if (write(sv[1], "a", 1) != 1) return 3;
  expect_signal("socketpair write without O_ASYNC", c, 200);
  fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_ASYNC);
  printf("F_GETFL has O_ASYNC: %d\n", (fcntl(sv[0], F_GETFL) & O_ASYNC) != 0);
  c = count;
  if (write(sv[1], "b", 1) != 1) return 3;
  expect_signal("socketpair write with O_ASYNC", c, 2000);
  printf("  signal SIGIO: %d, si_code SI_KERNEL: %d\n", last_signo == SIGIO, last_code == SI_KERNEL);

  // F_SETSIG: the reason, band and fd come with the signal.
  fcntl(sv[0], F_SETSIG, SIGRTMIN + 1);
  c = count;
  if (write(sv[1], "c", 1) != 1) return 3;
  expect_signal("socketpair write with F_SETSIG", c, 2000);
  printf("  signal SIGRTMIN+1: %d, si_code POLL_IN: %d, si_fd is the fd: %d, si_band %#lx\n",
         last_signo == SIGRTMIN + 1, last_code == POLL_IN, last_fd == sv[0], last_band);

  // O_ASYNC off again: no more signals.
  fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) & ~O_ASYNC);
  c = count;
  if (write(sv[1], "d", 1) != 1) return 3;
  expect_signal("socketpair write after clearing O_ASYNC", c, 200);

  // A pipe's read end, O_ASYNC by FIOASYNC.
  int p[2];
  if (pipe(p)) return 2;
  fcntl(p[0], F_SETOWN, getpid());
  int on = 1;
  show("FIOASYNC 1", ioctl(p[0], FIOASYNC, &on));
  printf("F_GETFL has O_ASYNC: %d\n", (fcntl(p[0], F_GETFL) & O_ASYNC) != 0);
  c = count;
  if (write(p[1], "e", 1) != 1) return 3;
  expect_signal("pipe write with FIOASYNC", c, 2000);
  on = 0;
  show("FIOASYNC 0", ioctl(p[0], FIOASYNC, &on));
  printf("F_GETFL has O_ASYNC: %d\n", (fcntl(p[0], F_GETFL) & O_ASYNC) != 0);

  // A TCP listener: a connection arriving signals it.
  int l = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof a;
  if (bind(l, (struct sockaddr *)&a, sizeof a) || listen(l, 4) || getsockname(l, (struct sockaddr *)&a, &len)) return 4;
  fcntl(l, F_SETOWN, getpid());
  fcntl(l, F_SETSIG, SIGRTMIN + 1);
  fcntl(l, F_SETFL, O_ASYNC | O_NONBLOCK);
  int s = socket(AF_INET, SOCK_STREAM, 0);
  c = count;
  if (connect(s, (struct sockaddr *)&a, sizeof a)) return 4;
  expect_signal("TCP listener when a connection arrives", c, 2000);
  printf("  si_code POLL_IN: %d, si_fd is the listener: %d\n", last_code == POLL_IN, last_fd == l);

  // The same signal read from a signalfd: ssi_code, ssi_fd and ssi_band.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGRTMIN + 2);
  sigprocmask(SIG_BLOCK, &set, NULL);
  int sfd = signalfd(-1, &set, 0);
  int q[2];
  if (sfd < 0 || socketpair(AF_UNIX, SOCK_DGRAM, 0, q)) return 5;
  fcntl(q[0], F_SETOWN, getpid());
  fcntl(q[0], F_SETSIG, SIGRTMIN + 2);
  fcntl(q[0], F_SETFL, O_ASYNC);
  if (write(q[1], "f", 1) != 1) return 3;
  struct signalfd_siginfo ssi;
  show("signalfd read", read(sfd, &ssi, sizeof ssi));
  printf("  ssi_signo SIGRTMIN+2: %d, ssi_code POLL_IN: %d, ssi_fd is the fd: %d, ssi_band %#x\n",
         ssi.ssi_signo == (unsigned)SIGRTMIN + 2, ssi.ssi_code == POLL_IN, (int)ssi.ssi_fd == q[0], ssi.ssi_band);
  return 0;
}
