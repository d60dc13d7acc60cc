import { createNetDevices, createVnicContainer } from '@vnic/config';
import { featureBit, VIRTIO_CONFIG_S_NEEDS_RESET } from '@vnic/core';
import { VIRTIO_NET_F_CTRL_GUEST_OFFLOADS } from '@vnic/core/virtio_net';
import { DRIVER_FEATURES, VirtioNetDriver } from '@vnic/driver';
import { hostTapPeer, waitUntil } from '@vnic/sys/testing';
import { describe, expect, it } from 'vitest';
import { macBytes, switchEntry, SwitchTap, udpFrame, udpSeq } from './switchRig.ts';

// The tap -> guest direction across live switches: a stream of sequence-numbered UDP frames sent
// from the namespace into ONE tap (its fds handed to every device, so its queue outlives them)
// while the NIC moves virtio-net <-> virtio-net many times. The guest posts few, small RX buffers
// (64 of 256 bytes, MRG_RXBUF: most frames take several) so the device often holds frames it has
// read from the tap while the guest has no buffer left: what a quiesce must hand over, not drop.
// The source keeps at most WINDOW frames ahead of the highest one the guest got (the tap's queue
// holds 500), and the tap's tx_dropped tells a tap drop from a vnic loss.

const peer = hostTapPeer();
const MAC = '52:54:00:5a:7e:61';
const PEER = Uint8Array.of(0x02, 0, 0, 0, 0, 0x61);
const FEATURES = DRIVER_FEATURES & ~featureBit(VIRTIO_NET_F_CTRL_GUEST_OFFLOADS);
const SWITCHES = 60;
/** Frames in flight at most (sent, not yet seen by the guest): under the tap queue's 500. */
const WINDOW = 160;
/** Frames sent per turn of the source at most. */
const BURST = 48;

describe.skipIf(peer.skip)('switchBackend: the tap -> guest stream across switches, TS driver as the guest', () => {
  it(`${SWITCHES} switches virtio-net <-> virtio-net on one tap under a tap -> guest stream: every frame reaches the guest exactly once, in order`, async () => {
    if (peer.reason !== undefined) throw new Error(`host kernel tap peer missing: ${peer.reason}`);
    const a = SwitchTap.create();
    const container = createVnicContainer();
    let driver: VirtioNetDriver | undefined;
    let running = true;
    let loop: Promise<void> | undefined;
    try {
      const entry = switchEntry('swr0', MAC, 'virtio-net', { tapFds: a.fds });
      const [nic] = await createNetDevices({ net: [entry] }, { container, switchable: true });
      const sw = nic!;
      const d = await VirtioNetDriver.create({ device: sw, features: FEATURES, queuePairs: 1, queueSize: 256, rxBufferSize: 256, rxBuffers: 64 });
      driver = d;
      const dst = macBytes(MAC);
      const seen = new Map<number, number>();
      let highest = 0;
      let outOfOrder = 0;
      let next = 1;
      const drain = (): void => {
        for (let r = d.tryReceive(0); r !== undefined; r = d.tryReceive(0)) {
          const seq = udpSeq(r.frame);
          if (seq === undefined) continue;
          seen.set(seq, (seen.get(seq) ?? 0) + 1);
          if (seq < highest) outOfOrder++;
          highest = Math.max(highest, seq);
        }
      };
      loop = (async () => {
        while (running) {
          drain();
          const room = Math.min(BURST, WINDOW - (next - 1 - highest));
          for (let i = 0; i < room; i++) {
            if (!a.sock.send(udpFrame(dst, PEER, next, 64 + ((next * 53) % 937)))) break;
            next++;
          }
          await new Promise((r) => setTimeout(r, 1));
        }
      })();
      const flowing = async (what: string): Promise<void> => {
        const from = highest;
        await waitFor(() => highest > from, what);
      };
      await flowing('the stream on the first device');
      for (let i = 1; i <= SWITCHES; i++) {
        const report = await sw.switchBackend(entry);
        expect(report).toMatchObject({ from: 'virtio-net', to: 'virtio-net', activated: true, switches: i });
        await flowing(`the stream after switch ${i}`);
      }
      running = false;
      await loop;
      const sent = next - 1;
      await waitFor(() => {
        drain();
        return highest === sent;
      }, 'the last frame at the guest').catch(() => undefined);
      drain();
      const lost: number[] = [];
      let duplicates = 0;
      for (let s = 1; s <= sent; s++) {
        const n = seen.get(s) ?? 0;
        if (n === 0) lost.push(s);
        duplicates += Math.max(0, n - 1);
      }
      const tapDropped = Number(a.ns.exec('cat', `/sys/class/net/${a.tap.name}/statistics/tx_dropped`).trim());
      const drops = sw.stats()[0]!.drops;
      console.log(
        `switchRx: ${SWITCHES} switches: ${sent} frames sent into the tap, ${seen.size} at the guest, ${lost.length} lost (vnic drops ${drops}, tap drops ${tapDropped}), ${duplicates} duplicated, ${outOfOrder} out of order`,
      );
      expect(tapDropped).toBe(0); // the source never overran the tap: a frame missing below is vnic's
      expect(duplicates).toBe(0);
      expect(lost).toEqual([]);
      expect(outOfOrder).toBe(0);
      expect(drops).toBe(0);
      expect(sent).toBeGreaterThan(SWITCHES * 20);
      expect(d.status() & VIRTIO_CONFIG_S_NEEDS_RESET).toBe(0);
    } finally {
      running = false;
      await loop;
      await driver?.close();
      await container.dispose();
      a.close();
    }
  });
});

/** The switch tests wait up to 10 s for traffic (a loaded CI machine). */
const waitFor = (cond: () => boolean, what: string): Promise<void> => waitUntil(cond, what, 10_000);
