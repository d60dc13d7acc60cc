import { VIRTIO_NET_HDR_SIZE } from '@vnic/core/virtio_net';
import { errorMessage, VnicError } from '@vnic/core';
import { closeFd } from '../fd/closeFd.ts';
import { dupFd } from '../fd/dupFd.ts';
import { setNonBlocking } from '../fd/setNonBlocking.ts';
import { IFF_MULTI_QUEUE, IFF_NO_PI, IFF_PERSIST, IFF_TAP, IFF_VNET_HDR } from '../linux/if_tun.ts';
import { SysError } from '../SysError.ts';
import { Tap } from '../Tap.ts';

/** Options of openNetTap: the tap fields of a backend's config section plus what the NIC needs. */
export interface NetTapOptions {
  /** NIC id (prefix of every error message). */
  readonly nic: string;
  /** Config section the fields come from, for messages (`virtio-net`, `vhost-net`). */
  readonly section: string;
  /** Tap to create, or attach to when a persistent one of that name exists (default `vnic%d`). */
  readonly tap?: string | undefined;
  /** Tap queue fds the VMM opened, one per queue; the result works on duplicates. */
  readonly tapFds?: readonly number[] | undefined;
  /** Make a tap this call creates outlive its fds (TUNSETPERSIST). */
  readonly persistent?: boolean | undefined;
  /** Number of tap queues (IFF_MULTI_QUEUE is always set, so queues can be added later). */
  readonly queues: number;
  /** MTU to set on a tap opened by name (handed-in taps keep theirs). */
  readonly mtu?: number | undefined;
  /** Set O_NONBLOCK on every queue fd (for handed-in fds this changes the VMM's open file too). */
  readonly nonBlocking: boolean;
}

/** A tap ready for a virtio-net data plane, and the TUN_F_* offloads it accepts. */
export interface NetTap {
  /** The tap (owns its fds; the caller closes it). */
  readonly tap: Tap;
  /** TUN_F_* offloads TUNSETOFFLOAD accepted when probed; the tap's offloads are left at 0. */
  readonly offloads: number;
  /**
   * Closes the tap when the NIC cannot be created after all: first clears the persistence this
   * open set (`persistent: true` on a tap it created), so the interface goes away with its fds
   * instead of staying behind; a tap that was persistent before is left as it was. Use it
   * instead of `tap.close()` on a failure path; a working NIC closes `tap` as usual.
   */
  discard(): void;
}

/** Default tap name template: the kernel picks vnic0, vnic1, ... */
const DEFAULT_TAP = 'vnic%d';

/**
 * Opens the tap a virtio-net data plane moves frames through, shared by the in-process and the
 * vhost-net backends: creates it (or attaches to it by name, or duplicates the VMM's `tapFds`
 * after checking their flags), IFF_TAP|IFF_NO_PI|IFF_VNET_HDR|IFF_MULTI_QUEUE, a 12-byte
 * virtio_net_hdr (TUNSETVNETHDRSZ), probes the offloads (then clears them: TUNSETOFFLOAD follows
 * what the guest acks), sets the MTU on a tap opened by name. Leaves nothing open on failure.
 *
 * Throws VnicError: `unavailable` (no tun driver or no CAP_NET_ADMIN: a config fallback may
 * apply), `invalid-argument` (handed-in fds that do not fit), `tap` (any other tap call); the
 * message names the NIC, the tap and the call, the cause keeps the SysError.
 */
export function openNetTap(o: NetTapOptions): NetTap {
  const { tap, madePersistent } = o.tapFds === undefined ? openByName(o) : { tap: adoptFds(o, o.tapFds), madePersistent: false };
  const discard = (): void => {
    if (tap.closed) return;
    if (madePersistent) {
      try {
        tap.setPersistent(false);
      } catch {
        // the close below still runs; the original failure is what the caller reports
      }
    }
    tap.close();
  };
  try {
    const at = `${o.nic}: tap ${tap.name}`;
    tapCall(at, 'cannot set the virtio_net_hdr size', () => tap.setVnetHdrSize(VIRTIO_NET_HDR_SIZE));
    const offloads = tapCall(at, 'cannot probe offloads', () => tap.probeOffloads());
    tapCall(at, 'cannot clear offloads', () => tap.setOffload(0));
    if (o.tapFds === undefined && o.mtu !== undefined) {
      const mtu = o.mtu;
      tapCall(at, `cannot set the MTU to ${mtu}`, () => tap.setMtu(mtu));
    }
    return { tap, offloads, discard };
  } catch (e) {
    discard();
    throw e;
  }
}

