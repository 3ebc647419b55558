// Capability sets (capabilities(7)): capget/capset, the set*id fixups, fsuid, execve, the
// bounding and ambient sets, and the checks they guard (kill, chown, bind below 1024, DAC).
// Usage: caps <writable dir> [mask]. Runs as root; every section starts from the fresh root in a
// child. The host's root may lack some capabilities (a container's bounding set): every set
// printed is masked with what this process starts with and with `mask` (hex; the test passes the
// host root's permitted set), so the output is the same on any host and in the sandbox.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#define B(c) (1ULL << (c))

static unsigned long long within;
static const char *self;
static const char *dir;

struct sets {
  unsigned long long e, p, i;
};

static long capget_v(unsigned version, int pid, struct sets *s) {
  struct __user_cap_header_struct h = {version, pid};
  struct __user_cap_data_struct d[2];
  memset(d, 0, sizeof d);
  long r = syscall(SYS_capget, &h, d);
  s->e = d[0].effective | (unsigned long long)d[1].effective << 32;
  s->p = d[0].permitted | (unsigned long long)d[1].permitted << 32;
  s->i = d[0].inheritable | (unsigned long long)d[1].inheritable << 32;
  return r;
}

static long capset_v(unsigned version, int pid, unsigned long long e, unsigned long long p,
                     unsigned long long i) {
  struct __user_cap_header_struct h = {version, pid};
  struct __user_cap_data_struct d[2] = {
      {(unsigned)e, (unsigned)p, (unsigned)i},
      {(unsigned)(e >> 32), (unsigned)(p >> 32), (unsigned)(i >> 32)},
  };
  return syscall(SYS_capset, &h, d);
}

static long capset3(unsigned long long e, unsigned long long p, unsigned long long i) {
  return capset_v(_LINUX_CAPABILITY_VERSION_3, 0, e, p, i);
}

static void result(const char *what, long r) {
  printf("%s = %ld%s%s\n", what, r, r < 0 ? " " : "", r < 0 ? strerrorname_np(errno) : "");
}
#define R(what, expr)  \
  do {                 \
    errno = 0;         \
    long r_ = (expr);  \
    result(what, r_);  \
  } while (0)

static unsigned long long ambient_set(void) {
  unsigned long long a = 0;
  for (int c = 0; c <= CAP_LAST_CAP; c++)
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, c, 0, 0) == 1) a |= B(c);
  return a;
}

static unsigned long long bounding_set(void) {
  unsigned long long b = 0;
  for (int c = 0; c <= CAP_LAST_CAP; c++)
    if (prctl(PR_CAPBSET_READ, c, 0, 0, 0) == 1) b |= B(c);
  return b;
}

static void show(const char *tag) {
  struct sets s;
  capget_v(_LINUX_CAPABILITY_VERSION_3, 0, &s);
  uid_t r, e, sv;
  getresuid(&r, &e, &sv);
  printf("%s: uid %u/%u/%u fsuid %d e=%llx p=%llx i=%llx a=%llx b=%llx dumpable %d\n", tag, r, e,
         sv, setfsuid(-1), s.e & within, s.p & within, s.i & within, ambient_set() & within,
         bounding_set() & within, prctl(PR_GET_DUMPABLE, 0, 0, 0, 0));
}

static void section(const char *name, void (*fn)(void)) {
  printf("== %s\n", name);
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    fn();
    fflush(stdout);
    _exit(0);
  }
  int st;
  waitpid(pid, &st, 0);
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) printf("section failed: %x\n", st);
}

/** The child side of the exec sections: what /proc/self/status shows after execve. */
static int status_child(void) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  while (f && fgets(line, sizeof line, f)) {
    if (strncmp(line, "Cap", 3) != 0) continue;
    char name[16];
    unsigned long long v;
    if (sscanf(line, "%15[^:]:\t%llx", name, &v) == 2) printf("  %s %llx\n", name, v & within);
  }
  if (f) fclose(f);
  uid_t r, e, s;
  getresuid(&r, &e, &s);
  printf("  uid %u/%u/%u egid %u keepcaps %d secure %lu dumpable %d\n", r, e, s, getegid(),
         prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0), getauxval(AT_SECURE), prctl(PR_GET_DUMPABLE, 0, 0, 0, 0));
  printf("  auxv uid %lu euid %lu gid %lu egid %lu\n", getauxval(AT_UID), getauxval(AT_EUID),
         getauxval(AT_GID), getauxval(AT_EGID));
  return 0;
}

