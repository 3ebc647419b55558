// POSIX message queues: names, limits and errnos of mq_open, priority order, O_NONBLOCK,
// timeouts, blocking across fork, mq_notify signals, mq_unlink while open, poll/select
// readiness and the queue file's status line. Prints the same natively and under tsvisor.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char qa[64], qb[64], qc[64];

static void report(const char *what, long r) {
  if (r < 0)
    printf("%s = -1 %s\n", what, strerrorname_np(errno));
  else
    printf("%s = %ld\n", what, r);
}

static struct timespec in_ms(long ms) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  ts.tv_nsec += (ms % 1000) * 1000000L;
  ts.tv_sec += ms / 1000 + ts.tv_nsec / 1000000000L;
  ts.tv_nsec %= 1000000000L;
  return ts;
}

static void show_attr(const char *what, mqd_t q) {
  struct mq_attr a;
  if (mq_getattr(q, &a) < 0) {
    report(what, -1);
    return;
  }
  printf("%s: flags=%s maxmsg=%ld msgsize=%ld curmsgs=%ld\n", what, a.mq_flags & O_NONBLOCK ? "O_NONBLOCK" : "0",
         a.mq_maxmsg, a.mq_msgsize, a.mq_curmsgs);
}

static void show_poll(const char *what, mqd_t q) {
  struct pollfd p = {.fd = q, .events = POLLIN | POLLOUT};
  int n = poll(&p, 1, 0);
  fd_set r, w;
  FD_ZERO(&r);
  FD_ZERO(&w);
  FD_SET(q, &r);
  FD_SET(q, &w);
  struct timeval tv = {0, 0};
  int s = select(q + 1, &r, &w, NULL, &tv);
  printf("%s: poll=%d%s%s select=%d%s%s\n", what, n, p.revents & POLLIN ? " IN" : "", p.revents & POLLOUT ? " OUT" : "",
         s, FD_ISSET(q, &r) ? " r" : "", FD_ISSET(q, &w) ? " w" : "");
}

static void show_status(const char *what, mqd_t q) {
  char buf[256];
  ssize_t n = pread(q, buf, sizeof buf - 1, 0);
  if (n < 0) {
    // mq descriptors are not seekable on every kernel: fall back to read(2) after lseek.
    lseek(q, 0, SEEK_SET);
    n = read(q, buf, sizeof buf - 1);
  }
  if (n < 0) {
    report(what, -1);
    return;
  }
  buf[n] = 0;
  unsigned long qsize;
  int notify, signo, pid;
  if (sscanf(buf, "QSIZE:%lu NOTIFY:%d SIGNO:%d NOTIFY_PID:%d", &qsize, &notify, &signo, &pid) != 4) {
    printf("%s: unparsable\n", what);
    return;
  }
  printf("%s: len=%zd QSIZE=%lu NOTIFY=%d SIGNO=%d NOTIFY_PID=%s\n", what, n, qsize, notify, signo,
         pid == 0 ? "0" : pid == getpid() ? "self" : "other");
}

static volatile sig_atomic_t alarms;
static void on_alarm(int sig) {
  (void)sig;
  alarms++;
}

static void arm(int restart) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_alarm;
  sa.sa_flags = restart ? SA_RESTART : 0;
  sigaction(SIGALRM, &sa, NULL);
  struct itimerval it = {{0, 0}, {0, 50000}};
  setitimer(ITIMER_REAL, &it, NULL);
}

static int tpipe[2];
static void on_notify(union sigval v) {
  char c = (char)v.sival_int;
  if (write(tpipe[1], &c, 1) != 1) _exit(3);
}

static void thread_notify(mqd_t q) {
  char buf[128];
  unsigned p;
  if (pipe(tpipe) < 0) return;
  struct sigevent ev = {.sigev_notify = SIGEV_THREAD, .sigev_notify_function = on_notify};
  ev.sigev_value.sival_int = 'T';
  report("mq_notify SIGEV_THREAD", mq_notify(q, &ev));
  show_status("status SIGEV_THREAD", q);
  report("mq_notify SIGEV_THREAD again", mq_notify(q, &ev));
  mq_send(q, "t", 1, 0);
  struct pollfd pf = {.fd = tpipe[0], .events = POLLIN};
  char c = '-';
  if (poll(&pf, 1, 5000) == 1 && read(tpipe[0], &c, 1) != 1) c = '?';
  printf("notification thread wrote: %c\n", c);
  mq_receive(q, buf, sizeof buf, &p);
  report("mq_notify SIGEV_THREAD after it fired", mq_notify(q, &ev));
  report("mq_notify NULL removes it", mq_notify(q, NULL));
  show_status("status removed", q);
  mq_send(q, "u", 1, 0);
  c = '-';
  if (poll(&pf, 1, 100) == 1 && read(tpipe[0], &c, 1) != 1) c = '?';
  printf("after removal the thread wrote: %c\n", c);
  mq_receive(q, buf, sizeof buf, &p);
  close(tpipe[0]);
  close(tpipe[1]);
}

