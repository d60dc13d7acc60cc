/** What TX does with a frame the tap refused. */
export type TapRefusal = 'wait' | 'drop';

/**
 * Consecutive ENOBUFS refusals, with no frame written in between, that TX waits through before
 * it drops the refused frame. ENOBUFS means the kernel could not allocate the frame's buffer
 * (memory is short); the tap may well report EPOLLOUT at once, so without a bound a persistent
 * ENOBUFS would retry forever.
 */
export const TX_NOBUFS_RETRIES = 8;

/**
 * Which tap write refusals mean "no room, wait for EPOLLOUT" (backpressure) rather than a drop:
 * EAGAIN (the tap's send buffer, TUNSETSNDBUF, is full) always; ENOBUFS (no memory for the frame)
 * up to TX_NOBUFS_RETRIES times in a row, then the frame is dropped so a lasting shortage cannot
 * keep the queue retrying. Any frame written resets the streak. Pure logic, one per TxPath.
 */
export class TapRoomPolicy {
  private nobufs = 0;

  /**
   * A write of one frame failed with errno name `code`: 'wait' (keep the chain, wait for the tap
   * to be writable), 'drop' (ENOBUFS too often in a row), or undefined (not a lack of room: the
   * caller's usual error handling).
   */
  refused(code: string | undefined): TapRefusal | undefined {
    if (code === 'EAGAIN') return 'wait';
    if (code !== 'ENOBUFS') return undefined;
    if (this.nobufs >= TX_NOBUFS_RETRIES) {
      this.nobufs = 0;
      return 'drop';
    }
    this.nobufs++;
    return 'wait';
  }

  /** A frame went out: the tap takes frames again. */
  sent(): void {
    this.nobufs = 0;
  }
}
