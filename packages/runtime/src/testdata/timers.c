/*
 * timerfd, signalfd, POSIX timers, rt_sigtimedwait and the sigqueue calls, as Linux answers
 * them. Run natively and under tsvisor; both must print the same lines. Times are generous and
 * only deterministic facts are printed (expiration counts of timers set in the past, ranges of
 * overrun counts, errnos, siginfo fields).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *en(int e) {
  switch (e) {
  case 0: return "0";
  case EINVAL: return "EINVAL";
  case EAGAIN: return "EAGAIN";
  case EBADF: return "EBADF";
  case EFAULT: return "EFAULT";
  case EPERM: return "EPERM";
  case ESRCH: return "ESRCH";
  case EINTR: return "EINTR";
  case EOPNOTSUPP: return "EOPNOTSUPP";
  default: return strerror(e);
  }
}

/* "name = result" with the errno name for -1. */
static void show(const char *what, long r) {
  if (r == -1) printf("%s = -1 %s\n", what, en(errno));
  else printf("%s = %ld\n", what, r);
}

static struct timespec now(clockid_t c) {
  struct timespec ts;
  clock_gettime(c, &ts);
  return ts;
}

static long long ns_since(struct timespec t0) {
  struct timespec t1 = now(CLOCK_MONOTONIC);
  return (t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec);
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {
  }
}

/* Prints /proc/self/fdinfo/<fd> without the mnt_id and ino lines (numbers that differ). */
static void fdinfo(int fd) {
  char path[64], buf[1024];
  snprintf(path, sizeof path, "/proc/self/fdinfo/%d", fd);
  FILE *f = fopen(path, "r");
  if (!f) {
    printf("open %s: %s\n", path, en(errno));
    return;
  }
  while (fgets(buf, sizeof buf, f))
    if (strncmp(buf, "mnt_id:", 7) && strncmp(buf, "ino:", 4)) printf("  %s", buf);
  fclose(f);
}

static void timerfd_cases(void) {
  puts("-- timerfd");
  show("timerfd_create(MONOTONIC_RAW)", timerfd_create(CLOCK_MONOTONIC_RAW, 0));
  show("timerfd_create(bad flags)", timerfd_create(CLOCK_MONOTONIC, 1));
  int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  printf("cloexec %d\n", fcntl(fd, F_GETFD) & FD_CLOEXEC);
  uint64_t n = 0;
  show("read(disarmed, nonblock)", read(fd, &n, 8));
  show("read(4 bytes)", read(fd, &n, 4));
  struct itimerspec its = {{0, 0}, {10, 0}}, old;
  show("settime(bad flags)", timerfd_settime(fd, 4, &its, NULL));
  its.it_value.tv_nsec = 1000000000;
  show("settime(bad nsec)", timerfd_settime(fd, 0, &its, NULL));
  show("settime(EFAULT)", timerfd_settime(fd, 0, (void *)8, NULL));
  its.it_value.tv_nsec = 0;
  show("settime(10 s)", timerfd_settime(fd, 0, &its, NULL));
  timerfd_gettime(fd, &old);
  printf("gettime: value %ld s, interval %ld s\n", (long)old.it_value.tv_sec, (long)old.it_interval.tv_sec);
  /* Absolute, 10 s in the past, every 1 s: 11 expirations are due at once. */
  struct timespec t = now(CLOCK_MONOTONIC);
  struct itimerspec past = {{1, 0}, {t.tv_sec - 10, t.tv_nsec}};
  show("settime(abs past, 1 s period)", timerfd_settime(fd, TFD_TIMER_ABSTIME, &past, &old));
  printf("old value %ld s\n", (long)old.it_value.tv_sec);
  show("read", read(fd, &n, 8));
  printf("expirations %llu\n", (unsigned long long)n);
  show("read again", read(fd, &n, 8));
  struct itimerspec off = {{0, 0}, {0, 0}};
  timerfd_settime(fd, 0, &off, NULL);
  timerfd_gettime(fd, &old);
  printf("disarmed: %ld %ld\n", (long)old.it_value.tv_sec, (long)old.it_value.tv_nsec);
  fdinfo(fd);

  /* A blocking read of a 20 ms one-shot timer on CLOCK_REALTIME, absolute. */
  int bfd = timerfd_create(CLOCK_REALTIME, 0);
  t = now(CLOCK_REALTIME);
  t.tv_nsec += 20000000;
  if (t.tv_nsec >= 1000000000) t.tv_sec++, t.tv_nsec -= 1000000000;
  struct itimerspec abs = {{0, 0}, t};
  timerfd_settime(bfd, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &abs, NULL);
  show("blocking read", read(bfd, &n, 8));
  printf("expirations %llu\n", (unsigned long long)n);

  /* epoll and poll readiness of a 30 ms periodic timer. */
  int ep = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLIN, .data.u32 = 7}, out;
  epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
  show("epoll_wait(disarmed, 0)", epoll_wait(ep, &out, 1, 0));
  struct itimerspec per = {{0, 30000000}, {0, 30000000}};
  timerfd_settime(fd, 0, &per, NULL);
  int r = epoll_wait(ep, &out, 1, 5000);
  printf("epoll_wait = %d events %#x data %u\n", r, out.events, out.data.u32);
  sleep_ms(100);
  struct pollfd pfd = {fd, POLLIN, 0};
  show("poll", poll(&pfd, 1, 0));
  read(fd, &n, 8);
  printf("periodic expirations >= 3: %d\n", n >= 3);
  int efd = eventfd(0, 0);
  show("settime(eventfd)", timerfd_settime(efd, 0, &its, NULL));
  show("gettime(eventfd)", timerfd_gettime(efd, &old));
  show("settime(bad fd)", timerfd_settime(99, 0, &its, NULL));
  close(efd);
  close(ep);
  close(fd);
  close(bfd);
}

