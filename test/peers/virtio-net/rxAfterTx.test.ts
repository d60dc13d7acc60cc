import { testNetConfig } from '@vnic/core/testing';
import {
  buildEthernet,
  buildIcmpEcho,
  buildIpv4,
  EtherType,
  formatMac,
  IpProtocol,
  parseEthernet,
  parseIcmpEcho,
  parseIpv4,
  VirtioNetDriver,
} from '@vnic/driver';
import { TX_ENGINE_ENV } from '@vnic/virtio-net';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupAfterEach, hostTapPeer, uniqueName, waitUntil } from '@vnic/sys/testing';
import { TapNetns } from '../../fixtures/TapNetns.ts';

// The namespace's kernel answers an ICMP echo request inside the tap write that carries it, so
// the reply is in the tap before the TX step ends; the IO thread then reads one frame at once
// (RxAfterTx, a readv) instead of waiting for the next epoll round. Requests go one per TX step
// (writev) and in bursts of 16 per step (one io_uring_enter): every reply must come back once,
// intact and in order, the ones the single read did not take from the following rounds.

const TAP_IP = '10.202.1.1';
const GUEST_IP = '10.202.1.2';
const MAC = Uint8Array.of(0x52, 0x54, 0x00, 0x7e, 0x1a, 0x01);
const ECHO_ID = 0x5a17;
const BURST = 16;

const peer = hostTapPeer();

/** An echo request of `size` data bytes, sequence `seq`, its data a function of both. */
function echoRequest(tapMac: Uint8Array, seq: number, size: number): Uint8Array {
  const data = Uint8Array.from({ length: size }, (_, i) => (i * 7 + seq) & 0xff);
  const icmp = buildIcmpEcho({ type: 8, id: ECHO_ID, seq, data });
  const ip = buildIpv4({ src: GUEST_IP, dst: TAP_IP, protocol: IpProtocol.ICMP, payload: icmp });
  return buildEthernet({ dst: tapMac, src: MAC, etherType: EtherType.IPV4, payload: ip });
}

/** The seq of an echo reply to our id with the data of request `seq` of `size` bytes, else undefined. */
function replySeq(frame: Uint8Array, sizeOf: (seq: number) => number): number | undefined {
  const eth = parseEthernet(frame);
  if (eth?.etherType !== EtherType.IPV4) return undefined;
  const ip = parseIpv4(eth.payload);
  if (ip?.protocol !== IpProtocol.ICMP || ip.src !== TAP_IP) return undefined;
  const echo = parseIcmpEcho(ip.payload);
  if (echo?.type !== 0 || echo.id !== ECHO_ID) return undefined;
  const size = sizeOf(echo.seq);
  const want = Uint8Array.from({ length: size }, (_, i) => (i * 7 + echo.seq) & 0xff);
  return Buffer.compare(Buffer.from(echo.data), Buffer.from(want)) === 0 ? echo.seq : -1;
}

