import { hexBytes as hex } from '@vnic/core/testing';
import { describe, expect, it } from 'vitest';
import type { FramePort } from './FramePort.ts';
import { GuestNetStack } from './GuestNetStack.ts';

// Frames are written out byte by byte (RFC 826 / 791 / 792 / 768 layouts, checksums by hand in
// the comments) so the stack is checked against the wire format, not against its own builders.
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const pad60 = (b: Uint8Array): Uint8Array => {
  const out = new Uint8Array(Math.max(60, b.length));
  out.set(b);
  return out;
};

const ME = '525400123456';
const PEER = '02aabbccddee';
// 10.0.0.2 (us) and 10.0.0.1 (the peer)

/** An in-memory wire: `inbox` is what the stack will receive; `sent` what it sent; `onSend` plays the peer. */
class FakePort implements FramePort {
  readonly sent: Uint8Array[] = [];
  readonly inbox: Uint8Array[] = [];
  onSend: ((frame: Uint8Array) => void) | undefined;
  send(frame: Uint8Array): boolean {
    this.sent.push(frame);
    this.onSend?.(frame);
    return true;
  }
  async receive(timeoutMs: number): Promise<Uint8Array | undefined> {
    if (this.inbox.length === 0) await new Promise((r) => setTimeout(r, Math.min(timeoutMs, 2)));
    return this.inbox.shift();
  }
}

const stackOn = (port: FakePort): GuestNetStack => new GuestNetStack(port, { mac: '52:54:00:12:34:56', ip: '10.0.0.2' });
// ARP request from the peer: who has 10.0.0.2? tell 10.0.0.1
const arpWhoHasUs = pad60(hex(`ffffffffffff ${PEER} 0806 0001 0800 06 04 0001 ${PEER} 0a000001 000000000000 0a000002`));
const arpWhoHasOther = pad60(hex(`ffffffffffff ${PEER} 0806 0001 0800 06 04 0001 ${PEER} 0a000001 000000000000 0a000009`));
// ARP reply from the peer: 10.0.0.1 is at 02:aa:bb:cc:dd:ee
const arpReplyFromPeer = pad60(hex(`${ME} ${PEER} 0806 0001 0800 06 04 0002 ${PEER} 0a000001 ${ME} 0a000002`));
// ICMP echo request 10.0.0.1 -> 10.0.0.2, id 1234 seq 0001 data "ab" (ICMP checksum 8468).
// IP header sum: 4500+001e+0007+0000+4001+0a00+0001+0a00+0002 = 9929; ~9929 = 66d6
const echoRequest = pad60(hex(`${ME} ${PEER} 0800 4500 001e 0007 0000 4001 66d6 0a000001 0a000002 0800 8468 1234 0001 6162`));
// UDP 10.0.0.1:1234 -> 10.0.0.2:5678 "hi" (UDP checksum 686e, see packets.spec.ts).
function udpFromPeer(dstPort = '162e', csum = '686e'): Uint8Array {
  // IP header sum: 4500+001e+0008+0000+4011+0a00+0001+0a00+0002 = 993a; ~993a = 66c5
  return pad60(hex(`${ME} ${PEER} 0800 4500 001e 0008 0000 4011 66c5 0a000001 0a000002 04d2 ${dstPort} 000a ${csum} 6869`));
}

