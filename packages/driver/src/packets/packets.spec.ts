import { hexBytes as hex } from '@vnic/core/testing';
import { describe, expect, it } from 'vitest';
import { finishRxChecksum } from '../finishRxChecksum.ts';
import { buildArp } from './buildArp.ts';
import { buildEthernet } from './buildEthernet.ts';
import { buildIcmpEcho } from './buildIcmpEcho.ts';
import { buildIpv4 } from './buildIpv4.ts';
import { buildUdp } from './buildUdp.ts';
import { formatMac } from './formatMac.ts';
import { ipChecksum } from './ipChecksum.ts';
import { onesComplementSum } from './onesComplementSum.ts';
import { parseArp } from './parseArp.ts';
import { parseEthernet } from './parseEthernet.ts';
import { parseIcmpEcho } from './parseIcmpEcho.ts';
import { parseIpv4 } from './parseIpv4.ts';
import { parseIpv4Address } from './parseIpv4Address.ts';
import { parseMacAddress } from './parseMacAddress.ts';
import { parseUdp } from './parseUdp.ts';

// Every expected byte string below was worked out by hand from the RFC layouts (sums shown in the
// comments), never produced by the builders under test.
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('Internet checksum (RFC 1071)', () => {
  it('matches the worked example of RFC 1071 §3', () => {
    // 0001 + f203 + f4f5 + f6f7 = 2ddf0 -> fold: ddf0 + 2 = ddf2; checksum = ~ddf2 = 220d
    const bytes = hex('0001 f203 f4f5 f6f7');
    expect(onesComplementSum(bytes)).toBe(0xddf2);
    expect(ipChecksum(bytes)).toBe(0x220d);
  });

  it('pads an odd trailing byte with zero and folds carries', () => {
    expect(onesComplementSum(hex('01'))).toBe(0x0100);
    expect(onesComplementSum(hex('ffff 0001'))).toBe(0x0001); // 10000 -> 0000 + 1
    expect(onesComplementSum(hex('0001'), 0xffff)).toBe(0x0001);
  });

  it('is 0 over data that carries its own correct checksum', () => {
    expect(ipChecksum(hex('0001 f203 f4f5 f6f7 220d'))).toBe(0);
  });
});

describe('IPv4 (RFC 791)', () => {
  // The classic header: 192.168.0.1 -> 192.168.0.199, total length 0x73, DF, TTL 64, UDP.
  // 4500+0073+0000+4000+4011+c0a8+0001+c0a8+00c7 = 2479c -> 479e; ~479e = b861
  const header = hex('4500 0073 0000 4000 4011 b861 c0a8 0001 c0a8 00c7');
  const datagram = new Uint8Array(0x73);
  datagram.set(header);
  datagram.fill(0xab, 20);

  it('builds the header with its checksum', () => {
    const built = buildIpv4({ src: '192.168.0.1', dst: '192.168.0.199', protocol: 17, payload: datagram.subarray(20), id: 0, ttl: 64 });
    expect(toHex(built.subarray(0, 20))).toBe(toHex(header));
    expect(toHex(built.subarray(20))).toBe(toHex(datagram.subarray(20)));
  });

  it('parses it and trims Ethernet padding after Total Length', () => {
    const padded = new Uint8Array(0x73 + 9);
    padded.set(datagram);
    const ip = parseIpv4(padded)!;
    expect(ip).toMatchObject({
      src: '192.168.0.1',
      dst: '192.168.0.199',
      protocol: 17,
      ttl: 64,
      id: 0,
      dontFragment: true,
      moreFragments: false,
      fragmentOffset: 0,
    });
    expect(ip.payload.length).toBe(0x73 - 20);
  });

  it('rejects a bad checksum, a Total Length past the data, another version, a short IHL', () => {
    const bad = datagram.slice();
    bad[11] = 0x62;
    expect(parseIpv4(bad)).toBeUndefined();
    expect(parseIpv4(datagram.subarray(0, 0x72))).toBeUndefined();
    const v6 = datagram.slice();
    v6[0] = 0x65;
    expect(parseIpv4(v6)).toBeUndefined();
    expect(parseIpv4(hex('4400 0014 0000 4000 4011 0000 c0a8 0001 c0a8 00c7'))).toBeUndefined();
  });

  it('reports fragments', () => {
    // MF set, offset 0x0b9: 4500+0014+0000+20b9+4011+c0a8+0001+c0a8+00c7 = 227f6 -> 27f8; ~27f8 = d807
    const frag = hex('4500 0014 0000 20b9 4011 d807 c0a8 0001 c0a8 00c7');
    expect(parseIpv4(frag)).toMatchObject({ moreFragments: true, fragmentOffset: 0xb9, dontFragment: false });
  });
});

