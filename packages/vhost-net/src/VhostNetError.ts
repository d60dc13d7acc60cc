import { VnicError } from '@vnic/core';

/** What went wrong (`kind`). */
type VhostNetErrorKind =
  /** The host cannot run this backend (no /dev/vhost-net, no tun, no permission): a config `fallback` may be used. */
  | 'unavailable'
  /** A /dev/vhost-net ioctl failed. */
  | 'vhost'
  /** A tap operation failed (open, attach, ioctl). */
  | 'tap'
  /** The kernel cannot do what was asked (no VHOST_F_LOG_ALL: no dirty logging). */
  | 'unsupported'
  /** The `vhost-net` config section, a handed-in fd or the activation context is wrong. */
  | 'invalid-argument';

/**
 * The error class of @vnic/vhost-net. Messages name the NIC id, the vhost fd or tap and the
 * failing request (`net0: queue 1: ioctl VHOST_SET_VRING_ADDR /dev/vhost-net fd 31: EFAULT ...`);
 * `cause` keeps the SysError. Kinds: `unavailable` (no /dev/vhost-net or /dev/net/tun, or not
 * permitted: a config `fallback` applies), `vhost`, `tap`, `unsupported`, `invalid-argument`.
 */
export class VhostNetError extends VnicError {
  /** The brand `VhostNetError.is()` looks for (`Symbol.for`, so copies of this package agree). */
  static override readonly brand: symbol = Symbol.for('vnic.VhostNetError');

  declare readonly kind: VhostNetErrorKind;

  constructor(kind: VhostNetErrorKind, message: string, options?: { cause?: unknown }) {
    super(kind, message, options);
  }
}
