import { EPOLLIN, Epoll, readFd, setNonBlocking, writeFd } from '@vnic/sys';
import type { ClosableFramePort } from './ClosableFramePort.ts';

/**
 * A FramePort over a tap queue fd (or any fd that reads and writes whole frames): the host side
 * of a link, e.g. a kernel tap as the peer of a GuestNetStack. The fd is switched to non-blocking
 * and stays the caller's. With `vnetHdrSize` (a tap opened with IFF_VNET_HDR) each frame read has
 * that many header bytes stripped, and each frame written gets a zeroed header.
 */
export function fdPort(fd: number, options: { readonly vnetHdrSize?: number } = {}): ClosableFramePort {
  const hdr = options.vnetHdrSize ?? 0;
  setNonBlocking(fd, true);
  const epoll = Epoll.create();
  epoll.add(fd, EPOLLIN, fd);
  const buf = new Uint8Array(hdr + 65_536);
  return {
    send(frame: Uint8Array): boolean {
      let out = frame;
      if (hdr > 0) {
        out = new Uint8Array(hdr + frame.length);
        out.set(frame, hdr);
      }
      return writeFd(fd, out) === out.length;
    },
    async receive(timeoutMs: number): Promise<Uint8Array | undefined> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (epoll.closed) return undefined;
        const n = readFd(fd, buf);
        if (n > hdr) return buf.slice(hdr, n);
        if (n === 0) return undefined; // end of file: nothing will ever arrive
        const left = deadline - Date.now();
        if (left <= 0) return undefined;
        if (n < 0) await epoll.waitAsync(1, Math.min(left, 250));
      }
    },
    close(): void {
      epoll.close();
    },
  };
}
