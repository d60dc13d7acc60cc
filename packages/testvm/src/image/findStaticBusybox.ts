import { existsSync, readFileSync } from 'node:fs';
import { TestVmError } from '../TestVmError.ts';

const PT_INTERP = 3;

/**
 * The host's statically linked busybox (package busybox-static), which the initramfs carries. A
 * dynamically linked busybox (package busybox) cannot run there: that is an error saying which
 * package to install.
 */
export function findStaticBusybox(): { path: string; data: Buffer } {
  const path = ['/usr/bin/busybox', '/bin/busybox'].find((p) => existsSync(p));
  const install = 'install busybox-static (apt-get install --no-install-recommends busybox-static, or bash scripts/setup.sh)';
  if (path === undefined) throw new TestVmError('unavailable', `busybox not found: ${install}`);
  const data = readFileSync(path);
  if (data.length < 64 || data.readUInt32BE(0) !== 0x7f454c46) throw new TestVmError('unavailable', `${path} is not an ELF binary: ${install}`);
  const phoff = Number(data.readBigUInt64LE(0x20));
  const phentsize = data.readUInt16LE(0x36);
  const phnum = data.readUInt16LE(0x38);
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    if (at + 4 <= data.length && data.readUInt32LE(at) === PT_INTERP) {
      throw new TestVmError('unavailable', `${path} is dynamically linked (package busybox): ${install}`);
    }
  }
  return { path, data };
}
