import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_TEST_VM_MODULES } from './DEFAULT_TEST_VM_MODULES.ts';
import type { PrepareTestVmOptions } from './PrepareTestVmOptions.ts';
import type { TestVmImage } from './TestVmImage.ts';
import { TestVmError } from './TestVmError.ts';
import { buildCpioNewc, type CpioEntry } from './image/buildCpioNewc.ts';
import { extractVmlinux } from './image/extractVmlinux.ts';
import { fetchKernelPackage } from './image/fetchKernelPackage.ts';
import { findStaticBusybox } from './image/findStaticBusybox.ts';
import { renderInitScript } from './image/renderInitScript.ts';
import { resolveModuleLoadOrder } from './image/resolveModuleLoadOrder.ts';
import { defaultTestVmCacheDir } from './defaultTestVmCacheDir.ts';
import { runTool } from './runTool.ts';

/**
 * Makes the test-VM image ready and returns it: the Debian kernel package (apt-get download,
 * once), the uncompressed vmlinux carved out of its vmlinuz, and an initramfs (static busybox, the
 * modules in load order, /init) keyed by machine, module set, init script and busybox. Everything
 * is cached under `<cacheDir>/<kver>/`; a second call only hashes and checks that files exist.
 */
export async function prepareTestVm(options: PrepareTestVmOptions = {}): Promise<TestVmImage> {
  const machine = options.machine ?? 'microvm';
  if (machine !== 'microvm' && machine !== 'q35') {
    throw new TestVmError('invalid-argument', `machine: "${String(machine)}" is not microvm or q35`);
  }
  const cacheDir = options.cacheDir ?? defaultTestVmCacheDir();
  const progress = options.onProgress ?? (() => {});
  const wanted = [...new Set([...DEFAULT_TEST_VM_MODULES[machine], ...(options.modules ?? [])])];
  const busybox = findStaticBusybox();
  const init = renderInitScript();
  const key = createHash('sha256').update(JSON.stringify({ machine, wanted, init })).update(busybox.data).digest('hex').slice(0, 16);

  const kernel = await fetchKernelPackage(cacheDir, progress);
  const vmlinux = join(kernel.dir, 'vmlinux');
  const initramfs = join(kernel.dir, `initramfs-${machine}-${key}.cpio`);
  const modulesFile = `${initramfs}.modules`;
  if (existsSync(vmlinux) && existsSync(initramfs) && existsSync(modulesFile)) {
    const modules = readFileSync(modulesFile, 'utf8')
      .split('\n')
      .filter((m) => m !== '');
    return { kernelVersion: kernel.kernelVersion, vmlinux, initramfs, machine, modules };
  }

  const tmp = mkdtempSync(join(kernel.dir, 'unpack-'));
  try {
    progress(`kernel: unpacking ${kernel.kernelVersion}`);
    await runTool('dpkg-deb', ['-x', kernel.deb, tmp], 'kernel').catch((err: unknown) => {
      rmSync(kernel.deb, { force: true }); // a broken download is fetched again next time
      throw err;
    });
    if (!existsSync(vmlinux)) {
      progress('kernel: extracting the uncompressed vmlinux from vmlinuz');
      const elf = await extractVmlinux(join(tmp, 'boot', `vmlinuz-${kernel.kernelVersion}`));
      writeFileSync(`${vmlinux}.${process.pid}.tmp`, elf);
      renameSync(`${vmlinux}.${process.pid}.tmp`, vmlinux);
    }
    progress(`initramfs: busybox + modules for ${machine}`);
    const order = resolveModuleLoadOrder(join(tmp, 'lib', 'modules', kernel.kernelVersion), wanted);
    const entries: CpioEntry[] = [
      ...['bin', 'dev', 'proc', 'sys', 'newroot', 'lib', 'lib/modules'].map((path) => ({ type: 'dir' as const, path })),
      { type: 'chardev', path: 'dev/console', major: 5, minor: 1 },
      { type: 'chardev', path: 'dev/null', major: 1, minor: 3, mode: 0o666 },
      { type: 'file', path: 'bin/busybox', data: busybox.data, mode: 0o755 },
      { type: 'file', path: 'init', data: Buffer.from(init), mode: 0o755 },
      { type: 'file', path: 'modules.list', data: Buffer.from(order.map((m) => `${m.name}\n`).join('')) },
      ...order.map((m) => ({ type: 'file' as const, path: `lib/modules/${m.name}.ko`, data: readFileSync(m.path) })),
    ];
    writeFileSync(`${initramfs}.${process.pid}.tmp`, buildCpioNewc(entries));
    renameSync(`${initramfs}.${process.pid}.tmp`, initramfs);
    writeFileSync(modulesFile, order.map((m) => `${m.name}\n`).join(''));
    return { kernelVersion: kernel.kernelVersion, vmlinux, initramfs, machine, modules: order.map((m) => m.name) };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
