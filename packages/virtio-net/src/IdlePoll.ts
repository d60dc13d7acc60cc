import { yieldCpu, type Epoll, type EpollEvent } from '@vnic/sys';
import type { PolledRings } from './PolledRings.ts';

/** The first poll window after a wake-up that a longer poll would have caught (microseconds). */
const POLL_START_US = 4;
/** Factor the window grows by after such a wake-up, and shrinks by after a long sleep. */
const POLL_GROW = 2;

/** What a wait returns when a polled ring, not the epoll, ended it. */
const NO_EVENTS: readonly EpollEvent[] = [];

/** The IO thread's clock, in microseconds (monotonic). */
const nowUs = (): number => performance.now() * 1000;

/**
 * Adaptive polling before an IO thread sleeps, after QEMU's AioContext polling (poll-max-ns,
 * aio-posix.c): instead of blocking in epoll_wait at once, the thread polls its epoll (timeout 0)
 * for up to `windowUs`; only when nothing became ready meanwhile does it block. The window
 * adapts to how long the thread actually waited for its next event: a wait shorter than
 * `maxUs` that the window missed grows it (from POLL_START_US, doubling, up to `maxUs`); a wait
 * longer than `maxUs` shrinks it (halving, to 0 below POLL_START_US). A thread whose next kick or
 * tap frame comes within a few microseconds (a request/response guest, one frame in flight) thus
 * stops paying two thread wake-ups per round trip, while a thread that idles between bursts polls
 * for nothing and costs no CPU. `maxUs` 0 turns polling off (every wait blocks at once).
 *
 * Each round of the poll yields the CPU (sched_yield): when the thread it waits for (the guest's,
 * one request in flight) shares its CPU, that thread runs at once instead of after the window,
 * which on a loaded host otherwise turns every round trip into two expired windows.
 *
 * Polling costs nothing on correctness: the guest's notifications are enabled exactly as before a
 * blocking wait, and each poll is an epoll_wait, so a kick, a tap frame or a timer that fires
 * meanwhile is seen the same way.
 */
export class IdlePoll {
  /** The window the next wait polls for (microseconds). */
  windowUs = 0;
  /** Waits that ended inside the poll window (no sleep). */
  hits = 0;
  /** Waits that went on to block in epoll_wait. */
  sleeps = 0;
  private readonly maxUs: number;

  /** @param maxUs the largest poll window in microseconds (0: never poll). */
  constructor(maxUs: number) {
    this.maxUs = maxUs;
  }

  /**
   * epoll.wait(maxEvents, timeoutMs), polling first for the current window when the wait may
   * block (`timeoutMs` -1 or > 0). The returned array is the epoll's (reused by its next wait).
   * With `rings`, the window also polls them (no kicks meanwhile: PolledRings) and ends, with no
   * events, when one has buffers. They stay quiet while the thread serves what it found (a guest
   * posting its next frame meanwhile does not kick) and are re-armed, and looked at once more,
   * only before the thread sleeps; a wait with timeout 0 (work pending) polls them too.
   */
  wait(epoll: Epoll, maxEvents: number, timeoutMs: number, rings?: PolledRings): readonly EpollEvent[] {
    if (timeoutMs === 0 || this.maxUs === 0) {
      const events = epoll.wait(maxEvents, timeoutMs);
      if (this.maxUs > 0) rings?.poll(); // rings still quiet from an earlier window: their buffers get the next turn
      return events;
    }
    const t0 = nowUs();
    const window = this.windowUs;
    if (window > 0) {
      const until = t0 + window;
      rings?.quiet();
      for (;;) {
        const events = epoll.wait(maxEvents, 0);
        if (events.length > 0) {
          rings?.poll(); // the rings stay quiet: their buffers get the next turn too
          this.hits++;
          return events;
        }
        if (rings?.poll() === true) {
          this.hits++;
          return NO_EVENTS;
        }
        if (nowUs() >= until) break;
        yieldCpu(); // the guest (or the peer) may be waiting for this CPU: it runs now, not after the window
      }
    }
    if (rings?.arm() === true) {
      this.hits++; // buffers came as the window closed (or while the thread served other work): served, not slept on
      return NO_EVENTS;
    }
    const left = timeoutMs < 0 ? -1 : Math.max(0, timeoutMs - Math.ceil(window / 1000));
    const events = epoll.wait(maxEvents, left);
    this.sleeps++;
    this.adapt(nowUs() - t0, window);
    return events;
  }

  /**
   * Work came without a wait (a reply read right after the frame that asked for it, which the next
   * wait would have found at once): adapts as a wait of 0 us does, growing the window toward
   * `maxUs`. Without it a thread whose every wait covers the guest's turnaround (one wait per round
   * trip instead of two) could settle where guest and thread both sleep and each wait, two
   * wake-ups long, exceeds `maxUs` and keeps the window at 0.
   */
  quick(): void {
    if (this.maxUs > 0) this.adapt(0, this.windowUs);
  }

  /** The window after a wait that blocked for `waitedUs` in all (the poll included), as QEMU adjusts poll_ns. */
  private adapt(waitedUs: number, window: number): void {
    if (waitedUs > this.maxUs) {
      const w = window / POLL_GROW;
      this.windowUs = w < POLL_START_US ? 0 : w;
    } else if (window < this.maxUs) {
      this.windowUs = Math.min(this.maxUs, window === 0 ? POLL_START_US : window * POLL_GROW);
    }
  }
}
