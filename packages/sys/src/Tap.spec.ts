import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { VnicError } from '@vnic/core';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cleanupAfterEach } from './testing/cleanupAfterEach.ts';
import { Epoll } from './Epoll.ts';
import { dupFd } from './fd/dupFd.ts';
import { IoVecArray } from './fd/IoVecArray.ts';
import { readFd } from './fd/readFd.ts';
import { writeFd } from './fd/writeFd.ts';
import { writevFd } from './fd/writevFd.ts';
import { EPOLLIN } from './linux/eventpoll.ts';
import { IFF_MULTI_QUEUE, IFF_NO_PI, IFF_TAP, IFF_VNET_HDR, TUN_F_CSUM, TUN_F_TSO4, TUN_F_TSO6, TUN_F_USO4, TUN_F_USO6 } from './linux/if_tun.ts';
import { MemfdGuestMemory } from './memory/MemfdGuestMemory.ts';
import { PacketSocket } from './PacketSocket.ts';
import { SysError } from './SysError.ts';
import { Tap } from './Tap.ts';
import { hostTapPeer } from './testing/hostTapPeer.ts';
import { Netns } from './testing/Netns.ts';
import { uniqueName } from './testing/uniqueName.ts';

const VNET_HDR_LEN = 12;
const OUR_MAC = [0x02, 0x00, 0x00, 0x76, 0x6e, 0x01];
const NS_IP = '10.77.0.1';
const OUR_IP = '10.77.0.2';

const sysfs = (name: string, attr: string): string => readFileSync(`/sys/class/net/${name}/${attr}`, 'utf8').trim();
const ip4 = (s: string): number[] => s.split('.').map(Number);
const mac = (s: string): number[] => s.split(':').map((h) => parseInt(h, 16));

