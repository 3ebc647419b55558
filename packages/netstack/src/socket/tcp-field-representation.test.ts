// TcpSocket's fields of sequence numbers and times start as DOUBLE_ZERO, so that V8 does not
// rebuild the class's hidden classes during a process's first connections (double-zero.ts). A
// child Node, traced with --trace-generalization, runs connections over the built package and
// reports every field V8 widened from small integer to double, with the code that did it.
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const dist = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist');

// Four connections on one loopback stack with a real clock (fractional milliseconds), data both
// ways, one side closed first (TIME_WAIT). `control` is a class whose field does widen: proof
// that the trace works in this Node.
const script = `
import { cidr, InetSocket, LoopbackDevice, Stack } from ${JSON.stringify(join(dist, 'index.js'))};
class Control { field = 0; }
new Control().field = 0.5;
const stack = new Stack({ device: new LoopbackDevice(), addresses: [cidr('127.0.0.1/8')] });
const addr = Uint8Array.of(2, 0, 0x13, 0x89, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0);
const settle = () => { for (let i = 0; i < 100; i++) { const now = performance.now(); const next = stack.poll(now); if (next === undefined || next > now) return; } };
const l = InetSocket.create(stack, 2, 1, 0);
l.bind(addr);
l.listen(16);
let moved = 0;
for (let i = 0; i < 4; i++) {
  const c = InetSocket.create(stack, 2, 1, 0);
  c.connect(addr);
  settle();
  const a = l.accept();
  if (!(a instanceof InetSocket)) throw new Error('no connection');
  c.sendto(new Uint8Array(3000));
  settle();
  a.sendto(new Uint8Array(100));
  settle();
  const buf = new Uint8Array(4000);
  moved += a.recvfrom(buf).n + c.recvfrom(buf).n;
  c.close();
  settle();
  a.close();
  settle();
}
console.log('moved ' + moved);
`;

describe('TcpSocket field representations', () => {
  it('no sequence-number or time field of TcpSocket or Stack is widened from small integer to double', () => {
    // No Sparkplug: this Node's V8 aborts when the trace names a baseline-compiled function.
    const flags = ['--trace-generalization', '--no-sparkplug', '--input-type=module'];
    const out = execFileSync(process.execPath, [...flags, '-e', script], {
      encoding: 'utf8',
      maxBuffer: 64 << 20,
    });
    expect(out).toContain('moved 12400');
    const widened = out
      .split('\n')
      .filter((l) => l.startsWith('[generalizing]') && /:s\{[^}]*\}->d\{/.test(l))
      .map((l) => l.replace(/\(0x[0-9a-f]+\)/g, ''));
    expect(widened.some((l) => l.startsWith('[generalizing]field:'))).toBe(true);
    const ours = widened.filter((l) => /\/dist\/(socket\/tcp|stack)\.js:/.test(l));
    expect(ours).toEqual([]);
  });
});
