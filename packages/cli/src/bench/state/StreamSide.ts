/** Where a SteadyStream counts a frame: at the taps, or back at the guest (a backend that reflects it). */
export type StreamSide = 'atTap' | 'atGuest';
