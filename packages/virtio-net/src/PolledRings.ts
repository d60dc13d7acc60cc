/**
 * The rings an IO thread polls during its IdlePoll window besides its epoll (IoThreadLoop: the TX
 * rings of its pairs, AvailPoll each): `quiet` when the window opens, `poll` on every round of it,
 * `arm` when it closes, whatever ended it.
 */
export interface PolledRings {
  /** The window opens: the guest is told kicks are not needed. */
  quiet(): void;
  /** True when a ring has buffers (its pair serves them in its next turn, as after a kick). */
  poll(): boolean;
  /** The window closes: kicks are asked for again; true when buffers arrived meanwhile (no sleep). */
  arm(): boolean;
}
