import type { FramePort } from './FramePort.ts';
import { finishRxChecksum } from './finishRxChecksum.ts';
import type { VirtioNetDriver } from './VirtioNetDriver.ts';

/**
 * A FramePort over a VirtioNetDriver: frames go out on `queuePair` (default 0) with a zero
 * virtio_net_hdr, and come in from `queuePair`, or from every pair when it is not given (a
 * multiqueue device spreads flows over its pairs). A partial checksum the device left
 * (VIRTIO_NET_HDR_F_NEEDS_CSUM) is completed before the frame is handed on. When the TX ring is
 * full, `send` waits for the device to use what was posted, then tries once more.
 */
export function driverPort(driver: VirtioNetDriver, options: { readonly queuePair?: number } = {}): FramePort {
  const rxPair = options.queuePair;
  const txPair = options.queuePair ?? 0;
  return {
    send(frame: Uint8Array): boolean | Promise<boolean> {
      if (driver.send(frame, { queuePair: txPair })) return true;
      return driver.flushTx(txPair, 1000).then(
        () => driver.send(frame, { queuePair: txPair }),
        () => false,
      );
    },
    async receive(timeoutMs: number): Promise<Uint8Array | undefined> {
      const rx = rxPair === undefined ? await driver.receiveAny(timeoutMs) : await driver.receive(rxPair, timeoutMs);
      if (rx === undefined) return undefined;
      finishRxChecksum(rx.frame, rx.hdr);
      return rx.frame;
    },
  };
}
