import { VnicError } from '@vnic/core';
import { closeFd } from './fd/closeFd.ts';
import { openFd } from './fd/openFd.ts';
import { setNonBlocking } from './fd/setNonBlocking.ts';
import { EBUSY, EINVAL, ENOENT } from './linux/errno.ts';
import { O_RDWR } from './linux/fcntl.ts';
import * as T from './linux/if_tun.ts';
import { AF_UNIX, SOCK_CLOEXEC, SOCK_DGRAM } from './linux/socket.ts';
import { IFF_UP, IFNAMSIZ, IFREQ_SIZE, IFREQ_UNION_OFFSET, SIOCGIFFLAGS, SIOCGIFINDEX, SIOCGIFMTU, SIOCSIFFLAGS, SIOCSIFMTU } from './linux/sockios.ts';
import { libc } from './native/libc.ts';
import { SysError } from './SysError.ts';

/** Options of Tap.open. */
export interface TapOpenOptions {
  /** Interface name (at most 15 bytes); a template like `vnic%d` lets the kernel pick; omitted: `tap%d`. */
  readonly name?: string;
  /** IFF_VNET_HDR: a virtio_net_hdr precedes every frame (default true). */
  readonly vnetHdr?: boolean;
  /** IFF_MULTI_QUEUE (default: true when queues > 1). */
  readonly multiQueue?: boolean;
  /** Number of queues, one fd each (default 1). */
  readonly queues?: number;
  /** Set O_NONBLOCK on every queue fd (default false). */
  readonly nonBlocking?: boolean;
}

const TUN_PATH = '/dev/net/tun';
const MAX_QUEUES = 256;

/** Offload bits probeOffloads tries, each with the bits the kernel needs alongside it. */
const PROBES: readonly (readonly [bit: number, needs: number])[] = [
  [T.TUN_F_TSO4, 0],
  [T.TUN_F_TSO6, 0],
  [T.TUN_F_TSO_ECN, T.TUN_F_TSO4],
  [T.TUN_F_UFO, 0],
  [T.TUN_F_USO4, T.TUN_F_USO6],
  [T.TUN_F_USO6, T.TUN_F_USO4],
];

function ifreq(name: string): Buffer {
  const ifr = Buffer.alloc(IFREQ_SIZE);
  ifr.write(name, 0, IFNAMSIZ - 1, 'latin1');
  return ifr;
}

function ifreqName(ifr: Buffer): string {
  const end = ifr.indexOf(0);
  return ifr.toString('latin1', 0, end < 0 || end > IFNAMSIZ ? IFNAMSIZ : end);
}

function checkName(name: string): void {
  if (Buffer.byteLength(name, 'latin1') > IFNAMSIZ - 1 || /[^\x20-\x7e]/.test(name)) {
    throw new VnicError('invalid-argument', `tap name '${name}' must be at most ${IFNAMSIZ - 1} printable ASCII bytes (IFNAMSIZ)`);
  }
}

const SETIFF_HINTS: ReadonlyMap<number, string> = new Map([
  [
    EINVAL,
    "invalid name or flags: names cannot contain '/', ':' or spaces, and an existing tap must be attached with the flags it was created with (IFF_VNET_HDR, IFF_MULTI_QUEUE)",
  ],
  [EBUSY, 'the tap is attached to another fd (a single-queue tap takes one): close it there, or create both with multiQueue'],
  [ENOENT, `${TUN_PATH} not found: load the module (modprobe tun) or create the node (mknod ${TUN_PATH} c 10 200)`],
]);

/**
 * A Linux tap device (linux/if_tun.h): one fd per queue, frames with a virtio_net_hdr in front
 * when IFF_VNET_HDR is set. The Tap owns its fds: close() closes them all (and the kernel
 * deletes the interface unless it is persistent). Interface ioctls (MTU, flags, ifindex) use
 * the calling thread's network namespace.
 */
export class Tap {
  /** The interface name the kernel gave the device. */
  readonly name: string;
  private readonly queueFds: number[];
  private offloads = 0;
  private isClosed = false;

  private constructor(name: string, fds: number[]) {
    this.name = name;
    this.queueFds = fds;
  }

