/** What a bench row's load check found for one side (the vnic side, or the reference's). */
export interface Headroom {
  /** True when the load could not outrun the device: the row measures its source, not the device. */
  readonly sourceLimited: boolean;
  /** What the check saw, e.g. `offered 1.53x the measured rate` (in the row's note). */
  readonly text: string;
}