/** Runs a tap operation; a failure becomes a VnicError `tap` naming the NIC, the tap and the call. */
function tapCall<T>(at: string, what: string, op: () => T): T {
  try {
    return op();
  } catch (e) {
    throw new VnicError('tap', `${at}: ${what}: ${errorMessage(e)}`, { cause: e });
  }
}

/** Creates or attaches to the named tap; `madePersistent` when this call set TUNSETPERSIST. */
function openByName(o: NetTapOptions): { tap: Tap; madePersistent: boolean } {
  const name = o.tap ?? DEFAULT_TAP;
  let tap: Tap;
  try {
    tap = Tap.open({ name, queues: o.queues, multiQueue: true, vnetHdr: true, nonBlocking: o.nonBlocking });
  } catch (e) {
    const code = SysError.is(e) ? e.code : undefined;
    // No tun driver or no CAP_NET_ADMIN: the host cannot run this backend (a `fallback` may).
    const unavailable =
      SysError.is(e) && e.syscall === 'open' ? code === 'ENOENT' || code === 'ENODEV' || code === 'EPERM' || code === 'EACCES' : code === 'EPERM';
    throw new VnicError(unavailable ? 'unavailable' : 'tap', `${o.nic}: cannot open tap ${name}: ${errorMessage(e)}`, { cause: e });
  }
  if (o.persistent !== true) return { tap, madePersistent: false };
  try {
    // Attached to a tap that is persistent already: it was there before us and stays after us.
    if ((tap.flags() & IFF_PERSIST) !== 0) return { tap, madePersistent: false };
    tap.setPersistent(true);
  } catch (e) {
    tap.close();
    throw new VnicError('tap', `${o.nic}: tap ${tap.name}: cannot make it persistent: ${errorMessage(e)}`, { cause: e });
  }
  return { tap, madePersistent: true };
}

/** Wraps duplicates of the VMM's tap fds (the VMM keeps its own) after checking their flags. */
function adoptFds(o: NetTapOptions, fds: readonly number[]): Tap {
  const field = `"${o.section}".tapFds`;
  if (fds.length !== o.queues) {
    throw new VnicError(
      'invalid-argument',
      `${o.nic}: ${field} has ${fds.length} fd(s) but the NIC has ${o.queues} queue pair(s): pass one tap queue fd per pair`,
    );
  }
  const dups: number[] = [];
  try {
    for (const fd of fds) dups.push(dupFd(fd));
  } catch (e) {
    for (const d of dups) closeFd(d);
    throw new VnicError('invalid-argument', `${o.nic}: ${field}: cannot use fd ${fds[dups.length]}: ${errorMessage(e)}`, { cause: e });
  }
  let tap: Tap;
  try {
    tap = Tap.fromFds(dups);
  } catch (e) {
    for (const d of dups) closeFd(d);
    throw new VnicError('invalid-argument', `${o.nic}: ${field}[0] (fd ${fds[0]}) is not a tap queue fd: ${errorMessage(e)}`, { cause: e });
  }
  try {
    const flags = tap.flags();
    const multi = o.queues > 1;
    const need = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | (multi ? IFF_MULTI_QUEUE : 0);
    if ((flags & need) !== need) {
      throw new VnicError(
        'invalid-argument',
        `${o.nic}: ${field}: tap ${tap.name} was opened with flags 0x${flags.toString(16)}; it needs IFF_TAP|IFF_NO_PI|IFF_VNET_HDR${multi ? '|IFF_MULTI_QUEUE' : ''} (0x${need.toString(16)})`,
      );
    }
    // O_NONBLOCK is a property of the open file: the VMM's own fds become non-blocking too.
    if (o.nonBlocking) for (const fd of tap.fds) setNonBlocking(fd, true);
    return tap;
  } catch (e) {
    tap.close();
    throw VnicError.is(e) && !SysError.is(e) ? e : new VnicError('tap', `${o.nic}: tap ${tap.name}: ${errorMessage(e)}`, { cause: e });
  }
}
