import { readlinkSync } from 'node:fs';
import { featureBit, hasFeature, virtio_net as N } from '@vnic/core';
import { decodeMemoryTable, decodeU64, decodeVringAddr, decodeVringState } from '@vnic/vhost-user-protocol';
import { VHOST_USER_F_PROTOCOL_FEATURES, VHOST_USER_NEED_REPLY_MASK } from '@vnic/vhost-user-protocol/vhost_user';
import { fdCount, waitUntil } from '@vnic/sys/testing';
import { describe, expect, it } from 'vitest';
import type { BackendScript, ScriptedSession, ScriptedVhostUserBackend } from './fixtures/ScriptedVhostUserBackend.ts';
import type { VhostUserNetDevice } from './VhostUserNetDevice.ts';
import {
  BACKEND_OFFER as OFFER,
  BACKEND_PROTOCOL as PROTOCOL,
  BACKEND_SCRIPT,
  GuestRig,
  openScriptedNic,
  ringOf,
  scriptedNicSuite,
} from './fixtures/vhostUserSpecRig.ts';

// VhostUserNetDevice's life cycle against a scripted vhost-user backend on a real unix socket (no
// testpmd): the device is driven as a VMM drives it (features, activate with memfd guest memory
// and eventfds, the control queue through its kick, reset, close), and every message the backend
// gets is checked against the vhost-user spec's order and payloads.

const bit = (b: number): bigint => featureBit(b);
const SCRIPT: BackendScript = { ...BACKEND_SCRIPT, vringBase: (i) => 0x100 + i };

const suite = scriptedNicSuite('vnic-vu-life-');

async function start(
  name: string,
  script: BackendScript = SCRIPT,
): Promise<{ backend: ScriptedVhostUserBackend; dev: VhostUserNetDevice; rig: GuestRig; s: ScriptedSession }> {
  const nic = await suite.start(name, script);
  return { ...nic, s: nic.backend.current! };
}

/** The requests after message `from`, with ring numbers: `SET_VRING_NUM 0`, `SET_STATUS`, ... */
function ringLog(s: ScriptedSession, from: number): string[] {
  return s.messages.slice(from).map((m) => (m.request.startsWith('SET_VRING_') || m.request === 'GET_VRING_BASE' ? `${m.request} ${ringOf(m)}` : m.request));
}