static void signalfd_cases(void) {
  puts("-- signalfd");
  sigset_t m;
  sigemptyset(&m);
  sigaddset(&m, SIGUSR1);
  sigaddset(&m, SIGUSR2);
  sigaddset(&m, SIGRTMIN);
  sigprocmask(SIG_BLOCK, &m, NULL);
  sigset_t watch;
  sigemptyset(&watch);
  sigaddset(&watch, SIGUSR1);
  sigaddset(&watch, SIGRTMIN);
  show("signalfd(sizemask 4)", syscall(SYS_signalfd4, -1, &watch, 4, 0));
  show("signalfd(bad flags)", syscall(SYS_signalfd4, -1, &watch, 8, 1));
  show("signalfd(EFAULT)", syscall(SYS_signalfd4, -1, (void *)8, 8, 0));
  int efd = eventfd(0, 0);
  show("signalfd(eventfd)", signalfd(efd, &watch, 0));
  show("signalfd(bad fd)", signalfd(99, &watch, 0));
  close(efd);
  int fd = signalfd(-1, &watch, SFD_NONBLOCK | SFD_CLOEXEC);
  printf("cloexec %d\n", fcntl(fd, F_GETFD) & FD_CLOEXEC);
  fdinfo(fd);
  struct signalfd_siginfo si[3];
  show("read(empty)", read(fd, si, sizeof si));
  show("read(100 bytes)", read(fd, si, 100));
  struct pollfd pfd = {fd, POLLIN, 0};
  show("poll(empty)", poll(&pfd, 1, 0));
  kill(getpid(), SIGUSR2); /* not watched */
  show("poll(SIGUSR2 only)", poll(&pfd, 1, 0));
  union sigval v = {.sival_int = 42};
  sigqueue(getpid(), SIGRTMIN, v);
  kill(getpid(), SIGUSR1);
  show("poll", poll(&pfd, 1, 0));
  long r = read(fd, si, sizeof si);
  show("read(3 records)", r);
  for (int i = 0; i < r / (long)sizeof si[0]; i++)
    printf("  signo %u code %d pid_ok %d uid %u int %d\n", si[i].ssi_signo, si[i].ssi_code,
           si[i].ssi_pid == (uint32_t)getpid(), si[i].ssi_uid, si[i].ssi_int);
  /* Replace the mask: now SIGUSR2 (still pending) is reported. */
  sigset_t two;
  sigemptyset(&two);
  sigaddset(&two, SIGUSR2);
  show("signalfd(update)", signalfd(fd, &two, 0) == fd);
  show("read(SIGUSR2)", read(fd, si, sizeof si));
  printf("  signo %u code %d\n", si[0].ssi_signo, si[0].ssi_code);
  /* epoll, and a blocking read woken by a signal from a child process. */
  int ep = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLIN}, out;
  epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
  show("epoll_wait(empty)", epoll_wait(ep, &out, 1, 0));
  pid_t parent = getpid();
  pid_t c = fork();
  if (c == 0) {
    sleep_ms(30);
    kill(parent, SIGUSR2);
    _exit(0);
  }
  int n = epoll_wait(ep, &out, 1, 5000);
  printf("epoll_wait = %d events %#x\n", n, out.events);
  int bfd = signalfd(-1, &two, 0);
  show("blocking read", read(bfd, si, sizeof si));
  printf("  signo %u code %d from child %d\n", si[0].ssi_signo, si[0].ssi_code, si[0].ssi_pid == (uint32_t)c);
  waitpid(c, NULL, 0);
  /* SIGCHLD fields through a signalfd. */
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  sigprocmask(SIG_BLOCK, &chld, NULL);
  int cfd = signalfd(-1, &chld, 0);
  c = fork();
  if (c == 0) _exit(3);
  show("read(SIGCHLD)", read(cfd, si, sizeof si[0]));
  printf("  signo %u code %d pid_ok %d status %d\n", si[0].ssi_signo, si[0].ssi_code, si[0].ssi_pid == (uint32_t)c,
         si[0].ssi_status);
  waitpid(c, NULL, 0);
  sigprocmask(SIG_UNBLOCK, &chld, NULL);
  close(cfd);
  close(bfd);
  close(ep);
  close(fd);
}