  /**
   * Creates a tap, or attaches to an existing (persistent) one of that name, with TUNSETIFF
   * (IFF_TAP|IFF_NO_PI plus IFF_VNET_HDR / IFF_MULTI_QUEUE); each further queue is another
   * open of /dev/net/tun and TUNSETIFF with the same name.
   */
  static open(options: TapOpenOptions = {}): Tap {
    const queues = options.queues ?? 1;
    if (!Number.isInteger(queues) || queues < 1 || queues > MAX_QUEUES) {
      throw new VnicError('invalid-argument', `tap queues ${queues} is not an integer in 1..${MAX_QUEUES}`);
    }
    const multiQueue = options.multiQueue ?? queues > 1;
    if (queues > 1 && !multiQueue) throw new VnicError('invalid-argument', `${queues} tap queues need multiQueue`);
    let name = options.name ?? '';
    checkName(name);
    const flags = T.IFF_TAP | T.IFF_NO_PI | (options.vnetHdr === false ? 0 : T.IFF_VNET_HDR) | (multiQueue ? T.IFF_MULTI_QUEUE : 0);
    const fds: number[] = [];
    try {
      for (let q = 0; q < queues; q++) {
        const fd = openFd(TUN_PATH, O_RDWR, SETIFF_HINTS.get(ENOENT));
        fds.push(fd);
        const ifr = ifreq(name);
        ifr.writeUInt16LE(flags, IFREQ_UNION_OFFSET);
        // NATIVE: `ifr` is read and written by the kernel during the call only.
        if (libc.ioctlPtr(fd, T.TUNSETIFF, ifr) < 0) {
          const errno = libc.errno();
          throw new SysError({ syscall: 'ioctl', request: 'TUNSETIFF', errno, target: name === '' ? TUN_PATH : name, hint: SETIFF_HINTS.get(errno) });
        }
        name = ifreqName(ifr);
        if (options.nonBlocking === true) setNonBlocking(fd, true);
      }
    } catch (e) {
      for (const fd of fds) {
        try {
          closeFd(fd);
        } catch {
          // keep the error that made open fail
        }
      }
      throw e;
    }
    return new Tap(name, fds);
  }

  /**
   * Wraps tap fds a VMM already opened (one per queue); takes ownership. Without `name`,
   * the name is read back with TUNGETIFF.
   */
  static fromFds(fds: readonly number[], name?: string): Tap {
    if (fds.length === 0) throw new VnicError('invalid-argument', 'Tap.fromFds needs at least one fd');
    for (const fd of fds) {
      if (!Number.isInteger(fd) || fd < 0) throw new VnicError('invalid-argument', `tap fd ${fd} is not a valid fd`);
    }
    let actual = name;
    if (actual === undefined) {
      const ifr = Buffer.alloc(IFREQ_SIZE);
      // NATIVE: the kernel fills `ifr` (name, flags) during the call.
      if (libc.ioctlPtr(fds[0]!, T.TUNGETIFF, ifr) < 0) {
        throw new SysError({
          syscall: 'ioctl',
          request: 'TUNGETIFF',
          errno: libc.errno(),
          target: `fd ${fds[0]}`,
          hint: 'the fd is not an attached tun/tap fd',
        });
      }
      actual = ifreqName(ifr);
    }
    return new Tap(actual, [...fds]);
  }

  /** One fd per queue (throws once closed). */
  get fds(): readonly number[] {
    this.assertOpen();
    return this.queueFds;
  }

  /** True once close() ran. */
  get closed(): boolean {
    return this.isClosed;
  }

  /** The IFF_* flags the tun driver supports (TUNGETFEATURES). */
  features(): number {
    const out = new Uint32Array(1);
    // NATIVE: the kernel writes one unsigned int into `out`.
    this.tunIoctlPtr(0, T.TUNGETFEATURES, 'TUNGETFEATURES', out);
    return out[0]!;
  }

  /**
   * The IFF_* flags the tap was set up with (TUNGETIFF on queue 0): IFF_TAP, IFF_NO_PI,
   * IFF_VNET_HDR, IFF_MULTI_QUEUE, IFF_PERSIST, ... E.g. to check fds a VMM handed in.
   */
  flags(): number {
    const ifr = Buffer.alloc(IFREQ_SIZE);
    // NATIVE: the kernel fills `ifr` (name, flags) during the call.
    this.tunIoctlPtr(0, T.TUNGETIFF, 'TUNGETIFF', ifr);
    return ifr.readUInt16LE(IFREQ_UNION_OFFSET);
  }

