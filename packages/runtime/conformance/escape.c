/*
 * escape: tries to reach a host file from inside a sandbox (tsvisor issue 4, check 10).
 *
 * Usage: escape [--volume DIR] [--read-only DIR] [--dangerous] SECRET_PATH
 *
 * The test creates SECRET_PATH on the host in a directory the sandbox must not see (with
 * `tsvisor do`, a fresh directory under the host's /tmp: the sandbox has its own tmpfs at /tmp).
 * The program tries every trick it knows to read that file and to create files next to it, and
 * prints one line per trick:
 *
 *     read <trick>: ok "<first bytes>"      it read a file at that place (the secret, natively)
 *     read <trick>: <ERRNO>                 it could not
 *     create <trick>: created               it created <dir of SECRET_PATH>/escape-<trick>
 *     create <trick>: <ERRNO>
 *     info <what>: ...                      facts that explain the results, not attempts
 *
 * then `escapes: N` (read or create attempts that succeeded) and `done`; the exit status is 0
 * unless the program itself failed (1) or ran out of time (2). Natively most attempts succeed by
 * design; in a correct sandbox every `read`/`create` line ends with an errno and the summary is
 * `escapes: 0`. The test must also check on the host that no `escape-*` file appeared next to the
 * secret and that stdout does not contain the secret. See README.md for the expected lines.
 *
 * --volume DIR: a writable directory shared with the host (`-v HOST:DIR`); the program also tries
 *   `..` and symlinks from inside it, which reach the host if the sandbox resolves them on the
 *   host side.
 * --read-only DIR: a directory shared with the host read-only (`-v HOST:DIR:ro`); the program
 *   tries to create DIR/escape-read-only-volume there (a sandbox must answer EROFS).
 * --dangerous: also ptrace(PTRACE_ATTACH) the parent and pid 1. Only for runs inside a sandbox:
 *   natively, as root, it would really stop those processes for a moment.
 *
 * Build: gcc -O1 -static -o escape escape.c
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAXFD 1024

static const char *secret;   /* absolute host path of the secret */
static char secret_dir[PATH_MAX];
static const char *volume;   /* optional shared volume, as seen inside the sandbox */
static const char *readonly; /* optional read-only shared volume, as seen inside the sandbox */
static char work[64];        /* our scratch directory (inside our own view) */
static int foreign[MAXFD];   /* fds open at start that we did not open ourselves */
static int escapes;

static const char *errname(int e) {
  const char *n = strerrorname_np(e);
  return n ? n : "E?";
}

/* Prints up to 40 bytes of what was read, with anything unprintable as '.'. */
static void show_read(const char *trick, int fd) {
  char b[41];
  ssize_t n = pread(fd, b, 40, 0);
  if (n < 0) {
    printf("read %s: open ok, read %s\n", trick, errname(errno));
    escapes++;
    return;
  }
  for (ssize_t i = 0; i < n; i++)
    if (b[i] < 32 || b[i] > 126 || b[i] == '"') b[i] = '.';
  b[n] = 0;
  printf("read %s: ok \"%s\"\n", trick, b);
  escapes++;
}