static sem_t fired;
static volatile int thread_value;
static void on_timer(union sigval v) {
  thread_value = v.sival_int;
  sem_post(&fired);
}

static void posix_timer_cases(void) {
  puts("-- POSIX timers");
  timer_t id;
  struct sigevent sev;
  memset(&sev, 0, sizeof sev);
  show("timer_create(bad clock)", syscall(SYS_timer_create, 99, NULL, &id));
  sev.sigev_notify = SIGEV_SIGNAL;
  sev.sigev_signo = 65;
  show("timer_create(signo 65)", syscall(SYS_timer_create, CLOCK_MONOTONIC, &sev, &id));
  sev.sigev_notify = 3;
  sev.sigev_signo = SIGRTMIN;
  show("timer_create(notify 3)", syscall(SYS_timer_create, CLOCK_MONOTONIC, &sev, &id));
  sev.sigev_notify = SIGEV_THREAD_ID;
  sev._sigev_un._tid = 999999;
  show("timer_create(bad tid)", syscall(SYS_timer_create, CLOCK_MONOTONIC, &sev, &id));
  show("timer_create(EFAULT)", syscall(SYS_timer_create, CLOCK_MONOTONIC, (void *)8, &id));
  int kid = -1;
  show("timer_settime(bad id)", syscall(SYS_timer_settime, 12345, 0, &(struct itimerspec){{0, 0}, {1, 0}}, NULL));
  show("timer_gettime(bad id)", syscall(SYS_timer_gettime, 12345, &(struct itimerspec){}));
  show("timer_getoverrun(bad id)", syscall(SYS_timer_getoverrun, 12345));
  show("timer_delete(bad id)", syscall(SYS_timer_delete, 12345));

  /* Periodic 10 ms SIGRTMIN, blocked: one signal queued, the rest are overruns. */
  sev.sigev_notify = SIGEV_SIGNAL;
  sev.sigev_signo = SIGRTMIN;
  sev.sigev_value.sival_int = 0x1234;
  show("timer_create(MONOTONIC, SIGRTMIN)", syscall(SYS_timer_create, CLOCK_MONOTONIC, &sev, &kid));
  struct itimerspec its = {{0, 10000000}, {0, 10000000}}, cur;
  show("timer_settime(NULL)", syscall(SYS_timer_settime, kid, 0, NULL, NULL));
  struct itimerspec bad = {{0, 0}, {0, 1000000000}};
  show("timer_settime(bad nsec)", syscall(SYS_timer_settime, kid, 0, &bad, NULL));
  struct timespec armed = now(CLOCK_MONOTONIC);
  show("timer_settime", syscall(SYS_timer_settime, kid, 0, &its, NULL));
  sleep_ms(120);
  sigset_t rt;
  sigemptyset(&rt);
  sigaddset(&rt, SIGRTMIN);
  siginfo_t si;
  struct timespec zero = {0, 0};
  /* The timer runs on: on a loaded host its next expiry may come before the second wait below,
   * whose signal is then a new one. Only a signal found sooner than that expiry was queued twice. */
  struct itimerspec left;
  struct timespec t0 = now(CLOCK_MONOTONIC);
  syscall(SYS_timer_gettime, kid, &left);
  int s = sigtimedwait(&rt, &si, &zero);
  /* 12 expirations or more (more on a loaded host, where the sleep lasts longer), one per 10 ms
   * since the timer was armed at most: all but one are overruns. */
  long long expirations = ns_since(armed) / 10000000;
  printf("sigtimedwait = SIGRTMIN %d code SI_TIMER %d timerid_ok %d value %#x overrun in 5..expirations-1 %d\n",
         s == SIGRTMIN, si.si_code == SI_TIMER, si.si_timerid == kid, si.si_value.sival_int,
         si.si_overrun >= 5 && si.si_overrun < expirations);
  printf("getoverrun matches %d\n", (int)syscall(SYS_timer_getoverrun, kid) == si.si_overrun);
  s = sigtimedwait(&rt, &si, &zero);
  int again = errno;
  long long next = left.it_value.tv_sec * 1000000000LL + left.it_value.tv_nsec;
  printf("sigtimedwait(again, 0) finds no second signal %d\n",
         s == -1 ? again == EAGAIN : s == SIGRTMIN && ns_since(t0) >= next);
  syscall(SYS_timer_gettime, kid, &cur);
  printf("gettime interval %ld ns, value <= interval %d\n", cur.it_interval.tv_nsec,
         cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec <= 10000000);
  show("timer_delete", syscall(SYS_timer_delete, kid));
  show("timer_delete(again)", syscall(SYS_timer_delete, kid));
  /* Drain a signal that may have been queued between the wait and the delete. */
  sigtimedwait(&rt, &si, &zero);

  /* NULL sigevent: SIGALRM with the timer id as value; ABSTIME on CLOCK_REALTIME. */
  sigset_t alrm;
  sigemptyset(&alrm);
  sigaddset(&alrm, SIGALRM);
  sigprocmask(SIG_BLOCK, &alrm, NULL);
  show("timer_create(REALTIME, NULL)", syscall(SYS_timer_create, CLOCK_REALTIME, NULL, &kid));
  struct timespec t = now(CLOCK_REALTIME);
  t.tv_nsec += 20000000;
  if (t.tv_nsec >= 1000000000) t.tv_sec++, t.tv_nsec -= 1000000000;
  struct itimerspec abs = {{0, 0}, t};
  syscall(SYS_timer_settime, kid, TIMER_ABSTIME, &abs, NULL);
  struct timespec two = {5, 0};
  s = sigtimedwait(&alrm, &si, &two);
  printf("SIGALRM %d code SI_TIMER %d value is id %d\n", s == SIGALRM, si.si_code == SI_TIMER,
         si.si_value.sival_int == kid);
  syscall(SYS_timer_gettime, kid, &cur);
  printf("one-shot after expiry: %ld %ld\n", (long)cur.it_value.tv_sec, cur.it_value.tv_nsec);
  syscall(SYS_timer_delete, kid);

  /* SIGEV_NONE keeps time without signalling. */
  sev.sigev_notify = SIGEV_NONE;
  syscall(SYS_timer_create, CLOCK_BOOTTIME, &sev, &kid);
  struct itimerspec ten = {{0, 0}, {10, 0}};
  struct itimerspec prev;
  syscall(SYS_timer_settime, kid, 0, &ten, NULL);
  syscall(SYS_timer_settime, kid, 0, &ten, &prev);
  printf("SIGEV_NONE old value %ld s\n", (long)prev.it_value.tv_sec);
  syscall(SYS_timer_delete, kid);

  /* SIGEV_THREAD_ID to this thread. */
  sev.sigev_notify = SIGEV_THREAD_ID;
  sev.sigev_signo = SIGRTMIN;
  sev._sigev_un._tid = gettid();
  syscall(SYS_timer_create, CLOCK_MONOTONIC, &sev, &kid);
  struct itimerspec once = {{0, 0}, {0, 5000000}};
  syscall(SYS_timer_settime, kid, 0, &once, NULL);
  s = sigtimedwait(&rt, &si, &two);
  printf("SIGEV_THREAD_ID: SIGRTMIN %d code SI_TIMER %d\n", s == SIGRTMIN, si.si_code == SI_TIMER);
  syscall(SYS_timer_delete, kid);

  /* A pending signal of a timer that is deleted or re-armed is dropped (Linux 6.13+). */
  sev.sigev_notify = SIGEV_SIGNAL;
  sev.sigev_signo = SIGRTMIN;
  struct itimerspec ms1 = {{0, 0}, {0, 1000000}}, later = {{0, 0}, {10, 0}};
  syscall(SYS_timer_create, CLOCK_MONOTONIC, &sev, &kid);
  syscall(SYS_timer_settime, kid, 0, &ms1, NULL);
  sleep_ms(20);
  syscall(SYS_timer_delete, kid);
  show("sigtimedwait after timer_delete", sigtimedwait(&rt, &si, &zero));
  syscall(SYS_timer_create, CLOCK_MONOTONIC, &sev, &kid);
  syscall(SYS_timer_settime, kid, 0, &ms1, NULL);
  sleep_ms(20);
  syscall(SYS_timer_settime, kid, 0, &later, NULL);
  show("sigtimedwait after re-arm", sigtimedwait(&rt, &si, &zero));
  syscall(SYS_timer_delete, kid);

  /* Clocks without timers, and a timer on the process CPU-time clock. */
  int clocks[] = {CLOCK_MONOTONIC_RAW, CLOCK_REALTIME_COARSE, CLOCK_REALTIME_ALARM, -5};
  for (int i = 0; i < 4; i++) {
    char what[64];
    snprintf(what, sizeof what, "timer_create(clock %d)", clocks[i]);
    show(what, syscall(SYS_timer_create, clocks[i], NULL, &kid));
  }
  sev.sigev_notify = SIGEV_SIGNAL;
  sev.sigev_signo = SIGRTMIN;
  sev.sigev_value.sival_int = 5;
  show("timer_create(PROCESS_CPUTIME)", syscall(SYS_timer_create, CLOCK_PROCESS_CPUTIME_ID, &sev, &kid));
  struct itimerspec cpu10 = {{0, 0}, {0, 10000000}};
  syscall(SYS_timer_settime, kid, 0, &cpu10, NULL);
  struct timespec start = now(CLOCK_MONOTONIC), t2;
  s = -1;
  do {
    s = sigtimedwait(&rt, &si, &zero); /* a syscall: tsvisor samples CPU time at syscall entry */
    t2 = now(CLOCK_MONOTONIC);
  } while (s != SIGRTMIN && t2.tv_sec - start.tv_sec < 20);
  printf("CPU timer: SIGRTMIN %d code SI_TIMER %d value %d\n", s == SIGRTMIN, si.si_code == SI_TIMER, si.si_value.sival_int);
  syscall(SYS_timer_delete, kid);

  /* glibc's SIGEV_THREAD (a helper thread on SIGEV_THREAD_ID and sigwaitinfo). */
  sem_init(&fired, 0, 0);
  memset(&sev, 0, sizeof sev);
  sev.sigev_notify = SIGEV_THREAD;
  sev.sigev_notify_function = on_timer;
  sev.sigev_value.sival_int = 77;
  timer_t tid;
  show("timer_create(SIGEV_THREAD)", timer_create(CLOCK_MONOTONIC, &sev, &tid));
  struct itimerspec soon = {{0, 0}, {0, 10000000}};
  timer_settime(tid, 0, &soon, NULL);
  struct timespec dl = now(CLOCK_REALTIME);
  dl.tv_sec += 5;
  show("sem_timedwait", sem_timedwait(&fired, &dl));
  printf("callback value %d\n", thread_value);
  timer_delete(tid);
}

