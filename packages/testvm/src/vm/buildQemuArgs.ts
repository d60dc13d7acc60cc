import type { TestVmImage } from '../TestVmImage.ts';
import { qemuBootArgs } from './qemuBootArgs.ts';

/** QEMU option values escape a comma by doubling it. */
const esc = (value: string): string => value.replace(/,/g, ',,');

/** What one VM boot needs besides the image. */
export interface QemuLayout {
  readonly image: TestVmImage;
  readonly memoryMiB: number;
  readonly cpus: number;
  readonly sharedMemory: boolean;
  readonly runDir: string;
  readonly projectDir: string;
  readonly kernelArgs: readonly string[];
  readonly qemuArgs: readonly string[];
}

/**
 * The qemu-system-x86_64 argument list (PEERS.md): the machine from {@link qemuBootArgs}, then three
 * 9p shares (host `/` read-only as `hostroot`, the run directory as `run`, the project directory
 * read-write as `project`). microvm uses virtio-*-device with modern virtio-mmio; q35 uses
 * virtio-*-pci.
 */
export function buildQemuArgs(l: QemuLayout): string[] {
  const dev = (kind: string): string => (l.image.machine === 'microvm' ? `${kind}-device` : `${kind}-pci`);
  const share = (id: string, path: string, extra: string): string[] => [
    '-fsdev',
    `local,id=${id},path=${esc(path)},security_model=none${extra}`,
    '-device',
    `${dev('virtio-9p')},fsdev=${id},mount_tag=${id}`,
  ];
  return [
    ...qemuBootArgs({ ...l, initramfs: l.image.initramfs }),
    ...share('hostroot', '/', ',readonly=on,multidevs=remap'),
    ...share('run', l.runDir, ''),
    ...share('project', l.projectDir, ',multidevs=remap'),
    '-pidfile',
    `${l.runDir}/qemu.pid`,
    ...l.qemuArgs,
  ];
}
