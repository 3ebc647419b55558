/*
 * socket-fuzz SEED CALLS: random socket calls with hostile arguments (bad pointers and lengths,
 * random levels, options, flags and ioctls) on non-blocking AF_INET, AF_INET6, AF_UNIX and
 * AF_NETLINK and AF_PACKET sockets of every type, packet rings and their mappings, epoll sets and
 * mmsg vectors. Whatever each call answers, the
 * program must get to the end and print "done"; the sandbox's log says whether a handler threw.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
static unsigned long long rnd(void) { return ((unsigned long long)random() << 33) ^ ((unsigned long long)random() << 11) ^ random(); }
static char buf[1 << 16];
static void *ptrarg(void) {
  switch (random() % 5) {
    case 0: return NULL;
    case 1: return (void *)0x10;
    case 2: return (void *)(uintptr_t)rnd();
    case 3: return buf + (random() % 64);
    default: return buf + sizeof buf - (random() % 8);
  }
}
static long lenarg(void) {
  switch (random() % 5) {
    case 0: return 0;
    case 1: return -1;
    case 2: return random() % 64;
    case 3: return rnd();
    default: return 1 << (random() % 20);
  }
}
static int mk(void) {
  static const int fam[] = {AF_INET, AF_INET6, AF_UNIX, AF_NETLINK, AF_PACKET};
  static const int typ[] = {SOCK_STREAM, SOCK_DGRAM, SOCK_RAW, SOCK_SEQPACKET};
  int f = fam[random() % 5], t = typ[random() % 4];
  int p = random() % 3 ? 0 : (f == AF_NETLINK ? random() % 5 : random() % 20);
  if (f == AF_PACKET) p = random() % 3 ? htons(ETH_P_ALL) : (int)htons(random());
  return socket(f, t | SOCK_NONBLOCK, p);
}
static void addr(void) {
  struct sockaddr_in *a = (void *)buf;
  if (random() % 2) { a->sin_family = AF_INET; a->sin_port = htons(random() % 3 ? 5555 : random()); a->sin_addr.s_addr = htonl(random() % 2 ? 0x7f000001 : rnd()); }
  else if (random() % 2) { struct sockaddr_in6 *b = (void *)buf; b->sin6_family = AF_INET6; b->sin6_port = htons(5556); b->sin6_addr = in6addr_loopback; }
  /* relative to the private directory main() works in (a short length truncates the name) */
  else { struct sockaddr_un *u = (void *)buf; u->sun_family = AF_UNIX; strcpy(u->sun_path, random() % 2 ? "fz" : ""); if (!u->sun_path[0]) u->sun_path[1] = 'z'; }
}
int main(int argc, char **argv) {
  srandom(argc > 1 ? atoi(argv[1]) : 1);
  /* Sockets bound to names land in a directory of the program's own, removed at the end: run
   * natively, the fuzz must leave nothing on the host. */
  char dir[] = "/tmp/socket-fuzz.XXXXXX";
  if (!mkdtemp(dir) || chdir(dir)) {
    perror("socket-fuzz: work directory");
    return 1;
  }
  signal(SIGPIPE, SIG_IGN);
  int n = argc > 2 ? atoi(argv[2]) : 3000;
  int fds[8];
  for (int i = 0; i < 8; i++) fds[i] = mk();
  int ep = epoll_create1(0);
  for (int k = 0; k < n; k++) {
    int fd = fds[random() % 8];
    if (random() % 3 == 0) for (int j = 0; j < 512; j += 8) *(unsigned long long *)(buf + j) = random() % 3 ? rnd() % 64 : rnd();
    switch (random() % 17) {
      case 0: setsockopt(fd, random() % 2 ? SOL_SOCKET : (int[]){0, 6, 17, 41, 255, 263, 270}[random() % 7], random() % 80, ptrarg(), lenarg()); break;
      case 1: { socklen_t l = lenarg(); getsockopt(fd, random() % 2 ? SOL_SOCKET : (int[]){0, 6, 17, 41, 255, 263, 270}[random() % 7], random() % 80, ptrarg(), random() % 2 ? &l : ptrarg()); break; }
      case 2: addr(); bind(fd, random() % 4 ? (void *)buf : ptrarg(), random() % 3 ? 16 + random() % 16 : lenarg()); break;
      case 3: addr(); connect(fd, random() % 4 ? (void *)buf : ptrarg(), random() % 3 ? 16 + random() % 16 : lenarg()); break;
      case 4: listen(fd, random() % 10); break;
      case 5: { int a = accept4(fd, random() % 2 ? ptrarg() : NULL, random() % 2 ? ptrarg() : NULL, SOCK_NONBLOCK); if (a >= 0) close(a); break; }
      case 6: sendto(fd, ptrarg(), lenarg() & 0xffff, MSG_DONTWAIT | (random() % 2 ? MSG_OOB : 0) | (random() % 2 ? MSG_MORE : 0), random() % 2 ? ptrarg() : NULL, lenarg()); break;
      case 7: recvfrom(fd, ptrarg(), lenarg(), MSG_DONTWAIT | (random() % 2 ? MSG_PEEK | MSG_TRUNC : 0) | (random() % 4 ? 0 : MSG_OOB | MSG_ERRQUEUE), ptrarg(), ptrarg()); break;
      case 8: { struct msghdr mh = {.msg_name = ptrarg(), .msg_namelen = lenarg(), .msg_iov = ptrarg(), .msg_iovlen = lenarg() & 7, .msg_control = ptrarg(), .msg_controllen = lenarg()}; if (random() % 2) sendmsg(fd, &mh, MSG_DONTWAIT); else recvmsg(fd, &mh, MSG_DONTWAIT); break; }
      case 9: ioctl(fd, random() % 2 ? 0x8900 + random() % 0x80 : (random() % 2 ? 0x541b : (unsigned long)rnd()), ptrarg()); break;
      case 10: { struct pollfd p = {fd, POLLIN | POLLOUT | POLLPRI, 0}; poll(&p, 1, 0); break; }
      case 11: { struct epoll_event e = {.events = (unsigned)rnd()}; epoll_ctl(ep, 1 + random() % 3, fd, random() % 2 ? &e : ptrarg()); struct epoll_event o[4]; epoll_wait(ep, o, 4, 0); break; }
      case 12: shutdown(fd, random() % 4); break;
      case 13: { char t[128]; socklen_t l = random() % 130; if (random() % 2) getsockname(fd, random() % 2 ? (void *)t : ptrarg(), random() % 2 ? &l : ptrarg()); else getpeername(fd, (void *)t, &l); break; }
      case 14: { struct mmsghdr mm[2]; memset(mm, 0, sizeof mm); mm[0].msg_hdr.msg_iov = ptrarg(); mm[0].msg_hdr.msg_iovlen = random() % 3; if (random() % 2) sendmmsg(fd, random() % 2 ? mm : ptrarg(), random() % 3, MSG_DONTWAIT); else recvmmsg(fd, mm, random() % 3, MSG_DONTWAIT, random() % 2 ? ptrarg() : NULL); break; }
      case 15: {
        struct tpacket_req3 r = {.tp_block_size = 1u << (random() % 24), .tp_block_nr = random() % 8,
                                 .tp_frame_size = 1u << (random() % 16), .tp_frame_nr = random() % 64,
                                 .tp_retire_blk_tov = random() % 100};
        int v = random() % 4;
        setsockopt(fd, SOL_PACKET, PACKET_VERSION, &v, sizeof v);
        setsockopt(fd, SOL_PACKET, random() % 2 ? PACKET_RX_RING : PACKET_TX_RING, &r,
                   random() % 2 ? sizeof r : sizeof(struct tpacket_req));
        void *m = mmap(NULL, lenarg() & 0xffffff, PROT_READ | (random() % 2 ? PROT_WRITE : 0), MAP_SHARED, fd,
                       (random() % 3) * 4096);
        if (m != MAP_FAILED) munmap(m, 4096);
        break;
      }
      default: { int i = random() % 8; close(fds[i]); fds[i] = mk(); }
    }
  }
  for (int i = 0; i < 8; i++) close(fds[i]);
  /* whatever names the binds made (truncations of "fz") */
  unlink("fz");
  unlink("f");
  if (chdir("/") || rmdir(dir)) {
    perror("socket-fuzz: leftovers");
    return 1;
  }
  printf("done\n");
  return 0;
}
