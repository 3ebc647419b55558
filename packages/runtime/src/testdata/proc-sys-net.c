// /proc/sys/net/ipv4, ipv6 and core as root of a user namespace that does not own the
// network namespace sees them: for each directory and file, its mode and owner, its first line
// (read-only open), what opening it for writing (O_WRONLY, O_RDWR, O_RDONLY|O_TRUNC) gives, and
// what access(2) answers for reading, writing and executing.
// Natively it runs under `unshare -U -r` started by an unprivileged user (the host's network
// namespace, owned by the host's root); under tsvisor --network host it must print the same.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const PATHS[] = {
    "ipv4",
    "core",
    "ipv4/ip_autobind_reuse",
    "ipv4/ip_local_port_range",
    "ipv4/ip_local_reserved_ports",
    "ipv4/tcp_congestion_control",
    "ipv4/tcp_available_congestion_control",
    "ipv4/tcp_allowed_congestion_control",
    "ipv4/tcp_dsack",
    "ipv4/tcp_fin_timeout",
    "ipv4/tcp_invalid_ratelimit",
    "ipv4/tcp_keepalive_time",
    "ipv4/tcp_keepalive_intvl",
    "ipv4/tcp_keepalive_probes",
    "ipv4/tcp_notsent_lowat",
    "ipv4/tcp_orphan_retries",
    "ipv4/tcp_retries2",
    "ipv4/tcp_sack",
    "ipv4/tcp_syn_linear_timeouts",
    "ipv4/tcp_syn_retries",
    "ipv4/tcp_timestamps",
    "ipv4/tcp_window_scaling",
    "core/somaxconn",
    "ipv6",
    "ipv6/conf",
    "ipv6/conf/lo",
    "ipv6/conf/all/hop_limit",
    "ipv6/conf/default/dad_transmits",
    "ipv6/conf/lo/disable_ipv6",
    "ipv6/conf/lo/hop_limit",
    "ipv6/conf/lo/mtu",
    "ipv6/icmp",
    "ipv6/icmp/echo_ignore_all",
    "ipv6/icmp/echo_ignore_multicast",
    "ipv6/idgen_retries",
    "ipv6/route/mtu_expires",
};

static const char *opened(const char *path, int flags) {
  int fd = open(path, flags);
  if (fd < 0) return strerrorname_np(errno);
  close(fd);
  return "ok";
}

int main(void) {
  printf("uid %d\n", getuid());
  for (size_t i = 0; i < sizeof PATHS / sizeof *PATHS; i++) {
    char path[128];
    snprintf(path, sizeof path, "/proc/sys/net/%s", PATHS[i]);
    struct stat st;
    if (stat(path, &st) < 0) {
      printf("%s: stat %s\n", PATHS[i], strerrorname_np(errno));
      continue;
    }
    printf("%s: %s %04o %d:%d", PATHS[i], S_ISDIR(st.st_mode) ? "dir" : "file", st.st_mode & 07777,
           st.st_uid, st.st_gid);
    if (S_ISDIR(st.st_mode)) {
      printf("\n");
      continue;
    }
    char line[256] = "";
    FILE *f = fopen(path, "r");
    if (!f) {
      printf(" read %s", strerrorname_np(errno));
    } else {
      if (fgets(line, sizeof line, f)) line[strcspn(line, "\n")] = 0;
      fclose(f);
      printf(" [%s]", line);
    }
    printf(" wronly %s rdwr %s trunc %s", opened(path, O_WRONLY), opened(path, O_RDWR),
           opened(path, O_RDONLY | O_TRUNC));
    printf(" access r %s w %s x %s\n", access(path, R_OK) ? strerrorname_np(errno) : "ok",
           access(path, W_OK) ? strerrorname_np(errno) : "ok", access(path, X_OK) ? strerrorname_np(errno) : "ok");
  }
  return 0;
}
