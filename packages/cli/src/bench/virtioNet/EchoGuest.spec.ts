import { DriverQueue, GuestMemory, SplitQueue } from '@vnic/core';
import { buildEthernet, buildIcmpEcho, buildIpv4, EtherType, IpProtocol, parseEthernet, parseIcmpEcho, parseIpv4 } from '@vnic/driver';
import { describe, expect, it } from 'vitest';
import { EchoGuest, NO_REPLY } from './EchoGuest.ts';

const BASE = 0x10000;
const SIZE = 8;
const HDR = 12;
const TX_BUF = 0x20000;
const RX_BUFS = 0x21000;
const RX_LEN = 1526;
const ID = 0x7a6e;
const GUEST = Uint8Array.of(0x52, 0x54, 0, 0, 0, 1);
const NS = Uint8Array.of(2, 0, 0, 0, 0, 1);

function echo(type: 0 | 8, id: number, seq: number, data = Uint8Array.from({ length: 22 }, (_, i) => i * 13)): Uint8Array {
  const icmp = buildIcmpEcho({ type, id, seq, data });
  const ip = buildIpv4(
    type === 8
      ? { src: '10.9.0.2', dst: '10.9.0.1', protocol: IpProtocol.ICMP, payload: icmp }
      : { src: '10.9.0.1', dst: '10.9.0.2', protocol: IpProtocol.ICMP, payload: icmp },
  );
  return buildEthernet(
    type === 8 ? { dst: NS, src: GUEST, etherType: EtherType.IPV4, payload: ip } : { dst: GUEST, src: NS, etherType: EtherType.IPV4, payload: ip },
  );
}

/**
 * TX and RX driver rings and SplitQueues as the device; the driver has sent request 0 (taken
 * back) and posted every RX buffer, as openVnicRtt leaves them; an EchoGuest over both.
 */
function setup(eventIdx = true) {
  const mem = new GuestMemory([{ guestPhysAddr: BASE, bytes: new Uint8Array(0x20000) }]);
  const queues = [BASE, BASE + 0x1000].map((at) => {
    const l = DriverQueue.layout(at, SIZE);
    const ring = { size: SIZE, descTable: l.descTable, availRing: l.availRing, usedRing: l.usedRing, eventIdx };
    const drv = new DriverQueue({ ...ring, start: 0 });
    drv.init(mem);
    return { drv, dev: new SplitQueue({ ...ring, indirectDesc: false }) };
  });
  const [rx, tx] = queues as [(typeof queues)[0], (typeof queues)[0]];
  for (let i = 0; i < SIZE; i++) rx.drv.add(mem, [{ addr: RX_BUFS + RX_LEN * i, len: RX_LEN, writable: true }]);
  rx.drv.publish(mem);
  const request = echo(8, ID, 0);
  mem.write(TX_BUF, new Uint8Array(HDR + request.length));
  mem.write(TX_BUF + HDR, request);
  tx.drv.add(mem, [{ addr: TX_BUF, len: HDR + request.length, writable: false }]);
  tx.drv.publish(mem);
  const c = tx.dev.pop(mem)!;
  tx.dev.addUsed(mem, c.head, 0);
  expect(tx.drv.popUsed(mem)).toBeDefined();
  let kicks = 0;
  const guest = new EchoGuest(
    mem,
    tx.drv,
    rx.drv,
    request,
    () => kicks++,
    () => kicks++,
  );
  /** The device takes the next TX chain: the frame it carries (header dropped), or undefined. */
  const transmitted = (): Uint8Array | undefined => {
    const chain = tx.dev.pop(mem);
    if (chain === undefined) return undefined;
    const buf = new Uint8Array(chain.readableLength);
    chain.readInto(mem, buf);
    tx.dev.addUsed(mem, chain.head, 0);
    return buf.subarray(HDR);
  };
  /** The device writes `frame` (behind a zero header) into the next RX chain; its head. */
  const receive = (frame: Uint8Array): number => {
    const chain = rx.dev.pop(mem)!;
    mem.write(chain.descriptors[0]!.addr, new Uint8Array(HDR));
    mem.write(chain.descriptors[0]!.addr + HDR, frame);
    rx.dev.addUsed(mem, chain.head, HDR + frame.length);
    return chain.head;
  };
  return { mem, rx, tx, guest, transmitted, receive, kicks: () => kicks };
}

describe('EchoGuest (the RTT bench guest)', () => {
  it('sends the request again with each sequence number and a valid ICMP checksum, the rest of the frame unchanged', () => {
    const t = setup();
    for (const seq of [1, 2, 0x1234, 0xffff, 0]) {
      t.guest.send(seq);
      const f = t.transmitted();
      expect(f, `request ${seq}`).toBeDefined();
      const ip = parseIpv4(parseEthernet(f!)!.payload)!;
      const e = parseIcmpEcho(ip.payload); // undefined when the checksum is wrong
      expect(e).toEqual({ type: 8, id: ID, seq, data: echo(8, ID, seq).subarray(14 + 20 + 8) });
      expect(Buffer.compare(Buffer.from(f!), Buffer.from(echo(8, ID, seq)))).toBe(0);
      expect(t.transmitted(), 'one chain per send').toBeUndefined();
    }
  });

  it('returns the seq of an echo reply to its id, NO_REPLY for anything else, and posts every RX buffer back', () => {
    const t = setup();
    expect(t.guest.poll()).toBe(NO_REPLY);
    t.receive(echo(8, ID, 5)); // a request, not a reply
    t.receive(echo(0, ID + 1, 5)); // another id
    expect(t.guest.poll()).toBe(NO_REPLY);
    t.receive(echo(0, ID, 7));
    t.receive(echo(0, ID, 8));
    expect(t.guest.poll(), 'the first reply of the batch').toBe(7);
    expect(t.guest.poll()).toBe(NO_REPLY);
    // Every buffer came back: the device can fill the ring around several times.
    for (let i = 0; i < 3 * SIZE; i++) {
      t.receive(echo(0, ID, 100 + i));
      expect(t.guest.poll()).toBe(100 + i);
    }
  });

  it('waits for the reply to the seq it is given, and gives up after the timeout', () => {
    const t = setup(false);
    t.receive(echo(0, ID, 3));
    expect(t.guest.awaitReply(3, 100)).toBe(true);
    t.receive(echo(0, ID, 4)); // a late reply to another request
    const t0 = performance.now();
    expect(t.guest.awaitReply(9, 30)).toBe(false);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(30);
  });

  it('refuses a TX ring whose request has not come back', () => {
    const mem = new GuestMemory([{ guestPhysAddr: BASE, bytes: new Uint8Array(0x20000) }]);
    const l = DriverQueue.layout(BASE, SIZE);
    const tx = new DriverQueue({ size: SIZE, descTable: l.descTable, availRing: l.availRing, usedRing: l.usedRing, eventIdx: true, start: 0 });
    tx.init(mem);
    const request = echo(8, ID, 0);
    tx.add(mem, [{ addr: TX_BUF, len: HDR + request.length, writable: false }]);
    expect(
      () =>
        new EchoGuest(
          mem,
          tx,
          tx,
          request,
          () => {},
          () => {},
        ),
    ).toThrow(/taken back/);
  });
});