static void try_read_at(const char *trick, int dirfd, const char *path) {
  int fd = openat(dirfd, path, O_RDONLY | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) {
    printf("read %s: %s\n", trick, errname(errno));
    return;
  }
  struct stat st;
  if (fstat(fd, &st) == 0 && !S_ISREG(st.st_mode)) {
    /* not the secret, but a path that should not exist opened: count it and say what it was */
    char self[64], target[256];
    snprintf(self, sizeof self, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(self, target, sizeof target - 1);
    target[n > 0 ? n : 0] = 0;
    printf("read %s: opened a non-regular file (mode 0%o, %s)\n", trick, (unsigned)st.st_mode,
           target);
    escapes++;
  } else {
    show_read(trick, fd);
  }
  close(fd);
}

static void try_read(const char *trick, const char *path) { try_read_at(trick, AT_FDCWD, path); }

/* Creates <dir>/escape-<trick> where dir is reached by `dirpath` (relative to dirfd). */
static void try_create_at(const char *trick, int dirfd, const char *dirpath) {
  char p[PATH_MAX + 64];
  snprintf(p, sizeof p, "%s/escape-%s", dirpath, trick);
  int fd = openat(dirfd, p, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW, 0644);
  if (fd < 0) {
    printf("create %s: %s\n", trick, errname(errno));
    return;
  }
  if (write(fd, trick, strlen(trick)) < 0) {
    /* the file exists: that alone is the escape */
  }
  close(fd);
  printf("create %s: created\n", trick);
  escapes++;
}

static void try_create(const char *trick, const char *dirpath) {
  try_create_at(trick, AT_FDCWD, dirpath);
}

/* "../" repeated n times followed by `abs` without its leading slash. */
static void dotdots(char *out, size_t size, int n, const char *abs) {
  out[0] = 0;
  for (int i = 0; i < n; i++) strncat(out, "../", size - strlen(out) - 1);
  while (*abs == '/') abs++;
  strncat(out, abs, size - strlen(out) - 1);
}

static void on_alarm(int sig) {
  (void)sig;
  static const char msg[] = "timeout\n";
  if (write(1, msg, sizeof msg - 1) < 0) {
  }
  _exit(2);
}

static void probe_foreign_fds(void) {
  int count = 0;
  for (int fd = 3; fd < MAXFD; fd++) {
    if (!foreign[fd]) continue;
    count++;
    struct stat st;
    if (fstat(fd, &st) != 0) continue;
    char trick[64];
    if (S_ISDIR(st.st_mode)) {
      char rel[PATH_MAX];
      dotdots(rel, sizeof rel, 16, secret);
      snprintf(trick, sizeof trick, "via-foreign-dir-fd");
      try_read_at(trick, fd, rel);
      dotdots(rel, sizeof rel, 16, secret_dir);
      try_create_at("foreign-dir-fd", fd, rel);
    } else if (S_ISREG(st.st_mode)) {
      snprintf(trick, sizeof trick, "foreign-file-fd");
      show_read(trick, fd);
    }
  }
  printf("info foreign fds open at start (3..%d): %d\n", MAXFD - 1, count);
}

/* /proc/<pid>/root/<secret> for every pid we can see. */
static void probe_proc_roots(void) {
  DIR *d = opendir("/proc");
  if (!d) {
    printf("read via-every-proc-pid-root: %s\n", errname(errno));
    return;
  }
  int seen = 0, got = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL && seen < 4096) {
    if (e->d_name[0] < '1' || e->d_name[0] > '9') continue;
    seen++;
    char p[PATH_MAX + 64];
    snprintf(p, sizeof p, "/proc/%s/root%s", e->d_name, secret);
    int fd = open(p, O_RDONLY | O_NONBLOCK | O_NOCTTY);
    if (fd >= 0) {
      got++;
      close(fd);
    }
  }
  closedir(d);
  printf("read via-every-proc-pid-root: %s\n", got ? "ok (some pids)" : "no pid");
  if (got) escapes++;
  /* how many pids are visible differs natively; in a sandbox it is the sandbox's own */
}

/* The classic chroot escape, in a child (it changes the root of the process that does it). */
static void chroot_escape(void) {
  int p[2];
  if (pipe(p) != 0) {
    printf("read via-chroot-escape: pipe %s\n", errname(errno));
    printf("create chroot-escape: pipe %s\n", errname(errno));
    return;
  }
  fflush(stdout);
  pid_t pid = fork();
  if (pid < 0) {
    int e = errno;
    printf("read via-chroot-escape: fork %s\n", errname(e));
    printf("create chroot-escape: fork %s\n", errname(e));
    close(p[0]);
    close(p[1]);
    return;
  }
  if (pid == 0) {
    close(p[0]);
    dup2(p[1], 1);
    alarm(10);
    char jail[128];
    snprintf(jail, sizeof jail, "%s/jail", work);
    mkdir(jail, 0755);
    if (chdir(work) != 0 || chroot(jail) != 0) {
      printf("read via-chroot-escape: chroot %s\n", errname(errno));
      printf("create chroot-escape: chroot %s\n", errname(errno));
      fflush(stdout);
      _exit(0);
    }
    /* cwd is now outside the new root: walk up to the real root and make it ours */
    for (int i = 0; i < 64; i++)
      if (chdir("..") != 0) break;
    if (chroot(".") != 0) {
      printf("read via-chroot-escape: second chroot %s\n", errname(errno));
      printf("create chroot-escape: second chroot %s\n", errname(errno));
      fflush(stdout);
      _exit(0);
    }
    int before = escapes;
    try_read("via-chroot-escape", secret);
    try_create("chroot-escape", secret_dir);
    fflush(stdout);
    _exit(escapes - before);
  }
  close(p[1]);
  char b[4096];
  ssize_t n;
  while ((n = read(p[0], b, sizeof b)) > 0) fwrite(b, 1, (size_t)n, stdout);
  close(p[0]);
  int status = 0;
  if (waitpid(pid, &status, 0) == pid && WIFEXITED(status)) escapes += WEXITSTATUS(status);
  char jail[128];
  snprintf(jail, sizeof jail, "%s/jail", work);
  rmdir(jail);
}

