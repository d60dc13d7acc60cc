/**
 * The rings an IO thread polls during its IdlePoll window besides its epoll (IoThreadLoop: the TX
 * rings of its pairs, AvailPoll each): `quiet` when the window opens, `poll` on every round of it
 * and on every wait while they are quiet, `arm` before the thread sleeps. Between, the rings stay
 * quiet, the turns that serve their buffers included.
 */
export interface PolledRings {
  /** The window opens: the guest is told kicks are not needed. */
  quiet(): void;
  /** True when a quiet ring has buffers (its pair serves them in its next turn, as after a kick; kicks stay off). */
  poll(): boolean;
  /** The thread is about to sleep: kicks are asked for again; true when buffers arrived meanwhile (no sleep). */
  arm(): boolean;
}
