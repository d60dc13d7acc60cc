import type { TestVmMachine } from './TestVmImage.ts';

/** Options of prepareTestVm(). */
export interface PrepareTestVmOptions {
  /** Machine type (default `microvm`). */
  readonly machine?: TestVmMachine;
  /** Modules to load besides the default set (see DEFAULT_TEST_VM_MODULES). */
  readonly modules?: readonly string[];
  /** Cache directory (default `$VNIC_TESTVM_CACHE` or `<repo>/.vnic-tmp/testvm`). */
  readonly cacheDir?: string;
  /** Progress lines (downloading the kernel, building the initramfs). */
  readonly onProgress?: (text: string) => void;
}
