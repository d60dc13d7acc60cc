import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { featureBit, hasFeature, VIRTIO_F_VERSION_1, virtio_net, type NetDeviceConfig } from '@vnic/core';
import { EventFd, UnixSocket } from '@vnic/sys';
import { encodeMessage, encodeU64, FrontendReq } from '@vnic/vhost-user-protocol';
import { VHOST_USER_REPLY_MASK } from '@vnic/vhost-user-protocol/vhost_user';
import { MessageReframer } from '@vnic/vhost-user-protocol/testing';
import { testNetConfig } from '@vnic/core/testing';
import { waitUntil } from '@vnic/sys/testing';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { VhostUserNetDevice } from './VhostUserNetDevice.ts';

// A scripted vhost-user backend over a real unix socket (no testpmd): it answers GET_FEATURES
// with a fixed offer WITHOUT VHOST_USER_F_PROTOCOL_FEATURES (so the handshake is GET_FEATURES +
// SET_OWNER), records every request by name, and can drop the connection to test reconnect.
const OFFER = featureBit(VIRTIO_F_VERSION_1) | featureBit(virtio_net.VIRTIO_NET_F_MRG_RXBUF) | featureBit(virtio_net.VIRTIO_NET_F_CSUM);

const dir = mkdtempSync(join(tmpdir(), 'vnic-vu-dev-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

class ScriptedBackend {
  readonly listener: UnixSocket;
  readonly requests: string[][] = [];
  readonly conns: UnixSocket[] = [];
  #closed = false;

  constructor(readonly path: string) {
    this.listener = UnixSocket.listen(path);
    void this.#acceptLoop();
  }

  async #acceptLoop(): Promise<void> {
    while (!this.#closed) {
      let s: UnixSocket;
      try {
        s = await this.listener.acceptAsync();
      } catch {
        return;
      }
      this.conns.push(s);
      const seen: string[] = [];
      this.requests.push(seen);
      void this.#serve(s, seen);
    }
  }

  async #serve(s: UnixSocket, seen: string[]): Promise<void> {
    const reframer = new MessageReframer();
    for (;;) {
      let r;
      try {
        r = await s.recvAsync(65536);
      } catch {
        seen.push('EOF');
        return;
      }
      for (const fd of r.fds) EventFd.fromFd(fd).close();
      if (r.data.length === 0) {
        seen.push('EOF');
        return;
      }
      for (const h of reframer.push(r.data)) {
        seen.push(FrontendReq[h.request] ?? String(h.request));
        if ((h.request as FrontendReq) === FrontendReq.GET_FEATURES) {
          const m = encodeMessage(FrontendReq.GET_FEATURES, encodeU64(OFFER));
          new DataView(m.buffer).setUint32(4, 0x1 | VHOST_USER_REPLY_MASK, true);
          s.send(m, []);
        }
      }
    }
  }

  /** Drops the current connection (the backend "crashes"). */
  dropCurrent(): void {
    this.conns.at(-1)?.close();
  }

  close(): void {
    this.#closed = true;
    for (const c of this.conns) c.close();
    this.listener.close();
  }
}

function config(): NetDeviceConfig {
  return testNetConfig({ id: 'vu0', backend: 'vhost-user', mac: Uint8Array.of(0x52, 0x54, 0, 0x7e, 0x40, 1), mtu: 1500 });
}

const until = waitUntil;

const open: { close(): unknown }[] = [];
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});

function options(path: string, reconnect = true) {
  return { socket: path, mode: 'client' as const, reconnect, connectTimeoutMs: 2000, replyTimeoutMs: 2000 };
}

describe('VhostUserNetDevice against a scripted backend (no testpmd)', () => {
  it('creates over the handshake, masks the offer with the backend features, and closes the connection', async () => {
    const backend = new ScriptedBackend(join(dir, 'a.sock'));
    open.push(backend);
    const dev = await VhostUserNetDevice.create(config(), options(backend.path));
    await until(() => backend.requests[0]!.length >= 2, 'SET_OWNER to reach the backend');
    expect(backend.requests[0]!.slice(0, 2)).toEqual(['GET_FEATURES', 'SET_OWNER']);
    expect(dev.handshake).toEqual({ features: OFFER, protocolFeatures: 0n, queueNum: 1 });
    expect(dev.connected).toBe(true);
    expect(dev.connections).toBe(1);
    // The backend offered CSUM but not GUEST_CSUM: the device offers CSUM only.
    expect(hasFeature(dev.deviceFeatures, virtio_net.VIRTIO_NET_F_CSUM)).toBe(true);
    expect(hasFeature(dev.deviceFeatures, virtio_net.VIRTIO_NET_F_GUEST_CSUM)).toBe(false);
    expect(hasFeature(dev.deviceFeatures, virtio_net.VIRTIO_NET_F_CTRL_VQ)).toBe(true); // vnic's own
    await dev.close();
    await until(() => backend.requests[0]!.includes('EOF'), 'the backend to see the connection closed');
    expect(dev.connected).toBe(false);
  });

  it('reset before activation answers no ring state and keeps the connection', async () => {
    const backend = new ScriptedBackend(join(dir, 'b.sock'));
    open.push(backend);
    const dev = await VhostUserNetDevice.create(config(), options(backend.path));
    open.push(dev);
    expect(dev.setDriverFeatures(dev.deviceFeatures)).toBe(true);
    expect(await dev.reset()).toEqual([]);
    expect(dev.ackedFeatures).toBe(0n);
    expect(dev.connected).toBe(true);
  });

  it('reconnects after the backend drops the connection and redoes the handshake', async () => {
    const backend = new ScriptedBackend(join(dir, 'c.sock'));
    open.push(backend);
    const dev = await VhostUserNetDevice.create(config(), options(backend.path));
    open.push(dev);
    const warnings: string[] = [];
    dev.events.on('warning', (w) => warnings.push(w));
    backend.dropCurrent();
    await until(() => dev.connections === 2 && dev.connected, 'the second connection');
    expect(backend.requests).toHaveLength(2);
    await until(() => backend.requests[1]!.length >= 2, 'SET_OWNER on the new connection');
    expect(backend.requests[1]!.slice(0, 2)).toEqual(['GET_FEATURES', 'SET_OWNER']);
    expect(warnings.some((w) => /vu0: vhost-user backend lost/.test(w))).toBe(true);
  });

  it('with reconnect off, a lost backend stays lost', async () => {
    const backend = new ScriptedBackend(join(dir, 'd.sock'));
    open.push(backend);
    const dev = await VhostUserNetDevice.create(config(), options(backend.path, false));
    open.push(dev);
    backend.dropCurrent();
    await until(() => !dev.connected, 'the device to notice the lost backend');
    expect(backend.requests).toHaveLength(1);
    expect(dev.connections).toBe(1);
  });
});
