import { VnicError } from '@vnic/core';

/** What went wrong (`kind`). */
type VirtioNetErrorKind =
  /** The backend cannot run on this host (no /dev/net/tun, no CAP_NET_ADMIN): a config `fallback` may be used. */
  | 'unavailable'
  /** A tap operation failed (open, attach, ioctl). */
  | 'tap'
  /** The `virtio-net` config section or a handed-in fd is wrong. */
  | 'invalid-argument'
  /** An IO thread could not be started or stopped. */
  | 'io-thread';

/**
 * The error class of @vnic/virtio-net. Messages name the NIC id, the tap and the failing call
 * (`net0: tap vnic3: ioctl TUNSETOFFLOAD: EINVAL (22) — ...`); `cause` keeps the SysError. Kinds:
 * `unavailable` (no /dev/net/tun or no CAP_NET_ADMIN: a config `fallback` applies), `tap` (a tap
 * operation failed), `invalid-argument` (the config section or a handed-in fd is wrong),
 * `io-thread` (an IO thread could not start or stop).
 */
export class VirtioNetError extends VnicError {
  /** The brand `VirtioNetError.is()` looks for (`Symbol.for`, so copies of this package agree). */
  static override readonly brand: symbol = Symbol.for('vnic.VirtioNetError');

  declare readonly kind: VirtioNetErrorKind;

  constructor(kind: VirtioNetErrorKind, message: string, options?: { cause?: unknown }) {
    super(kind, message, options);
  }
}
