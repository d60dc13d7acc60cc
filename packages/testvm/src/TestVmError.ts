import { VnicError } from '@vnic/core';

/**
 * The error class of @vnic/testvm. Kinds: `unavailable` (qemu, busybox-static, xz or apt-get
 * missing), `kernel` (the Debian kernel could not be resolved, downloaded or unpacked), `timeout`
 * (the VM did not finish in time; the message ends with the console tail), `aborted`, `guest`
 * (the guest powered off without reporting an exit code), `invalid-argument`.
 */
export class TestVmError extends VnicError {
  /** The brand `TestVmError.is()` looks for (`Symbol.for`, so copies of this package agree). */
  static override readonly brand: symbol = Symbol.for('vnic.TestVmError');

  /** The last lines of the guest console, when a VM ran. */
  readonly consoleTail: string | undefined;
  /** Pid of the QEMU process of the failed run (already gone when the error is thrown). */
  readonly qemuPid: number | undefined;

  constructor(kind: string, message: string, options?: { cause?: unknown; consoleTail?: string; qemuPid?: number }) {
    super(kind, message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.consoleTail = options?.consoleTail;
    this.qemuPid = options?.qemuPid;
  }
}