static void exec_program(const char *program) {
  char mask[32];
  snprintf(mask, sizeof mask, "%llx", within);
  fflush(stdout);
  execl(program, program, "status", mask, (char *)0);
  printf("execl failed: %s\n", strerrorname_np(errno));
}

static void exec_status(void) { exec_program(self); }

static void fresh(void) {
  show("fresh root");
  struct sets s;
  R("capget v1", capget_v(_LINUX_CAPABILITY_VERSION_1, 0, &s));
  printf("v1 words: e=%llx p=%llx\n", s.e & within, s.p & within);
  R("capget bad version", capget_v(0x12345678, 0, &s));
  struct __user_cap_header_struct h = {0x12345678, 0};
  R("capget probe NULL data", syscall(SYS_capget, &h, NULL));
  printf("version written back: %x\n", h.version);
  R("capget pid -1", capget_v(_LINUX_CAPABILITY_VERSION_3, -1, &s));
  R("capget no such pid", capget_v(_LINUX_CAPABILITY_VERSION_3, 999999, &s));
  printf("keepcaps %d securebits %d\n", prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0),
         prctl(PR_GET_SECUREBITS, 0, 0, 0, 0));
}

static void capset_rules(void) {
  unsigned long long keep =
      B(CAP_CHOWN) | B(CAP_KILL) | B(CAP_SETUID) | B(CAP_SETPCAP) | B(CAP_NET_BIND_SERVICE);
  R("capset other pid", capset_v(_LINUX_CAPABILITY_VERSION_3, getppid(), keep, keep, 0));
  R("capset effective outside permitted", capset3(B(CAP_SYS_ADMIN), keep, 0));
  R("capset shrink", capset3(B(CAP_CHOWN), keep, 0));
  show("shrunk");
  R("capset raise permitted", capset3(0, keep | B(CAP_DAC_OVERRIDE), 0));
  R("capset inheritable within permitted", capset3(B(CAP_CHOWN), keep, B(CAP_CHOWN)));
  R("capset inheritable outside permitted", capset3(B(CAP_CHOWN), keep, B(CAP_SYS_ADMIN)));
  R("capset effective CAP_SETPCAP", capset3(B(CAP_SETPCAP), keep, 0));
  R("capset inheritable with CAP_SETPCAP", capset3(B(CAP_SETPCAP), keep, B(CAP_SYS_ADMIN)));
  show("inheritable via CAP_SETPCAP");
  R("PR_CAPBSET_DROP CAP_NET_RAW", prctl(PR_CAPBSET_DROP, CAP_NET_RAW, 0, 0, 0));
  R("capset inheritable outside bounding", capset3(B(CAP_SETPCAP), keep, B(CAP_NET_RAW)));
  R("capset drop everything", capset3(0, 0, 0));
  show("empty");
  R("PR_CAPBSET_DROP without CAP_SETPCAP", prctl(PR_CAPBSET_DROP, CAP_KILL, 0, 0, 0));
  R("PR_SET_SECUREBITS without CAP_SETPCAP", prctl(PR_SET_SECUREBITS, 0, 0, 0, 0));
}

static void capset_v1(void) {
  R("capset v1 (high words become 0)", capset_v(_LINUX_CAPABILITY_VERSION_1, 0, within, within, 0));
  show("after v1 capset");
}

static void setuid_plain(void) {
  R("setuid(65534)", setuid(65534));
  show("dropped");
  R("capset raise", capset3(B(CAP_NET_ADMIN), B(CAP_NET_ADMIN), 0));
}

static void setuid_keepcaps(void) {
  R("PR_SET_KEEPCAPS 1", prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0));
  R("PR_SET_KEEPCAPS 2", prctl(PR_SET_KEEPCAPS, 2, 0, 0, 0));
  R("setuid(65534)", setuid(65534));
  show("kept");
  unsigned long long net = B(CAP_NET_ADMIN) | B(CAP_NET_RAW) | B(CAP_NET_BIND_SERVICE);
  R("capset keep net caps", capset3(net, net, 0));
  show("daemon");
  R("setuid(0) without CAP_SETUID", setuid(0));
}

