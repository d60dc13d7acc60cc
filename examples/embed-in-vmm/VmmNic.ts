import type { VirtioMmioTransport, VirtioNetDevice } from '@vnic/core';
import type { EventFd } from '@vnic/sys';

/** One NIC as the MiniVmm wires it: the device, its virtio-mmio window, its IRQ line and its eventfds. */
export interface VmmNic {
  /** The device @vnic/config built from the NIC's config entry. */
  readonly device: VirtioNetDevice;
  /** The register file in front of it; MMIO exits in [mmioBase, mmioBase + 0x200) go here. */
  readonly transport: VirtioMmioTransport;
  /** Guest-physical base of the NIC's virtio-mmio window (what the guest learns from the device tree or ACPI). */
  readonly mmioBase: number;
  /** The interrupt line the NIC raises. */
  readonly irq: number;
  /** Kick (KVM ioeventfd) and call (KVM irqfd) eventfd of each queue, by queue index. */
  readonly eventFds: ReadonlyMap<number, { readonly kick: EventFd; readonly call: EventFd }>;
  /** Interrupts raised so far (config change, needs reset). */
  readonly interrupts: number;
}