static void sigwait_cases(void) {
  puts("-- rt_sigtimedwait, sigqueueinfo");
  sigset_t u1;
  sigemptyset(&u1);
  sigaddset(&u1, SIGUSR1);
  siginfo_t si;
  struct timespec short_ = {0, 30000000}, bad = {0, 1000000000};
  show("sigtimedwait(30 ms)", sigtimedwait(&u1, &si, &short_));
  show("sigtimedwait(bad ts)", sigtimedwait(&u1, &si, &bad));
  show("rt_sigtimedwait(sizemask 4)", syscall(SYS_rt_sigtimedwait, &u1, &si, &short_, 4));
  /* rt_tgsigqueueinfo to this thread with SI_QUEUE and a value. */
  memset(&si, 0, sizeof si);
  si.si_signo = SIGUSR1;
  si.si_code = SI_QUEUE;
  si.si_pid = getpid();
  si.si_uid = getuid();
  si.si_value.sival_int = 7;
  show("rt_tgsigqueueinfo(self)", syscall(SYS_rt_tgsigqueueinfo, getpid(), gettid(), SIGUSR1, &si));
  siginfo_t got;
  int s = sigwaitinfo(&u1, &got);
  printf("sigwaitinfo = SIGUSR1 %d code SI_QUEUE %d value %d\n", s == SIGUSR1, got.si_code == SI_QUEUE,
         got.si_value.sival_int);
  /* A kernel si_code is allowed to oneself, refused to another process. */
  si.si_code = SI_USER;
  show("rt_sigqueueinfo(self, SI_USER)", syscall(SYS_rt_sigqueueinfo, getpid(), SIGUSR1, &si));
  sigwaitinfo(&u1, &got);
  printf("got SI_USER %d\n", got.si_code == SI_USER);
  pid_t c = fork();
  if (c == 0) {
    pause();
    _exit(0);
  }
  show("rt_sigqueueinfo(child, SI_USER)", syscall(SYS_rt_sigqueueinfo, c, SIGUSR1, &si));
  si.si_code = SI_TKILL;
  show("rt_sigqueueinfo(child, SI_TKILL)", syscall(SYS_rt_sigqueueinfo, c, SIGUSR1, &si));
  si.si_code = SI_QUEUE;
  show("rt_sigqueueinfo(child, SI_QUEUE, 0)", syscall(SYS_rt_sigqueueinfo, c, 0, &si));
  show("rt_tgsigqueueinfo(child, wrong tgid)", syscall(SYS_rt_tgsigqueueinfo, getpid(), c, 0, &si));
  show("rt_tgsigqueueinfo(0)", syscall(SYS_rt_tgsigqueueinfo, 0, c, 0, &si));
  show("rt_sigqueueinfo(EFAULT)", syscall(SYS_rt_sigqueueinfo, c, 0, (void *)8));
  kill(c, SIGKILL);
  waitpid(c, NULL, 0);
  show("rt_sigqueueinfo(gone)", syscall(SYS_rt_sigqueueinfo, c, 0, &si));
}

