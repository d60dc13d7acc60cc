/** Which QEMU machine a test VM is: `microvm` (virtio-mmio, fastest boot) or `q35` (PCI, virtio-pci devices). */
export type TestVmMachine = 'microvm' | 'q35';

/** A bootable test-VM image: the kernel and the initramfs for one machine type and module set. */
export interface TestVmImage {
  /** Debian kernel release, e.g. `6.1.0-56-amd64`. */
  readonly kernelVersion: string;
  /** Uncompressed ELF kernel booted through PVH. */
  readonly vmlinux: string;
  /** Uncompressed newc initramfs (busybox, modules, /init). */
  readonly initramfs: string;
  /** Machine type the initramfs was built for (its virtio transport module). */
  readonly machine: TestVmMachine;
  /** Modules /init loads, in load order (dependencies included). */
  readonly modules: readonly string[];
}