static void names(void) {
  report("mq_open no leading slash", mq_open("noslash", O_RDWR | O_CREAT, 0600, NULL));
  report("mq_open two slashes", mq_open("/a/b", O_RDWR | O_CREAT, 0600, NULL));
  report("mq_open /", mq_open("/", O_RDWR | O_CREAT, 0600, NULL));
  report("mq_open /.", mq_open("/.", O_RDWR | O_CREAT, 0600, NULL));
  report("mq_unlink /..", mq_unlink("/.."));
  char longname[300];
  longname[0] = '/';
  memset(longname + 1, 'x', 256);
  longname[257] = 0;
  report("mq_open 256-byte name", mq_open(longname, O_RDWR | O_CREAT, 0600, NULL));
  report("mq_unlink 256-byte name", mq_unlink(longname));
  longname[256] = 0;
  mqd_t q = mq_open(longname, O_RDWR | O_CREAT | O_EXCL, 0600, NULL);
  report("mq_open 255-byte name", q >= 0 ? 0 : -1);
  if (q >= 0) mq_close(q);
  report("mq_unlink 255-byte name", mq_unlink(longname));
  report("mq_open missing", mq_open(qa, O_RDWR, 0600, NULL));
  report("mq_unlink missing", mq_unlink(qa));
}

