import type { TestVmMachine } from './TestVmImage.ts';

/** Options of runInVm(). */
export interface RunInVmOptions {
  /** The command run in the guest (argv, no shell), chrooted to the host's `/`, cwd = `cwd`. */
  readonly command: readonly string[];
  /** Extra environment of the command (on top of PATH, HOME=/tmp, NO_COLOR=1, VNIC_IN_TESTVM=1, CI). */
  readonly env?: Readonly<Record<string, string>>;
  /** Hard limit for the whole run (boot included); QEMU is killed when it passes. */
  readonly timeoutMs: number;
  /** Directory shared read-write at the same path (default: the workspace root). */
  readonly projectDir?: string;
  /** Working directory of the command (default `projectDir`). */
  readonly cwd?: string;
  /** Guest memory in MiB (default 2048). */
  readonly memoryMiB?: number;
  /** Guest vCPUs (default 2). */
  readonly cpus?: number;
  /** Modules to load besides DEFAULT_TEST_VM_MODULES. */
  readonly modules?: readonly string[];
  /** Machine type (default `microvm`; `q35` for virtio-pci devices such as virtio-net-pci). */
  readonly machine?: TestVmMachine;
  /**
   * Back guest RAM with a shared memfd (`memory-backend-memfd,share=on`), which a vhost-user
   * device needs to map it.
   */
  readonly sharedMemory?: boolean;
  /** Extra QEMU arguments (devices, netdevs), appended last. */
  readonly qemuArgs?: readonly string[];
  /** Extra kernel command-line arguments. */
  readonly kernelArgs?: readonly string[];
  /**
   * Files placed in the run directory before boot; the guest sees them under /run/testvm/, and the
   * command can write more there (see `collect`).
   */
  readonly files?: Readonly<Record<string, string | Buffer>>;
  /** Names of files in /run/testvm/ to hand back in the result (missing ones are left out). */
  readonly collect?: readonly string[];
  /** Stops the VM (QEMU is killed) and rejects with kind `aborted`. */
  readonly signal?: AbortSignal;
  /** Guest console output as it arrives (kernel warnings, /init messages, the command's output). */
  readonly onOutput?: (chunk: string) => void;
  /** Called once with QEMU's pid as soon as it is known (QEMU writes it at start-up). */
  readonly onQemuStarted?: (qemuPid: number) => void;
  /** Progress lines: preparing the image, booting, running. */
  readonly onProgress?: (text: string) => void;
  /** Image cache directory (see prepareTestVm). */
  readonly cacheDir?: string;
}