  /** Sets the virtio-net header size: 10 (legacy), 12 (mergeable buffers / virtio 1.x) (TUNSETVNETHDRSZ). */
  setVnetHdrSize(size: number): void {
    // NATIVE: the kernel reads one int from the array during the call.
    this.tunIoctlPtr(0, T.TUNSETVNETHDRSZ, 'TUNSETVNETHDRSZ', new Int32Array([size]));
  }

  /**
   * Sets the send buffer of every queue's socket (TUNSETSNDBUF, bytes > 0): frames written and
   * not yet consumed by the kernel (queued in a qdisc, say) count against it, and a write that
   * finds it full fails with EAGAIN. Default: unlimited (INT_MAX).
   */
  setSendBuffer(bytes: number): void {
    if (!Number.isInteger(bytes) || bytes < 1 || bytes > 0x7fffffff) {
      throw new VnicError('invalid-argument', `tap ${this.name}: send buffer ${bytes} is not an integer in 1..2147483647`);
    }
    // NATIVE: the kernel reads one int from the array during the call.
    this.tunIoctlPtr(0, T.TUNSETSNDBUF, 'TUNSETSNDBUF', new Int32Array([bytes]));
  }

  /** Tells the kernel which TUN_F_* offloads this side handles (TUNSETOFFLOAD); applies to every queue. */
  setOffload(flags: number): void {
    this.assertOpen();
    if (libc.ioctlInt(this.queueFds[0]!, T.TUNSETOFFLOAD, flags >>> 0) < 0) {
      const errno = libc.errno();
      throw new SysError({
        syscall: 'ioctl',
        request: 'TUNSETOFFLOAD',
        errno,
        target: this.name,
        hint:
          errno === EINVAL
            ? `offload flags 0x${flags.toString(16)} not accepted: TSO/USO need TUN_F_CSUM, TSO_ECN needs TSO4/6, USO4 and USO6 go together`
            : undefined,
      });
    }
    this.offloads = flags >>> 0;
  }

  /**
   * The TUN_F_* bits this kernel accepts: TUN_F_CSUM alone, then each other bit together with
   * CSUM and the bits it needs. Restores the offloads last set with setOffload (0 if none).
   */
  probeOffloads(): number {
    this.assertOpen();
    const fd = this.queueFds[0]!;
    try {
      if (libc.ioctlInt(fd, T.TUNSETOFFLOAD, T.TUN_F_CSUM) < 0) return 0;
      let accepted = T.TUN_F_CSUM;
      for (const [bit, needs] of PROBES) {
        if (libc.ioctlInt(fd, T.TUNSETOFFLOAD, T.TUN_F_CSUM | bit | needs) === 0) accepted |= bit;
      }
      return accepted;
    } finally {
      this.setOffload(this.offloads);
    }
  }

  /**
   * Filters the frames the tap hands to its reader (the guest) by destination MAC
   * (TUNSETTXFILTER): the first 8 `addrs` match exactly, further multicast ones through a hash,
   * `allMulti` passes every multicast frame; anything else is dropped by the kernel. `undefined`
   * (or no address) turns the filter off: every frame passes. More than 8 unicast addresses
   * cannot be expressed: the kernel leaves the filter off then.
   */
  setTxFilter(filter: { readonly allMulti: boolean; readonly addrs: readonly Uint8Array[] } | undefined): void {
    const addrs = filter?.addrs ?? [];
    const buf = Buffer.alloc(T.TUN_FILTER_SIZE + 6 * addrs.length);
    buf.writeUInt16LE(filter?.allMulti === true ? T.TUN_FLT_ALLMULTI : 0, 0);
    buf.writeUInt16LE(addrs.length, 2);
    addrs.forEach((a, i) => {
      if (a.length !== 6) throw new VnicError('invalid-argument', `tap ${this.name}: filter address ${i} is not 6 bytes`);
      buf.set(a, T.TUN_FILTER_SIZE + 6 * i);
    });
    // NATIVE: the kernel copies the filter during the call.
    this.tunIoctlPtr(0, T.TUNSETTXFILTER, 'TUNSETTXFILTER', buf);
  }

  /** Sets the MTU (SIOCSIFMTU). */
  setMtu(mtu: number): void {
    const ifr = ifreq(this.name);
    ifr.writeInt32LE(mtu, IFREQ_UNION_OFFSET);
    this.ifIoctl(SIOCSIFMTU, 'SIOCSIFMTU', ifr);
  }

