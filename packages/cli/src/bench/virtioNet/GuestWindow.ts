/** What a timed window of the bench guest measured. */
export interface GuestWindow {
  /** Device counter delta over the window (frames the device moved). */
  readonly packets: number;
  /** Length of the window in seconds (between the two counter reads). */
  readonly seconds: number;
  /** Used elements the guest recycled during the window. */
  readonly guestElements: number;
}