static void seteuid_round_trip(void) {
  R("seteuid(1000)", seteuid(1000));
  show("euid 1000");
  R("seteuid(0)", seteuid(0));
  show("euid 0 again");
  R("capset drop CAP_KILL from permitted",
    capset3(within & ~B(CAP_KILL), within & ~B(CAP_KILL), 0));
  R("setresuid(-1, 1000, -1)", setresuid(-1, 1000, -1));
  R("setresuid(-1, 0, -1)", setresuid(-1, 0, -1));
  show("back without CAP_KILL");
}

static void fsuid_effect(void) {
  char path[512];
  snprintf(path, sizeof path, "%s/secret", dir);
  int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0600);
  if (fd >= 0) close(fd);
  R("chown secret to 1234", chown(path, 1234, 1234));
  R("open as root", (fd = open(path, O_RDONLY)) < 0 ? -1 : 0);
  if (fd >= 0) close(fd);
  R("setfsuid(1000) old", setfsuid(1000));
  show("fsuid 1000");
  R("open with fsuid 1000", (fd = open(path, O_RDONLY)) < 0 ? -1 : 0);
  if (fd >= 0) close(fd);
  R("setfsuid(0) old", setfsuid(0));
  show("fsuid 0");
  R("capset drop DAC caps",
    capset3(within & ~(B(CAP_DAC_OVERRIDE) | B(CAP_DAC_READ_SEARCH)), within, 0));
  R("open without DAC caps", (fd = open(path, O_RDONLY)) < 0 ? -1 : 0);
  if (fd >= 0) close(fd);
  R("capset DAC_READ_SEARCH back", capset3(within & ~B(CAP_DAC_OVERRIDE), within, 0));
  R("open O_RDONLY with DAC_READ_SEARCH", (fd = open(path, O_RDONLY)) < 0 ? -1 : 0);
  if (fd >= 0) close(fd);
  R("open O_WRONLY with DAC_READ_SEARCH", (fd = open(path, O_WRONLY)) < 0 ? -1 : 0);
  if (fd >= 0) close(fd);
  unlink(path);
}

static void exec_root(void) { exec_status(); }

static void exec_dropped(void) {
  R("setuid(1000)", setuid(1000));
  exec_status();
}

static void exec_ambient(void) {
  unsigned long long c = B(CAP_NET_BIND_SERVICE) | B(CAP_CHOWN);
  R("PR_SET_KEEPCAPS 1", prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0));
  R("setresuid(1000, 1000, 1000)", setresuid(1000, 1000, 1000));
  R("ambient raise before inheritable",
    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_BIND_SERVICE, 0, 0));
  R("capset p,i", capset3(0, c, B(CAP_NET_BIND_SERVICE)));
  R("ambient raise", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_BIND_SERVICE, 0, 0));
  R("ambient is_set", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_NET_BIND_SERVICE, 0, 0));
  R("ambient bad cap", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, 64, 0, 0));
  R("ambient clear_all arg", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 1, 0, 0));
  exec_status();
}

static void exec_bounding(void) {
  R("PR_CAPBSET_READ CAP_SYS_ADMIN", prctl(PR_CAPBSET_READ, CAP_SYS_ADMIN, 0, 0, 0));
  R("PR_CAPBSET_DROP CAP_SYS_ADMIN", prctl(PR_CAPBSET_DROP, CAP_SYS_ADMIN, 0, 0, 0));
  R("PR_CAPBSET_READ CAP_SYS_ADMIN", prctl(PR_CAPBSET_READ, CAP_SYS_ADMIN, 0, 0, 0));
  R("PR_CAPBSET_READ 41", prctl(PR_CAPBSET_READ, 41, 0, 0, 0));
  R("PR_CAPBSET_DROP 41", prctl(PR_CAPBSET_DROP, 41, 0, 0, 0));
  exec_status();
}

static long bind_port(int port) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  long r = bind(s, (struct sockaddr *)&a, sizeof a);
  int e = errno;
  close(s);
  errno = e;
  return r;
}

