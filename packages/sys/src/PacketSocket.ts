import { VnicError } from '@vnic/core';
import { checkSys } from './checkSys.ts';
import { closeFd } from './fd/closeFd.ts';
import { openFd } from './fd/openFd.ts';
import { readFd } from './fd/readFd.ts';
import { EAGAIN, EINTR } from './linux/errno.ts';
import { O_RDONLY } from './linux/fcntl.ts';
import {
  AF_PACKET,
  ETH_P_ALL,
  PACKET_IGNORE_OUTGOING,
  SOCK_RAW,
  SOCKADDR_LL_IFINDEX,
  SOCKADDR_LL_PROTOCOL,
  SOCKADDR_LL_SIZE,
  SOL_PACKET,
} from './linux/if_packet.ts';
import { CLONE_NEWNET } from './linux/sched.ts';
import { SOCK_CLOEXEC, SOCK_NONBLOCK } from './linux/socket.ts';
import { libc } from './native/libc.ts';
import { SysError } from './SysError.ts';

/** Options of PacketSocket.open. */
export interface PacketSocketOptions {
  /**
   * Network namespace to open the socket in: a name under /run/netns (what `ip netns add`
   * creates). Default: the calling thread's namespace.
   */
  readonly netns?: string;
  /** Drop frames this host transmits on the interface (PACKET_IGNORE_OUTGOING); default true. */
  readonly ignoreOutgoing?: boolean;
  /** Receive buffer in bytes (SO_RCVBUFFORCE, root): room for a burst a test drains later. Default: the kernel's. */
  readonly receiveBuffer?: number;
}

/** setsockopt level of socket options (asm-generic/socket.h). */
const SOL_SOCKET = 1;
/** SO_RCVBUFFORCE (asm-generic/socket.h): SO_RCVBUF above rmem_max, with CAP_NET_ADMIN. */
const SO_RCVBUFFORCE = 33;

const IFNAME_RE = /^[\x21-\x7e]{1,15}$/;
const NETNS_RE = /^[A-Za-z0-9_.-]{1,64}$/;

/**
 * A raw AF_PACKET socket (SOCK_RAW, non-blocking, close-on-exec) bound to one interface: whole
 * Ethernet frames in and out, no IP stack in between. `send` transmits a frame on the
 * interface (for a tap: the frame goes to whoever reads the tap fd); `recv` returns frames the
 * interface received (for a tap: frames written to the tap fd). It can be opened inside another
 * network namespace (`netns`): the calling thread enters it with setns(2) only for socket() and
 * bind(), and the socket keeps working from the caller's namespace. Needs CAP_NET_RAW (and
 * CAP_SYS_ADMIN for `netns`). Owns its fd.
 */
export class PacketSocket {
  /** The interface the socket is bound to. */
  readonly ifname: string;
  /** Its index (in its namespace). */
  readonly ifindex: number;
  private fdValue: number;

  private constructor(fd: number, ifname: string, ifindex: number) {
    this.fdValue = fd;
    this.ifname = ifname;
    this.ifindex = ifindex;
  }

