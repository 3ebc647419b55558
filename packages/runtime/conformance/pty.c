/*
 * Pseudo-terminal conformance: a pty pair, the N_TTY line discipline (canonical and raw modes,
 * echo, input and output processing, VMIN/VTIME), the termios and pty ioctls, job control
 * (foreground process groups, ^C/^\/^Z, SIGWINCH, SIGTTOU/SIGTTIN) and hangups (master close,
 * slave close). One line per check; the output is the same on Linux and under tsvisor, so it
 * names no pty number, pid or time.
 *
 *   gcc -O1 -static -o pty pty.c && ./pty
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static void show(const char *what, const char *buf, long n) {
  printf("%s: %ld \"", what, n);
  for (long i = 0; i < n; i++) {
    unsigned char c = (unsigned char)buf[i];
    if (c >= 32 && c < 127 && c != '"' && c != '\\') putchar(c);
    else printf("\\x%02x", c);
  }
  printf("\"\n");
}

static const char *err(long r) {
  static char b[64];
  if (r >= 0) snprintf(b, sizeof b, "%ld", r);
  else snprintf(b, sizeof b, "-1 %s", strerrorname_np(errno));
  return b;
}

/* Reads what arrives within 100 ms, then until 30 ms pass without more (non-blocking reads). */
static long drain(int fd, char *buf, long cap) {
  struct pollfd p = {fd, POLLIN, 0};
  long total = 0;
  while (total < cap && poll(&p, 1, total ? 30 : 100) > 0 && (p.revents & POLLIN)) {
    int fl = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, fl | O_NONBLOCK);
    long n = read(fd, buf + total, cap - total);
    fcntl(fd, F_SETFL, fl);
    if (n <= 0) break;
    total += n;
  }
  return total;
}

static int open_pair(int *master, int *slave) {
  *master = posix_openpt(O_RDWR | O_NOCTTY);
  if (*master < 0 || grantpt(*master) || unlockpt(*master)) return -1;
  *slave = open(ptsname(*master), O_RDWR | O_NOCTTY);
  return *slave < 0 ? -1 : 0;
}

static void put(int fd, const char *s) {
  if (write(fd, s, strlen(s)) != (long)strlen(s)) printf("short write\n");
}

/* Writes `in` to the master, then shows what the slave reads and what the master echoes. */
static void through(int m, int s, const char *label, const char *in) {
  char buf[256];
  put(m, in);
  char l[128];
  snprintf(l, sizeof l, "%s slave", label);
  show(l, buf, drain(s, buf, sizeof buf));
  snprintf(l, sizeof l, "%s echo", label);
  show(l, buf, drain(m, buf, sizeof buf));
}