  /** The MTU (SIOCGIFMTU). */
  mtu(): number {
    const ifr = ifreq(this.name);
    this.ifIoctl(SIOCGIFMTU, 'SIOCGIFMTU', ifr);
    return ifr.readInt32LE(IFREQ_UNION_OFFSET);
  }

  /** Brings the interface up or down (SIOCGIFFLAGS + SIOCSIFFLAGS). */
  setUp(up: boolean): void {
    const ifr = ifreq(this.name);
    this.ifIoctl(SIOCGIFFLAGS, 'SIOCGIFFLAGS', ifr);
    const flags = ifr.readUInt16LE(IFREQ_UNION_OFFSET);
    ifr.writeUInt16LE(up ? flags | IFF_UP : flags & ~IFF_UP, IFREQ_UNION_OFFSET);
    this.ifIoctl(SIOCSIFFLAGS, 'SIOCSIFFLAGS', ifr);
  }

  /** True when the interface is administratively up (SIOCGIFFLAGS). */
  isUp(): boolean {
    const ifr = ifreq(this.name);
    this.ifIoctl(SIOCGIFFLAGS, 'SIOCGIFFLAGS', ifr);
    return (ifr.readUInt16LE(IFREQ_UNION_OFFSET) & IFF_UP) !== 0;
  }

  /** Makes the interface outlive its fds, or not (TUNSETPERSIST). */
  setPersistent(on: boolean): void {
    this.assertOpen();
    if (libc.ioctlInt(this.queueFds[0]!, T.TUNSETPERSIST, on ? 1 : 0) < 0) {
      throw new SysError({ syscall: 'ioctl', request: 'TUNSETPERSIST', errno: libc.errno(), target: this.name });
    }
  }

  /** The interface index (SIOCGIFINDEX). */
  ifindex(): number {
    const ifr = ifreq(this.name);
    this.ifIoctl(SIOCGIFINDEX, 'SIOCGIFINDEX', ifr);
    return ifr.readInt32LE(IFREQ_UNION_OFFSET);
  }

  /** Attaches or detaches queue `index` (TUNSETQUEUE with IFF_ATTACH_QUEUE / IFF_DETACH_QUEUE). */
  setQueueEnabled(index: number, on: boolean): void {
    this.assertOpen();
    if (!Number.isInteger(index) || index < 0 || index >= this.queueFds.length) {
      throw new VnicError('invalid-argument', `tap ${this.name} has no queue ${index} (it has ${this.queueFds.length})`);
    }
    const ifr = Buffer.alloc(IFREQ_SIZE);
    ifr.writeUInt16LE(on ? T.IFF_ATTACH_QUEUE : T.IFF_DETACH_QUEUE, IFREQ_UNION_OFFSET);
    this.tunIoctlPtr(index, T.TUNSETQUEUE, 'TUNSETQUEUE', ifr);
  }

  /** Closes every queue fd (all of them, even if one fails); later calls do nothing. */
  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    const errors: unknown[] = []; // every failure; the first is thrown
    for (const fd of this.queueFds) {
      try {
        closeFd(fd);
      } catch (e) {
        errors.push(e);
      }
    }
    if (errors.length > 0) throw errors[0];
  }

  private assertOpen(): void {
    if (this.isClosed) throw new VnicError('invalid-state', `tap ${this.name} is closed`);
  }

  private tunIoctlPtr(queue: number, request: number, requestName: string, arg: ArrayBufferView): void {
    this.assertOpen();
    if (libc.ioctlPtr(this.queueFds[queue]!, request, arg) < 0) {
      throw new SysError({ syscall: 'ioctl', request: requestName, errno: libc.errno(), target: this.name });
    }
  }

  /** An interface ioctl through a throw-away AF_UNIX datagram socket. */
  private ifIoctl(request: number, requestName: string, ifr: Buffer): void {
    this.assertOpen();
    const sock = libc.socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (sock < 0) throw new SysError({ syscall: 'socket', request: 'AF_UNIX', errno: libc.errno(), target: this.name });
    try {
      // NATIVE: `ifr` is read and written by the kernel during the call only.
      if (libc.ioctlPtr(sock, request, ifr) < 0) {
        throw new SysError({ syscall: 'ioctl', request: requestName, errno: libc.errno(), target: this.name });
      }
    } finally {
      closeFd(sock);
    }
  }
}