  /** socket(AF_PACKET, SOCK_RAW) + bind to `ifname` (in `options.netns` when given). */
  static open(ifname: string, options: PacketSocketOptions = {}): PacketSocket {
    if (!IFNAME_RE.test(ifname)) throw new VnicError('invalid-argument', `interface name '${ifname}' must be 1..15 printable ASCII bytes`);
    const netns = options.netns;
    if (netns !== undefined && !NETNS_RE.test(netns)) throw new VnicError('invalid-argument', `network namespace name '${netns}' is not valid`);
    const create = (): PacketSocket => {
      // Protocol 0: nothing is received before bind() narrows the socket to one interface.
      const fd = checkSys(libc.socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), 'socket', 'AF_PACKET', ifname, 'needs CAP_NET_RAW: run as root');
      try {
        const ifindex = libc.if_nametoindex(ifname);
        if (ifindex === 0) {
          throw new SysError({
            syscall: 'if_nametoindex',
            errno: libc.errno(),
            target: ifname,
            hint: `no interface ${ifname}${netns === undefined ? '' : ` in network namespace ${netns}`}`,
          });
        }
        if (options.ignoreOutgoing !== false) {
          const one = new Int32Array([1]);
          // NATIVE: the kernel reads the int during the call only.
          checkSys(libc.setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, one, 4), 'setsockopt', 'PACKET_IGNORE_OUTGOING', ifname);
        }
        if (options.receiveBuffer !== undefined) {
          const bytes = new Int32Array([options.receiveBuffer]);
          // NATIVE: the kernel reads the int during the call only.
          checkSys(libc.setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, bytes, 4), 'setsockopt', 'SO_RCVBUFFORCE', ifname, 'needs CAP_NET_ADMIN: run as root');
        }
        const sll = Buffer.alloc(SOCKADDR_LL_SIZE);
        sll.writeUInt16LE(AF_PACKET, 0);
        sll.writeUInt16BE(ETH_P_ALL, SOCKADDR_LL_PROTOCOL);
        sll.writeInt32LE(ifindex, SOCKADDR_LL_IFINDEX);
        // NATIVE: `sll` is read by the kernel during the call only.
        checkSys(libc.bind(fd, sll, SOCKADDR_LL_SIZE), 'bind', 'AF_PACKET', ifname);
        return new PacketSocket(fd, ifname, ifindex);
      } catch (e) {
        closeFd(fd);
        throw e;
      }
    };
    return netns === undefined ? create() : inNetns(netns, create);
  }

  /** The socket fd (throws once closed). */
  get fd(): number {
    if (this.fdValue < 0) throw new VnicError('invalid-state', `packet socket on ${this.ifname} is closed`);
    return this.fdValue;
  }

  /** True once close() ran. */
  get closed(): boolean {
    return this.fdValue < 0;
  }

  /** Transmits one whole Ethernet frame on the interface. False when the socket buffer is full (EAGAIN). */
  send(frame: Uint8Array): boolean {
    const fd = this.fd;
    for (;;) {
      // NATIVE: `frame` is read by the kernel during the call only.
      if (libc.write(fd, frame, frame.byteLength) >= 0) return true;
      const errno = libc.errno();
      if (errno === EAGAIN) return false;
      if (errno !== EINTR) throw new SysError({ syscall: 'write', request: 'AF_PACKET', errno, target: this.ifname });
    }
  }

  /** Reads the next received frame into `buf`: its length (truncated to `buf`), or -1 when none is queued. */
  recv(buf: Uint8Array): number {
    return readFd(this.fd, buf);
  }

  /** Closes the socket; later calls do nothing. */
  close(): void {
    const fd = this.fdValue;
    if (fd < 0) return;
    this.fdValue = -1;
    closeFd(fd);
  }
}

/**
 * Runs `fn` with the calling thread inside network namespace `name` (setns to /run/netns/<name>)
 * and moves the thread back to its own namespace afterwards, even when `fn` throws.
 */
function inNetns<T>(name: string, fn: () => T): T {
  const own = openFd('/proc/thread-self/ns/net', O_RDONLY);
  try {
    const target = openFd(`/run/netns/${name}`, O_RDONLY, `network namespace ${name} not found: create it with 'ip netns add ${name}'`);
    try {
      checkSys(libc.setns(target, CLONE_NEWNET), 'setns', 'CLONE_NEWNET', name, 'needs CAP_SYS_ADMIN: run as root');
    } finally {
      closeFd(target);
    }
    const goBack = (): void => {
      if (libc.setns(own, CLONE_NEWNET) < 0) {
        // The thread would keep running in the wrong namespace: never carry on silently.
        throw new SysError({
          syscall: 'setns',
          request: 'CLONE_NEWNET',
          errno: libc.errno(),
          target: 'own network namespace',
          hint: 'could not return to the original network namespace',
        });
      }
    };
    let result: T;
    try {
      result = fn();
    } catch (e) {
      goBack(); // a failure to go back wins over fn's error
      throw e;
    }
    goBack();
    return result;
  } finally {
    closeFd(own);
  }
}
