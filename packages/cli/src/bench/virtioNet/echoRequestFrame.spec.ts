import { describe, expect, it } from 'vitest';
import { echoRequestFrame } from './echoRequestFrame.ts';
import { isEchoReply } from './isEchoReply.ts';

const path = {
  guestMac: Uint8Array.of(0x52, 0x54, 0, 0xbe, 0, 1),
  guestIp: '10.77.1.2',
  nsMac: Uint8Array.of(0x02, 0, 0, 0xbe, 0, 9),
  nsIp: '10.77.1.1',
};

/** RFC 1071: the ones' complement sum over a block holding its own checksum is 0xffff. */
function sumsToOnes(b: Uint8Array): boolean {
  let s = 0;
  for (let i = 0; i < b.length; i += 2) s += (b[i]! << 8) | (b[i + 1] ?? 0);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s === 0xffff;
}

describe('echoRequestFrame / isEchoReply', () => {
  it('builds a 64-byte ICMP echo request from the guest to the namespace with valid checksums', () => {
    const f = echoRequestFrame(path, 0x1234);
    expect(f.length).toBe(64);
    expect([...f.subarray(0, 6)]).toEqual([...path.nsMac]);
    expect([...f.subarray(6, 12)]).toEqual([...path.guestMac]);
    expect([f[12], f[13]]).toEqual([0x08, 0x00]);
    const ip = f.subarray(14, 34);
    expect(ip[9]).toBe(1); // ICMP
    expect([...ip.subarray(12, 16)]).toEqual([10, 77, 1, 2]);
    expect([...ip.subarray(16, 20)]).toEqual([10, 77, 1, 1]);
    expect(sumsToOnes(ip)).toBe(true);
    const icmp = f.subarray(34);
    expect(icmp[0]).toBe(8);
    expect((icmp[6]! << 8) | icmp[7]!).toBe(0x1234);
    expect(sumsToOnes(icmp)).toBe(true);
  });

  it('accepts the reply the kernel would send (addresses swapped, type 0, checksum fixed) to that sequence only', () => {
    const reply = echoRequestFrame({ guestMac: path.nsMac, guestIp: path.nsIp, nsMac: path.guestMac, nsIp: path.guestIp }, 7);
    expect(isEchoReply(reply, 7)).toBe(false); // still a request (type 8)
    const icmp = reply.subarray(34);
    // type 8 -> 0: the checksum grows by 0x0800 (RFC 1624 incremental update).
    icmp[0] = 0;
    let c = ((icmp[2]! << 8) | icmp[3]!) + 0x0800;
    c = (c & 0xffff) + (c >>> 16);
    icmp[2] = c >>> 8;
    icmp[3] = c & 0xff;
    expect(sumsToOnes(icmp)).toBe(true);
    expect(isEchoReply(reply, 7)).toBe(true);
    expect(isEchoReply(reply, 8)).toBe(false);
    icmp[10] = icmp[10]! ^ 1; // a corrupted payload fails the checksum
    expect(isEchoReply(reply, 7)).toBe(false);
  });
});
