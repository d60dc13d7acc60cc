import { existsSync, readdirSync, rmSync } from 'node:fs';
import { virtio_net } from '@vnic/core';
import { VirtioNetDriver } from '@vnic/driver';
import { VhostUserNetDevice } from '@vnic/vhost-user';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { frameSeq } from '../../conformance/frames.ts';
import { netConfig } from '../../conformance/netConfig.ts';
import { awaitFlowing, hexAll, macswapRoundTrip, swapped } from './pmdLoop.ts';
import { Testpmd } from '@vnic/cli';
import { peerMissing, socketDir } from './peerSupport.ts';

const skip = peerMissing(Testpmd.ensure());
const sockets = socketDir();
afterAll(() => sockets.remove());
const fdCount = (): number => readdirSync('/proc/self/fd').length;

async function until(what: string, cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe.skipIf(skip)('vhost-user reconnect: testpmd killed mid-traffic and restarted', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  for (const [mode, restarts] of [
    ['client', 20],
    ['server', 5],
  ] as const) {
    it(`${mode} mode: link down, backoff, replay, link up, traffic resumes; no fd leaked over ${restarts} restarts`, async () => {
      const sock = sockets.path(`re-${mode}.sock`);
      const start = (): Promise<Testpmd> => Testpmd.start({ socket: sock, client: mode === 'server' });
      let pmd: Testpmd | undefined = mode === 'client' ? await start() : undefined;
      const config = netConfig('vhost-user');
      const creating = VhostUserNetDevice.create(config, { socket: sock, mode, reconnect: true, connectTimeoutMs: 10_000, replyTimeoutMs: 2000 });
      if (mode === 'server') {
        await until('the listening socket', () => existsSync(sock));
        pmd = await start();
      }
      const device = await creating;
      cleanup.push(async () => {
        await device.close();
        await pmd?.stop();
      });
      const links: boolean[] = [];
      device.events.on('link', (up) => links.push(up));
      const driver = await VirtioNetDriver.create({ device });
      cleanup.push(() => driver.close());
      await pmd!.waitForwarding();
      await pmd!.waitReady(sock);
      await awaitFlowing(driver, config.mac);
      let seq = 1;
      const check = async (): Promise<void> => {
        const { sent, got } = await macswapRoundTrip(driver, config.mac, seq, 8);
        seq += 8;
        expect(got.map(frameSeq)).toEqual(sent.map(frameSeq));
        expect(hexAll(got)).toEqual(hexAll(sent.map(swapped)));
      };
      await check();

      let fdsAfterFirst = 0;
      const t0 = Date.now();
      for (let i = 0; i < restarts; i++) {
        // Traffic in flight, then the backend dies without any goodbye.
        for (let k = 0; k < 8; k++) driver.send(new Uint8Array(60).fill(k), { kick: true });
        await pmd!.kill();
        if (mode === 'client') rmSync(sock, { force: true }); // a killed server leaves its socket file behind
        await until('link down', () => !device.linkUp);
        expect(driver.readConfig().status & virtio_net.VIRTIO_NET_S_LINK_UP).toBe(0);
        const before = device.connections;
        pmd = await start();
        await until('link up again', () => device.linkUp && device.connections === before + 1);
        expect(device.activated).toBe(true); // never re-activated: the same driver keeps going
        await pmd.waitForwarding();
        await pmd.waitReady(sock);
        await awaitFlowing(driver, config.mac); // DPDK drops frames while the port comes up
        await check();
        if (i === 0) fdsAfterFirst = fdCount();
      }
      const perRestart = (Date.now() - t0) / restarts;
      console.log(`[vhost-user ${mode}] ${restarts} restarts, ${perRestart.toFixed(0)} ms each (kill, reconnect, replay, traffic check)`);
      expect(fdCount()).toBe(fdsAfterFirst);
      expect(links.filter((u) => !u).length).toBe(restarts);
      expect(links.filter((u) => u).length).toBe(restarts);
    }, 120_000);
  }

  it('with reconnect off, a lost backend means link down and NEEDS_RESET', async () => {
    const sock = sockets.path('noreconnect.sock');
    const pmd = await Testpmd.start({ socket: sock });
    const device = await VhostUserNetDevice.create(netConfig('vhost-user'), {
      socket: sock,
      mode: 'client',
      reconnect: false,
      connectTimeoutMs: 5000,
      replyTimeoutMs: 2000,
    });
    cleanup.push(async () => {
      await device.close();
      await pmd.stop();
    });
    const reasons: string[] = [];
    device.events.on('needs-reset', (why) => reasons.push(why));
    const driver = await VirtioNetDriver.create({ device });
    cleanup.push(() => driver.close());
    await pmd.kill();
    await until('needs-reset', () => reasons.length > 0);
    expect(device.linkUp).toBe(false);
    expect(reasons[0]).toMatch(/went away \(reconnect is off\)/);
    expect(device.connected).toBe(false);
  });
});