static void attrs(void) {
  struct mq_attr a = {.mq_maxmsg = 0, .mq_msgsize = 16};
  report("mq_open maxmsg 0", mq_open(qa, O_RDWR | O_CREAT, 0600, &a));
  a.mq_maxmsg = 4;
  a.mq_msgsize = -1;
  report("mq_open msgsize -1", mq_open(qa, O_RDWR | O_CREAT, 0600, &a));
  a.mq_msgsize = 16;
  a.mq_maxmsg = 65537;
  report("mq_open maxmsg above HARD_MSGMAX", mq_open(qa, O_RDWR | O_CREAT, 0600, &a));
  report("mq_open ENOENT after failures", mq_open(qa, O_RDWR, 0600, NULL));
  mqd_t q = mq_open(qb, O_RDWR | O_CREAT | O_EXCL, 0600, NULL);
  show_attr("default attributes", q);
  mq_close(q);
  mq_unlink(qb);
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  snprintf(qa, sizeof qa, "/tsvisor-mq-a-%d", getpid());
  snprintf(qb, sizeof qb, "/tsvisor-mq-b-%d", getpid());
  snprintf(qc, sizeof qc, "/tsvisor-mq-c-%d", getpid());
  names();
  attrs();

  struct mq_attr a = {.mq_maxmsg = 4, .mq_msgsize = 64};
  mqd_t q = mq_open(qa, O_RDWR | O_CREAT | O_EXCL, 0600, &a);
  report("mq_open create", q >= 0 ? 0 : -1);
  report("mq_open O_EXCL again", mq_open(qa, O_RDWR | O_CREAT | O_EXCL, 0600, &a));
  mqd_t q2 = mq_open(qa, O_RDWR | O_CREAT, 0600, NULL);
  report("mq_open O_CREAT existing", q2 >= 0 ? 0 : -1);
  mq_close(q2);
  report("mq_open O_ACCMODE", syscall(SYS_mq_open, qa + 1, O_RDWR | O_WRONLY, 0, NULL));
  report("fcntl FD_CLOEXEC", fcntl(q, F_GETFD) & FD_CLOEXEC);
  show_attr("created", q);
  show_poll("empty", q);
  show_status("status empty", q);

  // Priority order: highest first, FIFO within a priority.
  const char *text[] = {"a1", "b5", "c1", "d9", "e5"};
  unsigned prio[] = {1, 5, 1, 9, 5};
  for (int i = 0; i < 4; i++) mq_send(q, text[i], 2, prio[i]);
  show_poll("full", q);
  show_attr("full", q);
  show_status("status full", q);
  report("mq_timedsend full, timeout", mq_timedsend(q, "x", 1, 0, &(struct timespec[]){in_ms(30)}[0]));
  struct timespec bad = {.tv_sec = 0, .tv_nsec = 2000000000L};
  report("mq_timedsend full, bad timespec", mq_timedsend(q, "x", 1, 0, &bad));
  char buf[128];
  unsigned p;
  report("mq_receive small buffer", mq_receive(q, buf, 63, &p));
  report("mq_timedreceive nonempty, bad timespec", mq_timedreceive(q, buf, sizeof buf, &p, &bad));
  ssize_t n = mq_receive(q, buf, sizeof buf, &p);
  printf("first: %.*s prio %u\n", (int)n, buf, p);
  mq_send(q, text[4], 2, prio[4]);
  show_poll("partly full", q);
  for (int i = 0; i < 4; i++) {
    n = mq_receive(q, buf, sizeof buf, &p);
    printf("next: %.*s prio %u\n", (int)n, buf, p);
  }
  report("mq_send 65 bytes", mq_send(q, buf, 65, 0));
  report("mq_send prio 32768", mq_send(q, "x", 1, 32768));
  report("mq_send 0 bytes", mq_send(q, "", 0, 0));
  n = mq_receive(q, buf, sizeof buf, &p);
  report("mq_receive 0 bytes", n);
  report("mq_timedreceive empty, timeout", mq_timedreceive(q, buf, sizeof buf, &p, &(struct timespec[]){in_ms(30)}[0]));
  report("mq_timedreceive empty, bad timespec", mq_timedreceive(q, buf, sizeof buf, &p, &bad));
  report("mq_timedreceive empty, past", mq_timedreceive(q, buf, sizeof buf, &p, &(struct timespec){0, 0}));

  // O_NONBLOCK through mq_setattr; other flags are refused.
  struct mq_attr na = {.mq_flags = O_NONBLOCK}, old;
  report("mq_setattr O_NONBLOCK", mq_setattr(q, &na, &old));
  show_attr("nonblocking", q);
  report("mq_receive empty nonblocking", mq_receive(q, buf, sizeof buf, &p));
  for (int i = 0; i < 4; i++) mq_send(q, "z", 1, 0);
  report("mq_send full nonblocking", mq_send(q, "z", 1, 0));
  na.mq_flags = O_NONBLOCK | O_APPEND;
  report("mq_setattr O_APPEND", mq_setattr(q, &na, NULL));
  na.mq_flags = 0;
  report("mq_setattr 0", mq_setattr(q, &na, NULL));
  while (mq_timedreceive(q, buf, sizeof buf, &p, &(struct timespec){0, 0}) >= 0) {
  }
  mqd_t nb = mq_open(qa, O_RDONLY | O_NONBLOCK);
  show_attr("opened O_NONBLOCK", nb);
  mq_close(nb);

  // Access modes.
  mqd_t ro = mq_open(qa, O_RDONLY), wo = mq_open(qa, O_WRONLY);
  report("mq_send on O_RDONLY", mq_send(ro, "x", 1, 0));
  report("mq_receive on O_WRONLY", mq_receive(wo, buf, sizeof buf, &p));
  report("read(2) on O_WRONLY", read(wo, buf, sizeof buf));
  report("mq_send on stdout", mq_send(1, "x", 1, 0));
  report("mq_getattr on stdout", mq_getattr(1, &old));
  report("mq_notify on bad fd", mq_notify(999, NULL));
  mq_close(ro);
  mq_close(wo);

  // A blocked receive is woken by a send from a forked child (which inherited the descriptor).
  pid_t c = fork();
  if (c == 0) {
    usleep(100000);
    mq_send(q, "from child", 10, 3);
    _exit(0);
  }
  n = mq_receive(q, buf, sizeof buf, &p);
  printf("blocked receive got: %.*s prio %u\n", (int)n, buf, p);
  waitpid(c, NULL, 0);

  // A signal interrupts a blocked receive.
  arm(0);
  report("mq_receive interrupted", mq_receive(q, buf, sizeof buf, &p));
  arm(1);
  report("mq_timedreceive interrupted, SA_RESTART",
         mq_timedreceive(q, buf, sizeof buf, &p, &(struct timespec[]){in_ms(200)}[0]));
  printf("alarms: %d\n", (int)alarms);
  signal(SIGALRM, SIG_DFL);

  // mq_notify with a signal: one-shot, EBUSY for another process, SI_MESGQ from the sender.
  sigset_t usr1;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  sigprocmask(SIG_BLOCK, &usr1, NULL);
  struct sigevent ev = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGUSR1};
  ev.sigev_value.sival_int = 42;
  report("mq_notify SIGEV_SIGNAL", mq_notify(q, &ev));
  report("mq_notify again, same process", mq_notify(q, &ev));
  show_status("status registered", q);
  c = fork();
  if (c == 0) {
    int r = mq_notify(q, &ev);
    printf("child mq_notify: %d %s\n", r, r < 0 ? strerrorname_np(errno) : "");
    r = mq_notify(q, NULL);
    printf("child mq_notify NULL: %d\n", r);
    mq_send(q, "wake", 4, 0);
    _exit(0);
  }
  waitpid(c, NULL, 0);
  siginfo_t si;
  int sig = sigtimedwait(&usr1, &si, &(struct timespec){2, 0});
  printf("signal %d si_code %d (SI_MESGQ %d) si_pid is child %d si_uid %d si_value %d\n", sig, si.si_code, SI_MESGQ,
         si.si_pid == c, (int)si.si_uid, si.si_value.sival_int);
  show_status("status after notification", q);
  mq_receive(q, buf, sizeof buf, &p);
  report("mq_notify after it fired", mq_notify(q, &ev));
  report("mq_notify NULL", mq_notify(q, NULL));
  mq_send(q, "quiet", 5, 0);
  mq_receive(q, buf, sizeof buf, &p);
  report("signal after removal", sigtimedwait(&usr1, &si, &(struct timespec){0, 50000000}));
  ev.sigev_notify = SIGEV_NONE;
  report("mq_notify SIGEV_NONE", mq_notify(q, &ev));
  show_status("status SIGEV_NONE", q);
  mq_notify(q, NULL);
  ev.sigev_notify = SIGEV_SIGNAL;
  ev.sigev_signo = 65;
  report("mq_notify bad signal", mq_notify(q, &ev));
  ev.sigev_notify = 7;
  report("mq_notify bad sigev_notify", mq_notify(q, &ev));

  thread_notify(q);

  // A registration whose owner exited does not keep others out.
  c = fork();
  if (c == 0) {
    ev.sigev_notify = SIGEV_NONE;
    _exit(mq_notify(q, &ev) == 0 ? 0 : 1);
  }
  int st;
  waitpid(c, &st, 0);
  printf("child registered: %d\n", WIFEXITED(st) && WEXITSTATUS(st) == 0);
  ev.sigev_notify = SIGEV_NONE;
  report("mq_notify after the owner exited", mq_notify(q, &ev));
  mq_notify(q, NULL);

  // Limits and permissions, in children that change their rlimit or user.
  c = fork();
  if (c == 0) {
    // Queues are charged to their creator's user across the whole host: use one that has none.
    struct rlimit rl = {1000, 1000};
    setrlimit(RLIMIT_MSGQUEUE, &rl);
    if (setuid(65534) < 0) perror("setuid");
    report("mq_open over RLIMIT_MSGQUEUE", mq_open(qb, O_RDWR | O_CREAT, 0600, NULL));
    struct mq_attr small = {.mq_maxmsg = 2, .mq_msgsize = 16};
    mqd_t s = mq_open(qb, O_RDWR | O_CREAT, 0600, &small);
    report("mq_open small under RLIMIT_MSGQUEUE", s >= 0 ? 0 : -1);
    mq_unlink(qb);
    report("mq_open 0600 queue as nobody", mq_open(qa, O_RDONLY));
    report("mq_unlink root's queue as nobody", mq_unlink(qa));
    struct mq_attr one = {.mq_maxmsg = 1, .mq_msgsize = 16};
    mqd_t own = mq_open(qc, O_RDWR | O_CREAT | O_EXCL, 0604, &one);
    report("mq_open own queue as nobody", own >= 0 ? 0 : -1);
    report("mq_open own 0604 queue O_RDWR", mq_open(qc, O_RDWR) >= 0 ? 0 : -1);
    report("mq_unlink own queue as nobody", mq_unlink(qc));
    show_attr("own queue after unlink", own);
    struct mq_attr big = {.mq_maxmsg = 11, .mq_msgsize = 16};
    report("mq_open maxmsg 11 as nobody", mq_open(qc, O_RDWR | O_CREAT, 0644, &big));
    big.mq_maxmsg = 10;
    big.mq_msgsize = 8193;
    report("mq_open msgsize 8193 as nobody", mq_open(qc, O_RDWR | O_CREAT, 0644, &big));
    _exit(0);
  }
  waitpid(c, NULL, 0);

  // mq_unlink while open: the name goes, the queue stays for open descriptors.
  report("mq_unlink", mq_unlink(qa));
  report("mq_open after unlink", mq_open(qa, O_RDWR));
  report("mq_unlink again", mq_unlink(qa));
  report("mq_send after unlink", mq_send(q, "still", 5, 2));
  n = mq_receive(q, buf, sizeof buf, &p);
  printf("receive after unlink: %.*s prio %u\n", (int)n, buf, p);
  report("mq_close", mq_close(q));
  report("mq_close again", mq_close(q));
  return 0;
}