/* name_to_handle_at + open_by_handle_at (the "shocker" way around a mount namespace). */
static void handle_escape(void) {
  struct {
    struct file_handle fh;
    unsigned char bytes[128];
  } h;
  h.fh.handle_bytes = 128;
  int mount_id;
  if (name_to_handle_at(AT_FDCWD, secret, &h.fh, &mount_id, 0) != 0) {
    printf("read via-open-by-handle: name_to_handle_at %s\n", errname(errno));
    return;
  }
  int mfd = open("/", O_RDONLY | O_DIRECTORY);
  int fd = open_by_handle_at(mfd, &h.fh, O_RDONLY);
  if (mfd >= 0) close(mfd);
  if (fd < 0) {
    printf("read via-open-by-handle: open_by_handle_at %s\n", errname(errno));
    return;
  }
  show_read("via-open-by-handle", fd);
  close(fd);
}

static void ptrace_attempts(void) {
  pid_t targets[2] = {getppid(), 1};
  const char *names[2] = {"parent", "pid-1"};
  for (int i = 0; i < 2; i++) {
    if (targets[i] <= 0 || targets[i] == getpid()) {
      printf("ptrace %s: not a distinct process (pid %s)\n", names[i],
             targets[i] <= 0 ? "<= 0" : "is self");
      continue;
    }
    if (ptrace(PTRACE_ATTACH, targets[i], NULL, NULL) != 0) {
      printf("ptrace %s: %s\n", names[i], errname(errno));
      continue;
    }
    int st;
    waitpid(targets[i], &st, __WALL);
    ptrace(PTRACE_DETACH, targets[i], NULL, NULL);
    printf("ptrace %s: attached\n", names[i]);
    escapes++;
  }
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  int dangerous = 0;
  int i = 1;
  for (; i < argc && argv[i][0] == '-'; i++) {
    if (strcmp(argv[i], "--volume") == 0 && i + 1 < argc) {
      volume = argv[++i];
    } else if (strcmp(argv[i], "--read-only") == 0 && i + 1 < argc) {
      readonly = argv[++i];
    } else if (strcmp(argv[i], "--dangerous") == 0) {
      dangerous = 1;
    } else {
      break;
    }
  }
  if (i != argc - 1 || argv[i][0] != '/') {
    fprintf(stderr, "usage: escape [--volume DIR] [--read-only DIR] [--dangerous] /ABSOLUTE/SECRET/PATH\n");
    return 1;
  }
  secret = argv[i];
  /* before anything else: which fds did someone leave open for us? */
  for (int fd = 3; fd < MAXFD; fd++) foreign[fd] = fcntl(fd, F_GETFD) >= 0;
  signal(SIGALRM, on_alarm);
  signal(SIGPIPE, SIG_IGN);
  alarm(60);

  snprintf(secret_dir, sizeof secret_dir, "%s", secret);
  char *slash = strrchr(secret_dir, '/');
  if (slash == secret_dir)
    secret_dir[1] = 0;
  else
    *slash = 0;

  strcpy(work, "/tmp/escape.XXXXXX");
  if (!mkdtemp(work)) {
    printf("setup failed: mkdtemp %s\n", errname(errno));
    return 1;
  }
  static char p[3 * PATH_MAX], q[2 * PATH_MAX];

  /* --- reading the secret --- */
  try_read("direct", secret);

  if (chdir("/") == 0) {
    dotdots(p, sizeof p, 16, secret);
    try_read("dotdot-from-root", p);
  }
  if (chdir(work) == 0) {
    dotdots(p, sizeof p, 16, secret);
    try_read("dotdot-from-cwd", p);
  }
  int rootfd = open("/", O_RDONLY | O_DIRECTORY);
  if (rootfd >= 0) {
    dotdots(p, sizeof p, 16, secret);
    try_read_at("openat-root-fd-dotdot", rootfd, p);
  }

  snprintf(p, sizeof p, "%s/abs", work);
  if (symlink(secret, p) == 0)
    try_read("absolute-symlink", p);
  else
    printf("read absolute-symlink: symlink %s\n", errname(errno));
  snprintf(p, sizeof p, "%s/rel", work);
  dotdots(q, sizeof q, 16, secret);
  if (symlink(q, p) == 0)
    try_read("relative-symlink", p);
  else
    printf("read relative-symlink: symlink %s\n", errname(errno));
  snprintf(p, sizeof p, "%s/root", work);
  if (symlink("/", p) == 0) {
    snprintf(q, sizeof q, "%s/root/../../..%s", work, secret);
    try_read("symlink-to-root-dotdot", q);
  } else {
    printf("read symlink-to-root-dotdot: symlink %s\n", errname(errno));
  }
  snprintf(p, sizeof p, "%s/up", work);
  if (symlink("../../../../../../../../../../../..", p) == 0) {
    snprintf(q, sizeof q, "%s/up%s", work, secret);
    try_read("symlink-to-dotdots", q);
  } else {
    printf("read symlink-to-dotdots: symlink %s\n", errname(errno));
  }

  snprintf(p, sizeof p, "/proc/self/root%s", secret);
  try_read("proc-self-root", p);
  snprintf(p, sizeof p, "/proc/thread-self/root%s", secret);
  try_read("proc-thread-self-root", p);
  snprintf(p, sizeof p, "/proc/1/root%s", secret);
  try_read("proc-1-root", p);
  pid_t ppid = getppid();
  if (ppid > 0) {
    snprintf(p, sizeof p, "/proc/%d/root%s", (int)ppid, secret);
    try_read("proc-parent-root", p);
  } else {
    printf("read proc-parent-root: no parent pid (0)\n");
  }
  dotdots(q, sizeof q, 16, secret);
  snprintf(p, sizeof p, "/proc/self/cwd/%s", q);
  try_read("proc-self-cwd-dotdot", p);
  snprintf(p, sizeof p, "/proc/1/cwd/%s", q);
  try_read("proc-1-cwd-dotdot", p);
  if (rootfd >= 0) {
    snprintf(p, sizeof p, "/proc/self/fd/%d/%s", rootfd, q);
    try_read("proc-self-fd-root-dotdot", p);
  }
  probe_proc_roots();

  snprintf(p, sizeof p, "%s/hard", work);
  if (link(secret, p) == 0)
    try_read("hard-link", p);
  else
    printf("read hard-link: link %s\n", errname(errno));

  handle_escape();

  if (volume) {
    int done = 0;
    for (int k = 1; k <= 12 && !done; k++) {
      dotdots(q, sizeof q, k, secret);
      snprintf(p, sizeof p, "%s/%s", volume, q);
      int fd = open(p, O_RDONLY | O_NONBLOCK | O_NOCTTY);
      if (fd >= 0) {
        close(fd);
        try_read("volume-dotdot", p);
        done = 1;
      }
    }
    if (!done) printf("read volume-dotdot: %s\n", errname(errno));
    snprintf(p, sizeof p, "%s/escape-abs-link", volume);
    unlink(p);
    if (symlink(secret, p) == 0)
      try_read("volume-absolute-symlink", p);
    else
      printf("read volume-absolute-symlink: symlink %s\n", errname(errno));
    unlink(p);
    snprintf(p, sizeof p, "%s/escape-rel-link", volume);
    unlink(p);
    dotdots(q, sizeof q, 16, secret);
    if (symlink(q, p) == 0)
      try_read("volume-relative-symlink", p);
    else
      printf("read volume-relative-symlink: symlink %s\n", errname(errno));
    unlink(p);
    snprintf(p, sizeof p, "%s/escape-hard-link", volume);
    unlink(p);
    if (link(secret, p) == 0)
      try_read("volume-hard-link", p);
    else
      printf("read volume-hard-link: link %s\n", errname(errno));
    unlink(p);
  }

  probe_foreign_fds();

  /* --- creating files next to the secret --- */
  try_create("direct", secret_dir);
  dotdots(q, sizeof q, 16, secret_dir);
  if (rootfd >= 0) try_create_at("root-fd-dotdot", rootfd, q);
  snprintf(p, sizeof p, "/proc/self/root%s", secret_dir);
  try_create("proc-self-root", p);
  snprintf(p, sizeof p, "/proc/1/root%s", secret_dir);
  try_create("proc-1-root", p);
  snprintf(p, sizeof p, "%s/dirlink", work);
  if (symlink(secret_dir, p) == 0) {
    try_create("via-dir-symlink", p);
  } else {
    printf("create via-dir-symlink: symlink %s\n", errname(errno));
  }
  snprintf(p, sizeof p, "%s/escape-mkdir", secret_dir);
  if (mkdir(p, 0755) == 0) {
    printf("create mkdir: created\n");
    escapes++;
  } else {
    printf("create mkdir: %s\n", errname(errno));
  }
  snprintf(p, sizeof p, "%s/escape-symlinkat", secret_dir);
  if (symlink("x", p) == 0) {
    printf("create symlinkat: created\n");
    escapes++;
  } else {
    printf("create symlinkat: %s\n", errname(errno));
  }
  snprintf(q, sizeof q, "%s/to-move", work);
  int fd = open(q, O_CREAT | O_WRONLY, 0644);
  if (fd >= 0) close(fd);
  snprintf(p, sizeof p, "%s/escape-rename", secret_dir);
  if (rename(q, p) == 0) {
    printf("create rename-into: created\n");
    escapes++;
  } else {
    printf("create rename-into: %s\n", errname(errno));
    unlink(q);
  }
  snprintf(q, sizeof q, "%s/to-link", work);
  fd = open(q, O_CREAT | O_WRONLY, 0644);
  if (fd >= 0) close(fd);
  snprintf(p, sizeof p, "%s/escape-link", secret_dir);
  if (link(q, p) == 0) {
    printf("create link-into: created\n");
    escapes++;
  } else {
    printf("create link-into: %s\n", errname(errno));
  }
  unlink(q);
  if (volume) {
    int done = 0;
    for (int k = 1; k <= 12 && !done; k++) {
      dotdots(q, sizeof q, k, secret_dir);
      snprintf(p, sizeof p, "%s/%s/escape-volume-dotdot", volume, q);
      int f = open(p, O_CREAT | O_EXCL | O_WRONLY, 0644);
      if (f >= 0) {
        close(f);
        printf("create volume-dotdot: created\n");
        escapes++;
        done = 1;
      }
    }
    if (!done) printf("create volume-dotdot: %s\n", errname(errno));
    snprintf(p, sizeof p, "%s/escape-dir-link", volume);
    unlink(p);
    if (symlink(secret_dir, p) == 0)
      try_create("volume-dir-symlink", p);
    else
      printf("create volume-dir-symlink: symlink %s\n", errname(errno));
    unlink(p);
  }

  if (readonly) try_create("read-only-volume", readonly);

  chroot_escape();

  /* --- facts --- */
  snprintf(p, sizeof p, "%s/blockdev", work);
  struct stat rst;
  if (stat("/", &rst) == 0) {
    if (mknod(p, S_IFBLK | 0600, rst.st_dev) == 0) {
      int b = open(p, O_RDONLY | O_NONBLOCK);
      printf("info mknod block device of /: created, open %s\n", b >= 0 ? "ok" : errname(errno));
      if (b >= 0) close(b);
      unlink(p);
    } else {
      printf("info mknod block device of /: %s\n", errname(errno));
    }
  }
  errno = 0;
  printf("info kill(-1, 0): %s\n", kill(-1, 0) == 0 ? "ok (other processes visible)" : errname(errno));
  if (dangerous) ptrace_attempts();

  /* clean up our own scratch directory */
  const char *mine[] = {"abs", "rel", "root", "up", "hard", "dirlink"};
  for (size_t k = 0; k < sizeof mine / sizeof mine[0]; k++) {
    snprintf(p, sizeof p, "%s/%s", work, mine[k]);
    unlink(p);
  }
  if (chdir("/") != 0 || rmdir(work) != 0) printf("info cleanup of %s failed: %s\n", "work dir", errname(errno));
  printf("escapes: %d\n", escapes);
  printf("done\n");
  return 0;
}