describe('GuestNetStack', () => {
  it('answers an ARP request for its IP with a reply to the asker', async () => {
    const port = new FakePort();
    const stack = stackOn(port);
    port.inbox.push(arpWhoHasUs);
    await stack.serve(30);
    expect(port.sent).toHaveLength(1);
    expect(toHex(port.sent[0]!)).toBe(toHex(pad60(hex(`${PEER} ${ME} 0806 0001 0800 06 04 0002 ${ME} 0a000002 ${PEER} 0a000001`))));
    expect(stack.counters).toMatchObject({ framesIn: 1, framesOut: 1, arpAnswered: 1 });
    expect(toHex(stack.cachedMac('10.0.0.1')!)).toBe(PEER); // learned from the request
  });

  it('ignores ARP for other IPs, frames for other MACs, IPv6 and unknown EtherTypes', async () => {
    const port = new FakePort();
    const stack = stackOn(port);
    port.inbox.push(
      arpWhoHasOther,
      pad60(hex(`02000000aaaa ${PEER} 0800 4500`)), // another unicast MAC
      pad60(hex(`333300000016 ${PEER} 86dd 6000`)), // IPv6 multicast (MLD)
      pad60(hex(`ffffffffffff ${PEER} 88b5 0000`)), // local experimental EtherType
    );
    await stack.serve(40);
    expect(port.sent).toHaveLength(0);
    expect(stack.counters).toMatchObject({ framesIn: 4, ignored: 4, malformed: 0 });
  });

  it('answers an ICMP echo request with a reply carrying the same id, seq and data', async () => {
    const port = new FakePort();
    const stack = stackOn(port);
    port.inbox.push(echoRequest);
    await stack.serve(30);
    expect(port.sent).toHaveLength(1);
    const reply = port.sent[0]!;
    expect(toHex(reply.subarray(0, 14))).toBe(`${PEER}${ME}0800`);
    // IP: 10.0.0.2 -> 10.0.0.1, ICMP, total 30; ICMP type 0, checksum 8c68 (0000+1234+0001+6162 = 7397, ~ = 8c68)
    expect(toHex(reply.subarray(14 + 9, 14 + 10))).toBe('01');
    expect(toHex(reply.subarray(14 + 12, 14 + 20))).toBe('0a0000020a000001');
    expect(toHex(reply.subarray(34, 44))).toBe('00008c68123400016162');
    expect(stack.counters.echoAnswered).toBe(1);
  });

  it('resolves a peer, and times out with a clear error when nobody answers', async () => {
    const port = new FakePort();
    const stack = stackOn(port);
    port.onSend = (f) => {
      // the peer answers requests for 10.0.0.1 only
      if (toHex(f.subarray(12, 14)) === '0806' && toHex(f.subarray(38, 42)) === '0a000001') port.inbox.push(arpReplyFromPeer);
    };
    expect(toHex(await stack.resolve('10.0.0.1', 500))).toBe(PEER);
    // The request as sent: broadcast, who has 10.0.0.1 tell 10.0.0.2
    expect(toHex(port.sent[0]!.subarray(0, 42))).toBe(`ffffffffffff${ME}08060001080006040001${ME}0a0000020000000000000a000001`);
    await expect(stack.resolve('10.0.0.9', 300)).rejects.toThrow(/no ARP reply from 10\.0\.0\.9 within 300 ms/);
    // it asked more than once while waiting
    expect(port.sent.filter((f) => toHex(f.subarray(38, 42)) === '0a000009').length).toBeGreaterThanOrEqual(2);
  });

  it('pings: the reply must match id, seq and data', async () => {
    const port = new FakePort();
    const stack = stackOn(port);
    port.inbox.push(arpWhoHasUs); // the peer's request teaches us its MAC too
    await stack.serve(20);
    // 'corrupt': only a reply whose data differs; 'both': that one first, then the right one.
    let answer: 'corrupt' | 'both' = 'corrupt';
    port.onSend = (f) => {
      if (toHex(f.subarray(12, 14)) !== '0800' || f[23] !== 1 || f[34] !== 8) return;
      // Echo it back by hand: swap MACs and IPs, type 0, checksum adjusted (+0800 in the sum -> -0800 in the field)
      const r = f.slice();
      r.set(f.subarray(6, 12), 0);
      r.set(f.subarray(0, 6), 6);
      r.set(f.subarray(30, 34), 26);
      r.set(f.subarray(26, 30), 30);
      r[34] = 0;
      const c = ((f[36]! << 8) | f[37]!) + 0x0800;
      const folded = (c & 0xffff) + (c >>> 16);
      r[36] = folded >>> 8;
      r[37] = folded & 0xff;
      const bad = r.slice();
      bad[42] = bad[42]! ^ 0xff; // data differs: not our reply (the checksum fails too)
      port.inbox.push(bad);
      if (answer === 'both') port.inbox.push(r);
    };
    // A reply with the wrong data is no reply: the ping times out.
    await expect(stack.ping('10.0.0.1', 6, 16, 150)).rejects.toThrow(/no echo reply from 10\.0\.0\.1 \(seq 6\) within 150 ms/);
    answer = 'both';
    const rtt = await stack.ping('10.0.0.1', 7, 16, 2000);
    expect(Number.isFinite(rtt)).toBe(true);
    expect(rtt).toBeGreaterThan(0);
    port.onSend = undefined;
    await expect(stack.ping('10.0.0.1', 8, 16, 100)).rejects.toThrow(/no echo reply from 10\.0\.0\.1 \(seq 8\) within 100 ms/);
  });

  it('queues UDP for listened ports only, drops past the limit, rejects bad checksums', async () => {
    const port = new FakePort();
    const stack = new GuestNetStack(port, { mac: hex(ME), ip: '10.0.0.2', udpQueueLimit: 2 });
    stack.listenUdp(5678);
    port.inbox.push(udpFromPeer(), udpFromPeer('1111', '0000'), udpFromPeer(), udpFromPeer(), udpFromPeer('162e', '686f'));
    await stack.serve(50);
    expect(stack.counters).toMatchObject({ udpIn: 2, udpDropped: 1, ignored: 1, malformed: 1 });
    const d = await stack.receiveUdp(5678, 10);
    expect(d).toEqual({ srcIp: '10.0.0.1', srcPort: 1234, dstPort: 5678, payload: hex('6869') });
    expect(await stack.receiveUdp(5678, 10)).toBeDefined();
    expect(await stack.receiveUdp(5678, 20)).toBeUndefined();
  });

  it('sends UDP to a resolved peer with the right headers', async () => {
    const port = new FakePort();
    const stack = stackOn(port);
    port.inbox.push(arpReplyFromPeer); // a reply for our IP teaches us the peer's MAC
    await stack.serve(20);
    expect(await stack.sendUdp('10.0.0.1', 1234, 5678, hex('6869'))).toBe(true);
    const f = port.sent.at(-1)!;
    expect(toHex(f.subarray(0, 14))).toBe(`${PEER}${ME}0800`);
    // UDP 10.0.0.2:5678 -> 10.0.0.1:1234 "hi": pseudo 0a00+0002+0a00+0001+0011+000a = 141e; +162e+04d2+000a+6869 = 9791; ~ = 686e
    expect(toHex(f.subarray(34, 44))).toBe('162e04d2000a686e6869');
  });

  it('serves concurrent waiters from one receive loop', async () => {
    const port = new FakePort();
    const stack = stackOn(port);
    const a = stack.receiveUdp(5678, 300);
    const b = stack.receiveUdp(0x1111, 300);
    port.inbox.push(udpFromPeer('1111', '0000'), udpFromPeer());
    const [da, db] = await Promise.all([a, b]);
    expect(da?.dstPort).toBe(5678);
    expect(db?.dstPort).toBe(0x1111);
  });
});
