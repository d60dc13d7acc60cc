import { VirtioMmioTransport } from '@vnic/core';
import { EventFd, MemfdGuestMemory } from '@vnic/sys';
import { DriverError } from './DriverError.ts';
import type { DriverStart } from './DriverStart.ts';
import { driverGuestMemoryBytes } from './driverGuestMemoryBytes.ts';
import type { QueueEventFds } from './QueueEventFds.ts';
import type { VirtioNetDriverOptions } from './VirtioNetDriverOptions.ts';

/**
 * The VMM around the guest for VirtioNetDriver.create(): checks the queue pairs and size against
 * the device, allocates memfd guest RAM (sized for the worst case, sparse), one kick and one call
 * eventfd per queue (made when the transport first asks for them) and a VirtioMmioTransport over
 * the device. Everything is released again if a step fails, and by `release()` afterwards.
 */
export function createVmmHarness(options: VirtioNetDriverOptions): DriverStart {
  const device = options.device;
  const pairsMax = device.queuePairs;
  const wantPairs = options.queuePairs ?? pairsMax;
  if (!Number.isInteger(wantPairs) || wantPairs < 1 || wantPairs > pairsMax) {
    throw new DriverError('invalid-argument', `queuePairs ${wantPairs} is outside 1..${pairsMax} (the device's maximum)`);
  }
  const size = options.queueSize ?? Math.min(256, device.queueMaxSize);
  if (size < 2 || size > device.queueMaxSize || (size & (size - 1)) !== 0) {
    throw new DriverError('invalid-argument', `queueSize ${size} must be a power of two between 2 and ${device.queueMaxSize}`);
  }
  // Guest RAM sized for the worst case; memfd pages are only allocated when touched.
  const memoryBytes = driverGuestMemoryBytes({ queuePairs: wantPairs, queueSize: size });
  const place = options.placement ?? { guestPhysAddr: 0, size: memoryBytes };
  const ramBase = place.ramBase ?? place.guestPhysAddr;
  if (!(ramBase >= place.guestPhysAddr && ramBase < place.guestPhysAddr + place.size)) {
    throw new DriverError(
      'invalid-argument',
      `placement.ramBase 0x${ramBase.toString(16)} is outside the region 0x${place.guestPhysAddr.toString(16)}+0x${place.size.toString(16)}`,
    );
  }
  const ram = { base: ramBase, size: place.guestPhysAddr + place.size - ramBase };
  const guestMemory = MemfdGuestMemory.create({ regions: [{ guestPhysAddr: place.guestPhysAddr, size: place.size }], name: `vnic-driver-${device.id}` });
  const fds = new Map<number, QueueEventFds>();
  const fdsOf = (i: number): QueueEventFds => {
    let f = fds.get(i);
    if (f === undefined) {
      const kick = EventFd.create({ nonBlocking: true });
      try {
        f = { kick, call: EventFd.create({ nonBlocking: true }) };
      } catch (err) {
        kick.close();
        throw err;
      }
      fds.set(i, f);
    }
    return f;
  };
  const interruptCounter = { n: 0 };
  let transport: VirtioMmioTransport | undefined;
  const release = (): void => {
    transport?.close();
    for (const f of fds.values()) {
      f.kick.close();
      f.call.close();
    }
    fds.clear();
    guestMemory.close();
  };
  try {
    transport = new VirtioMmioTransport(device, {
      memory: guestMemory.layout,
      queueEventFds: (i) => {
        const { kick, call } = fdsOf(i);
        return { kickFd: kick.fd, callFd: call.fd };
      },
      onQueueNotify: (i) => fdsOf(i).kick.write(1n),
      onInterrupt: () => {
        interruptCounter.n++;
      },
    });
  } catch (err) {
    release();
    throw err;
  }
  return {
    mmio: transport,
    memory: guestMemory.memory,
    ram,
    eventFds: fdsOf,
    notify: 'eventfd',
    device,
    name: device.id,
    tuning: { ...options, queuePairs: wantPairs, queueSize: size },
    transport,
    guestMemory,
    interruptCounter,
    release,
  };
}
