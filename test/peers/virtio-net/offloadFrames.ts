import { execFile } from 'node:child_process';
import { ipChecksum, onesComplementSum, parseIpv4Address } from '@vnic/driver';
import { readFd } from '@vnic/sys';

// Frames a guest with checksum and segmentation offload sends (virtio 1.2 §5.1.6.2): the L4
// checksum field holds only the pseudo-header sum (VIRTIO_NET_HDR_F_NEEDS_CSUM), and a GSO frame
// carries up to 64 KiB of payload for the device (here: the kernel behind the tap) to cut.

/** Pseudo-header sum (RFC 793/768), folded, not inverted: what a partial checksum field holds. */
export function pseudoSum(src: string, dst: string, protocol: number, l4Length: number): number {
  const p = new Uint8Array(12);
  p.set(parseIpv4Address(src), 0);
  p.set(parseIpv4Address(dst), 4);
  p[9] = protocol;
  p[10] = l4Length >>> 8;
  p[11] = l4Length & 0xff;
  return onesComplementSum(p);
}

/** True when the TCP/UDP checksum of `l4` (header + data) between `src` and `dst` verifies. */
export function l4ChecksumOk(src: string, dst: string, protocol: number, l4: Uint8Array): boolean {
  return ipChecksum(l4, pseudoSum(src, dst, protocol, l4.length)) === 0;
}

/** Deterministic payload bytes. */
export function pattern(len: number, seed: number): Uint8Array {
  const out = new Uint8Array(len);
  for (let i = 0; i < len; i++) out[i] = (i * 7 + seed + (i >>> 8)) & 0xff;
  return out;
}

interface L3 {
  readonly srcMac: Uint8Array;
  readonly dstMac: Uint8Array;
  readonly src: string;
  readonly dst: string;
}

function ethIpv4(l3: L3, protocol: number, l4Length: number, dontFragment: boolean, id: number): Uint8Array {
  const f = new Uint8Array(14 + 20 + l4Length);
  f.set(l3.dstMac, 0);
  f.set(l3.srcMac, 6);
  f[12] = 0x08;
  f[13] = 0x00;
  const ip = f.subarray(14, 34);
  ip[0] = 0x45;
  const total = 20 + l4Length;
  ip[2] = total >>> 8;
  ip[3] = total & 0xff;
  ip[4] = id >>> 8;
  ip[5] = id & 0xff;
  ip[6] = dontFragment ? 0x40 : 0;
  ip[8] = 64;
  ip[9] = protocol;
  ip.set(parseIpv4Address(l3.src), 12);
  ip.set(parseIpv4Address(l3.dst), 16);
  const c = ipChecksum(ip);
  ip[10] = c >>> 8;
  ip[11] = c & 0xff;
  return f;
}

/** A TCP segment (ACK|PSH, DF set) with `payload`, its checksum left partial (pseudo-header only). */
export function tcpPartialFrame(l3: L3, srcPort: number, dstPort: number, seq: number, payload: Uint8Array): Uint8Array {
  const l4Length = 20 + payload.length;
  const f = ethIpv4(l3, 6, l4Length, true, 0x4321);
  const v = new DataView(f.buffer);
  const t = 34;
  v.setUint16(t, srcPort);
  v.setUint16(t + 2, dstPort);
  v.setUint32(t + 4, seq);
  v.setUint32(t + 8, 1);
  f[t + 12] = 5 << 4;
  f[t + 13] = 0x18; // ACK|PSH
  v.setUint16(t + 14, 65535);
  v.setUint16(t + 16, pseudoSum(l3.src, l3.dst, 6, l4Length));
  f.set(payload, t + 20);
  return f;
}

/** A UDP datagram (DF clear, so it may be fragmented) with `payload`, its checksum left partial. */
export function udpPartialFrame(l3: L3, srcPort: number, dstPort: number, payload: Uint8Array, id = 0x1234): Uint8Array {
  const l4Length = 8 + payload.length;
  const f = ethIpv4(l3, 17, l4Length, false, id);
  const v = new DataView(f.buffer);
  const u = 34;
  v.setUint16(u, srcPort);
  v.setUint16(u + 2, dstPort);
  v.setUint16(u + 4, l4Length);
  v.setUint16(u + 6, pseudoSum(l3.src, l3.dst, 17, l4Length));
  f.set(payload, u + 8);
  return f;
}

/** Reads frames from a non-blocking plain tap fd until `done(frames)` or `timeoutMs`. */
export async function readTapFrames(fd: number, keep: (f: Uint8Array) => boolean, done: (frames: Uint8Array[]) => boolean, timeoutMs = 3000): Promise<Uint8Array[]> {
  const buf = new Uint8Array(65536);
  const frames: Uint8Array[] = [];
  const deadline = Date.now() + timeoutMs;
  while (!done(frames) && Date.now() < deadline) {
    const n = readFd(fd, buf);
    if (n > 0) {
      const f = buf.slice(0, n);
      if (keep(f)) frames.push(f);
      continue;
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  return frames;
}

/** Runs `node -e script args...` inside network namespace `ns`; resolves with its stdout. */
export function nodeInNetns(ns: string, script: string, args: readonly string[] = [], timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('ip', ['netns', 'exec', ns, process.execPath, '-e', script, ...args], { timeout: timeoutMs }, (err, stdout, stderr) => {
      if (err !== null) reject(new Error(`node in ${ns} failed: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}