static void basics(void) {
  int m, s;
  if (open_pair(&m, &s)) {
    printf("open_pair failed: %s\n", strerrorname_np(errno));
    exit(1);
  }
  char link[64], path[64];
  snprintf(path, sizeof path, "/proc/self/fd/%d", s);
  long n = readlink(path, link, sizeof link - 1);
  link[n > 0 ? n : 0] = 0;
  printf("slave link is ptsname: %d\n", strcmp(link, ptsname(m)) == 0);
  printf("ptsname under /dev/pts/: %d\n", strncmp(ptsname(m), "/dev/pts/", 9) == 0);
  snprintf(path, sizeof path, "/proc/self/fd/%d", m);
  n = readlink(path, link, sizeof link - 1);
  link[n > 0 ? n : 0] = 0;
  printf("master link: %s\n", link);
  printf("isatty master %d slave %d\n", isatty(m), isatty(s));
  unsigned ptn = 0;
  printf("TIOCGPTN matches: %d\n", ioctl(m, TIOCGPTN, &ptn) == 0 && ptn == (unsigned)atoi(ptsname(m) + 9));
  printf("TIOCGPTN on slave: %s\n", err(ioctl(s, TIOCGPTN, &ptn)));

  struct termios t;
  tcgetattr(s, &t);
  printf("slave termios: i=%o o=%o c=%o l=%o\n", t.c_iflag, t.c_oflag, t.c_cflag, t.c_lflag);
  printf("cc:");
  for (int i = 0; i < 17; i++) printf(" %d", t.c_cc[i]);
  printf("\nspeed: %d %d\n", (int)cfgetispeed(&t), (int)cfgetospeed(&t));
  struct termios tm;
  tcgetattr(m, &tm);
  printf("master termios: i=%o o=%o c=%o l=%o\n", tm.c_iflag, tm.c_oflag, tm.c_cflag, tm.c_lflag);
  struct winsize ws;
  ioctl(s, TIOCGWINSZ, &ws);
  printf("winsize: %d %d\n", ws.ws_row, ws.ws_col);

  // Canonical mode.
  through(m, s, "line", "hello\n");
  through(m, s, "erase", "abc\x7f" "d\n");
  through(m, s, "kill", "xyz\x15ok\n");
  through(m, s, "werase", "one two\x17three\n");
  through(m, s, "ctl", "\x01\n");
  through(m, s, "cr", "x\r");
  put(m, "ab\x04");
  char buf[256];
  n = read(s, buf, sizeof buf);
  show("eof mid-line", buf, n);
  put(m, "\x04");
  printf("eof at line start: %ld\n", read(s, buf, sizeof buf));
  show("eof echo", buf, drain(m, buf, sizeof buf));
  put(m, "partial");
  struct pollfd ps = {s, POLLIN, 0};
  printf("poll partial line: %d\n", poll(&ps, 1, 100));
  int avail = -1;
  ioctl(s, FIONREAD, &avail);
  printf("FIONREAD without newline: %d\n", avail);
  put(m, "\n");
  printf("poll full line: %d\n", poll(&ps, 1, 100));
  ioctl(s, FIONREAD, &avail);
  printf("FIONREAD with newline: %d\n", avail);
  n = read(s, buf, 3);
  show("short read", buf, n);
  n = read(s, buf, sizeof buf);
  show("rest of line", buf, n);
  show("partial echo", buf, drain(m, buf, sizeof buf));

  // Input flags.
  t.c_iflag |= IGNCR;
  tcsetattr(s, TCSANOW, &t);
  through(m, s, "igncr", "y\r\n");
  t.c_iflag &= ~(IGNCR | ICRNL);
  tcsetattr(s, TCSANOW, &t);
  through(m, s, "no icrnl", "z\r\n");
  t.c_iflag |= ICRNL;
  t.c_lflag &= ~ECHO;
  t.c_lflag |= ECHONL;
  tcsetattr(s, TCSANOW, &t);
  through(m, s, "echonl", "quiet\n");
  t.c_lflag |= ECHO;
  t.c_lflag &= ~(ECHONL | ECHOCTL);
  tcsetattr(s, TCSANOW, &t);
  through(m, s, "no echoctl", "\x02\n");
  t.c_lflag |= ECHOCTL;
  tcsetattr(s, TCSANOW, &t);

  // Output processing.
  put(s, "a\nb\n");
  show("onlcr", buf, drain(m, buf, sizeof buf));
  t.c_oflag &= ~OPOST;
  tcsetattr(s, TCSANOW, &t);
  put(s, "a\nb\n");
  show("no opost", buf, drain(m, buf, sizeof buf));
  t.c_oflag |= OPOST | OCRNL;
  tcsetattr(s, TCSANOW, &t);
  put(s, "c\rd\n");
  show("ocrnl", buf, drain(m, buf, sizeof buf));
  t.c_oflag &= ~OCRNL;
  tcsetattr(s, TCSANOW, &t);
  put(s, "xyz");
  struct pollfd pmr = {m, POLLIN, 0};
  poll(&pmr, 1, 100);
  usleep(20000);
  ioctl(m, FIONREAD, &avail);
  printf("master FIONREAD: %d\n", avail);
  drain(m, buf, sizeof buf);
  int outq = -1;
  printf("TIOCOUTQ slave: %s", err(ioctl(s, TIOCOUTQ, &outq)));
  printf(" %d\n", outq);

  // Non-canonical mode.
  struct termios raw = t;
  cfmakeraw(&raw);
  raw.c_cc[VMIN] = 1;
  raw.c_cc[VTIME] = 0;
  tcsetattr(s, TCSANOW, &raw);
  put(m, "q\r");
  n = read(s, buf, sizeof buf);
  show("raw read", buf, n);
  show("raw echo", buf, drain(m, buf, sizeof buf));
  raw.c_cc[VMIN] = 0;
  tcsetattr(s, TCSANOW, &raw);
  printf("vmin 0 vtime 0 empty: %ld\n", read(s, buf, sizeof buf));
  raw.c_cc[VTIME] = 2;
  tcsetattr(s, TCSANOW, &raw);
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  n = read(s, buf, sizeof buf);
  clock_gettime(CLOCK_MONOTONIC, &b);
  long ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
  printf("vtime 2 empty: %ld after 150-600 ms: %d\n", n, ms >= 150 && ms < 600);
  raw.c_cc[VMIN] = 3;
  raw.c_cc[VTIME] = 0;
  tcsetattr(s, TCSANOW, &raw);
  put(m, "ab");
  struct pollfd p = {s, POLLIN, 0};
  printf("vmin 3 poll with 2: %d\n", poll(&p, 1, 50));
  put(m, "c");
  printf("vmin 3 poll with 3: %d\n", poll(&p, 1, 50));
  n = read(s, buf, sizeof buf);
  show("vmin 3 read", buf, n);
  raw.c_cc[VMIN] = 1;
  tcsetattr(s, TCSANOW, &raw);

  // Flushing, packet mode, peers.
  tcsetattr(s, TCSANOW, &t);
  put(m, "flushed\n");
  drain(m, buf, sizeof buf);
  poll(&ps, 1, 100);
  printf("tcflush TCIFLUSH: %d\n", tcflush(s, TCIFLUSH));
  ioctl(s, FIONREAD, &avail);
  printf("FIONREAD after flush: %d\n", avail);
  printf("TCFLSH bad: %s\n", err(ioctl(s, TCFLSH, 7)));
  int on = 1;
  printf("TIOCPKT: %d\n", ioctl(m, TIOCPKT, &on));
  put(s, "hi");
  show("packet read", buf, drain(m, buf, sizeof buf));
  on = 0;
  ioctl(m, TIOCPKT, &on);
  int peer = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY);
  snprintf(path, sizeof path, "/proc/self/fd/%d", peer);
  n = readlink(path, link, sizeof link - 1);
  link[n > 0 ? n : 0] = 0;
  printf("TIOCGPTPEER link is ptsname: %d\n", peer >= 0 && strcmp(link, ptsname(m)) == 0);
  printf("TIOCGPTPEER on slave: %s\n", err(ioctl(s, TIOCGPTPEER, O_RDWR)));
  printf("TIOCSCTTY without session leadership: %s\n", err(ioctl(s, TIOCSCTTY, 0)));
  printf("TIOCGPGRP without ctty: %s\n", err(ioctl(s, TIOCGPGRP, &avail)));
  printf("TIOCNOTTY without ctty: %s\n", err(ioctl(s, TIOCNOTTY)));
  printf("TCGETS on a pipe: ");
  int pp[2];
  pipe(pp);
  printf("%s\n", err(tcgetattr(pp[0], &tm)));
  close(pp[0]);
  close(pp[1]);
  close(peer);

  // A locked slave.
  int m2 = posix_openpt(O_RDWR | O_NOCTTY);
  grantpt(m2);
  int lock = -1;
  ioctl(m2, TIOCGPTLCK, &lock);
  printf("new pair locked: %d\n", lock);
  printf("open locked slave: %s\n", err(open(ptsname(m2), O_RDWR | O_NOCTTY)));
  close(m2);

  // Slave closed: the master drains, then reads EIO and polls POLLHUP.
  put(s, "last");
  close(s);
  n = read(m, buf, sizeof buf);
  show("master after slave close", buf, n);
  printf("then: %s\n", err(read(m, buf, sizeof buf)));
  struct pollfd pm = {m, POLLIN, 0};
  poll(&pm, 1, 0);
  printf("master revents: %#x\n", pm.revents);
  close(m);
}

