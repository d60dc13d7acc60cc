import { readFileSync } from 'node:fs';
import type { TestVmImage } from '../TestVmImage.ts';

/** QEMU option values escape a comma by doubling it. */
const esc = (value: string): string => value.replace(/,/g, ',,');

/** The host CPU clock in kHz from /proc/cpuinfo (for tsc_early_khz), or undefined. */
function hostCpuKhz(): number | undefined {
  try {
    const mhz = /^cpu MHz\s*:\s*([\d.]+)/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1];
    return mhz === undefined ? undefined : Math.round(Number(mhz) * 1000);
  } catch {
    return undefined;
  }
}

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
 * The qemu-system-x86_64 argument list (PEERS.md): TCG, the vmlinux booted via PVH, serial console
 * on stdio, three 9p shares (host `/` read-only as `hostroot`, the run directory as `run`, the
 * project directory read-write as `project`). microvm uses virtio-*-device with modern virtio-mmio;
 * q35 uses virtio-*-pci. `tsc_early_khz` avoids the "Unable to calibrate against PIT" hang of
 * microvm under TCG.
 */
export function buildQemuArgs(l: QemuLayout): string[] {
  const microvm = l.image.machine === 'microvm';
  const dev = (kind: string): string => (microvm ? `${kind}-device` : `${kind}-pci`);
  const khz = hostCpuKhz();
  const append = [
    'console=ttyS0',
    'loglevel=3', // errors and worse only: microvm's harmless "PCI: Fatal: No config space access function found" stays out
    'panic=-1',
    ...(khz === undefined ? [] : [`tsc_early_khz=${khz}`]),
    ...l.kernelArgs,
  ];
  const share = (id: string, path: string, extra: string): string[] => [
    '-fsdev',
    `local,id=${id},path=${esc(path)},security_model=none${extra}`,
    '-device',
    `${dev('virtio-9p')},fsdev=${id},mount_tag=${id}`,
  ];
  return [
    '-machine',
    microvm ? 'microvm' : 'q35',
    '-accel',
    'tcg',
    '-cpu',
    'max',
    '-smp',
    String(l.cpus),
    '-m',
    `${l.memoryMiB}M`,
    ...(l.sharedMemory ? ['-object', `memory-backend-memfd,id=mem,size=${l.memoryMiB}M,share=on`, '-numa', 'node,memdev=mem'] : []),
    '-nodefaults',
    '-no-user-config',
    '-no-reboot',
    '-display',
    'none',
    '-serial',
    'stdio',
    ...(microvm ? ['-global', 'virtio-mmio.force-legacy=false'] : []),
    '-kernel',
    l.image.vmlinux,
    '-initrd',
    l.image.initramfs,
    '-append',
    append.join(' '),
    ...share('hostroot', '/', ',readonly=on,multidevs=remap'),
    ...share('run', l.runDir, ''),
    ...share('project', l.projectDir, ',multidevs=remap'),
    '-pidfile',
    `${l.runDir}/qemu.pid`,
    ...l.qemuArgs,
  ];
}
