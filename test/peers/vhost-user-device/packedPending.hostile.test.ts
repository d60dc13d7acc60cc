import { featureBit, VIRTIO_F_RING_PACKED, VIRTIO_F_VERSION_1 } from '@vnic/core';
import { MemfdGuestMemory, type UnixSocket } from '@vnic/sys';
import {
  VHOST_USER_DEVICE_STATE_FORMAT,
  VHOST_USER_DEVICE_STATE_VERSION,
  type VhostUserDeviceQueueState,
  type VhostUserDeviceState,
} from '@vnic/vhost-user-device';
import {
  decodeHeader,
  encodeU64,
  encodeVringAddr,
  encodeVringState,
  FrontendReq,
  VHOST_USER_HDR_SIZE,
  VHOST_USER_F_PROTOCOL_FEATURES,
} from '@vnic/vhost-user-protocol';
import { describe, expect, it } from 'vitest';
import { hostileServer, hostileTestsRun, memTable, send } from './hostileServer.ts';

// BackendRequestHandler.saveState on a connection that took a saved state over and whose packed
// rings the frontend set up again but never started (no kick yet): the saved point stands, and
// with it the wrap counters of both sides (a packed ring's positions mean nothing without them).
// A real VhostUserDeviceServer (real tap) opened with such a state, a frontend written here.

const root = hostileTestsRun('vhost-user device');
const MiB = 1 << 20;
const PACKED = featureBit(VIRTIO_F_VERSION_1) | featureBit(VHOST_USER_F_PROTOCOL_FEATURES) | featureBit(VIRTIO_F_RING_PACKED);
const hex = (n: bigint): string => `0x${n.toString(16)}`;
const ADDR = (i: number) => ({
  descUserAddr: 0x7000_0000n + BigInt(i * 0x4000),
  availUserAddr: 0x7000_1000n + BigInt(i * 0x4000),
  usedUserAddr: 0x7000_2000n + BigInt(i * 0x4000),
});
const COUNTERS = { packets: 0, bytes: 0, drops: 0, malformed: 0, noBuffer: 0, filtered: 0 };

/** A saved packed queue at positions `nextAvail`/`nextUsed` with the given wrap counters. */
function savedQueue(index: number, nextAvail: number, nextUsed: number, availWrap: boolean, usedWrap: boolean): VhostUserDeviceQueueState {
  const a = ADDR(index);
  return {
    index,
    size: 256,
    enabled: true,
    descUserAddr: hex(a.descUserAddr),
    availUserAddr: hex(a.availUserAddr),
    usedUserAddr: hex(a.usedUserAddr),
    nextAvail,
    nextUsed,
    availWrap,
    usedWrap,
    counters: { ...COUNTERS, packets: 1000 + index },
  };
}

describe.skipIf(!root)('vhost-user device: saveState of a taken-over packed ring not started yet', () => {
  const h = hostileServer('vudp');

  it('carries the saved wrap counters of both sides of every pending packed ring (not only the positions)', async () => {
    // Wrap counters that differ from the initial ones (true) on one side or both: a state that dropped them reads back as absent.
    const queues = [savedQueue(0, 17, 17, false, false), savedQueue(1, 200, 190, true, false)];
    const state: VhostUserDeviceState = {
      format: VHOST_USER_DEVICE_STATE_FORMAT,
      version: VHOST_USER_DEVICE_STATE_VERSION,
      savedAt: new Date().toISOString(),
      socket: 'earlier.sock',
      tap: 'earlier-tap',
      queuePairs: 1,
      offered: hex(PACKED),
      features: hex(PACKED),
      protocolFeatures: '0x0',
      queues,
    };
    const server = h.extra('taken-over.sock', { state });
    const mem = MemfdGuestMemory.create({ name: 'vnic-packed-pending', regions: [{ guestPhysAddr: 0, size: MiB }] });
    let saved: VhostUserDeviceState | undefined;
    try {
      const reason = await h.session(async (s: UnixSocket) => {
        send(s, FrontendReq.SET_OWNER);
        send(s, FrontendReq.SET_FEATURES, encodeU64(PACKED));
        send(
          s,
          FrontendReq.SET_MEM_TABLE,
          memTable([{ gpa: 0, size: MiB, user: 0x7000_0000n }]),
          mem.layout.regions.map((r) => r.fd),
        );
        for (const i of [0, 1]) {
          send(s, FrontendReq.SET_VRING_NUM, encodeVringState({ index: i, num: 256 }));
          send(s, FrontendReq.SET_VRING_ADDR, encodeVringAddr(i, { flags: 0, ...ADDR(i), logGuestAddr: 0n }));
        }
        // A reply after the requests above: the server handles them one at a time, so they are all in.
        send(s, FrontendReq.GET_FEATURES);
        const { data } = await s.recvAsync(VHOST_USER_HDR_SIZE + 8);
        expect(decodeHeader(data).request).toBe(FrontendReq.GET_FEATURES);
        expect(server.connected).toBe(true);
        saved = await server.saveState();
        s.close();
      }, server.socket);
      expect(reason).toBeUndefined();
    } finally {
      mem.close();
    }
    expect(saved!.features).toBe(hex(PACKED));
    const byIndex = new Map(saved!.queues.map((q) => [q.index, q]));
    for (const q of queues) {
      expect(byIndex.get(q.index)).toMatchObject({
        index: q.index,
        nextAvail: q.nextAvail,
        nextUsed: q.nextUsed,
        availWrap: q.availWrap,
        usedWrap: q.usedWrap,
        counters: q.counters,
      });
    }
  });
});
