// /proc/sysvipc formats: the headers are the host's (read in a fresh IPC namespace, so nothing
// else shows), the lines are ones Linux 6.18 printed (see runtime/src/testdata/sysv-ipc.c for the
// whole comparison through a sandbox).
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { renderSysvMsg, renderSysvSem, renderSysvShm } from './sysvipc.js';

const hostFile = (name: string): string =>
  execFileSync('unshare', ['-i', 'cat', `/proc/sysvipc/${name}`], { encoding: 'utf8' });

const owner = { uid: 0, gid: 0, cuid: 0, cgid: 0 };
const T = 1795970458;

describe('/proc/sysvipc', () => {
  it('has the host headers', () => {
    expect(renderSysvShm([])).toBe(hostFile('shm'));
    expect(renderSysvSem([])).toBe(hostFile('sem'));
    expect(renderSysvMsg([])).toBe(hostFile('msg'));
  });

  it('prints lines as Linux does', () => {
    const shm = renderSysvShm([
      {
        key: 16962,
        id: 3,
        mode: 0o640,
        ...owner,
        size: 5000,
        cpid: 1,
        lpid: 1,
        nattch: 1,
        atime: T,
        dtime: 0,
        ctime: T,
        rss: 0,
        swap: 0,
      },
    ]);
    expect(shm.split('\n')[1]).toBe(
      '     16962          3   640                  5000     1     1      1     0     0     0     0 1795970458          0 1795970458                     0                     0',
    );
    const sem = renderSysvSem([{ key: 17219, id: 2, mode: 0o604, ...owner, nsems: 4, otime: T, ctime: T }]);
    expect(sem.split('\n')[1]).toBe(
      '     17219          2   604          4     0     0     0     0 1795970458 1795970458',
    );
    const msg = renderSysvMsg([
      {
        key: 17476,
        id: 2,
        mode: 0o620,
        ...owner,
        cbytes: 7,
        qnum: 1,
        lspid: 1,
        lrpid: 0,
        stime: T,
        rtime: 0,
        ctime: T,
      },
    ]);
    expect(msg.split('\n')[1]).toBe(
      '     17476          2   620           7          1     1     0     0     0     0     0 1795970458          0 1795970458',
    );
  });

  it('shows a segment marked for removal with SHM_DEST in the mode and a negative key as signed', () => {
    const line = renderSysvShm([
      {
        key: -1,
        id: 32768,
        mode: 0o1600,
        ...owner,
        size: 1,
        cpid: 2,
        lpid: 0,
        nattch: 1,
        atime: 0,
        dtime: 0,
        ctime: T,
        rss: 0,
        swap: 0,
      },
    ]).split('\n')[1];
    expect(line?.startsWith('        -1      32768  1600 ')).toBe(true);
  });
});
