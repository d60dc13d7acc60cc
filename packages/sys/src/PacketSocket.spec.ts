import { readlinkSync } from 'node:fs';
import { VnicError } from '@vnic/core';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cleanupAfterEach } from './testing/cleanupAfterEach.ts';
import { readFd } from './fd/readFd.ts';
import { writeFd } from './fd/writeFd.ts';
import { IFF_MULTI_QUEUE, IFF_NO_PI, IFF_PERSIST, IFF_TAP, IFF_VNET_HDR } from './linux/if_tun.ts';
import { PacketSocket } from './PacketSocket.ts';
import { Tap } from './Tap.ts';
import { fdCount } from './testing/fdCount.ts';
import { hostTapPeer } from './testing/hostTapPeer.ts';
import { Netns } from './testing/Netns.ts';
import { uniqueName } from './testing/uniqueName.ts';

const ETHERTYPE = [0x88, 0xb6];

/** A 60-byte frame with a local experimental ethertype and a marker byte. */
function frame(dst: number[], src: number[], marker: number): Uint8Array {
  const f = new Uint8Array(60);
  f.set(dst, 0);
  f.set(src, 6);
  f.set(ETHERTYPE, 12);
  f.fill(marker, 14);
  return f;
}

/** Polls `read` (non-blocking, -1 when empty) until it yields a frame accepted by `want`, or 2 s pass. */
async function next(read: (buf: Uint8Array) => number, want: (f: Uint8Array) => boolean): Promise<Uint8Array | undefined> {
  const buf = new Uint8Array(2048);
  const deadline = Date.now() + 2000;
  while (Date.now() < deadline) {
    const n = read(buf);
    if (n > 0) {
      const f = buf.slice(0, n);
      if (want(f)) return f;
      continue;
    }
    await new Promise((r) => setTimeout(r, 2));
  }
  return undefined;
}

/** The calling thread's network namespace, e.g. `net:[4026531840]`. */
const ownNetns = (): string => readlinkSync('/proc/thread-self/ns/net');

const peer = hostTapPeer();
const cleanups = cleanupAfterEach(afterEach);

describe('PacketSocket argument checks', () => {
  it('rejects bad interface and namespace names before any call', () => {
    expect(() => PacketSocket.open('')).toThrow(VnicError);
    expect(() => PacketSocket.open('a-name-that-is-too-long')).toThrow(/1\.\.15/);
    expect(() => PacketSocket.open('eth0', { netns: '../etc' })).toThrow(/not valid/);
  });
});

describe.skipIf(peer.skip)('PacketSocket and Tap.flags on the host kernel', () => {
  beforeAll(() => {
    if (peer.reason !== undefined) throw new Error(`host kernel tap peer missing: ${peer.reason}`);
  });

  it('Tap.flags reports the TUNSETIFF flags (vnet header, multiqueue, persistence)', () => {
    const tap = Tap.open({ name: uniqueName(), queues: 2 });
    cleanups.push(() => tap.close());
    const f = tap.flags();
    expect(f & (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | IFF_MULTI_QUEUE)).toBe(IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | IFF_MULTI_QUEUE);
    expect(f & IFF_PERSIST).toBe(0);
    tap.setPersistent(true);
    expect(tap.flags() & IFF_PERSIST).toBe(IFF_PERSIST);
    tap.setPersistent(false);
    const plain = Tap.open({ name: uniqueName(), vnetHdr: false });
    cleanups.push(() => plain.close());
    expect(plain.flags() & (IFF_VNET_HDR | IFF_MULTI_QUEUE)).toBe(0);
  });

  it('is the kernel side of a tap moved into another namespace: send reaches the tap fd, tap writes reach recv', async () => {
    const ns = Netns.create();
    cleanups.push(() => ns.delete());
    const tap = Tap.open({ name: uniqueName(), vnetHdr: false, nonBlocking: true });
    cleanups.push(() => tap.close());
    ns.adopt(tap.name);
    ns.exec('sysctl', '-qw', `net.ipv6.conf.${tap.name}.disable_ipv6=1`);
    ns.ip('link', 'set', tap.name, 'up');
    const fdsBefore = fdCount.fds();
    const home = ownNetns();
    const sock = PacketSocket.open(tap.name, { netns: ns.name });
    cleanups.push(() => sock.close());
    expect(ownNetns()).toBe(home);
    expect(sock.ifindex).toBeGreaterThan(0);
    expect(fdCount.fds()).toBe(fdsBefore + 1); // the namespace fds were closed again

    const guest = [0x02, 0, 0, 0, 0, 0x11];
    const outside = [0x02, 0, 0, 0, 0, 0x22];
    expect(sock.send(frame(guest, outside, 0xa1))).toBe(true);
    const got = await next(
      (b) => readFd(tap.fds[0]!, b),
      (f) => f[12] === 0x88 && f[13] === 0xb6,
    );
    expect(got?.[14]).toBe(0xa1);

    expect(writeFd(tap.fds[0]!, frame(outside, guest, 0xb2))).toBe(60);
    const back = await next(
      (b) => sock.recv(b),
      (f) => f[12] === 0x88 && f[13] === 0xb6,
    );
    expect(back?.[14]).toBe(0xb2);
    expect([...back!.subarray(0, 6)]).toEqual(outside);

    sock.close();
    sock.close();
    expect(() => sock.fd).toThrow(/closed/);
    expect(fdCount.fds()).toBe(fdsBefore);
  });

  it('names the namespace or the interface that does not exist', () => {
    expect(() => PacketSocket.open('lo', { netns: uniqueName('vnnone') })).toThrow(/network namespace vnnone[0-9a-f]+ not found/);
    const ns = Netns.create();
    cleanups.push(() => ns.delete());
    expect(() => PacketSocket.open('vnnope0', { netns: ns.name })).toThrow(/no interface vnnope0 in network namespace/);
    // The thread is back in its own namespace: interfaces of this namespace resolve again.
    expect(ownNetns()).toBe(readlinkSync('/proc/self/ns/net'));
    const lo = PacketSocket.open('lo');
    cleanups.push(() => lo.close());
    expect(lo.ifindex).toBe(1);
  });
});
