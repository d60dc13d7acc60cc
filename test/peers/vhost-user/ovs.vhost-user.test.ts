import { VirtioNetDriver } from '@vnic/driver';
import { VhostUserNetDevice, type VhostUserOptions } from '@vnic/vhost-user';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { OUTSIDE_MAC, frameSeq } from '../../conformance/frames.ts';
import { netConfig } from '../../conformance/netConfig.ts';
import { OvsDpdk } from './OvsDpdk.ts';
import { peerMissing, socketDir } from './peerSupport.ts';
import { hexAll, macswapRoundTrip, swapped } from './pmdLoop.ts';

// vnic's vhost-user frontend on a real OVS-DPDK bridge (netdev datapath): one port of each kind,
// each with a reflector flow that sends every frame back out of the port it came in on with the
// MACs exchanged: exactly what testpmd's macswap does, so the same round trip applies.
const skip = peerMissing(OvsDpdk.ensure(), 'OVS-DPDK (openvswitch-switch-dpdk)');
const sockets = socketDir();

function options(socket: string, mode: 'client' | 'server'): VhostUserOptions {
  return { socket, mode, reconnect: true, connectTimeoutMs: 15_000, replyTimeoutMs: 5000 };
}

describe.skipIf(skip)('vhost-user against OVS-DPDK (reflector flow)', () => {
  let ovs: OvsDpdk | undefined;
  const cleanup: (() => Promise<void>)[] = [];
  beforeAll(async () => {
    ovs = await OvsDpdk.start();
  }, 60_000);
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });
  afterAll(async () => {
    await ovs?.stop();
    sockets.remove();
  }, 30_000);

  async function reflectAndCheck(driver: VirtioNetDriver, mac: Uint8Array, port: string): Promise<void> {
    await ovs!.reflect(port, OUTSIDE_MAC, mac);
    const { sent, got } = await macswapRoundTrip(driver, mac, 1, 32, 0, 10_000);
    expect(got.map(frameSeq)).toEqual(sent.map(frameSeq));
    expect(hexAll(got)).toEqual(hexAll(sent.map(swapped)));
    expect(await ovs!.flowPackets(port)).toBeGreaterThanOrEqual(sent.length);
  }

  it('dpdkvhostuser port (OVS listens, vnic connects): frames come back through the flow, payload intact', async () => {
    const path = await ovs!.addVhostUserPort('vhu0');
    const config = netConfig('vhost-user');
    const device = await VhostUserNetDevice.create(config, options(path, 'client'));
    cleanup.push(() => device.close());
    const driver = await VirtioNetDriver.create({ device });
    cleanup.push(() => driver.close());
    await ovs!.waitReady(path);
    await reflectAndCheck(driver, config.mac, 'vhu0');
  }, 60_000);

  it('dpdkvhostuserclient port (vnic listens, OVS connects): frames come back through the flow, payload intact', async () => {
    const path = sockets.path('vhuc1.sock');
    const config = netConfig('vhost-user');
    const creating = VhostUserNetDevice.create(config, options(path, 'server'));
    await ovs!.addVhostUserClientPort('vhuc1', path);
    const device = await creating;
    cleanup.push(() => device.close());
    const driver = await VirtioNetDriver.create({ device });
    cleanup.push(() => driver.close());
    await ovs!.waitReady(path);
    await reflectAndCheck(driver, config.mac, 'vhuc1');
  }, 60_000);
});