describe('ARP (RFC 826)', () => {
  // htype 1, ptype 0800, hlen 6, plen 4, op 1; sha 52:54:00:12:34:56, spa 10.0.0.2, tha 0, tpa 10.0.0.1
  const request = hex('0001 0800 06 04 0001 525400123456 0a000002 000000000000 0a000001');

  it('builds a request', () => {
    const built = buildArp({
      op: 1,
      senderMac: parseMacAddress('52:54:00:12:34:56'),
      senderIp: '10.0.0.2',
      targetMac: new Uint8Array(6),
      targetIp: '10.0.0.1',
    });
    expect(toHex(built)).toBe(toHex(request));
  });

  it('parses a reply', () => {
    const reply = hex('0001 0800 06 04 0002 02aabbccddee 0a000001 525400123456 0a000002');
    const arp = parseArp(reply)!;
    expect(arp.op).toBe(2);
    expect(formatMac(arp.senderMac)).toBe('02:aa:bb:cc:dd:ee');
    expect(arp.senderIp).toBe('10.0.0.1');
    expect(formatMac(arp.targetMac)).toBe('52:54:00:12:34:56');
    expect(arp.targetIp).toBe('10.0.0.2');
  });

  it('rejects other hardware or protocol types, lengths and ops', () => {
    expect(parseArp(hex('0006 0800 06 04 0001 525400123456 0a000002 000000000000 0a000001'))).toBeUndefined();
    expect(parseArp(hex('0001 86dd 06 04 0001 525400123456 0a000002 000000000000 0a000001'))).toBeUndefined();
    expect(parseArp(hex('0001 0800 06 04 0003 525400123456 0a000002 000000000000 0a000001'))).toBeUndefined();
    expect(parseArp(request.subarray(0, 27))).toBeUndefined();
  });
});

describe('Ethernet II', () => {
  it('builds the header and pads to 60 bytes', () => {
    const f = buildEthernet({ dst: hex('ffffffffffff'), src: hex('525400123456'), etherType: 0x0806, payload: hex('0102') });
    expect(f.length).toBe(60);
    expect(toHex(f.subarray(0, 16))).toBe('ffffffffffff5254001234560806' + '0102');
    expect(f.subarray(16).every((b) => b === 0)).toBe(true);
  });

  it('parses the header; a frame shorter than 14 bytes is not one', () => {
    const e = parseEthernet(hex('525400123456 02aabbccddee 0800 4500'))!;
    expect(formatMac(e.dst)).toBe('52:54:00:12:34:56');
    expect(formatMac(e.src)).toBe('02:aa:bb:cc:dd:ee');
    expect(e.etherType).toBe(0x0800);
    expect(toHex(e.payload)).toBe('4500');
    expect(parseEthernet(new Uint8Array(13))).toBeUndefined();
  });
});

describe('ICMP echo (RFC 792)', () => {
  // type 8 code 0, id 1234, seq 0001, data "ab": 0800+1234+0001+6162 = 7b97; ~7b97 = 8468
  const request = hex('0800 8468 1234 0001 6162');

  it('builds a request', () => {
    expect(toHex(buildIcmpEcho({ type: 8, id: 0x1234, seq: 1, data: hex('6162') }))).toBe(toHex(request));
  });

  it('parses request and reply, rejecting bad checksums and other types', () => {
    expect(parseIcmpEcho(request)).toMatchObject({ type: 8, id: 0x1234, seq: 1 });
    // reply: 0000+1234+0001+6162 = 7397; ~7397 = 8c68
    expect(parseIcmpEcho(hex('0000 8c68 1234 0001 6162'))).toMatchObject({ type: 0, id: 0x1234, seq: 1 });
    expect(parseIcmpEcho(hex('0000 8468 1234 0001 6162'))).toBeUndefined();
    // destination unreachable (type 3): 0303+0000+0000... not an echo
    expect(parseIcmpEcho(hex('0303 fcfc 0000 0000'))).toBeUndefined();
  });
});

