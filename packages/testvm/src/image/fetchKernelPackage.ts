import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { TestVmError } from '../TestVmError.ts';
import { runTool } from '../runTool.ts';

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

/**
 * Resolves the kernel the test VM boots (`$VNIC_TESTVM_KERNEL_PACKAGE`, else what the
 * linux-image-amd64 meta-package depends on, per `apt-cache depends`) and makes sure its .deb is in
 * `<cacheDir>/<kver>/kernel.deb` (`apt-get download`; nothing is installed). Without apt metadata
 * it falls back to a kernel already in the cache.
 */
export async function fetchKernelPackage(cacheDir: string, onProgress: (text: string) => void): Promise<KernelPackage> {
  let pkg = process.env['VNIC_TESTVM_KERNEL_PACKAGE'];
  let resolveError: unknown;
  if (pkg === undefined || pkg === '') {
    try {
      const out = (await runTool('apt-cache', ['depends', META_PACKAGE], 'kernel', { timeoutMs: 60_000 })).toString();
      pkg = /Depends:\s*(linux-image-[^\s<>]+)/.exec(out)?.[1];
      if (pkg === undefined) resolveError = new Error(`apt-cache depends ${META_PACKAGE} names no linux-image-* package`);
    } catch (err) {
      resolveError = err;
    }
  }
  if (pkg === undefined || pkg === '') {
    const cached = existsSync(cacheDir)
      ? readdirSync(cacheDir).filter((d) => existsSync(join(cacheDir, d, 'kernel.deb'))).sort()
      : [];
    const last = cached[cached.length - 1];
    if (last === undefined) {
      throw new TestVmError(
        'kernel',
        `cannot tell which Debian kernel to boot (${resolveError instanceof Error ? resolveError.message : String(resolveError)}): run apt-get update, or set VNIC_TESTVM_KERNEL_PACKAGE=linux-image-<kver>`,
        { cause: resolveError },
      );
    }
    onProgress(`kernel: apt metadata unavailable, using the cached ${last}`);
    return { kernelVersion: last, dir: join(cacheDir, last), deb: join(cacheDir, last, 'kernel.deb') };
  }
  const kernelVersion = pkg.replace(/^linux-image-/, '');
  const dir = join(cacheDir, kernelVersion);
  const deb = join(dir, 'kernel.deb');
  if (existsSync(deb)) return { kernelVersion, dir, deb };
  mkdirSync(dir, { recursive: true });
  const tmp = mkdtempSync(join(dir, 'download-'));
  try {
    onProgress(`kernel: apt-get download ${pkg}`);
    await runTool('apt-get', ['download', '-q', '-o', 'APT::Sandbox::User=root', pkg], 'kernel', { cwd: tmp }).catch((err: unknown) => {
      throw new TestVmError(
        'kernel',
        `downloading the kernel package ${pkg} failed: ${err instanceof Error ? err.message : String(err)} (run apt-get update; the package list may be stale)`,
        { cause: err },
      );
    });
    const got = readdirSync(tmp).find((f) => f.endsWith('.deb'));
    if (got === undefined) throw new TestVmError('kernel', `apt-get download ${pkg} produced no .deb`);
    renameSync(join(tmp, got), deb);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return { kernelVersion, dir, deb };
}
