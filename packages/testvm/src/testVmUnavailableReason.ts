import { findStaticBusybox } from './image/findStaticBusybox.ts';
import { findOnPath } from './vm/findOnPath.ts';
import { errorMessage } from '@vnic/core';

/**
 * Why this host cannot run test VMs (qemu-system-x86_64, a static busybox, xz, apt-get missing),
 * with the package to install; undefined when it can. Cheap: no download, no boot. Tests use it
 * to fail loudly under CI and skip with the reason on a developer box.
 */
export function testVmUnavailableReason(): string | undefined {
  const missing: string[] = [];
  if (findOnPath('qemu-system-x86_64') === undefined) missing.push('qemu-system-x86_64 (package qemu-system-x86)');
  if (findOnPath('xz') === undefined) missing.push('xz (package xz-utils)');
  if (findOnPath('apt-get') === undefined || findOnPath('dpkg-deb') === undefined) missing.push('apt-get/dpkg-deb (a Debian host)');
  try {
    findStaticBusybox();
  } catch (err) {
    missing.push(errorMessage(err));
  }
  return missing.length === 0
    ? undefined
    : `test VMs need ${missing.join('; ')}: run bash scripts/setup.sh (apt-get install --no-install-recommends qemu-system-x86 busybox-static xz-utils)`;
}