describe('UDP (RFC 768)', () => {
  // 10.0.0.1:1234 -> 10.0.0.2:5678, data "hi". Pseudo header 0a00+0001+0a00+0002+0011+000a = 141e;
  // + 04d2+162e+000a+6869 = 9791; ~9791 = 686e
  const dgram = hex('04d2 162e 000a 686e 6869');

  it('builds with the pseudo-header checksum', () => {
    expect(toHex(buildUdp({ srcPort: 1234, dstPort: 5678, payload: hex('6869') }, '10.0.0.1', '10.0.0.2'))).toBe(toHex(dgram));
  });

  it('sends a computed checksum of 0 as ffff', () => {
    // everything but the data sums to 2f28; data d0d7 makes it ffff, whose complement is 0
    expect(toHex(buildUdp({ srcPort: 1234, dstPort: 5678, payload: hex('d0d7') }, '10.0.0.1', '10.0.0.2'))).toBe('04d2162e000affffd0d7');
  });

  it('parses, accepting checksum 0 (none) and rejecting bad ones', () => {
    expect(parseUdp(dgram, '10.0.0.1', '10.0.0.2')).toMatchObject({ srcPort: 1234, dstPort: 5678, payload: hex('6869') });
    expect(parseUdp(hex('04d2 162e 000a 0000 6869'), '10.0.0.1', '10.0.0.2')).toBeDefined();
    expect(parseUdp(hex('04d2 162e 000a 686e 6868'), '10.0.0.1', '10.0.0.2')).toBeUndefined();
    expect(parseUdp(dgram, '10.0.0.1', '10.0.0.3')).toBeUndefined();
    expect(parseUdp(hex('04d2 162e 000c 686e 6869'), '10.0.0.1', '10.0.0.2')).toBeUndefined();
    expect(parseUdp(hex('04d2162e00ffffd0d7'), '10.0.0.1', '10.0.0.2')).toBeUndefined();
  });
});

describe('finishRxChecksum (VIRTIO_NET_HDR_F_NEEDS_CSUM)', () => {
  it('completes a partial UDP checksum left as the pseudo-header sum', () => {
    // Ethernet (14) + IPv4 (20) + the UDP datagram above with the field holding 141e (pseudo sum).
    const frame = new Uint8Array(14 + 20 + 10);
    frame.set(hex('04d2 162e 000a 141e 6869'), 34);
    expect(finishRxChecksum(frame, { flags: 1, csumStart: 34, csumOffset: 6 })).toBe(true);
    expect(toHex(frame.subarray(34))).toBe(toHex(dgram()));
    function dgram(): Uint8Array {
      return hex('04d2 162e 000a 686e 6869');
    }
  });

  it('leaves frames without NEEDS_CSUM alone and refuses offsets past the frame', () => {
    const frame = hex('04d2 162e 000a 141e 6869');
    expect(finishRxChecksum(frame, { flags: 2, csumStart: 0, csumOffset: 6 })).toBe(true);
    expect(toHex(frame)).toBe('04d2162e000a141e6869');
    expect(finishRxChecksum(frame, { flags: 1, csumStart: 4, csumOffset: 6 })).toBe(false);
  });
});

describe('address parsing', () => {
  it('parses and rejects IPv4 and MAC strings', () => {
    expect([...parseIpv4Address('10.201.7.1')]).toEqual([10, 201, 7, 1]);
    for (const bad of ['10.201.7', '10.201.7.256', '10.1.2.3.4', '01.2.3.4', 'a.b.c.d']) expect(() => parseIpv4Address(bad)).toThrow(/not an IPv4 address/);
    expect(formatMac(parseMacAddress('52:54:00:AB:cd:01'))).toBe('52:54:00:ab:cd:01');
    expect(() => parseMacAddress('52:54:00:ab:cd')).toThrow(/not a MAC address/);
  });
});
