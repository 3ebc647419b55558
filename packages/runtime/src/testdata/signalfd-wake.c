/* A signal sent by another process wakes a task waiting for it on a signalfd: through poll,
 * ppoll, select, epoll_wait and a blocking read. The signal is blocked; some default to being
 * ignored (SIGURG, SIGCHLD, SIGWINCH, SIGCONT), some are set to SIG_IGN, which Linux still queues
 * while they are blocked. PostgreSQL 15 waits this way for its latches (SIGURG on a signalfd in
 * an epoll set): under tsvisor the wake-up was lost until the wait timed out, because the
 * readiness was checked for whichever task ran last, and every lock wait in pgbench lasted until
 * its timeout. Each wait here has a 2 s limit; the program prints whether it was woken well
 * before it (the sender sleeps 20 ms first). */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum how { POLL, PPOLL, SELECT, EPOLL, READ, HOW_COUNT };
static const char *const names[] = {"poll", "ppoll", "select", "epoll_wait", "blocking read"};

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

/* Runs in the child: waits on a signalfd for `sig`, prints what it saw. */
static void waiter(int sig, int ignore, enum how how, int ready_fd) {
  if (ignore) signal(sig, SIG_IGN);
  sigset_t m;
  sigemptyset(&m);
  sigaddset(&m, sig);
  sigprocmask(SIG_BLOCK, &m, NULL);
  int sfd = signalfd(-1, &m, how == READ ? 0 : SFD_NONBLOCK);
  int ep = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLIN};
  epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev);
  write(ready_fd, "r", 1);
  double t0 = now_ms();
  long r = -1;
  struct pollfd pf = {.fd = sfd, .events = POLLIN};
  struct timespec two = {2, 0};
  struct timeval tv = {2, 0};
  fd_set rd;
  switch (how) {
  case POLL: r = poll(&pf, 1, 2000); break;
  case PPOLL: r = ppoll(&pf, 1, &two, NULL); break;
  case SELECT:
    FD_ZERO(&rd);
    FD_SET(sfd, &rd);
    r = select(sfd + 1, &rd, NULL, NULL, &tv);
    break;
  case EPOLL: r = epoll_wait(ep, &ev, 1, 2000); break;
  case READ: {
    alarm(2); /* SIGALRM's default action ends a read that is never woken */
    struct signalfd_siginfo si;
    r = read(sfd, &si, sizeof si) == sizeof si ? (long)si.ssi_signo : -1;
    break;
  }
  case HOW_COUNT: break;
  }
  double waited = now_ms() - t0;
  struct signalfd_siginfo si;
  long got = how == READ ? r : (read(sfd, &si, sizeof si) == sizeof si ? (long)si.ssi_signo : -errno);
  printf("%-13s %-8s %-7s: returned %ld, woken %s, read signal %ld\n", names[how], strsignal(sig),
         ignore ? "SIG_IGN" : "default", r, waited < 1500 ? "before the limit" : "at the limit", got);
  fflush(stdout);
  _exit(0);
}

int main(void) {
  const int sigs[] = {SIGURG, SIGCHLD, SIGWINCH, SIGCONT, SIGUSR1};
  for (enum how how = 0; how < HOW_COUNT; how++)
    for (unsigned i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
      for (int ignore = 0; ignore < 2; ignore++) {
        int p[2];
        if (pipe(p) != 0) return 1;
        fflush(stdout); // else a failure line still buffered here is printed again by each later child
        pid_t c = fork();
        if (c == 0) waiter(sigs[i], ignore, how, p[1]);
        char b;
        read(p[0], &b, 1);
        usleep(20000);
        kill(c, sigs[i]);
        int status;
        waitpid(c, &status, 0);
        if (!WIFEXITED(status)) printf("%s %s: child ended by signal %d\n", names[how], strsignal(sigs[i]), WTERMSIG(status));
        close(p[0]);
        close(p[1]);
      }
  return 0;
}
