import { createNetDevices, createVnicContainer } from '@vnic/config';
import { errorMessage, VirtioMmioTransport, type VirtioNetDevice } from '@vnic/core';
import { EventFd, MemfdGuestMemory } from '@vnic/sys';
import type { Container } from 'inversify';
import type { VmmNic } from './VmmNic.ts';

/** Where the NICs' virtio-mmio windows start (Firecracker uses the same base) and their stride. */
const MMIO_BASE = 0xd000_0000;
const MMIO_STRIDE = 0x1000;
/** Size of one virtio-mmio register window (registers + config space). */
const MMIO_SIZE = 0x200;
const FIRST_IRQ = 5;

/**
 * The smallest VMM that embeds vnic: it owns guest RAM (one memfd region), builds the NICs from a
 * VM config through @vnic/config, puts each behind a VirtioMmioTransport at its own MMIO window,
 * owns every queue's kick and call eventfd, and turns vCPU MMIO exits into transport reads and
 * writes. What a real VMM adds (KVM, vCPU threads, a device tree) is named in the README.
 */
export class MiniVmm {
  /** Guest RAM: a memfd mapped here, shared with the devices (they get its layout at DRIVER_OK). */
  readonly ram: MemfdGuestMemory;
  /** The NICs, in config order. */
  readonly nics: readonly VmmNic[];
  private readonly log: (line: string) => void;
  private down = false;

  private constructor(ram: MemfdGuestMemory, nics: VmmNic[], log: (line: string) => void) {
    this.ram = ram;
    this.nics = nics;
    this.log = log;
  }

  /**
   * Boots the VMM: guest RAM of `ramBytes`, then one NIC per `net[]` entry of `config`, each wired
   * to a transport. On failure everything built so far is released.
   */
  static async boot(
    config: unknown,
    options: { readonly ramBytes: number; readonly container?: Container; readonly source?: string; readonly log?: (line: string) => void },
  ): Promise<MiniVmm> {
    const log = options.log ?? (() => {});
    // 1. Guest RAM. A real VMM also registers it with KVM (KVM_SET_USER_MEMORY_REGION).
    const ram = MemfdGuestMemory.create({ regions: [{ guestPhysAddr: 0, size: options.ramBytes }], name: 'mini-vmm-ram' });
    const fds: EventFd[] = [];
    let devices: VirtioNetDevice[] = [];
    try {
      // 2. The NICs, backend chosen per NIC by the config (errors name the field).
      devices = await createNetDevices(config, {
        container: options.container ?? createVnicContainer(),
        ...(options.source === undefined ? {} : { source: options.source }),
        onWarning: (m) => log(`warning: ${m}`),
      });
      const nics = devices.map((device, i): VmmNic => {
        // 3. Per queue a kick and a call eventfd. With KVM: KVM_IOEVENTFD (QueueNotify, datamatch =
        //    queue index) for the kick, KVM_IRQFD (the NIC's GSI) for the call.
        const eventFds = new Map<number, { kick: EventFd; call: EventFd }>();
        for (let q = 0; q < device.numQueues; q++) {
          const kick = EventFd.create({ nonBlocking: true });
          fds.push(kick);
          const call = EventFd.create({ nonBlocking: true });
          fds.push(call);
          eventFds.set(q, { kick, call });
        }
        const mmioBase = MMIO_BASE + i * MMIO_STRIDE;
        const irq = FIRST_IRQ + i;
        const raised = { n: 0 };
        // 4. The transport: the register file the guest's MMIO accesses land in.
        const transport = new VirtioMmioTransport(device, {
          memory: ram.layout,
          queueEventFds: (q) => {
            const f = eventFds.get(q)!;
            return { kickFd: f.kick.fd, callFd: f.call.fd };
          },
          // Without KVM ioeventfds the QueueNotify write reaches us: forward it to the kick eventfd.
          onQueueNotify: (q) => eventFds.get(q)?.kick.write(1n),
          // Config change or DEVICE_NEEDS_RESET: a real VMM raises the NIC's interrupt line here.
          onInterrupt: () => {
            raised.n++;
            log(`${device.id}: IRQ ${irq} raised (interrupt status ${transport.interruptStatus})`);
          },
          onError: (err) => log(`${device.id}: ${errorMessage(err)}`),
          usedBufferAlwaysPending: true,
        });
        const nic: VmmNic = {
          device,
          transport,
          mmioBase,
          irq,
          eventFds,
          get interrupts() {
            return raised.n;
          },
        };
        device.events.on('needs-reset', (why) => log(`${device.id}: device needs reset: ${why}`));
        log(`${device.id}: ${device.backend} NIC at MMIO 0x${nic.mmioBase.toString(16)}, IRQ ${nic.irq}, ${device.numQueues} queues`);
        return nic;
      });
      return new MiniVmm(ram, nics, log);
    } catch (err) {
      await Promise.allSettled(devices.map((d) => d.close()));
      for (const f of fds) f.close();
      ram.close();
      throw err;
    }
  }

  /** A vCPU's MMIO read exit at guest-physical `addr`: forwarded to the NIC whose window holds it. */
  mmioRead(addr: number, size: number): number {
    const nic = this.nicAt(addr);
    return nic === undefined ? 0xffff_ffff : nic.transport.read(addr - nic.mmioBase, size);
  }

  /** A vCPU's MMIO write exit at guest-physical `addr`. */
  mmioWrite(addr: number, size: number, value: number): void {
    const nic = this.nicAt(addr);
    nic?.transport.write(addr - nic.mmioBase, size, value);
  }

  /**
   * Resolves when every NIC has finished what the last Status write started (activate at
   * DRIVER_OK, reset at 0): a VMM resumes the vCPU of such an exit only then.
   */
  async settled(): Promise<void> {
    await Promise.all(this.nics.map((n) => n.transport.settled()));
  }

  /**
   * Stops the VM: resets and closes every NIC, then releases the eventfds and guest RAM (only
   * after the devices stopped using them). Idempotent.
   */
  async shutdown(): Promise<void> {
    if (this.down) return;
    this.down = true;
    for (const nic of this.nics) {
      nic.transport.close();
      await nic.device.close();
      for (const { kick, call } of nic.eventFds.values()) {
        kick.close();
        call.close();
      }
      this.log(`${nic.device.id}: closed`);
    }
    this.ram.close();
  }

  private nicAt(addr: number): VmmNic | undefined {
    return this.nics.find((n) => addr >= n.mmioBase && addr < n.mmioBase + MMIO_SIZE);
  }
}
