import { VnicError } from '@vnic/core';
import { closeFd } from '../fd/closeFd.ts';
import { EMSGSIZE } from '../linux/errno.ts';
import {
  CMSGHDR_SIZE,
  IOVEC_SIZE,
  MSG_CTRUNC,
  MSGHDR_CONTROL,
  MSGHDR_CONTROLLEN,
  MSGHDR_FLAGS,
  MSGHDR_IOV,
  MSGHDR_IOVLEN,
  MSGHDR_SIZE,
  SCM_MAX_FDS,
  SCM_RIGHTS,
  SOL_SOCKET,
} from '../linux/socket.ts';
import { libc } from '../native/libc.ts';
import { SysError } from '../SysError.ts';
import type { RecvWithFdsResult } from './recvWithFds.ts';

/** CMSG_SPACE(n * sizeof(int)): header plus data rounded up to 8 bytes. */
function cmsgSpace(fds: number): number {
  return CMSGHDR_SIZE + ((fds * 4 + 7) & ~7);
}

const IOV_OFFSET = MSGHDR_SIZE;
const CONTROL_OFFSET = IOV_OFFSET + IOVEC_SIZE;
const TOTAL = CONTROL_OFFSET + cmsgSpace(SCM_MAX_FDS);

/**
 * A hand-built `struct msghdr` with one iovec and room for one SCM_RIGHTS control message of up
 * to 32 fds (layouts: bits/socket.h, 64-bit Linux), all in one ArrayBuffer. Internal to @vnic/sys.
 */
export class MsgHdr {
  /** Address of the struct msghdr, for sendmsg/recvmsg. */
  readonly address: bigint;
  // NATIVE: the msghdr points into this same buffer (iovec, control); the buffer lives as long as this object.
  private readonly buffer = new ArrayBuffer(TOTAL);
  private readonly view = new DataView(this.buffer);

  constructor() {
    this.address = libc.address(this.buffer);
    this.view.setBigUint64(MSGHDR_IOV, this.address + BigInt(IOV_OFFSET), true);
    this.view.setBigUint64(MSGHDR_IOVLEN, 1n, true);
  }

  /** Points the iovec at `len` bytes at `dataAddr` and fills an SCM_RIGHTS message with `fds` (none: no control data). */
  setSend(dataAddr: bigint, len: number, fds: readonly number[]): void {
    this.setData(dataAddr, len);
    const v = this.view;
    v.setUint32(MSGHDR_FLAGS, 0, true);
    if (fds.length === 0) {
      v.setBigUint64(MSGHDR_CONTROL, 0n, true);
      v.setBigUint64(MSGHDR_CONTROLLEN, 0n, true);
      return;
    }
    if (fds.length > SCM_MAX_FDS) throw new VnicError('invalid-argument', `cannot send ${fds.length} fds in one message (at most ${SCM_MAX_FDS})`);
    v.setBigUint64(MSGHDR_CONTROL, this.address + BigInt(CONTROL_OFFSET), true);
    v.setBigUint64(MSGHDR_CONTROLLEN, BigInt(cmsgSpace(fds.length)), true);
    v.setBigUint64(CONTROL_OFFSET, BigInt(CMSGHDR_SIZE + fds.length * 4), true); // cmsg_len = CMSG_LEN
    v.setInt32(CONTROL_OFFSET + 8, SOL_SOCKET, true);
    v.setInt32(CONTROL_OFFSET + 12, SCM_RIGHTS, true);
    for (let i = 0; i < fds.length; i++) v.setInt32(CONTROL_OFFSET + CMSGHDR_SIZE + i * 4, fds[i]!, true);
  }

  /** Points the iovec at `len` bytes at `dataAddr` and offers control space for `maxFds` fds. */
  setRecv(dataAddr: bigint, len: number, maxFds: number): void {
    if (!Number.isInteger(maxFds) || maxFds < 0 || maxFds > SCM_MAX_FDS) {
      throw new VnicError('invalid-argument', `maxFds ${maxFds} is not an integer in 0..${SCM_MAX_FDS}`);
    }
    this.setData(dataAddr, len);
    const v = this.view;
    v.setUint32(MSGHDR_FLAGS, 0, true);
    new Uint8Array(this.buffer, CONTROL_OFFSET).fill(0);
    v.setBigUint64(MSGHDR_CONTROL, maxFds === 0 ? 0n : this.address + BigInt(CONTROL_OFFSET), true);
    v.setBigUint64(MSGHDR_CONTROLLEN, maxFds === 0 ? 0n : BigInt(cmsgSpace(maxFds)), true);
  }

  /** Checks the arguments of a receive. */
  static checkRecvArgs(maxLen: number, maxFds: number): void {
    if (!Number.isInteger(maxLen) || maxLen < 1) throw new VnicError('invalid-argument', `maxLen ${maxLen} is not a positive integer`);
    if (!Number.isInteger(maxFds) || maxFds < 0 || maxFds > SCM_MAX_FDS) {
      throw new VnicError('invalid-argument', `maxFds ${maxFds} is not an integer in 0..${SCM_MAX_FDS}`);
    }
  }

  /**
   * The result of a recvmsg that returned `n` into `data`. On MSG_CTRUNC (more fds than offered
   * room for) the fds that did arrive are closed and a SysError is thrown.
   */
  takeReceived(fd: number, maxFds: number, data: Uint8Array, n: number): RecvWithFdsResult {
    const fds = this.receivedFds();
    if ((this.flags & MSG_CTRUNC) !== 0) {
      for (const f of fds) {
        try {
          closeFd(f);
        } catch {
          // closing what we were given; nothing more to do
        }
      }
      throw new SysError({
        syscall: 'recvmsg',
        request: 'MSG_CTRUNC',
        errno: EMSGSIZE,
        target: `fd ${fd}`,
        hint: `the peer sent more fds than the ${maxFds} this receive takes; the ${fds.length} that arrived were closed`,
      });
    }
    return { data: data.subarray(0, n), fds };
  }

  /** msg_flags after recvmsg (MSG_CTRUNC, MSG_TRUNC). */
  get flags(): number {
    return this.view.getUint32(MSGHDR_FLAGS, true);
  }

  /** The fds of every SCM_RIGHTS message the kernel wrote after recvmsg (the caller owns them). */
  receivedFds(): number[] {
    const v = this.view;
    const controlLen = Number(v.getBigUint64(MSGHDR_CONTROLLEN, true));
    const end = CONTROL_OFFSET + Math.min(controlLen, TOTAL - CONTROL_OFFSET);
    const fds: number[] = [];
    let off = CONTROL_OFFSET;
    while (off + CMSGHDR_SIZE <= end) {
      const len = Number(v.getBigUint64(off, true));
      if (len < CMSGHDR_SIZE || off + len > end) break;
      if (v.getInt32(off + 8, true) === SOL_SOCKET && v.getInt32(off + 12, true) === SCM_RIGHTS) {
        for (let p = off + CMSGHDR_SIZE; p + 4 <= off + len; p += 4) fds.push(v.getInt32(p, true));
      }
      off += (len + 7) & ~7;
    }
    return fds;
  }

  private setData(dataAddr: bigint, len: number): void {
    this.view.setBigUint64(IOV_OFFSET, dataAddr, true);
    this.view.setBigUint64(IOV_OFFSET + 8, BigInt(len), true);
  }
}
