/**
 * poll(2) events and epoll(7) operations, events and flags.
 *
 * @module
 */
import { defineEnum, defineFlags } from './flagset.js';

/** poll(2) events (`POLL*`). */
export const PollEvent = {
  POLLIN: 0x0001,
  POLLPRI: 0x0002,
  POLLOUT: 0x0004,
  POLLERR: 0x0008,
  POLLHUP: 0x0010,
  POLLNVAL: 0x0020,
  POLLRDNORM: 0x0040,
  POLLRDBAND: 0x0080,
  POLLWRNORM: 0x0100,
  POLLWRBAND: 0x0200,
  POLLMSG: 0x0400,
  POLLREMOVE: 0x1000,
  POLLRDHUP: 0x2000,
} as const;

/** poll events, for decoding. */
export const pollEvents = defineFlags('poll', PollEvent);

/** epoll_ctl(2) operations. */
export const EpollCtl = { EPOLL_CTL_ADD: 1, EPOLL_CTL_DEL: 2, EPOLL_CTL_MOD: 3 } as const;

/** epoll_ctl operations, for decoding. */
export const epollCtlOps = defineEnum('epoll_ctl', EpollCtl, { prefix: 'EPOLL_CTL_' });

/** epoll events and input flags (`EPOLL*`). */
export const EpollEventFlag = {
  EPOLLIN: 0x00000001,
  EPOLLPRI: 0x00000002,
  EPOLLOUT: 0x00000004,
  EPOLLERR: 0x00000008,
  EPOLLHUP: 0x00000010,
  EPOLLNVAL: 0x00000020,
  EPOLLRDNORM: 0x00000040,
  EPOLLRDBAND: 0x00000080,
  EPOLLWRNORM: 0x00000100,
  EPOLLWRBAND: 0x00000200,
  EPOLLMSG: 0x00000400,
  EPOLLRDHUP: 0x00002000,
  EPOLLEXCLUSIVE: 0x10000000,
  EPOLLWAKEUP: 0x20000000,
  EPOLLONESHOT: 0x40000000,
  EPOLLET: 0x80000000,
} as const;

/** epoll events, for decoding. */
export const epollEvents = defineFlags('epoll_events', EpollEventFlag);

/** epoll_create1(2) flags. */
export const EpollFlag = { EPOLL_CLOEXEC: 0o2000000 } as const;

/** epoll_create1 flags, for decoding. */
export const epollCreateFlags = defineFlags('epoll_create', EpollFlag);
