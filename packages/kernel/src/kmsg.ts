/**
 * /dev/kmsg (character device 1:11): the kernel log as records. Each open file has its own read
 * position; a read returns exactly one record in the `level,seq,usec,-;text\n` format (EINVAL
 * when the buffer is too small for it), waits for new records when there are none (EAGAIN with
 * O_NONBLOCK), and reports EPIPE once when records it had not read yet were overwritten. A write
 * appends one record, with an optional `<level>` prefix.
 *
 * @module
 */
import { E, type LinuxError } from '@tsvisor/abi';
import {
  FileDescriptionImpl,
  WOULD_BLOCK,
  WaitQueue,
  type CharDevice,
  type FileDescription,
  type WouldBlock,
} from '@tsvisor/vfs';
import type { Syslog } from './syslog.js';
import { renderKmsg } from './syslog.js';

const POLLIN = 0x1;
const POLLRDNORM = 0x40;
const SEEK_SET = 0;
const SEEK_END = 2;
const SEEK_DATA = 3;

/** One open /dev/kmsg. */
class KmsgFile extends FileDescriptionImpl {
  private seq: number;
  private readonly queue = new WaitQueue();
  private readonly unsubscribe: () => void;

  constructor(private readonly log: Syslog) {
    super();
    this.seq = log.all()[0]?.seq ?? log.nextSequence;
    this.unsubscribe = log.onAppend(() => this.queue.notify(POLLIN | POLLRDNORM));
  }

  override read(dst: Uint8Array): number | LinuxError | WouldBlock {
    const records = this.log.all();
    const oldest = records[0]?.seq ?? this.log.nextSequence;
    if (this.seq < oldest) {
      this.seq = oldest;
      return E.EPIPE;
    }
    const rec = records.find((r) => r.seq >= this.seq);
    if (!rec) return WOULD_BLOCK;
    const bytes = enc.encode(renderKmsg(rec));
    if (bytes.length > dst.length) return E.EINVAL;
    dst.set(bytes);
    this.seq = rec.seq + 1;
    return bytes.length;
  }

  override write(src: Uint8Array): number | LinuxError | WouldBlock {
    let text = dec.decode(src).replace(/\n$/, '');
    let level = 4; // default_message_loglevel: KERN_WARNING
    const m = /^<(\d+)>/.exec(text);
    if (m) {
      level = Number(m[1]) & 7;
      text = text.slice(m[0].length);
    }
    this.log.append(level, text);
    return src.length;
  }

  override seek(_file: FileDescription, offset: number, whence: number): number | LinuxError {
    if (offset !== 0) return E.ESPIPE;
    switch (whence) {
      case SEEK_SET:
        this.seq = this.log.all()[0]?.seq ?? this.log.nextSequence;
        return 0;
      case SEEK_DATA:
        this.seq = Math.max(this.log.clearSequence, this.log.all()[0]?.seq ?? 0);
        return 0;
      case SEEK_END:
        this.seq = this.log.nextSequence;
        return 0;
      default:
        return E.EINVAL;
    }
  }

  override readiness(mask: number): number {
    const ready = this.log.all().some((r) => r.seq >= this.seq);
    return ready ? mask & (POLLIN | POLLRDNORM) : 0;
  }

  override get waitQueue(): WaitQueue {
    return this.queue;
  }

  override release(): void {
    this.unsubscribe();
  }
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/**
 * The /dev/kmsg driver over a kernel's log: register it as character device 1:11
 * (`vfs.devices.registerChar(1, 11, kmsgDevice(kernel.syslog))`) and add the node to /dev.
 */
export function kmsgDevice(log: Syslog): CharDevice {
  return { open: () => new KmsgFile(log) };
}
