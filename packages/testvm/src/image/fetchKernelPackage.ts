import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { TestVmError } from '../TestVmError.ts';
import { runTool } from '../runTool.ts';
import { errorMessage } from '@vnic/core';

const META_PACKAGE = 'linux-image-amd64';

/** The Debian kernel package and where its .deb is cached. */
export interface KernelPackage {
  /** Kernel release, e.g. `6.1.0-56-amd64`. */
  readonly kernelVersion: string;
  /** Cache directory of this kernel release. */
  readonly dir: string;
  /** The downloaded .deb (`<dir>/kernel.deb`). */
  readonly deb: string;
}

/** The kernel package name: `$VNIC_TESTVM_KERNEL_PACKAGE`, else what linux-image-amd64 depends on. */
async function resolvePackage(): Promise<string> {
  const pinned = process.env['VNIC_TESTVM_KERNEL_PACKAGE'];
  if (pinned !== undefined && pinned !== '') return pinned;
  const out = (await runTool('apt-cache', ['depends', META_PACKAGE], 'kernel', { timeoutMs: 60_000 })).toString();
  const pkg = /Depends:\s*(linux-image-[^\s<>]+)/.exec(out)?.[1];
  if (pkg === undefined) throw new TestVmError('kernel', `apt-cache depends ${META_PACKAGE} names no linux-image-* package`);
  return pkg;
}

/** apt-get download of `pkg` into `<cacheDir>/<kver>/kernel.deb` (no-op when it is there). */
async function download(cacheDir: string, pkg: string, onProgress: (text: string) => void): Promise<KernelPackage> {
  const kernelVersion = pkg.replace(/^linux-image-/, '');
  const dir = join(cacheDir, kernelVersion);
  const deb = join(dir, 'kernel.deb');
  if (existsSync(deb)) return { kernelVersion, dir, deb };
  mkdirSync(dir, { recursive: true });
  const tmp = mkdtempSync(join(dir, 'download-'));
  try {
    onProgress(`kernel: apt-get download ${pkg}`);
    await runTool('apt-get', ['download', '-q', '-o', 'APT::Sandbox::User=root', pkg], 'kernel', { cwd: tmp });
    const got = readdirSync(tmp).find((f) => f.endsWith('.deb'));
    if (got === undefined) throw new TestVmError('kernel', `apt-get download ${pkg} produced no .deb`);
    renameSync(join(tmp, got), deb);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  // A new default kernel replaces older ones: their images (~140 MB each) are not used any more.
  if ((process.env['VNIC_TESTVM_KERNEL_PACKAGE'] ?? '') !== '') return { kernelVersion, dir, deb };
  for (const other of readdirSync(cacheDir)) {
    if (other !== kernelVersion && existsSync(join(cacheDir, other, 'kernel.deb'))) {
      rmSync(join(cacheDir, other), { recursive: true, force: true });
    }
  }
  return { kernelVersion, dir, deb };
}

/**
 * Resolves the kernel the test VM boots (`$VNIC_TESTVM_KERNEL_PACKAGE`, else what the
 * linux-image-amd64 meta-package depends on, per `apt-cache depends`) and makes sure its .deb is in
 * `<cacheDir>/<kver>/kernel.deb` (`apt-get download`; nothing is installed). When that fails and
 * this process is root and the package is not pinned, it runs `apt-get update` once (missing or
 * stale package lists) and tries again; then it falls back to a kernel already in the cache.
 */
export async function fetchKernelPackage(cacheDir: string, onProgress: (text: string) => void): Promise<KernelPackage> {
  let pkg: string | undefined;
  for (let attempt = 0; ; attempt++) {
    try {
      pkg = await resolvePackage();
      return await download(cacheDir, pkg, onProgress);
    } catch (err) {
      const pinned = (process.env['VNIC_TESTVM_KERNEL_PACKAGE'] ?? '') !== '';
      if (attempt === 0 && !pinned && process.getuid?.() === 0) {
        onProgress(`kernel: ${errorMessage(err).split('\n')[0]}: running apt-get update and trying again`);
        await runTool('apt-get', ['update', '-qq'], 'kernel', { timeoutMs: 300_000 }).catch(() => {});
        continue;
      }
      const cached = existsSync(cacheDir)
        ? readdirSync(cacheDir)
            .filter((d) => existsSync(join(cacheDir, d, 'kernel.deb')))
            .sort()
        : [];
      const last = cached[cached.length - 1];
      if (last !== undefined && !pinned) {
        onProgress(`kernel: ${errorMessage(err).split('\n')[0]}; using the cached ${last}`);
        return { kernelVersion: last, dir: join(cacheDir, last), deb: join(cacheDir, last, 'kernel.deb') };
      }
      throw new TestVmError(
        'kernel',
        pkg === undefined
          ? `cannot tell which Debian kernel to boot (${errorMessage(err)}): run apt-get update, or set VNIC_TESTVM_KERNEL_PACKAGE=linux-image-<kver>`
          : `downloading the kernel package ${pkg} failed: ${errorMessage(err)} (run apt-get update; the package list may be stale)`,
        { cause: err },
      );
    }
  }
}