static void guarded(void) {
  int ready[2];
  if (pipe(ready) != 0) return;
  pid_t victim = fork();
  if (victim == 0) {
    if (setuid(2000) != 0 || write(ready[1], "x", 1) != 1) _exit(1);
    pause();
    _exit(0);
  }
  char c;
  if (read(ready[0], &c, 1) != 1) return;
  char path[512];
  snprintf(path, sizeof path, "%s/owned", dir);
  int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
  if (fd >= 0) close(fd);

  unsigned long long without = within & ~(B(CAP_KILL) | B(CAP_CHOWN) | B(CAP_NET_BIND_SERVICE));
  R("capset drop kill/chown/bind from effective", capset3(without, within, 0));
  R("kill(uid 2000, 0)", kill(victim, 0));
  R("chown(1234)", chown(path, 1234, -1));
  R("bind 127.0.0.1:80", bind_port(80));
  R("capset raise them again", capset3(within, within, 0));
  R("kill(uid 2000, 0)", kill(victim, 0));
  R("chown(1234)", chown(path, 1234, -1));
  R("bind 127.0.0.1:80", bind_port(80));

  kill(victim, SIGKILL);
  waitpid(victim, NULL, 0);
  unlink(path);
}

static void memlock(void) {
  struct rlimit none = {0, 0};
  R("setrlimit RLIMIT_MEMLOCK 0", setrlimit(RLIMIT_MEMLOCK, &none));
  char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  R("mlock with CAP_IPC_LOCK", mlock(p, 4096));
  munlock(p, 4096);
  R("capset drop CAP_IPC_LOCK", capset3(within & ~B(CAP_IPC_LOCK), within, 0));
  R("mlock without CAP_IPC_LOCK", mlock(p, 4096));
  R("capset drop CAP_SYS_RESOURCE too", capset3(within & ~(B(CAP_IPC_LOCK) | B(CAP_SYS_RESOURCE)), within, 0));
  struct rlimit more = {4096, 4096};
  R("setrlimit raise the hard limit without CAP_SYS_RESOURCE", setrlimit(RLIMIT_MEMLOCK, &more));
}

static char fcap[512];

/** A copy of this program in the writable dir with `security.capability` = fP (v2), no fI. */
static long set_file_caps(unsigned long long fp, int effective) {
  struct {
    unsigned magic;
    struct {
      unsigned permitted, inheritable;
    } data[2];
  } v = {0x02000000 | (effective ? 1 : 0), {{(unsigned)fp, 0}, {(unsigned)(fp >> 32), 0}}};
  return setxattr(fcap, "security.capability", &v, sizeof v, 0);
}

static void copy_self(const char *name) {
  snprintf(fcap, sizeof fcap, "%s/%s", dir, name);
  int in = open(self, O_RDONLY), out = open(fcap, O_CREAT | O_WRONLY | O_TRUNC, 0755);
  char buf[65536];
  ssize_t n;
  while ((n = read(in, buf, sizeof buf)) > 0)
    if (write(out, buf, n) != n) break;
  close(in);
  close(out);
}

static const unsigned long long FILE_CAPS = B(CAP_NET_BIND_SERVICE) | B(CAP_CHOWN);

static void fcap_user(void) {
  R("setresuid(1000, 1000, 1000)", setresuid(1000, 1000, 1000));
  exec_program(fcap);
}

static void fcap_bounded(void) {
  R("PR_CAPBSET_DROP CAP_NET_BIND_SERVICE", prctl(PR_CAPBSET_DROP, CAP_NET_BIND_SERVICE, 0, 0, 0));
  fcap_user();
}

static void fcap_nnp(void) {
  R("PR_SET_NO_NEW_PRIVS", prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
  fcap_user();
}

static void fcap_root(void) { exec_program(fcap); }

static void file_caps(void) {
  copy_self("fcap");
  R("setxattr security.capability (effective)", set_file_caps(FILE_CAPS, 1));
  section("file caps: exec as uid 1000", fcap_user);
  section("file caps: exec as root", fcap_root);
  section("file caps: bounding set lacks one (effective program)", fcap_bounded);
  section("file caps: no_new_privs", fcap_nnp);
  R("setxattr security.capability (not effective)", set_file_caps(FILE_CAPS, 0));
  section("file caps, not effective: exec as uid 1000", fcap_user);
  section("file caps, not effective: bounding set lacks one", fcap_bounded);
  unlink(fcap);
}

static void exec_seteuid_ambient(void) {
  R("capset i=CAP_NET_BIND_SERVICE", capset3(within, within, B(CAP_NET_BIND_SERVICE)));
  R("ambient raise", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_BIND_SERVICE, 0, 0));
  R("setresuid(-1, 1000, -1)", setresuid(-1, 1000, -1));
  exec_status();
}

