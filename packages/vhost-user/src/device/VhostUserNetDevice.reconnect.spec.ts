import { readlinkSync } from 'node:fs';
import { featureBit, virtio_net as N } from '@vnic/core';
import { fdCount, waitUntil } from '@vnic/sys/testing';
import { decodeU64, decodeVringAddr, decodeVringState } from '@vnic/vhost-user-protocol';
import { describe, expect, it } from 'vitest';
import type { BackendScript, ScriptedSession, ScriptedVhostUserBackend } from './fixtures/ScriptedVhostUserBackend.ts';
import type { VhostUserNetDevice } from './VhostUserNetDevice.ts';
import { BACKEND_OFFER as OFFER, BACKEND_SCRIPT as SCRIPT, GuestRig, openScriptedNic, ringOf, scriptedNicSuite } from './fixtures/vhostUserSpecRig.ts';

// VhostUserNetDevice when its backend goes away and comes back, against a scripted vhost-user
// backend on a real unix socket (no testpmd): the link goes down, the device reconnects (client)
// or takes the next connection (server), re-sends the whole session state (handshake, features,
// status, memory table, every ring restarted from the used index in guest memory, the enables of
// the active pairs) and brings the link up: the guest needs no reset.

const bit = (b: number): bigint => featureBit(b);

const suite = scriptedNicSuite('vnic-vu-reconn-');

interface Started {
  backend: ScriptedVhostUserBackend;
  dev: VhostUserNetDevice;
  rig: GuestRig;
  links: boolean[];
  resets: string[];
}

async function start(name: string, opts: { mode?: 'client' | 'server'; reconnect?: boolean; script?: BackendScript } = {}): Promise<Started> {
  const { backend, dev, rig } = await suite.start(name, opts.script ?? SCRIPT, opts);
  const links: boolean[] = [];
  dev.events.on('link', (up) => links.push(up));
  const resets: string[] = [];
  dev.events.on('needs-reset', (why) => resets.push(why));
  return { backend, dev, rig, links, resets };
}

/** What a session carried after its handshake, in a comparable form (fds by what they point at). */
function sessionState(s: ScriptedSession): Record<string, unknown> {
  const one = (req: string) => s.all(req).map((m) => [ringOf(m), decodeVringState(m.payload).num]);
  return {
    features: s.all('SET_FEATURES').map((m) => decodeU64(m.payload)),
    status: s.all('SET_STATUS').map((m) => Number(decodeU64(m.payload))),
    memTable: s.all('SET_MEM_TABLE').map((m) => ({ bytes: [...m.payload], fds: m.fds.map((fd) => readlinkSync(`/proc/self/fd/${fd}`)) })),
    num: one('SET_VRING_NUM'),
    addr: s.all('SET_VRING_ADDR').map((m) => decodeVringAddr(m.payload)),
    kick: s.all('SET_VRING_KICK').map((m) => [ringOf(m), m.fds.length]),
    call: s.all('SET_VRING_CALL').map((m) => [ringOf(m), m.fds.length]),
  };
}

/** Checks that each ring's kick fd in `s` is the VMM's eventfd (a kick written by the guest is read by the backend). */
function expectKicksReachBackend(s: ScriptedSession, rig: GuestRig): void {
  for (const q of rig.dataQueues) {
    const kick = s.all('SET_VRING_KICK').find((m) => ringOf(m) === q.index)!;
    rig.kickOf(q.index).write(7n);
    expect(GuestRig.readCounter(kick.fds[0]!), `kick of ring ${q.index}`).toBe(7n);
  }
}

/** SET_VRING_ENABLE of rings 0-3 with one pair in use, and with both. */
const ONE_PAIR = [
  [0, 1],
  [1, 1],
  [2, 0],
  [3, 0],
];
const BOTH_PAIRS = [
  [0, 1],
  [1, 1],
  [2, 1],
  [3, 1],
];

const enablesOf = (s: ScriptedSession): number[][] => s.all('SET_VRING_ENABLE').map((m) => [ringOf(m), decodeVringState(m.payload).num]);