/** Ethernet + ARP request (who-has `targetIp` tell `senderIp`), padded to 60 bytes. */
function arpRequest(senderIp: string, targetIp: string): Uint8Array {
  return Uint8Array.from([
    ...[0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
    ...OUR_MAC,
    0x08,
    0x06, // ETH_P_ARP
    0x00,
    0x01,
    0x08,
    0x00,
    6,
    4,
    0x00,
    0x01, // Ethernet/IPv4, op request
    ...OUR_MAC,
    ...ip4(senderIp),
    ...[0, 0, 0, 0, 0, 0],
    ...ip4(targetIp),
    ...new Array<number>(18).fill(0),
  ]);
}

/** An ARP reply in a received frame (after the vnet header), or undefined. */
function parseArpReply(frame: Uint8Array): { senderMac: number[]; senderIp: string; targetMac: number[]; targetIp: string; dstMac: number[] } | undefined {
  if (frame.length < 42 || frame[12] !== 0x08 || frame[13] !== 0x06 || frame[21] !== 2) return undefined;
  return {
    dstMac: [...frame.subarray(0, 6)],
    senderMac: [...frame.subarray(22, 28)],
    senderIp: [...frame.subarray(28, 32)].join('.'),
    targetMac: [...frame.subarray(32, 38)],
    targetIp: [...frame.subarray(38, 42)].join('.'),
  };
}

function onesComplementSum(bytes: readonly number[], initial = 0): number {
  let sum = initial;
  for (let i = 0; i < bytes.length; i += 2) sum += (bytes[i]! << 8) | (bytes[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

/**
 * virtio_net_hdr (12 bytes) + Ethernet + IPv4 + UDP. With `partialCsum`, the header says
 * VIRTIO_NET_HDR_F_NEEDS_CSUM and the UDP checksum field holds only the pseudo-header sum
 * (as a guest with checksum offload sends it): the kernel must honour the header to accept it.
 */
function udpFrame(dstMac: number[], srcPort: number, dstPort: number, payload: Uint8Array, partialCsum: boolean): Uint8Array {
  const udpLen = 8 + payload.length;
  const ipHdr = [0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, 17, 0, 0, ...ip4(OUR_IP), ...ip4(NS_IP)];
  const total = 20 + udpLen;
  ipHdr[2] = total >> 8;
  ipHdr[3] = total & 0xff;
  const ipCsum = ~onesComplementSum(ipHdr) & 0xffff;
  ipHdr[10] = ipCsum >> 8;
  ipHdr[11] = ipCsum & 0xff;
  const udp = [srcPort >> 8, srcPort & 0xff, dstPort >> 8, dstPort & 0xff, udpLen >> 8, udpLen & 0xff, 0, 0, ...payload];
  const pseudo = onesComplementSum([...ip4(OUR_IP), ...ip4(NS_IP), 0, 17, udpLen >> 8, udpLen & 0xff]);
  const csum = partialCsum ? pseudo : ~onesComplementSum(udp, pseudo) & 0xffff || 0xffff;
  udp[6] = csum >> 8;
  udp[7] = csum & 0xff;
  const hdr = new Uint8Array(VNET_HDR_LEN);
  if (partialCsum) {
    const v = new DataView(hdr.buffer);
    v.setUint8(0, 1); // flags: VIRTIO_NET_HDR_F_NEEDS_CSUM
    v.setUint16(6, 14 + 20, true); // csum_start: the UDP header
    v.setUint16(8, 6, true); // csum_offset: the UDP checksum field
  }
  return Uint8Array.from([...hdr, ...dstMac, ...OUR_MAC, 0x08, 0x00, ...ipHdr, ...udp]);
}

/** Reads frames from the tap queue fds registered in `ep` (data = queue index) until `done` or the deadline. */
function drain(ep: Epoll, fds: readonly number[], onFrame: (frame: Uint8Array, queue: number) => void, done: () => boolean, timeoutMs = 3000): void {
  const buf = new Uint8Array(65536);
  const deadline = performance.now() + timeoutMs;
  while (!done() && performance.now() < deadline) {
    for (const ev of ep.wait(8, 50)) {
      for (let n = readFd(fds[ev.data]!, buf); n > 0; n = readFd(fds[ev.data]!, buf)) onFrame(buf.slice(0, n), ev.data);
    }
  }
}

const peer = hostTapPeer();
const cleanups = cleanupAfterEach(afterEach);
/** Closes `tap` after the test (and deletes its interface if it was left persistent). */
function track(tap: Tap): Tap {
  cleanups.push(() => {
    tap.close();
    if (existsSync(`/sys/class/net/${tap.name}`)) execFileSync('ip', ['link', 'del', tap.name], { stdio: 'pipe' });
  });
  return tap;
}

describe.skipIf(peer.skip)('Tap on the host kernel', () => {
  beforeAll(() => {
    if (peer.reason !== undefined) throw new Error(`host kernel tap peer missing: ${peer.reason}`);
  });

  it('creates a multiqueue vnet-hdr tap: features, ifindex, vnet header size, offloads, MTU, link up', () => {
    const name = uniqueName();
    const tap = track(Tap.open({ name, queues: 2 }));
    expect(tap.name).toBe(name);
    expect(tap.fds).toHaveLength(2);
    expect(existsSync(`/sys/class/net/${name}`)).toBe(true);
    const required = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | IFF_MULTI_QUEUE;
    expect(tap.features() & required).toBe(required);
    expect(tap.ifindex()).toBe(Number(sysfs(name, 'ifindex')));

    tap.setVnetHdrSize(VNET_HDR_LEN);
    tap.setOffload(TUN_F_CSUM | TUN_F_TSO4);
    const accepted = tap.probeOffloads();
    expect(accepted & (TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6)).toBe(TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6);
    if ((accepted & TUN_F_USO4) !== 0) expect(accepted & TUN_F_USO6).toBe(TUN_F_USO6);
    tap.setOffload(accepted); // everything the probe reported is accepted as a whole

    tap.setMtu(1400);
    expect(tap.mtu()).toBe(1400);
    expect(sysfs(name, 'mtu')).toBe('1400');
    tap.setMtu(9000);
    expect(tap.mtu()).toBe(9000);

    expect(tap.isUp()).toBe(false);
    tap.setUp(true);
    expect(tap.isUp()).toBe(true);
    expect(Number(sysfs(name, 'flags')) & 1).toBe(1);
    tap.setUp(false);
    expect(Number(sysfs(name, 'flags')) & 1).toBe(0);

    tap.close();
    tap.close();
    expect(existsSync(`/sys/class/net/${name}`)).toBe(false);
    expect(() => tap.fds).toThrow(/closed/);
  });

  it('lets the kernel pick the name from a template and reads it back', () => {
    const prefix = uniqueName('vt', 6);
    const tap = track(Tap.open({ name: `${prefix}%d`, vnetHdr: false }));
    expect(tap.name).toMatch(new RegExp(`^${prefix}\\d+$`));
    expect(existsSync(`/sys/class/net/${tap.name}`)).toBe(true);
    expect(tap.features() & IFF_TAP).toBe(IFF_TAP);
  });

  it('attaches to an existing persistent tap by name; flags must match; a single-queue tap takes one fd', () => {
    const name = uniqueName();
    const creator = track(Tap.open({ name }));
    const ifindex = creator.ifindex();
    creator.setPersistent(true);
    creator.close();
    expect(existsSync(`/sys/class/net/${name}`)).toBe(true);

    const attached = track(Tap.open({ name }));
    expect(attached.ifindex()).toBe(ifindex);
    expect(() => Tap.open({ name })).toThrow(expect.objectContaining({ request: 'TUNSETIFF', code: 'EBUSY', target: name }));
    attached.close();
    expect(() => Tap.open({ name, multiQueue: true })).toThrow(expect.objectContaining({ request: 'TUNSETIFF', code: 'EINVAL' }));

    const last = track(Tap.open({ name }));
    last.setPersistent(false);
    last.close();
    expect(existsSync(`/sys/class/net/${name}`)).toBe(false);
  });

  it('fromFds takes VMM-provided fds and reads the name back with TUNGETIFF', () => {
    const tap = track(Tap.open({ name: uniqueName(), queues: 2 }));
    const wrapped = Tap.fromFds(tap.fds.map(dupFd));
    try {
      expect(wrapped.name).toBe(tap.name);
      expect(wrapped.fds).toHaveLength(2);
      expect(wrapped.fds[0]).not.toBe(tap.fds[0]);
      expect(wrapped.ifindex()).toBe(tap.ifindex());
      expect(Tap.fromFds([dupFd(tap.fds[0]!)], 'given').name).toBe('given');
    } finally {
      wrapped.close();
    }
    expect(() => Tap.fromFds([])).toThrow(/at least one fd/);
  });

  it('TUNSETQUEUE detaches and re-attaches one queue, and refuses invalid transitions', () => {
    const tap = track(Tap.open({ name: uniqueName(), queues: 2 }));
    expect(() => tap.setQueueEnabled(1, true)).toThrow(expect.objectContaining({ request: 'TUNSETQUEUE', code: 'EINVAL' })); // already attached
    tap.setQueueEnabled(1, false);
    expect(() => tap.setQueueEnabled(1, false)).toThrow(expect.objectContaining({ request: 'TUNSETQUEUE', code: 'EINVAL' })); // already detached
    tap.setQueueEnabled(1, true);
    expect(() => tap.setQueueEnabled(2, true)).toThrow(/has no queue 2/);
  });

  it('errors name the ioctl and the tap', () => {
    let caught: unknown;
    try {
      track(Tap.open({ name: 'bad/name' }));
    } catch (e) {
      caught = e;
    }
    expect(SysError.is(caught)).toBe(true);
    const e = caught as SysError;
    expect(e.syscall).toBe('ioctl');
    expect(e.request).toBe('TUNSETIFF');
    expect(e.code).toBe('EINVAL');
    expect(e.message).toMatch(/^ioctl TUNSETIFF bad\/name: EINVAL \(22\) — invalid name or flags/);

    expect(() => Tap.open({ name: 'x'.repeat(16) })).toThrow(expect.objectContaining({ kind: 'invalid-argument' }));
    expect(() => Tap.open({ queues: 2, multiQueue: false })).toThrow(VnicError);

    const tap = track(Tap.open({ name: uniqueName() }));
    expect(() => tap.setOffload(TUN_F_TSO4)).toThrow(new RegExp(`^ioctl TUNSETOFFLOAD ${tap.name}: EINVAL \\(22\\) — offload flags 0x2 not accepted`));
    expect(() => tap.setMtu(10)).toThrow(expect.objectContaining({ request: 'SIOCSIFMTU', code: 'EINVAL', target: tap.name }));
  });

  describe('inside a network namespace', () => {
    let ns: Netns;
    beforeAll(() => {
      ns = Netns.create();
      return () => ns.delete();
    });

    /** A nonblocking vnet-hdr tap moved into `ns` with NS_IP, up; plus an epoll over its queues. */
    function tapInNs(queues: number): { tap: Tap; ep: Epoll; nsMac: number[] } {
      const tap = track(Tap.open({ name: uniqueName(), queues, nonBlocking: true }));
      tap.setVnetHdrSize(VNET_HDR_LEN);
      ns.adopt(tap.name);
      cleanups.push(() => {
        if (ns.ip('-o', 'link', 'show').includes(`${tap.name}:`)) ns.ip('link', 'del', tap.name);
      });
      ns.ip('addr', 'add', `${NS_IP}/24`, 'dev', tap.name);
      ns.ip('link', 'set', tap.name, 'up');
      const ep = Epoll.create();
      cleanups.push(() => ep.close());
      tap.fds.forEach((fd, q) => ep.add(fd, EPOLLIN, q));
      return { tap, ep, nsMac: mac(ns.exec('cat', `/sys/class/net/${tap.name}/address`).trim()) };
    }

    it('an ARP request written through the tap (vnet header + frame via writev from guest memory) gets a reply read back from it', () => {
      const { tap, ep, nsMac } = tapInNs(1);
      const mem = MemfdGuestMemory.create({ regions: [{ guestPhysAddr: 0, size: 4096 }] });
      try {
        mem.memory.write(0x100, new Uint8Array(VNET_HDR_LEN)); // a zeroed virtio_net_hdr in "guest memory"
        const iov = new IoVecArray(2);
        iov.push(mem.memory.hostAddress(0x100, VNET_HDR_LEN)!, VNET_HDR_LEN);
        iov.pushBytes(arpRequest(OUR_IP, NS_IP));
        expect(writevFd(tap.fds[0]!, iov)).toBe(VNET_HDR_LEN + 60);
      } finally {
        mem.close();
      }
      let reply: ReturnType<typeof parseArpReply>;
      let header: number[] = [];
      drain(
        ep,
        tap.fds,
        (frame) => {
          const r = parseArpReply(frame.subarray(VNET_HDR_LEN));
          if (r?.senderIp === NS_IP) {
            reply = r;
            header = [...frame.subarray(0, VNET_HDR_LEN)];
          }
        },
        () => reply !== undefined,
      );
      expect(reply).toEqual({ dstMac: OUR_MAC, senderMac: nsMac, senderIp: NS_IP, targetMac: OUR_MAC, targetIp: OUR_IP });
      expect(header.slice(0, 2)).toEqual([0, 0]); // flags 0, gso_type VIRTIO_NET_HDR_GSO_NONE
      expect(header.length).toBe(VNET_HDR_LEN);
    });

    it('UDP datagrams written through the tap reach a socket in the namespace, including one with NEEDS_CSUM', async () => {
      const { tap, nsMac } = tapInNs(1);
      const port = 5555;
      const script = `
        const s = require('node:dgram').createSocket('udp4'); const got = [];
        s.on('message', (m) => { got.push(m.toString()); if (got.length === 2) { console.log(JSON.stringify(got)); process.exit(0); } });
        s.bind(${port}, '${NS_IP}', () => console.log('ready'));
        setTimeout(() => { console.log(JSON.stringify(got)); process.exit(1); }, 8000);`;
      const child = ns.spawn(process.execPath, '-e', script);
      cleanups.push(() => {
        if (child.exitCode === null) child.kill();
      });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
      const deadline = Date.now() + 8000;
      while (!out.includes('ready') && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 20));
      expect(out).toContain('ready');

      expect(writeFd(tap.fds[0]!, udpFrame(nsMac, 4000, port, new TextEncoder().encode('full-csum'), false))).toBeGreaterThan(0);
      expect(writeFd(tap.fds[0]!, udpFrame(nsMac, 4001, port, new TextEncoder().encode('needs-csum'), true))).toBeGreaterThan(0);
      expect(await exited).toBe(0);
      expect(JSON.parse(out.slice(out.indexOf('['))) as string[]).toEqual(['full-csum', 'needs-csum']);
    });

    it('TUNSETOFFLOAD decides whether the kernel hands over unchecksummed packets (NEEDS_CSUM); probeOffloads restores it', () => {
      const { tap, ep } = tapInNs(1);
      ns.ip('neigh', 'add', OUR_IP, 'lladdr', OUR_MAC.map((b) => b.toString(16).padStart(2, '0')).join(':'), 'dev', tap.name);
      let port = 7000;
      /** Sends one UDP datagram from the namespace to OUR_IP and returns the vnet header it arrives with. */
      const headerOfDatagramFromNs = (): number[] => {
        const dst = ++port;
        const script = `const s = require('node:dgram').createSocket('udp4'); s.send(Buffer.from('x'.repeat(100)), ${dst}, '${OUR_IP}', () => s.close());`;
        ns.exec(process.execPath, '-e', script);
        let header: number[] | undefined;
        drain(
          ep,
          tap.fds,
          (frame) => {
            const eth = frame.subarray(VNET_HDR_LEN);
            const isUdpToPort = eth[12] === 0x08 && eth[13] === 0x00 && eth[23] === 17 && ((eth[36]! << 8) | eth[37]!) === dst;
            if (isUdpToPort) header = [...frame.subarray(0, VNET_HDR_LEN)];
          },
          () => header !== undefined,
        );
        if (header === undefined) throw new Error(`no datagram to port ${dst} came out of the tap`);
        return header;
      };
      const NEEDS_CSUM = 1;

      tap.setOffload(0);
      expect(headerOfDatagramFromNs()[0]! & NEEDS_CSUM).toBe(0);
      tap.setOffload(TUN_F_CSUM);
      const partial = headerOfDatagramFromNs();
      expect(partial[0]! & NEEDS_CSUM).toBe(NEEDS_CSUM);
      expect(partial[6]! | (partial[7]! << 8)).toBe(14 + 20); // csum_start: the UDP header
      expect(partial[8]! | (partial[9]! << 8)).toBe(6); // csum_offset: the UDP checksum field

      tap.setOffload(0);
      expect(tap.probeOffloads() & TUN_F_CSUM).toBe(TUN_F_CSUM);
      expect(headerOfDatagramFromNs()[0]! & NEEDS_CSUM).toBe(0); // back to what setOffload last set
    });

    it('TUNSETTXFILTER: only the listed destinations (and, with ALLMULTI, every multicast) reach the reader; off again passes all', () => {
      const { tap, ep } = tapInNs(1);
      const sock = PacketSocket.open(tap.name, { netns: ns.name });
      cleanups.push(() => sock.close());
      const dsts = {
        own: [0x52, 0x54, 0, 0x76, 0x6e, 0x09],
        other: [0x52, 0x54, 0, 0x76, 0x6e, 0x0a],
        bcast: [0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
        multi: [0x01, 0x00, 0x5e, 0x00, 0x00, 0x07],
      };
      /** Injects one frame per destination from the namespace side; returns the names the tap reader got. */
      const through = (): string[] => {
        drain(
          ep,
          tap.fds,
          () => {},
          () => false,
          100,
        ); // whatever the namespace sent on its own
        for (const [name, dst] of Object.entries(dsts)) {
          const f = new Uint8Array(60);
          f.set(dst, 0);
          f.set([0x02, 0, 0, 0, 0, 0x33], 6);
          f[12] = 0x88;
          f[13] = 0xb5;
          f.set(Buffer.from(name), 14);
          expect(sock.send(f)).toBe(true);
        }
        const got = new Set<string>();
        drain(
          ep,
          tap.fds,
          (frame) => {
            const body = frame.subarray(VNET_HDR_LEN);
            if (body[12] !== 0x88 || body[13] !== 0xb5) return;
            const name = Buffer.from(body.subarray(14, 14 + 6))
              .toString()
              .replace(/\0.*$/, '');
            if (name in dsts) got.add(name);
          },
          () => false,
          500,
        );
        return [...got].sort();
      };
      expect(through()).toEqual(['bcast', 'multi', 'other', 'own']);
      tap.setTxFilter({ allMulti: false, addrs: [Uint8Array.from(dsts.own), Uint8Array.from(dsts.bcast)] });
      expect(through()).toEqual(['bcast', 'own']);
      tap.setTxFilter({ allMulti: true, addrs: [Uint8Array.from(dsts.own)] });
      expect(through()).toEqual(['bcast', 'multi', 'own']);
      tap.setTxFilter(undefined);
      expect(through()).toEqual(['bcast', 'multi', 'other', 'own']);
    });

    it('with 2 queues both fds transmit, and RX follows TUNSETQUEUE attach/detach', () => {
      const { tap, ep } = tapInNs(2);
      /** Sends ARP requests from `ips` alternating over both queues; returns the queue each reply came back on. */
      const roundTrip = (ips: string[]): Map<string, number> => {
        ips.forEach((src, i) => writeFd(tap.fds[i % 2]!, Uint8Array.from([...new Uint8Array(VNET_HDR_LEN), ...arpRequest(src, NS_IP)])));
        const replies = new Map<string, number>();
        drain(
          ep,
          tap.fds,
          (frame, queue) => {
            const r = parseArpReply(frame.subarray(VNET_HDR_LEN));
            if (r !== undefined && ips.includes(r.targetIp)) replies.set(r.targetIp, queue);
          },
          () => replies.size === ips.length,
        );
        return replies;
      };
      const ipsFrom = (base: number): string[] => Array.from({ length: 6 }, (_, i) => `10.77.0.${base + i}`);

      expect(roundTrip(ipsFrom(10)).size).toBe(6);

      tap.setQueueEnabled(1, false);
      const onlyQueue0 = roundTrip(ipsFrom(20));
      expect(onlyQueue0.size).toBe(6);
      expect(new Set(onlyQueue0.values())).toEqual(new Set([0]));

      tap.setQueueEnabled(1, true);
      tap.setQueueEnabled(0, false);
      const onlyQueue1 = roundTrip(ipsFrom(30));
      expect(onlyQueue1.size).toBe(6);
      expect(new Set(onlyQueue1.values())).toEqual(new Set([1]));
    });
  });
});
