// Prints what getifaddrs(3) and if_nameindex(3) report (both ask rtnetlink), one line per entry,
// in a form that does not depend on the order of the list.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

static const char *text(const struct sockaddr *sa, char *buf, size_t len) {
  if (!sa) return "-";
  if (sa->sa_family == AF_INET) return inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, buf, len);
  if (sa->sa_family == AF_INET6)
    return inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, buf, len);
  snprintf(buf, len, "family %d", sa->sa_family);
  return buf;
}

static const char *result(int r) {
  static char buf[64];
  if (r == 0) return "0";
  snprintf(buf, sizeof buf, "%d %s", r, strerrorname_np(errno));
  return buf;
}

int main(void) {
  struct ifaddrs *list;
  if (getifaddrs(&list) != 0) {
    perror("getifaddrs");
    return 1;
  }
  for (struct ifaddrs *i = list; i; i = i->ifa_next) {
    char a[64], m[64];
    int fam = i->ifa_addr ? i->ifa_addr->sa_family : -1;
    printf("%s family=%d flags=%#x addr=%s mask=%s\n", i->ifa_name, fam, i->ifa_flags,
           fam == AF_PACKET ? "link" : text(i->ifa_addr, a, sizeof a), fam == AF_PACKET ? "-" : text(i->ifa_netmask, m, sizeof m));
  }
  freeifaddrs(list);
  struct if_nameindex *ni = if_nameindex();
  if (!ni) {
    perror("if_nameindex");
    return 1;
  }
  for (struct if_nameindex *p = ni; p->if_index; p++) printf("index %u %s\n", p->if_index, p->if_name);
  if_freenameindex(ni);
  printf("if_nametoindex(lo) = %u\n", if_nametoindex("lo"));
  printf("if_nametoindex(nosuch0) = %u\n", if_nametoindex("nosuch0"));
  char name[IF_NAMESIZE];
  printf("if_indextoname(1) = %s\n", if_indextoname(1, name) ? name : "NULL");
  // The interface ioctls, on an AF_INET and an AF_UNIX socket.
  int fds[2] = {socket(AF_INET, SOCK_DGRAM, 0), socket(AF_UNIX, SOCK_DGRAM, 0)};
  for (int k = 0; k < 2; k++) {
    struct ifreq r;
    char a[64];
    int e;
    memset(&r, 0, sizeof r);
    strcpy(r.ifr_name, "lo");
    e = ioctl(fds[k], SIOCGIFFLAGS, &r);
    printf("SIOCGIFFLAGS = %s flags=%#x\n", result(e), r.ifr_flags & 0xffff);
    e = ioctl(fds[k], SIOCGIFINDEX, &r);
    printf("SIOCGIFINDEX = %s index=%d\n", result(e), r.ifr_ifindex);
    e = ioctl(fds[k], SIOCGIFADDR, &r);
    printf("SIOCGIFADDR = %s %s\n", result(e), e ? "" : text(&r.ifr_addr, a, sizeof a));
    e = ioctl(fds[k], SIOCGIFNETMASK, &r);
    printf("SIOCGIFNETMASK = %s %s\n", result(e), e ? "" : text(&r.ifr_netmask, a, sizeof a));
    e = ioctl(fds[k], SIOCGIFHWADDR, &r);
    printf("SIOCGIFHWADDR = %s type=%d\n", result(e), r.ifr_hwaddr.sa_family);
    strcpy(r.ifr_name, "nosuch0");
    e = ioctl(fds[k], SIOCGIFINDEX, &r);
    printf("SIOCGIFINDEX nosuch0 = %s\n", result(e));
    r.ifr_ifindex = 1;
    e = ioctl(fds[k], SIOCGIFNAME, &r);
    printf("SIOCGIFNAME 1 = %s %s\n", result(e), r.ifr_name);
    r.ifr_ifindex = 9;
    e = ioctl(fds[k], SIOCGIFNAME, &r);
    printf("SIOCGIFNAME 9 = %s\n", result(e));
    struct ifconf c = {.ifc_len = 0, .ifc_buf = NULL};
    e = ioctl(fds[k], SIOCGIFCONF, &c);
    printf("SIOCGIFCONF null = %s len=%d\n", result(e), c.ifc_len);
    struct ifreq all[4];
    c.ifc_len = sizeof all;
    c.ifc_req = all;
    e = ioctl(fds[k], SIOCGIFCONF, &c);
    printf("SIOCGIFCONF = %s len=%d first=%s %s\n", result(e), c.ifc_len, all[0].ifr_name,
           text(&all[0].ifr_addr, a, sizeof a));
    close(fds[k]);
  }
  return 0;
}
