/**
 * Flags of the small file-descriptor factories and helpers: getrandom, eventfd, timerfd,
 * signalfd, inotify.
 *
 * @module
 */
import { defineFlags } from './flagset.js';

/** getrandom(2) flags. */
export const Grnd = { GRND_NONBLOCK: 1, GRND_RANDOM: 2, GRND_INSECURE: 4 } as const;

/** getrandom flags, for decoding. */
export const grndFlags = defineFlags('getrandom', Grnd);

/** eventfd2(2) flags. */
export const Efd = { EFD_SEMAPHORE: 1, EFD_CLOEXEC: 0o2000000, EFD_NONBLOCK: 0o4000 } as const;

/** eventfd flags, for decoding. */
export const efdFlags = defineFlags('eventfd', Efd);

/** timerfd_create and timerfd_settime flags. */
export const Tfd = {
  TFD_TIMER_ABSTIME: 1,
  TFD_TIMER_CANCEL_ON_SET: 2,
  TFD_CLOEXEC: 0o2000000,
  TFD_NONBLOCK: 0o4000,
} as const;

/** timerfd_create and timerfd_settime flags, for decoding (strace uses one set for both). */
export const tfdFlags = defineFlags('timerfd', Tfd);

/** signalfd4(2) flags. */
export const Sfd = { SFD_CLOEXEC: 0o2000000, SFD_NONBLOCK: 0o4000 } as const;

/** signalfd flags, for decoding. */
export const sfdFlags = defineFlags('signalfd', Sfd);

/** inotify(7) event bits and watch flags (`IN_*`). */
export const Inotify = {
  IN_ACCESS: 0x00000001,
  IN_MODIFY: 0x00000002,
  IN_ATTRIB: 0x00000004,
  IN_CLOSE_WRITE: 0x00000008,
  IN_CLOSE_NOWRITE: 0x00000010,
  IN_OPEN: 0x00000020,
  IN_MOVED_FROM: 0x00000040,
  IN_MOVED_TO: 0x00000080,
  IN_CREATE: 0x00000100,
  IN_DELETE: 0x00000200,
  IN_DELETE_SELF: 0x00000400,
  IN_MOVE_SELF: 0x00000800,
  IN_UNMOUNT: 0x00002000,
  IN_Q_OVERFLOW: 0x00004000,
  IN_IGNORED: 0x00008000,
  IN_CLOSE: 0x00000018,
  IN_MOVE: 0x000000c0,
  IN_ONLYDIR: 0x01000000,
  IN_DONT_FOLLOW: 0x02000000,
  IN_EXCL_UNLINK: 0x04000000,
  IN_MASK_CREATE: 0x10000000,
  IN_MASK_ADD: 0x20000000,
  IN_ISDIR: 0x40000000,
  IN_ONESHOT: 0x80000000,
  IN_ALL_EVENTS: 0x00000fff,
  IN_CLOEXEC: 0o2000000,
  IN_NONBLOCK: 0o4000,
} as const;

/** inotify_add_watch masks, for decoding (single bits only, like strace). */
export const inotifyMask = defineFlags(
  'inotify_mask',
  Object.entries(Inotify)
    .filter(([n]) => !['IN_CLOSE', 'IN_MOVE', 'IN_ALL_EVENTS', 'IN_CLOEXEC', 'IN_NONBLOCK'].includes(n))
    .map(([name, value]) => ({ name, value })),
);

/** inotify_init1 flags, for decoding. */
export const inotifyInitFlags = defineFlags('inotify_init', {
  IN_NONBLOCK: Inotify.IN_NONBLOCK,
  IN_CLOEXEC: Inotify.IN_CLOEXEC,
});
