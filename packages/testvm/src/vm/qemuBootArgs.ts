import { readFileSync } from 'node:fs';
import type { TestVmImage } from '../TestVmImage.ts';

/** The host CPU clock in kHz from /proc/cpuinfo (for tsc_early_khz), or undefined. */
function hostCpuKhz(): number | undefined {
  try {
    const mhz = /^cpu MHz\s*:\s*([\d.]+)/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1];
    return mhz === undefined ? undefined : Math.round(Number(mhz) * 1000);
  } catch {
    return undefined;
  }
}

/** What booting a test-VM kernel needs: the machine, its size and the kernel's inputs. */
export interface QemuBootOptions {
  /** The kernel, and the machine type its initramfs was built for. */
  readonly image: Pick<TestVmImage, 'vmlinux' | 'machine'>;
  /** The initramfs to boot (the image's, or one with an overlay appended). */
  readonly initramfs: string;
  readonly memoryMiB: number;
  readonly cpus: number;
  /** Guest RAM as a shared memfd (`memory-backend-memfd,share=on`), as vhost-user needs. */
  readonly sharedMemory: boolean;
  /** Kernel command-line arguments after the console, log level, panic and TSC ones. */
  readonly kernelArgs: readonly string[];
}

/**
 * The machine part of a qemu-system-x86_64 command line for a test VM (PEERS.md): TCG, the vmlinux
 * booted via PVH, no default devices, the serial console on stdio, and `tsc_early_khz` on the
 * kernel command line (it avoids the "Unable to calibrate against PIT" hang of microvm under
 * TCG). Devices (shares, NICs, monitors) come after it.
 */
export function qemuBootArgs(o: QemuBootOptions): string[] {
  const microvm = o.image.machine === 'microvm';
  const khz = hostCpuKhz();
  const append = [
    'console=ttyS0',
    'loglevel=3', // errors and worse only: microvm's harmless "PCI: Fatal: No config space access function found" stays out
    'panic=-1',
    ...(khz === undefined ? [] : [`tsc_early_khz=${khz}`]),
    ...o.kernelArgs,
  ];
  return [
    '-machine',
    microvm ? 'microvm' : 'q35',
    '-accel',
    'tcg',
    '-cpu',
    'max',
    '-smp',
    String(o.cpus),
    '-m',
    `${o.memoryMiB}M`,
    ...(o.sharedMemory ? ['-object', `memory-backend-memfd,id=mem,size=${o.memoryMiB}M,share=on`, '-numa', 'node,memdev=mem'] : []),
    '-nodefaults',
    '-no-user-config',
    '-no-reboot',
    '-display',
    'none',
    '-serial',
    'stdio',
    ...(microvm ? ['-global', 'virtio-mmio.force-legacy=false'] : []),
    '-kernel',
    o.image.vmlinux,
    '-initrd',
    o.initramfs,
    '-append',
    append.join(' '),
  ];
}
