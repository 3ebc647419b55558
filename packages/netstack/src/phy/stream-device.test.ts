import fc from 'fast-check';
import { expect, it } from 'vitest';
import { StreamDevice } from './stream-device.js';

it('frames survive any chunking of the stream, in order; oversized frames are refused', () => {
  fc.assert(
    fc.property(
      fc.array(fc.uint8Array({ minLength: 1, maxLength: 2000 }), { maxLength: 20 }),
      fc.array(fc.integer({ min: 1, max: 3000 }), { minLength: 1, maxLength: 10 }),
      (frames, cuts) => {
        const wire: Uint8Array[] = [];
        const tx = new StreamDevice({ medium: 'ethernet', mtu: 1500 }, (b) => wire.push(b));
        for (const f of frames) expect(tx.transmit(0, f)).toBe(true);
        const bytes = Buffer.concat(wire);
        const rx = new StreamDevice({ medium: 'ethernet', mtu: 1500 }, () => {});
        for (let off = 0, i = 0; off < bytes.length; i++) {
          const n = cuts[i % cuts.length]!;
          rx.feed(bytes.subarray(off, off + n));
          off += n;
        }
        const got: Uint8Array[] = [];
        for (let f = rx.receive(0); f; f = rx.receive(0)) got.push(f);
        expect(got).toEqual(frames);
      },
    ),
  );
  const dev = new StreamDevice({ medium: 'ip', mtu: 65535 }, () => {});
  expect(dev.transmit(0, new Uint8Array(70_000))).toBe(false);
  dev.feed(new Uint8Array([0, 0, 0, 2, 7])); // a zero-length frame is skipped; a partial one waits
  expect(dev.receive(0)).toBeUndefined();
  dev.feed(new Uint8Array([9]));
  expect(dev.receive(0)).toEqual(new Uint8Array([7, 9]));
});