static volatile sig_atomic_t cpu_fired;
static void on_cpu_timer(int sig) { cpu_fired = sig; }

/* Spins (making syscalls, as tsvisor samples CPU time at syscall entry) until `sig` arrives. */
static void cpu_itimer(int which, int sig, const char *name) {
  signal(sig, on_cpu_timer);
  cpu_fired = 0;
  struct itimerval v = {{0, 0}, {0, 10000}}, left;
  setitimer(which, &v, NULL);
  getitimer(which, &left);
  printf("%s armed: %d\n", name, left.it_value.tv_sec == 0 && left.it_value.tv_usec > 0);
  struct timespec start = now(CLOCK_MONOTONIC), t;
  do {
    getppid();
    t = now(CLOCK_MONOTONIC);
  } while (!cpu_fired && t.tv_sec - start.tv_sec < 20);
  getitimer(which, &left);
  printf("%s fired %d, then disarmed %d\n", name, cpu_fired == sig, left.it_value.tv_sec == 0 && left.it_value.tv_usec == 0);
  signal(sig, SIG_DFL);
}

static volatile int spin_stop;
static void *spinner(void *arg) {
  (void)arg;
  while (!spin_stop) getppid();
  return NULL;
}

static void clock_cases(void) {
  puts("-- clocks");
  struct timespec r;
  show("clock_getres(MONOTONIC)", clock_getres(CLOCK_MONOTONIC, &r));
  printf("res %ld %ld\n", (long)r.tv_sec, r.tv_nsec);
  struct timespec d = {0, 1000000};
  printf("clock_nanosleep(THREAD_CPUTIME) = %s\n", en(clock_nanosleep(CLOCK_THREAD_CPUTIME_ID, 0, &d, NULL)));
  show("raw clock_nanosleep(THREAD_CPUTIME)", syscall(SYS_clock_nanosleep, CLOCK_THREAD_CPUTIME_ID, 0, &d, NULL));
  printf("clock_nanosleep(MONOTONIC_RAW) = %s\n", en(clock_nanosleep(CLOCK_MONOTONIC_RAW, 0, &d, NULL)));
  printf("clock_nanosleep(bad clock) = %s\n", en(clock_nanosleep(99, 0, &d, NULL)));
  printf("clock_nanosleep(fd clock -5) = %s\n", en(clock_nanosleep(-5, 0, &d, NULL)));
  printf("clock_nanosleep(own thread clock -2) = %s\n", en(clock_nanosleep(-2, 0, &d, NULL)));
  /* The process CPU clock advances while another thread spins. */
  pthread_t th;
  pthread_create(&th, NULL, spinner, NULL);
  struct timespec cpu10 = {0, 10000000};
  printf("clock_nanosleep(PROCESS_CPUTIME, 10 ms) = %s\n", en(clock_nanosleep(CLOCK_PROCESS_CPUTIME_ID, 0, &cpu10, NULL)));
  spin_stop = 1;
  pthread_join(th, NULL);
  cpu_itimer(ITIMER_VIRTUAL, SIGVTALRM, "ITIMER_VIRTUAL");
  cpu_itimer(ITIMER_PROF, SIGPROF, "ITIMER_PROF");
  show("alarm(5)", alarm(5));
  show("alarm(0)", alarm(0));
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  timerfd_cases();
  signalfd_cases();
  posix_timer_cases();
  sigwait_cases();
  clock_cases();
  return 0;
}
