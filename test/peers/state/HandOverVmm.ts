import { VirtioMmioTransport, type NetDeviceState, type RestoreContext, type VirtioNetDevice } from '@vnic/core';
import { VirtioNetDriver, type QueueEventFds, type VirtioNetDriverTuning } from '@vnic/driver';
import { closeFd, dupFd, EventFd, MemfdGuestMemory } from '@vnic/sys';

/** Builds the next device from a saved state itself (e.g. createNetDevices with `restore`). */
export type RestoreInto = (state: unknown, ctx: RestoreContext) => Promise<VirtioNetDevice>;

/**
 * The VMM side of a device hand-over, for the state tests: it owns guest memory (memfd), the
 * kick/call eventfds and a virtio-mmio transport, and runs a VirtioNetDriver (the guest) attached
 * through a window that follows the current transport. `handOver(next)` does what a VMM restoring
 * a snapshot does for one NIC: saveState() on the old device, the state through JSON (as a file
 * would carry it), restoreState() on `next` with the same memory and NEW eventfds (a new process
 * has new ones), and a transport over `next`. The guest's driver, rings and buffers stay as they are.
 */
export class HandOverVmm {
  readonly guestMemory: MemfdGuestMemory;
  readonly driver: VirtioNetDriver;
  #device: VirtioNetDevice;
  /** The transport the driver's MMIO window goes to (replaced by handOver). */
  readonly #current: { transport: VirtioMmioTransport };
  readonly #fds: Map<number, QueueEventFds>;

  private constructor(
    guestMemory: MemfdGuestMemory,
    device: VirtioNetDevice,
    current: { transport: VirtioMmioTransport },
    fds: Map<number, QueueEventFds>,
    driver: VirtioNetDriver,
  ) {
    this.guestMemory = guestMemory;
    this.#device = device;
    this.#current = current;
    this.#fds = fds;
    this.driver = driver;
  }

  /** Guest memory, eventfds and a transport over `device`; the driver brings it up to DRIVER_OK. */
  static async start(device: VirtioNetDevice, tuning: VirtioNetDriverTuning = {}): Promise<HandOverVmm> {
    const bytes = VirtioNetDriver.guestMemoryBytes({ queuePairs: tuning.queuePairs ?? device.queuePairs, queueSize: tuning.queueSize ?? 256 });
    const guestMemory = MemfdGuestMemory.create({ regions: [{ guestPhysAddr: 0, size: bytes }], name: `vnic-state-${device.id}` });
    const fds = new Map<number, QueueEventFds>();
    const current = { transport: HandOverVmm.#transportFor(device, guestMemory, fds) };
    try {
      const driver = await VirtioNetDriver.attach({
        ...tuning,
        mmio: {
          read: (o, s) => current.transport.read(o, s),
          write: (o, s, v) => current.transport.write(o, s, v),
          settled: () => current.transport.settled(),
        },
        memory: guestMemory.memory,
        eventFds: (i) => eventFdsOf(fds, i),
        device,
      });
      return new HandOverVmm(guestMemory, device, current, fds, driver);
    } catch (e) {
      current.transport.close();
      closeFds(fds);
      guestMemory.close();
      throw e;
    }
  }

  /** The device the guest runs on now. */
  get device(): VirtioNetDevice {
    return this.#device;
  }

  /**
   * Saves the current device's state and restores `next` (a device, or a function that builds
   * one from the state and the RestoreContext) from its JSON text (`edit` may change
   * it first) with the same guest memory and, per queue, other fd numbers for the same eventfds
   * (dup: what a new process gets for the ioeventfd/irqfd the guest's notifications go through).
   * Returns the state. The old device is quiesced, not closed (the caller closes it); on failure
   * the guest stays on the old device, quiesced, and nothing of the attempt is left open.
   */
  async handOver(next: VirtioNetDevice | RestoreInto, edit?: (state: NetDeviceState) => unknown): Promise<NetDeviceState> {
    const state = await this.#device.saveState();
    await this.restoreFrom(JSON.stringify(edit === undefined ? state : edit(state)), next);
    return state;
  }

  /**
   * The second half of handOver: restores `next` from a saved state's JSON text (one saved
   * elsewhere, e.g. by a device in another process) with the same guest memory and dup'ed eventfds,
   * and moves the driver's MMIO window to it. On failure nothing of the attempt is left open.
   */
  async restoreFrom(json: string, next: VirtioNetDevice | RestoreInto): Promise<void> {
    // Eventfds for every queue the text names (what a VMM reads from the state it restores).
    const saved = (JSON.parse(json) as { queues?: unknown }).queues;
    const indices = Array.isArray(saved) ? saved.map((q) => (q as { index: number }).index) : [];
    const dups: number[] = [];
    let device = next as VirtioNetDevice;
    try {
      const queues = indices.map((index) => {
        const f = eventFdsOf(this.#fds, index);
        const kickFd = dupFd(f.kick.fd);
        dups.push(kickFd);
        const callFd = dupFd(f.call.fd);
        dups.push(callFd);
        return { index, kickFd, callFd };
      });
      const ctx = { memory: this.guestMemory.layout, queues };
      if (typeof next === 'function') device = await next(JSON.parse(json), ctx);
      else await next.restoreState(JSON.parse(json), ctx);
    } catch (e) {
      for (const fd of dups) closeFd(fd);
      throw e;
    }
    this.#current.transport.close();
    this.#current.transport = HandOverVmm.#transportFor(device, this.guestMemory, this.#fds);
    this.#device = device;
    this.#dups.push(...dups);
  }

  /** The VMM's kick and call eventfds of queue `index` (owned by this object: what a device process inherits). */
  queueFds(index: number): { readonly kickFd: number; readonly callFd: number } {
    const f = eventFdsOf(this.#fds, index);
    return { kickFd: f.kick.fd, callFd: f.call.fd };
  }

  readonly #dups: number[] = [];

  /** Resets the device through the driver, closes the driver, the transport, the eventfds and guest memory. */
  async close(): Promise<void> {
    try {
      await this.driver.close();
    } finally {
      this.#current.transport.close();
      closeFds(this.#fds);
      for (const fd of this.#dups.splice(0)) closeFd(fd);
      this.guestMemory.close();
    }
  }

  static #transportFor(device: VirtioNetDevice, guestMemory: MemfdGuestMemory, fds: Map<number, QueueEventFds>): VirtioMmioTransport {
    return new VirtioMmioTransport(device, {
      memory: guestMemory.layout,
      queueEventFds: (i) => {
        const f = eventFdsOf(fds, i);
        return { kickFd: f.kick.fd, callFd: f.call.fd };
      },
    });
  }
}

function eventFdsOf(fds: Map<number, QueueEventFds>, i: number): QueueEventFds {
  let f = fds.get(i);
  if (f === undefined) {
    const kick = EventFd.create({ nonBlocking: true });
    try {
      f = { kick, call: EventFd.create({ nonBlocking: true }) };
    } catch (e) {
      kick.close();
      throw e;
    }
    fds.set(i, f);
  }
  return f;
}

function closeFds(fds: Map<number, QueueEventFds>): void {
  for (const f of fds.values()) {
    f.kick.close();
    f.call.close();
  }
  fds.clear();
}