describe.skipIf(peer.skip)('virtio-net backend: replies the kernel makes inside the TX write, with a real tap', () => {
  const cleanups = cleanupAfterEach(afterEach);

  /** A NIC on a tap addressed TAP_IP in its namespace, the guest's neighbour entry permanent; the tap's MAC. */
  async function echoNic(
    id: string,
    driverOptions: { rxBufferSize?: number; rxBuffers?: number } = {},
    ioThreads: 'shared' | 'dedicated' = 'shared',
  ): Promise<{ nic: TapNetns; driver: VirtioNetDriver; tapMac: Uint8Array }> {
    if (peer.reason !== undefined) throw new Error(`host kernel tap peer missing: ${peer.reason}`);
    const config = testNetConfig({ id, backend: 'virtio-net', mac: MAC, queuePairs: 1, mtu: 1500 });
    const nic = TapNetns.create(config, { address: `${TAP_IP}/24`, options: { tap: uniqueName('vnra'), ioThreads } });
    cleanups.push(() => nic.close());
    nic.ns.ip('neigh', 'replace', GUEST_IP, 'lladdr', formatMac(MAC), 'dev', nic.tap, 'nud', 'permanent');
    // No frame the namespace sends on its own (IPv6 router solicitations, MLD reports): what the
    // guest receives is the replies alone, and nothing but the device's own logic moves RX.
    nic.ns.exec('sysctl', '-qw', `net.ipv6.conf.${nic.tap}.disable_ipv6=1`);
    const tapMac = Uint8Array.from(
      nic.ns
        .exec('cat', `/sys/class/net/${nic.tap}/address`)
        .trim()
        .split(':')
        .map((h) => parseInt(h, 16)),
    );
    const driver = await VirtioNetDriver.create({ device: nic.device, ...driverOptions });
    cleanups.push(() => driver.close());
    return { nic, driver, tapMac };
  }

  for (const engine of ['io_uring', 'writev'] as const) {
    it(`${engine} TX: echo requests one per step and ${BURST} per step all get their reply once, intact and in order`, async () => {
      if (peer.reason !== undefined) throw new Error(`host kernel tap peer missing: ${peer.reason}`);
      const saved = process.env[TX_ENGINE_ENV];
      if (engine === 'writev') process.env[TX_ENGINE_ENV] = 'writev';
      cleanups.push(() => {
        if (saved === undefined) delete process.env[TX_ENGINE_ENV];
        else process.env[TX_ENGINE_ENV] = saved;
      });
      const { nic, driver, tapMac } = await echoNic(`vnt-rat-${engine === 'writev' ? 'wv' : 'ur'}`);
      const sizeOf = (seq: number): number => 18 + ((seq * 37) % 1400);

      /** Collects the replies to `count` requests, in arrival order (-1: a reply whose data is wrong). */
      const replies = async (count: number): Promise<number[]> => {
        const got: number[] = [];
        const deadline = Date.now() + 5000;
        while (got.length < count && Date.now() < deadline) {
          const f = await driver.receive(0, 1000);
          const seq = f === undefined ? undefined : replySeq(f.frame, sizeOf);
          if (seq !== undefined) got.push(seq);
        }
        return got;
      };

      // One request in flight: each TX step carries one frame.
      for (let seq = 0; seq < 100; seq++) {
        expect(driver.send(echoRequest(tapMac, seq, sizeOf(seq)))).toBe(true);
        expect(await replies(1), `reply to request ${seq}`).toEqual([seq]);
      }
      // Bursts: one step of BURST frames, BURST replies in the tap when it ends.
      for (let b = 0; b < 10; b++) {
        const seqs = Array.from({ length: BURST }, (_, i) => 1000 + b * BURST + i);
        expect(driver.sendBatch(seqs.map((s) => echoRequest(tapMac, s, sizeOf(s))))).toBe(BURST);
        expect(await replies(BURST), `replies of burst ${b}`).toEqual(seqs);
      }
      const late = await driver.receive(0, 300);
      expect(late === undefined ? undefined : replySeq(late.frame, sizeOf), 'a reply that came twice').toBeUndefined();
      const [rx, tx] = nic.device.stats();
      expect(tx!.packets).toBe(100 + 10 * BURST);
      expect(tx!.drops).toBe(0);
      expect(rx!.drops).toBe(0);
    }, 60_000);
  }

  // The read right after TX finds a reply larger than the buffers the guest has left: it waits in
  // the device for more, and the device must ask for the RX kick that brings them (no tap event
  // is coming: the namespace sends nothing more), as any other RX path does.
  it('a reply that must wait for RX buffers is delivered once the guest posts them', async () => {
    const size = 1400; // a 1442-byte reply: three 512-byte buffers with MRG_RXBUF
    // An IO thread of its own, started for this NIC: what the thread did for earlier NICs (its
    // poll window) does not change when it reads.
    const { nic, driver, tapMac } = await echoNic('vnt-rat-wait', { rxBufferSize: 512, rxBuffers: 4 }, 'dedicated');
    const take = async (): Promise<number | undefined> => {
      for (const end = Date.now() + 3000; Date.now() < end;) {
        const f = await driver.receive(0, 500); // takes the frame and posts its buffers again
        const seq = f === undefined ? undefined : replySeq(f.frame, () => size);
        if (seq !== undefined) return seq;
      }
      return undefined;
    };
    // Whether reply b meets the read right after TX or a later epoll round depends on timing:
    // 60 rounds make it meet that read many times (a device that forgot the kick there stalled in
    // 1 to 50 rounds).
    for (let round = 0; round < 60; round++) {
      const a = 2 * round;
      // Reply a takes three of the four buffers; reply b finds one and waits for the three a frees.
      expect(driver.send(echoRequest(tapMac, a, size))).toBe(true);
      await waitUntil(() => nic.device.stats()[0]!.packets > a, `reply ${a} in the guest's buffers`, 3000);
      expect(driver.send(echoRequest(tapMac, a + 1, size))).toBe(true);
      expect(await take(), `reply ${a}`).toBe(a);
      expect(await take(), `reply ${a + 1}, after the guest posted buffers again`).toBe(a + 1);
    }
    expect(nic.device.stats()[0]!.drops).toBe(0);
  }, 60_000);
});