static volatile sig_atomic_t got[65];
static void on_signal(int sig) { got[sig]++; }

static void report(int fd, const char *s) { put(fd, s); }

/*
 * Job control: a child makes a session whose controlling terminal is the slave, and reports to
 * the parent through a pipe what it sees.
 */
static void job_control(void) {
  int m, s;
  open_pair(&m, &s);
  const char *name = ptsname(m);
  int rep[2], go[2];
  pipe(rep);
  pipe(go);
  pid_t child = fork();
  if (child == 0) {
    close(rep[0]);
    close(go[1]);
    close(s);
    close(m);
    char line[128];
    snprintf(line, sizeof line, "setsid: %d\n", setsid() == getpid());
    report(rep[1], line);
    int fd = open(name, O_RDWR); /* no O_NOCTTY: the session leader's first tty becomes its ctty */
    pid_t pg = -1, sid = -1;
    ioctl(fd, TIOCGPGRP, &pg);
    ioctl(fd, TIOCGSID, &sid);
    snprintf(line, sizeof line, "ctty by open: pgrp is me %d, sid is me %d\n", pg == getpid(), sid == getpid());
    report(rep[1], line);
    int tty = open("/dev/tty", O_RDWR);
    snprintf(line, sizeof line, "/dev/tty opens: %d\n", tty >= 0);
    report(rep[1], line);
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    int sigs[] = {SIGINT, SIGQUIT, SIGTSTP, SIGWINCH, SIGHUP, SIGCONT, SIGTTOU, SIGTTIN};
    for (unsigned i = 0; i < sizeof sigs / sizeof sigs[0]; i++) sigaction(sigs[i], &sa, 0);
    report(rep[1], "ready\n");
    char c;
    for (;;) {
      long r0 = read(go[0], &c, 1);
      if (r0 < 0 && errno == EINTR) continue;
      if (r0 != 1 || c == 'x') break;
      if (c == 's') {
        /* Report the signals caught so far. */
        snprintf(line, sizeof line, "caught INT %d QUIT %d TSTP %d WINCH %d\n", got[SIGINT], got[SIGQUIT],
                 got[SIGTSTP], got[SIGWINCH]);
        report(rep[1], line);
      } else if (c == 'b') {
        /* A background process group: writes with TOSTOP and reads raise SIGTTOU/SIGTTIN. */
        pid_t kid = fork();
        if (kid == 0) {
          setpgid(0, 0);
          struct termios t;
          tcgetattr(fd, &t);
          t.c_lflag |= TOSTOP;
          long r = tcsetattr(fd, TCSANOW, &t);
          snprintf(line, sizeof line, "bg tcsetattr: %s TTOU %d\n", err(r), got[SIGTTOU]);
          report(rep[1], line);
          signal(SIGTTOU, SIG_IGN);
          r = tcsetattr(fd, TCSANOW, &t);
          snprintf(line, sizeof line, "bg tcsetattr, SIGTTOU ignored: %s\n", err(r));
          report(rep[1], line);
          sigaction(SIGTTOU, &sa, 0);
          got[SIGTTOU] = 0;
          r = write(fd, "x", 1);
          snprintf(line, sizeof line, "bg write: %s TTOU %d\n", err(r), got[SIGTTOU]);
          report(rep[1], line);
          char b2[8];
          r = read(fd, b2, sizeof b2);
          snprintf(line, sizeof line, "bg read: %s TTIN %d\n", err(r), got[SIGTTIN]);
          report(rep[1], line);
          signal(SIGTTIN, SIG_IGN);
          r = read(fd, b2, sizeof b2);
          snprintf(line, sizeof line, "bg read, SIGTTIN ignored: %s\n", err(r));
          report(rep[1], line);
          pid_t fg = getpgrp();
          got[SIGTTOU] = 0;
          r = tcsetpgrp(fd, fg);
          snprintf(line, sizeof line, "bg tcsetpgrp: %s TTOU %d\n", err(r), got[SIGTTOU]);
          report(rep[1], line);
          _exit(0);
        }
        int st;
        waitpid(kid, &st, 0);
        struct termios t;
        tcgetattr(fd, &t);
        t.c_lflag &= ~TOSTOP;
        tcsetattr(fd, TCSANOW, &t);
        report(rep[1], "bg done\n");
      } else if (c == 'h') {
        /* Wait for the master's hangup. */
        for (int i = 0; i < 100 && !got[SIGHUP]; i++) usleep(10000);
        char b2[8];
        long r = read(fd, b2, sizeof b2);
        snprintf(line, sizeof line, "hangup: HUP %d CONT %d read %s", got[SIGHUP], got[SIGCONT], err(r));
        report(rep[1], line);
        r = write(fd, "x", 1);
        snprintf(line, sizeof line, " write %s", err(r));
        report(rep[1], line);
        int x;
        r = ioctl(fd, TIOCGPGRP, &x);
        snprintf(line, sizeof line, " TIOCGPGRP %s", err(r));
        report(rep[1], line);
        r = open("/dev/tty", O_RDWR);
        snprintf(line, sizeof line, " /dev/tty %s", err(r));
        report(rep[1], line);
        r = open(name, O_RDWR | O_NOCTTY);
        snprintf(line, sizeof line, " reopen %s\n", err(r));
        report(rep[1], line);
      }
    }
    _exit(0);
  }
  close(rep[1]);
  close(go[0]);
  close(s);
  char buf[512];
  long n;
  /* Lines from the child, until "ready". */
  FILE *in = fdopen(rep[0], "r");
  setvbuf(in, 0, _IONBF, 0);
  char line[256];
  while (fgets(line, sizeof line, in)) {
    if (strcmp(line, "ready\n") == 0) break;
    printf("child %s", line);
  }
  pid_t pg = -1;
  printf("master TIOCGPGRP is the child: %d\n", ioctl(m, TIOCGPGRP, &pg) == 0 && pg == child);
  long r = ioctl(m, TIOCGSID, &pg);
  printf("TIOCGSID on master: %s is the child %d\n", err(r), pg == child);
  put(m, "\x03");
  usleep(50000);
  show("^C echo", buf, drain(m, buf, sizeof buf));
  put(m, "\x1c");
  usleep(50000);
  show("^\\ echo", buf, drain(m, buf, sizeof buf));
  put(m, "\x1a");
  usleep(50000);
  show("^Z echo", buf, drain(m, buf, sizeof buf));
  struct winsize ws = {24, 80, 0, 0};
  ioctl(m, TIOCSWINSZ, &ws);
  usleep(50000);
  ioctl(m, TIOCSWINSZ, &ws); /* the same size again: no signal */
  usleep(50000);
  put(go[1], "s");
  if (fgets(line, sizeof line, in)) printf("child %s", line);
  struct winsize got_ws = {0};
  ioctl(m, TIOCGWINSZ, &got_ws);
  printf("winsize now: %d %d\n", got_ws.ws_row, got_ws.ws_col);
  put(go[1], "b");
  while (fgets(line, sizeof line, in)) {
    if (strcmp(line, "bg done\n") == 0) break;
    printf("child %s", line);
  }
  drain(m, buf, sizeof buf);
  put(go[1], "h");
  usleep(50000);
  close(m);
  if (fgets(line, sizeof line, in)) printf("child %s", line);
  put(go[1], "x");
  int st;
  waitpid(child, &st, 0);
  printf("child exit: %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
  fclose(in);
  n = 0;
  (void)n;
}

/* The session leader exits: its foreground process group gets SIGHUP. */
static void leader_exit(void) {
  int m, s;
  open_pair(&m, &s);
  const char *name = ptsname(m);
  int rep[2];
  pipe(rep);
  pid_t leader = fork();
  if (leader == 0) {
    close(rep[0]);
    close(m);
    close(s);
    setsid();
    int fd = open(name, O_RDWR);
    int sync[2];
    pipe(sync);
    pid_t kid = fork();
    if (kid == 0) {
      close(sync[1]);
      struct sigaction sa = {0};
      sa.sa_handler = on_signal;
      sigaction(SIGHUP, &sa, 0);
      put(sync[0] == -1 ? 2 : rep[1], "");
      char c;
      close(fd);
      /* Tell the leader we are ready by closing our end; wait for SIGHUP. */
      for (int i = 0; i < 200 && !got[SIGHUP]; i++) usleep(10000);
      char line[64];
      snprintf(line, sizeof line, "member after leader exit: HUP %d\n", got[SIGHUP]);
      put(rep[1], line);
      (void)c;
      _exit(0);
    }
    close(sync[0]);
    usleep(100000);
    _exit(0);
  }
  close(rep[1]);
  close(s);
  int st;
  waitpid(leader, &st, 0);
  char buf[128];
  long n = read(rep[0], buf, sizeof buf - 1);
  buf[n > 0 ? n : 0] = 0;
  printf("%s", buf);
  close(rep[0]);
  close(m);
}

/* A process group orphaned by its parent's exit, with a stopped member, gets SIGHUP and SIGCONT. */
static void orphaned(void) {
  int rep[2];
  pipe(rep);
  pid_t p = fork();
  if (p == 0) {
    pid_t c = fork();
    if (c == 0) {
      close(rep[0]);
      setpgid(0, 0);
      struct sigaction sa = {0};
      sa.sa_handler = on_signal;
      sigaction(SIGHUP, &sa, 0);
      sigaction(SIGCONT, &sa, 0);
      got[SIGHUP] = got[SIGCONT] = 0;
      raise(SIGSTOP);
      char line[64];
      snprintf(line, sizeof line, "orphaned and stopped: HUP %d CONT %d\n", got[SIGHUP], got[SIGCONT]);
      put(rep[1], line);
      _exit(0);
    }
    int st;
    waitpid(c, &st, WUNTRACED);
    _exit(WIFSTOPPED(st) ? 0 : 1);
  }
  close(rep[1]);
  int st;
  waitpid(p, &st, 0);
  printf("parent of the stopped group: %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
  struct pollfd pr = {rep[0], POLLIN, 0};
  char buf[128];
  long n = poll(&pr, 1, 2000) > 0 ? read(rep[0], buf, sizeof buf - 1) : 0;
  buf[n > 0 ? n : 0] = 0;
  printf("%s", n > 0 ? buf : "orphaned and stopped: still stopped\n");
  close(rep[0]);
}

int main(void) {
  setvbuf(stdout, 0, _IONBF, 0);
  /* A session leader (pid 1 of a sandbox) would get the first terminal it opens as its
     controlling terminal: the checks run in a child, which leads nothing. */
  if (getsid(0) == getpid()) {
    pid_t worker = fork();
    if (worker != 0) {
      int st;
      waitpid(worker, &st, 0);
      return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    }
  }
  basics();
  job_control();
  leader_exit();
  orphaned();
  printf("done\n");
  return 0;
}
