/* A blocking write larger than the buffer whose reader leaves part way: the partial count, and
 * SIGPIPE from a pipe (pipe_write) but not from a unix stream socket that sent some bytes. */
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
static volatile int hits;
static void h(int s) { (void)s; hits++; }
static void run(const char *what, int r, int w) {
  hits = 0;
  pid_t c = fork();
  if (c == 0) { close(w); static char b[100000]; usleep(100000); ssize_t n = read(r, b, sizeof b); (void)n; _exit(0); }
  close(r);
  static char big[1 << 20];
  ssize_t n = write(w, big, sizeof big);
  printf("%s: write = %s, SIGPIPE = %d\n", what, n > 0 && n < (1 << 20) ? "partial" : "other", hits);
  close(w);
  waitpid(c, 0, 0);
}
int main(void) {
  signal(SIGPIPE, h);
  int p[2]; pipe(p); run("pipe", p[0], p[1]);
  int s[2]; socketpair(AF_UNIX, SOCK_STREAM, 0, s); run("unix", s[1], s[0]);
  return 0;
}