static void exec_egid(void) {
  R("setresgid(-1, 1234, -1)", setresgid(-1, 1234, -1));
  exec_status();
}

static void exec_saved_root(void) {
  R("PR_SET_KEEPCAPS 1", prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0));
  R("setresuid(1000, 1000, 0)", setresuid(1000, 1000, 0));
  exec_status();
}

static void setid_user(void) {
  R("setresuid(1000, 1000, 1000)", setresuid(1000, 1000, 1000));
  exec_program(fcap);
}

static void setid_nnp(void) {
  R("PR_SET_NO_NEW_PRIVS", prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
  setid_user();
}

static void setid_root(void) { exec_program(fcap); }

/** Set-user-ID and set-group-ID copies of this program. */
static void setid_programs(void) {
  copy_self("setid");
  R("chown(0, 0) + chmod 04755", chown(fcap, 0, 0) || chmod(fcap, 04755));
  section("set-user-ID root program run by uid 1000", setid_user);
  section("set-user-ID root program under no_new_privs", setid_nnp);
  R("chown(1234, 0) + chmod 04755", chown(fcap, 1234, 0) || chmod(fcap, 04755));
  section("set-user-ID 1234 program run by root", setid_root);
  R("chown(0, 1234) + chmod 02755", chown(fcap, 0, 1234) || chmod(fcap, 02755));
  section("set-group-ID program run by root", setid_root);
  R("chmod 02745 (group not executable)", chmod(fcap, 02745));
  section("set-group-ID program, group not executable", setid_root);
  unlink(fcap);
}

static void capget_other(void) {
  int ready[2];
  if (pipe(ready) != 0) return;
  pid_t child = fork();
  if (child == 0) {
    capset3(B(CAP_KILL), B(CAP_KILL) | B(CAP_CHOWN), B(CAP_CHOWN));
    if (write(ready[1], "x", 1) != 1) _exit(1);
    pause();
    _exit(0);
  }
  char c;
  if (read(ready[0], &c, 1) != 1) return;
  struct sets s;
  R("capget of the child", capget_v(_LINUX_CAPABILITY_VERSION_3, child, &s));
  printf("child: e=%llx p=%llx i=%llx\n", s.e & within, s.p & within, s.i & within);
  R("capset of the child", capset_v(_LINUX_CAPABILITY_VERSION_3, child, 0, 0, 0));
  kill(child, SIGKILL);
  waitpid(child, NULL, 0);
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  self = argv[0];
  if (argc == 3 && strcmp(argv[1], "status") == 0) {
    within = strtoull(argv[2], NULL, 16);
    return status_child();
  }
  if (argc != 2 && argc != 3) return 2;
  dir = argv[1];
  struct sets s;
  capget_v(_LINUX_CAPABILITY_VERSION_3, 0, &s);
  within = s.p & (argc == 3 ? strtoull(argv[2], NULL, 16) : ~0ULL);
  section("fresh root", fresh);
  section("capset rules", capset_rules);
  section("capset v1", capset_v1);
  section("setuid without keepcaps", setuid_plain);
  section("setuid with keepcaps", setuid_keepcaps);
  section("seteuid round trips", seteuid_round_trip);
  section("fsuid", fsuid_effect);
  section("exec as root", exec_root);
  section("exec after setuid", exec_dropped);
  section("exec with ambient", exec_ambient);
  section("exec after bounding drop", exec_bounding);
  section("kill, chown, bind", guarded);
  section("capget of another process", capget_other);
  section("mlock and RLIMIT_MEMLOCK", memlock);
  section("file capabilities", file_caps);
  section("exec with euid 1000 and real uid 0, ambient raised", exec_seteuid_ambient);
  section("exec with effective gid 1234", exec_egid);
  section("exec with only the saved uid 0", exec_saved_root);
  section("set-id programs", setid_programs);
  return 0;
}
