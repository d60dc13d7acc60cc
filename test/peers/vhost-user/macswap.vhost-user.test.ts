import { readdirSync } from 'node:fs';
import { VirtioNetDriver } from '@vnic/driver';
import { VHOST_USER_PROTOCOL_F_BACKEND_REQ, VhostUserNetDevice, type VhostUserOptions } from '@vnic/vhost-user';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { frameSeq } from '../../conformance/frames.ts';
import { netConfig } from '../../conformance/netConfig.ts';
import { awaitFlowing, hexAll, macswapRoundTrip, swapped } from './pmdLoop.ts';
import { Testpmd } from '@vnic/cli';
import { peerMissing, socketDir } from './peerSupport.ts';

const missing = Testpmd.ensure();
const skip = peerMissing(missing);
const sockets = socketDir();
afterAll(() => sockets.remove());

function options(socket: string, over: Partial<VhostUserOptions> = {}): VhostUserOptions {
  return { socket, mode: 'client', reconnect: true, connectTimeoutMs: 5000, replyTimeoutMs: 2000, ...over };
}

describe.skipIf(skip)('vhost-user against DPDK testpmd (macswap loopback)', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  async function roundTrip(driver: VirtioNetDriver, mac: Uint8Array, seq0: number, count: number, queuePair = 0): Promise<void> {
    const { sent, got } = await macswapRoundTrip(driver, mac, seq0, count, queuePair);
    expect(got.map(frameSeq)).toEqual(sent.map(frameSeq));
    expect(hexAll(got)).toEqual(hexAll(sent.map(swapped)));
  }

  for (const mode of ['client', 'server'] as const) {
    it(`frames come back with MACs swapped, payload intact (${mode} socket mode)`, async () => {
      const sock = sockets.path(`m-${mode}.sock`);
      const startPmd = (): Promise<Testpmd> => Testpmd.start({ socket: sock, client: mode === 'server' });
      let pmd: Testpmd | undefined = mode === 'client' ? await startPmd() : undefined;
      const config = netConfig('vhost-user');
      const creating = VhostUserNetDevice.create(config, options(sock, { mode }));
      if (mode === 'server') {
        // vnic listens first; testpmd (client=1) connects to it.
        while (!readdirSync(sockets.dir).includes(`m-${mode}.sock`)) await new Promise((r) => setTimeout(r, 10));
        pmd = await startPmd();
      }
      const device = await creating;
      cleanup.push(async () => {
        await device.close();
        await pmd!.stop();
      });
      expect(device.handshake.features & (1n << 30n)).not.toBe(0n);
      // The backend-initiated channel: negotiated (testpmd offers BACKEND_REQ) and handed over.
      expect(device.handshake.protocolFeatures & (1n << BigInt(VHOST_USER_PROTOCOL_F_BACKEND_REQ))).not.toBe(0n);
      expect(device.backendChannelOpen).toBe(true);
      await pmd!.waitFor('read message VHOST_USER_SET_SLAVE_REQ_FD');
      const driver = await VirtioNetDriver.create({ device });
      cleanup.push(() => driver.close());
      expect(device.activated).toBe(true);
      await pmd!.waitForwarding();
      await pmd!.waitReady(sock);
      await awaitFlowing(driver, config.mac);
      await roundTrip(driver, config.mac, 1, 32);
      const states = await device.reset();
      expect(states.length).toBeGreaterThanOrEqual(2);
      expect(states[1]!.nextAvail).toBe(states[1]!.nextUsed);
    });
  }

  it('two queue pairs: VQ_PAIRS_SET enables pair 1 in the backend, frames loop on both pairs', async () => {
    const sock = sockets.path('mq.sock');
    const pmd = await Testpmd.start({ socket: sock, queues: 2 });
    const config = netConfig('vhost-user', { queuePairs: 2 });
    const device = await VhostUserNetDevice.create(config, options(sock));
    cleanup.push(async () => {
      await device.close();
      await pmd.stop();
    });
    // DPDK 22.11 answers GET_QUEUE_NUM with its compile-time maximum (128 pairs), not the port's queues=.
    expect(device.handshake.queueNum).toBeGreaterThanOrEqual(2);
    expect(device.queuePairs).toBe(2);
    const driver = await VirtioNetDriver.create({ device, queuePairs: 2 });
    cleanup.push(() => driver.close());
    expect(device.ctrlState.activePairs).toBe(2);
    await pmd.waitForwarding();
    await pmd.waitReady(sock);
    await pmd.waitFor('set queue enable: 1 to qp idx: 3');
    await awaitFlowing(driver, config.mac, 0);
    await awaitFlowing(driver, config.mac, 1);
    await roundTrip(driver, config.mac, 100, 16, 0);
    await roundTrip(driver, config.mac, 200, 16, 1);
  });

  it('refuses more queue pairs than GET_QUEUE_NUM allows, naming both numbers', async () => {
    const sock = sockets.path('mq1.sock');
    const pmd = await Testpmd.start({ socket: sock, queues: 1 });
    cleanup.push(() => pmd.stop());
    const n = 200; // above DPDK's 128
    await expect(VhostUserNetDevice.create(netConfig('vhost-user', { queuePairs: n }), options(sock))).rejects.toMatchObject({
      kind: 'unsupported',
      message: expect.stringMatching(new RegExp(`supports \\d+ queue pair\\(s\\) \\(GET_QUEUE_NUM\\), the config asks for ${n}`)),
    });
  });

  it('fails with `unavailable` when no backend listens', async () => {
    // The message names the 200 ms connect timeout that ended the wait (no wall-clock bound).
    await expect(VhostUserNetDevice.create(netConfig('vhost-user'), options(sockets.path('nobody.sock'), { connectTimeoutMs: 200 }))).rejects.toMatchObject({
      kind: 'unavailable',
      message: expect.stringMatching(/no backend is listening \(ENOENT\) after 200 ms/),
    });
  });
});
