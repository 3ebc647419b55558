/**
 * mincore(2) answered by the host: the memory model knows which pages are mapped but not which
 * are in memory (it sees no page faults, no reclaim, no MADV_DONTNEED on the host's pages), so
 * residency is asked of the host process that runs the task, with a mincore injected into one of
 * its stopped threads.
 *
 * @module
 */
import { E, errorOf, isError, type LinuxError } from '@tsvisor/abi';
import { STUB_REGION, type Task as HostTask } from '@tsvisor/trap-native';
import { NR_MINCORE } from './host-nr.js';

const PAGE = 4096;
/**
 * The stub's scratch page (the page after its code page), where the host writes each chunk of
 * the vector: one page of vector covers 4096 pages, as Linux's own mincore loop does per round.
 */
const SCRATCH = STUB_REGION.start + PAGE;

/**
 * Runs mincore over `pages` pages from page-aligned `start` inside `host` (stopped) and returns
 * the vector. The host's errno (ENOMEM for a range the host does not map) is passed through: it
 * means the host and the model disagree, which the caller reports rather than hides.
 */
export function hostMincore(host: HostTask, start: number, pages: number): Uint8Array | LinuxError {
  const out = new Uint8Array(pages);
  for (let done = 0; done < pages; done += PAGE) {
    const n = Math.min(PAGE, pages - done);
    const r = host.hostSyscall(NR_MINCORE, start + done * PAGE, n * PAGE, SCRATCH);
    if (r < 0) return r > -4096 ? errorOf(-r) : E.EIO;
    const got = host.readMemory(SCRATCH, out.subarray(done, done + n));
    if (isError(got)) return got;
    if (got !== n) return E.EIO; // the scratch page is always mapped: a short read is a host fault
  }
  return out;
}
