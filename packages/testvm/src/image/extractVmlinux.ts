import { readFileSync } from 'node:fs';
import { TestVmError } from '../TestVmError.ts';
import { runTool } from '../runTool.ts';

const XZ_MAGIC = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);

/**
 * The uncompressed ELF kernel (vmlinux) inside a bzImage (`/boot/vmlinuz-*`): the xz stream of
 * the compressed payload, carved out and inflated with `xz -dc --single-stream`. QEMU boots that
 * ELF through its PVH entry point (the Debian kernel has CONFIG_PVH), which under TCG is seconds
 * faster than letting the bzImage decompress itself.
 */
export async function extractVmlinux(vmlinuzPath: string): Promise<Buffer> {
  const image = readFileSync(vmlinuzPath);
  for (let at = image.indexOf(XZ_MAGIC); at >= 0; at = image.indexOf(XZ_MAGIC, at + 1)) {
    let elf: Buffer;
    try {
      elf = await runTool('xz', ['-dc', '--single-stream'], 'kernel', { input: image.subarray(at) });
    } catch (err) {
      if (TestVmError.is(err) && err.kind === 'unavailable') {
        throw new TestVmError('unavailable', 'xz not found: install xz-utils (bash scripts/setup.sh does)', { cause: err });
      }
      continue; // a false magic match inside the setup code: try the next one
    }
    if (elf.length > 4 && elf.readUInt32BE(0) === 0x7f454c46) return elf;
  }
  throw new TestVmError('kernel', `${vmlinuzPath}: no xz-compressed ELF kernel found inside (only xz-compressed kernels are supported)`);
}
