import { WarningCoalescer } from '@vnic/core';
import { BackendReq, encodeMessage } from '@vnic/vhost-user-protocol';
import { dupFd, EpollLoop, SysError, UnixSocket } from '@vnic/sys';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BackendChannel } from '../connection/BackendChannel.ts';
import { backendChannelHandlers } from './backendChannelHandlers.ts';

// A hostile backend floods the backend channel (a real socketpair, read by a real EpollLoop) with
// CONFIG_CHANGE_MSG. Through the handlers VhostUserNetDevice uses, every message is counted but
// warnings are coalesced: the first at once, then one per window carrying the count, so the
// events add up to exactly the messages sent.

const TOTAL = 100_000;
const BATCH = 500;
const INTERVAL_MS = 200;

const open: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of open.splice(0)) await close();
});

/** Sends `bytes` without blocking the event loop the channel is read on. */
async function sendAll(sock: UnixSocket, bytes: Uint8Array): Promise<void> {
  for (;;) {
    try {
      sock.send(bytes, [], true);
      return;
    } catch (e) {
      if (!(SysError.is(e) && e.code === 'EAGAIN')) throw e;
      await new Promise((r) => setImmediate(r));
    }
  }
}

describe('backend channel flood (vhost-user frontend against a hostile backend)', () => {
  it(`turns ${TOTAL} CONFIG_CHANGE_MSG into a few coalesced warning events whose counts add up`, async () => {
    const loop = new EpollLoop(20);
    const warnings: string[] = [];
    const coalescer = new WarningCoalescer({ emit: (m) => warnings.push(m), intervalMs: INTERVAL_MS });
    let changes = 0;
    const channel = BackendChannel.open(
      loop,
      'flood.sock',
      backendChannelHandlers('net0', coalescer, () => changes++),
    );
    const backend = UnixSocket.fromFd(dupFd(channel.backendFd));
    channel.closeBackendFd();
    open.push(async () => {
      coalescer.dispose();
      channel.close();
      backend.close();
      await loop.close();
    });

    const one = encodeMessage(BackendReq.CONFIG_CHANGE_MSG);
    const batch = new Uint8Array(one.length * BATCH);
    for (let i = 0; i < BATCH; i++) batch.set(one, i * one.length);
    const start = performance.now();
    for (let sent = 0; sent < TOTAL; sent += BATCH) await sendAll(backend, batch);
    await vi.waitFor(() => expect(changes).toBe(TOTAL), { timeout: 20_000, interval: 10 });
    expect(channel.configChanges).toBe(TOTAL);

    // Wait for the last window to close: the events then account for every message.
    // The first warning is one message; each later one stands for the `N more` of its window.
    const counted = (): number => warnings.reduce((n, w) => n + Number(/\((\d+) more in 0\.2 s\)$/.exec(w)?.[1] ?? 1), 0);
    await vi.waitFor(() => expect(counted()).toBe(TOTAL), { timeout: 5000, interval: 20 });
    expect(warnings[0]).toBe("net0: the vhost-user backend reported a config change (CONFIG_CHANGE_MSG); vnic keeps the NIC's config space itself");
    // At most the first plus one per window that passed (and the one closing after the flood).
    expect(warnings.length).toBeLessThanOrEqual(2 + Math.ceil((performance.now() - start) / INTERVAL_MS));
    expect(warnings.length).toBeLessThan(TOTAL / 100);
    expect(warnings.slice(1).every((w) => / \(\d+ more in 0\.2 s\)$/.test(w))).toBe(true);
  });
});