describe('VhostUserNetDevice life cycle over a scripted backend', () => {
  it('handshakes in the order DPDK accepts and offers only what the backend supports', async () => {
    const { dev, s } = await start('hs.sock');
    await waitUntil(() => s.requests.includes('SET_OWNER'), 'SET_OWNER');
    expect(s.requests).toEqual(['GET_FEATURES', 'GET_PROTOCOL_FEATURES', 'SET_PROTOCOL_FEATURES', 'GET_QUEUE_NUM', 'SET_OWNER']);
    expect(decodeU64(s.all('SET_PROTOCOL_FEATURES')[0]!.payload)).toBe(PROTOCOL);
    // REPLY_ACK is in force after SET_PROTOCOL_FEATURES: SET_OWNER asks for an ack.
    expect(s.all('SET_OWNER')[0]!.flags & VHOST_USER_NEED_REPLY_MASK).not.toBe(0);
    expect(dev.handshake).toEqual({ features: OFFER, protocolFeatures: PROTOCOL, queueNum: 2 });
    expect(hasFeature(dev.deviceFeatures, N.VIRTIO_NET_F_MQ)).toBe(true);
    expect(hasFeature(dev.deviceFeatures, N.VIRTIO_NET_F_HOST_TSO4)).toBe(false); // not in the backend's offer
    expect(hasFeature(dev.deviceFeatures, N.VIRTIO_NET_F_CTRL_VQ)).toBe(true); // vnic's own
  });

  it('activate hands the backend the data rings (never the control queue) with the guest memory, the rings and their eventfds', async () => {
    const { dev, rig, s } = await start('act.sock');
    await waitUntil(() => s.requests.includes('SET_OWNER'), 'SET_OWNER');
    const from = s.messages.length;
    await rig.activate();
    expect(dev.activated).toBe(true);
    expect(ringLog(s, from)).toEqual([
      'SET_FEATURES',
      'SET_STATUS',
      'SET_MEM_TABLE',
      ...[0, 1, 2, 3].flatMap((i) => [`SET_VRING_NUM ${i}`, `SET_VRING_BASE ${i}`, `SET_VRING_ADDR ${i}`, `SET_VRING_KICK ${i}`, `SET_VRING_CALL ${i}`]),
      // One pair in use until the driver says otherwise (VQ_PAIRS_SET).
      'SET_VRING_ENABLE 0',
      'SET_VRING_ENABLE 1',
      'SET_VRING_ENABLE 2',
      'SET_VRING_ENABLE 3',
      'SET_STATUS',
    ]);
    const acked = dev.ackedFeatures;
    // SET_FEATURES: what the guest acked of the backend's features, plus PROTOCOL_FEATURES.
    const set = decodeU64(s.all('SET_FEATURES')[0]!.payload);
    expect(set & ~bit(VHOST_USER_F_PROTOCOL_FEATURES) & ~OFFER).toBe(0n);
    expect(hasFeature(set, VHOST_USER_F_PROTOCOL_FEATURES)).toBe(true);
    expect(hasFeature(set, N.VIRTIO_NET_F_MRG_RXBUF)).toBe(hasFeature(acked, N.VIRTIO_NET_F_MRG_RXBUF));
    expect(hasFeature(set, N.VIRTIO_NET_F_CTRL_VQ)).toBe(false); // vnic serves the control queue itself
    // SET_STATUS: FEATURES_OK (0x0b) before the memory table, DRIVER_OK (0x0f) at the end.
    expect(s.all('SET_STATUS').map((m) => Number(decodeU64(m.payload)))).toEqual([0x0b, 0x0f]);
    // The memory table: the one region, its memfd attached.
    const table = s.all('SET_MEM_TABLE')[0]!;
    const region = rig.memory.layout.regions[0]!;
    expect(decodeMemoryTable(table.payload)).toEqual([
      { guestPhysAddr: BigInt(region.guestPhysAddr), memorySize: BigInt(region.size), userspaceAddr: region.hostAddr, mmapOffset: 0n },
    ]);
    expect(table.fds).toHaveLength(1);
    expect(readlinkSync(`/proc/self/fd/${table.fds[0]}`)).toMatch(/^\/memfd:vnic-vu-rig /);
    // Each ring: its size, base 0 (a fresh ring), its addresses as frontend virtual addresses.
    for (const q of rig.dataQueues) {
      const ofIndex = (req: string) => s.all(req).filter((m) => ringOf(m) === q.index);
      expect(ofIndex('SET_VRING_NUM').map((m) => decodeVringState(m.payload).num)).toEqual([q.size]);
      expect(ofIndex('SET_VRING_BASE').map((m) => decodeVringState(m.payload).num)).toEqual([0]);
      const va = (gpa: number): bigint => region.hostAddr + BigInt(gpa - region.guestPhysAddr);
      expect(decodeVringAddr(ofIndex('SET_VRING_ADDR')[0]!.payload).addr).toMatchObject({
        descUserAddr: va(q.descTable),
        availUserAddr: va(q.availRing),
        usedUserAddr: va(q.usedRing),
      });
    }
    // The kick and call fds are the VMM's eventfds: a kick the guest writes reaches the backend's
    // fd, a call the backend writes reaches the VMM's.
    for (const q of rig.dataQueues) {
      const [kick] = s.all('SET_VRING_KICK').filter((m) => ringOf(m) === q.index);
      const [call] = s.all('SET_VRING_CALL').filter((m) => ringOf(m) === q.index);
      expect(kick!.fds).toHaveLength(1);
      expect(call!.fds).toHaveLength(1);
      rig.kickOf(q.index).write(3n);
      expect(GuestRig.readCounter(kick!.fds[0]!)).toBe(3n);
      GuestRig.writeCounter(call!.fds[0]!, 5n);
      expect(rig.callOf(q.index).read()).toBe(5n);
    }
    // One pair: rings 2 and 3 start disabled.
    expect(s.all('SET_VRING_ENABLE').map((m) => decodeVringState(m.payload).num)).toEqual([1, 1, 0, 0]);
  });

  it('VQ_PAIRS_SET on the control queue enables the second pair; the ack is signalled only after the backend has it', async () => {
    // The backend takes its time over SET_VRING_ENABLE until the test lets it answer.
    let release = (): void => {};
    const busy = new Promise<void>((r) => (release = r));
    let holding = false;
    const { rig, s } = await start('mq.sock', { ...SCRIPT, hold: (_s, request) => (holding && request === 'SET_VRING_ENABLE' ? busy : undefined) });
    await rig.activate();
    const from = s.messages.length;
    holding = true;
    rig.postCtrl({ kind: 'mq-vq-pairs-set', pairs: 2 });
    await waitUntil(() => s.messages.length > from, 'the first SET_VRING_ENABLE');
    // The command is executed and its used entry written, but the backend has not acked the
    // enable: the guest must not be told yet (it would send traffic to a ring not yet enabled).
    expect(rig.callOf(rig.ctrlQueue.index).read()).toBeUndefined();
    release();
    expect(await rig.ctrlAck()).toBe(N.VIRTIO_NET_OK);
    holding = false;
    // When the guest saw the interrupt, every enable had reached the backend.
    const enables = s.messages
      .slice(from)
      .filter((m) => m.request === 'SET_VRING_ENABLE')
      .map((m) => decodeVringState(m.payload));
    expect(enables).toEqual([
      { index: 0, num: 1 },
      { index: 1, num: 1 },
      { index: 2, num: 1 },
      { index: 3, num: 1 },
    ]);
    expect(await rig.ctrl({ kind: 'mq-vq-pairs-set', pairs: 1 })).toBe(N.VIRTIO_NET_OK);
    expect(
      s
        .all('SET_VRING_ENABLE')
        .slice(-4)
        .map((m) => decodeVringState(m.payload).num),
    ).toEqual([1, 1, 0, 0]);
  });

  it('reset disables and stops every ring, returns the backend’s next-avail with the used index from guest memory, and SET_STATUS 0', async () => {
    const { dev, rig, s } = await start('reset.sock');
    await rig.activate();
    // The backend used buffers: its used->idx values are in guest memory.
    const used = [5, 9, 0, 65535];
    rig.dataQueues.forEach((q, i) => rig.setUsedIdx(q, used[i]!));
    const from = s.messages.length;
    const states = await dev.reset();
    // The data rings from the backend and guest memory; the control queue (vnic's own, unused) last.
    expect(states).toEqual([...used.map((u, i) => ({ nextAvail: 0x100 + i, nextUsed: u })), { nextAvail: 0, nextUsed: 0 }]);
    // TX rings disabled first: the backend stops taking frames before it stops delivering them.
    expect(ringLog(s, from)).toEqual([
      'SET_VRING_ENABLE 1',
      'SET_VRING_ENABLE 3',
      'SET_VRING_ENABLE 0',
      'SET_VRING_ENABLE 2',
      'GET_VRING_BASE 0',
      'GET_VRING_BASE 1',
      'GET_VRING_BASE 2',
      'GET_VRING_BASE 3',
      'SET_STATUS',
    ]);
    expect(
      s
        .all('SET_VRING_ENABLE')
        .slice(-4)
        .map((m) => decodeVringState(m.payload).num),
    ).toEqual([0, 0, 0, 0]);
    expect(decodeU64(s.all('SET_STATUS').at(-1)!.payload)).toBe(0n);
    expect(dev.activated).toBe(false);
    expect(dev.connected).toBe(true); // a reset keeps the session
    // A new activation programs the rings again on the same connection.
    const again = s.messages.length;
    await rig.activate();
    expect(ringLog(s, again).filter((r) => r.startsWith('SET_VRING_NUM'))).toEqual([
      'SET_VRING_NUM 0',
      'SET_VRING_NUM 1',
      'SET_VRING_NUM 2',
      'SET_VRING_NUM 3',
    ]);
  });

  it('a backend that goes away in the middle of GET_VRING_BASE: reset still completes from the used index, with a warning', async () => {
    const { dev, rig, s } = await start('gone.sock', {
      ...SCRIPT,
      onMessage: (session, request) => (session.n === 0 && request === 'GET_VRING_BASE' ? 'drop' : undefined),
    });
    await rig.activate();
    rig.dataQueues.forEach((q, i) => rig.setUsedIdx(q, 10 + i));
    const warnings: string[] = [];
    dev.events.on('warning', (w) => warnings.push(w));
    const states = await dev.reset();
    expect(states).toEqual([...[10, 11, 12, 13].map((u) => ({ nextAvail: u, nextUsed: u })), { nextAvail: 0, nextUsed: 0 }]);
    expect(s.ended).toBe(true);
    expect(warnings.some((w) => /vu-rig: stopping the vhost-user rings failed, resuming from the used index/.test(w))).toBe(true);
  });

  it('close leaves no fd behind: the socket, the memfd and eventfd copies the backend got, the loop', async () => {
    const before = fdCount.fds();
    const { backend, dev, rig } = await openScriptedNic(suite.path('leak.sock'), SCRIPT);
    await rig.activate();
    expect(await rig.ctrl({ kind: 'mq-vq-pairs-set', pairs: 2 })).toBe(N.VIRTIO_NET_OK);
    await dev.reset();
    await dev.close();
    const s = backend.current!;
    await waitUntil(() => s.ended, 'the backend to see the connection closed');
    expect(dev.connected).toBe(false);
    rig.close();
    backend.stop();
    await waitUntil(() => fdCount.fds() === before, `fds back to ${before} (now ${fdCount.fds()})`);
  });
});