describe('VhostUserNetDevice reconnection over a scripted backend', () => {
  it('client: the backend goes away while active; link down, reconnect, the same state re-sent with rings from the used index, link up', async () => {
    const { backend, dev, rig, links, resets } = await start('client.sock');
    await rig.activate();
    expect(await rig.ctrl({ kind: 'mq-vq-pairs-set', pairs: 2 })).toBe(N.VIRTIO_NET_OK);
    const first = backend.current!;
    const generation = dev.configGeneration;
    // The backend used buffers before it died: used->idx is all that is left of its rings.
    const used = [3, 17, 0, 40000];
    rig.dataQueues.forEach((q, i) => rig.setUsedIdx(q, used[i]!));
    const before = sessionState(first); // read before the drop closes the fds it got

    first.drop();
    await waitUntil(() => dev.connections === 2 && dev.connected && dev.linkUp, 'the reconnection');
    const second = backend.current!;
    expect(second).not.toBe(first);
    expect(links).toEqual([false, true]);
    expect(dev.configGeneration).toBeGreaterThanOrEqual(generation + 2); // status changed twice: the guest re-reads it
    expect(resets).toEqual([]);
    // The handshake again, then the whole session as before.
    expect(second.requests.slice(0, 5)).toEqual(['GET_FEATURES', 'GET_PROTOCOL_FEATURES', 'SET_PROTOCOL_FEATURES', 'GET_QUEUE_NUM', 'SET_OWNER']);
    expect(sessionState(second)).toEqual(before);
    // Each ring resumes at the used index the guest memory holds (as QEMU does), not at 0.
    expect(second.all('SET_VRING_BASE').map((m) => [ringOf(m), decodeVringState(m.payload).num])).toEqual(used.map((u, i) => [i, u]));
    // Both pairs were active: every ring is enabled again, then DRIVER_OK.
    expect(enablesOf(second)).toEqual(BOTH_PAIRS);
    expect(second.requests.at(-1)).toBe('SET_STATUS');
    expectKicksReachBackend(second, rig);
    // The control queue still works (vnic serves it; the backend never saw it).
    expect(await rig.ctrl({ kind: 'mq-vq-pairs-set', pairs: 1 })).toBe(N.VIRTIO_NET_OK);
    expect(enablesOf(second).slice(-4)).toEqual(ONE_PAIR);
  });

  it('client: only the active pairs are re-enabled after a reconnection', async () => {
    const { backend, dev, rig } = await start('pairs.sock');
    await rig.activate(); // one pair in use: the guest never sent VQ_PAIRS_SET
    backend.current!.drop();
    await waitUntil(() => dev.connections === 2 && dev.linkUp, 'the reconnection');
    expect(enablesOf(backend.current!)).toEqual(ONE_PAIR);
  });

  it('client: activation while the backend is gone succeeds; the rings start when it is back', async () => {
    const { backend, dev, rig } = await start('later.sock');
    backend.stop(); // no listener, no socket file
    await waitUntil(() => !dev.connected, 'the device to notice');
    await rig.activate();
    expect(dev.activated).toBe(true);
    rig.setUsedIdx(rig.dataQueues[1]!, 12);
    backend.listen(); // the socket file appears: the device retries at once
    await waitUntil(() => dev.connected && dev.linkUp, 'the reconnection');
    const s = backend.current!;
    expect(s.all('SET_MEM_TABLE')).toHaveLength(1);
    expect(s.all('SET_VRING_BASE').map((m) => [ringOf(m), decodeVringState(m.payload).num])).toEqual([
      [0, 0],
      [1, 12],
      [2, 0],
      [3, 0],
    ]);
    expectKicksReachBackend(s, rig);
  });

  it('client: a reconnected backend that lacks a feature the guest acked is refused: needs-reset, link stays down', async () => {
    const { backend, dev, rig, resets } = await start('lacks.sock', {
      script: { ...SCRIPT, features: (n) => (n === 0 ? OFFER : OFFER & ~bit(N.VIRTIO_NET_F_MRG_RXBUF)) },
    });
    await rig.activate();
    backend.current!.drop();
    await waitUntil(() => resets.length > 0, 'needs-reset');
    expect(resets[0]).toMatch(
      new RegExp(`vu-rig: the reconnected vhost-user backend lacks features 0x${bit(N.VIRTIO_NET_F_MRG_RXBUF).toString(16)} the guest acked`),
    );
    expect(dev.connected).toBe(false);
    expect(dev.linkUp).toBe(false);
    // It never got rings: the refusal came right after the handshake.
    expect(backend.sessions.slice(1).flatMap((s) => s.requests.filter((r) => r.startsWith('SET_VRING') || r === 'SET_MEM_TABLE'))).toEqual([]);
  });

  it('server: the backend reconnects to the device and gets the session back', async () => {
    const { backend, dev, rig, links } = await start('server.sock', { mode: 'server' });
    await rig.activate();
    const first = backend.current!;
    rig.setUsedIdx(rig.dataQueues[0]!, 9);
    const before = sessionState(first);
    first.drop();
    await waitUntil(() => !dev.connected, 'the device to notice');
    backend.connect();
    await waitUntil(() => dev.connected && dev.linkUp, 'the session to come back');
    const second = backend.current!;
    expect(dev.connections).toBe(2);
    expect(links).toEqual([false, true]);
    expect(sessionState(second)).toEqual(before);
    expect(second.all('SET_VRING_BASE').map((m) => decodeVringState(m.payload).num)).toEqual([9, 0, 0, 0]);
    expectKicksReachBackend(second, rig);
  });

  it('reconnect off: a backend lost while active raises needs-reset, and no reconnection is tried', async () => {
    const { backend, dev, rig, resets, links } = await start('off.sock', { reconnect: false });
    await rig.activate();
    backend.current!.drop();
    await waitUntil(() => resets.length > 0, 'needs-reset');
    expect(resets[0]).toMatch(/vu-rig: vhost-user backend .*off\.sock went away \(reconnect is off\)/);
    expect(links).toEqual([false]);
    expect(backend.sessions).toHaveLength(1);
    expect(dev.connections).toBe(1);
  });

  it('close while reconnecting stops the retries and leaves no fd behind', async () => {
    const before = fdCount.fds();
    const { backend, dev, rig } = await openScriptedNic(suite.path('closing.sock'), SCRIPT);
    await rig.activate();
    backend.stop(); // gone: the device retries (backoff + a watch on the socket's directory)
    await waitUntil(() => !dev.connected, 'the device to notice');
    await dev.close();
    rig.close();
    await waitUntil(() => fdCount.fds() === before, `fds back to ${before} (now ${fdCount.fds()})`);
    expect(dev.connections).toBe(1);
    expect(backend.sessions).toHaveLength(1);
  });
});
