import { readdirSync } from 'node:fs';
import { testNetConfig } from '@vnic/core/testing';
import { VIRTIO_MMIO_STATUS, VirtioMmioTransport, type NetDeviceConfig } from '@vnic/core';
import { VirtioNetDriver, type QueueEventFds } from '@vnic/driver';
import { EventFd, MemfdGuestMemory } from '@vnic/sys';
import { describe, expect, it } from 'vitest';
import { isTestFrame, testFrame } from '../conformance/frames.ts';
import { LoopbackDevice } from '../conformance/LoopbackDevice.ts';

const config: NetDeviceConfig = testNetConfig({ id: 'att0', backend: 'loopback', mac: Uint8Array.of(0x52, 0x54, 0, 0, 0xa7, 1), queuePairs: 2, queueSize: 64 });

/** What a VMM owns: RAM, per-queue eventfds, a transport with QueueNotify forwarded to the kick fds. */
function vmm(device: LoopbackDevice) {
  const need = VirtioNetDriver.guestMemoryBytes({ queuePairs: 2, queueSize: 64 });
  const ram = MemfdGuestMemory.create({ regions: [{ guestPhysAddr: 0x4000_0000, size: (8 << 20) + need }], name: 'attach-test' });
  const fds = new Map<number, QueueEventFds>();
  for (let q = 0; q < device.numQueues; q++) fds.set(q, { kick: EventFd.create({ nonBlocking: true }), call: EventFd.create({ nonBlocking: true }) });
  const notified: number[] = [];
  const transport = new VirtioMmioTransport(device, {
    memory: ram.layout,
    queueEventFds: (q) => ({ kickFd: fds.get(q)!.kick.fd, callFd: fds.get(q)!.call.fd }),
    onQueueNotify: (q) => {
      notified.push(q);
      fds.get(q)!.kick.write(1n);
    },
  });
  return {
    ram,
    fds,
    transport,
    notified,
    ramArea: { base: 0x4000_0000 + (8 << 20), size: need },
    close(): void {
      transport.close();
      for (const f of fds.values()) {
        f.kick.close();
        f.call.close();
      }
      ram.close();
    },
  };
}

describe('VirtioNetDriver.attach (the guest inside a VMM that owns memory, eventfds and transport)', () => {
  it("drives a device through the VMM's window, leaves the VMM's resources open on close, and can attach again", async () => {
    const fdsBefore = readdirSync('/proc/self/fd').length;
    const device = new LoopbackDevice(config);
    const v = vmm(device);
    try {
      for (const notify of ['mmio', 'eventfd'] as const) {
        const driver = await VirtioNetDriver.attach({
          mmio: v.transport,
          memory: v.ram.memory,
          ram: v.ramArea,
          eventFds: (q) => v.fds.get(q)!,
          notify,
          device,
        });
        expect(driver.transport).toBeUndefined();
        expect(driver.guestMemory).toBeUndefined();
        expect(driver.queuePairs).toBe(2);
        expect(device.activated).toBe(true);
        // frames both ways, rings and buffers inside the area the VMM gave it
        const out = testFrame(Uint8Array.of(2, 0, 0, 0, 0, 9), config.mac, 1, 200);
        expect(driver.send(out)).toBe(true);
        expect((await device.waitFromGuest(1)).filter(isTestFrame).map((f) => [...f])).toEqual([[...out]]);
        const inbound = testFrame(config.mac, Uint8Array.of(2, 0, 0, 0, 0, 9), 2, 300);
        device.toGuest(inbound);
        expect([...(await driver.receiveAny(2000))!.frame]).toEqual([...inbound]);
        if (notify === 'mmio') expect(v.notified.length).toBeGreaterThan(0);
        await driver.close();
        expect(device.activated).toBe(false); // status 0 went through the window
        expect(v.transport.read(VIRTIO_MMIO_STATUS, 4)).toBe(0);
        for (const f of v.fds.values()) expect(f.kick.closed || f.call.closed).toBe(false);
        expect(v.ram.closed).toBe(false);
      }
    } finally {
      await device.close();
      v.close();
    }
    expect(readdirSync('/proc/self/fd').length).toBe(fdsBefore);
  });

  it('refuses a RAM area outside guest memory, and queue pairs beyond the device', async () => {
    const device = new LoopbackDevice(config);
    const v = vmm(device);
    try {
      const base = { mmio: v.transport, memory: v.ram.memory, eventFds: (q: number) => v.fds.get(q)!, device };
      await expect(VirtioNetDriver.attach({ ...base, ram: { base: 0, size: 4096 } })).rejects.toThrow(
        /driver RAM 0x0\+0x1000 is not inside one guest memory region/,
      );
      await expect(VirtioNetDriver.attach({ ...base, ram: v.ramArea, queuePairs: 3 })).rejects.toThrow(/queuePairs 3 is outside 1\.\.2/);
      expect(device.activated).toBe(false);
    } finally {
      await device.close();
      v.close();
    }
  });
});
