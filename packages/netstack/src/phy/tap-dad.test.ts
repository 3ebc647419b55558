// Duplicate address detection against the Linux stack over a TAP device, in a network namespace
// this test creates (and ends): when netstack's device comes up again, its link-local address
// is tentative until its solicitation from :: went unanswered, and Linux, holding the same
// address, defends it (ndisc_recv_ns answers a DAD solicitation for its own address to all
// nodes), which leaves netstack's dadfailed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cidr } from '../iface/interface.js';
import { IfaFlag } from '../iface/slaac.js';
import { Stack } from '../stack.js';
import { EthernetAddress } from '../wire/ethernet.js';
import { openTapNetns, type TapNetns } from './tap-netns.test-util.js';

const IF = 'tsv1';
const LL = 'fe80::ff:fe00:a02';
let net: TapNetns;
let stack: Stack;

beforeAll(async () => {
  net = await openTapNetns({
    ifname: IF,
    addresses: ['fd0a::1/64'],
    tmpPrefix: 'tsvisor-tap-dad-',
  });
  stack = new Stack({
    device: net.device,
    addresses: [cidr('fd0a::2/64')],
    hardwareAddress: EthernetAddress.parse('02:00:00:00:0a:02')!,
    ipv6LinkLocal: true,
    seed: 7,
  });
  net.attach(stack);
}, 30_000);

afterAll(() => net?.close());

/** The link-local address's IFA_F_* flags. */
const llFlags = (): number | undefined =>
  stack.iface.ipv6Addresses().find((a) => a.cidr.address.toString() === LL)?.flags;

describe('DAD of the link-local address, against the Linux stack', () => {
  it('unclaimed: tentative after up, then valid, and Linux reaches it', async () => {
    expect(stack.setDeviceUp(false)).toBeUndefined();
    expect(stack.setDeviceUp(true)).toBeUndefined();
    expect(llFlags()).toBe(IfaFlag.PERMANENT | IfaFlag.TENTATIVE);
    const start = net.clock();
    await net.drive(() => llFlags() === IfaFlag.PERMANENT, 5000);
    const took = net.clock() - start;
    expect(took).toBeGreaterThanOrEqual(1000);
    expect(took).toBeLessThan(3000);
    // Linux pings from its own link-local address, once its DAD passed too.
    for (let t = 0; t < 50 && (await net.inNs(['ip', '-6', 'addr', 'show', 'tentative'])) !== ''; t++) {
      const until = net.clock() + 100;
      await net.drive(() => net.clock() > until);
    }
    const ping = await net.inNs(['busybox', 'ping6', '-c', '1', '-W', '5', '-I', IF, LL]);
    expect(ping).toMatch(/1 packets transmitted, 1 packets received/);
  }, 30_000);

  it('held by Linux: Linux defends it and netstack leaves it tentative and dadfailed', async () => {
    await net.inNs(['ip', '-6', 'addr', 'add', `${LL}/64`, 'dev', IF, 'nodad']);
    expect(stack.setDeviceUp(false)).toBeUndefined();
    expect(stack.setDeviceUp(true)).toBeUndefined();
    await net.drive(() => (llFlags()! & IfaFlag.DADFAILED) !== 0, 5000);
    expect(llFlags()).toBe(IfaFlag.PERMANENT | IfaFlag.TENTATIVE | IfaFlag.DADFAILED);
    // And stays so: no second try, never valid.
    const until = net.clock() + 2500;
    await net.drive(() => net.clock() > until, 5000);
    expect(llFlags()).toBe(IfaFlag.PERMANENT | IfaFlag.TENTATIVE | IfaFlag.DADFAILED);
    expect(stack.isLocalAddress(stack.iface.linkLocal!)).toBe(false);
  }, 30_000);
});
