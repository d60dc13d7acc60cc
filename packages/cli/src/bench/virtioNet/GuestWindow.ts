/** What a timed window of the bench guest measured. */
export interface GuestWindow {
  /** Device counter delta over the window (frames the device moved). */
  readonly packets: number;
  /** Length of the window in seconds (between the two counter reads). */
  readonly seconds: number;
  /** Used elements the guest recycled during the window. */
  readonly guestElements: number;
  /** Device counter delta from the start of the warm-up to the end of the window. */
  readonly totalPackets: number;
  /**
   * Seconds of the window the guest spent in pumps that recycled something (the rest it found
   * nothing to do, or slept): its share of the window is how busy the load was.
   */
  readonly busySeconds: number;
}
