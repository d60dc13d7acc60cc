import type { TestVmMachine } from './TestVmImage.ts';

/**
 * Modules every test VM loads, per machine type: the virtio transport (virtio_mmio for microvm,
 * virtio_pci for q35), 9p over virtio for the shared directories, and what the network tests use:
 * tun (/dev/net/tun), vhost_net (/dev/vhost-net), virtio_net (a guest NIC), veth. af_packet,
 * unix and network namespaces are built into the Debian kernel.
 */
export const DEFAULT_TEST_VM_MODULES: Readonly<Record<TestVmMachine, readonly string[]>> = {
  microvm: ['virtio_mmio', '9pnet_virtio', '9p', 'tun', 'vhost_net', 'virtio_net', 'veth'],
  q35: ['virtio_pci', '9pnet_virtio', '9p', 'tun', 'vhost_net', 'virtio_net', 'veth'],
};
