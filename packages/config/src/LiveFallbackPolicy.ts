import { errorMessage, VnicError } from '@vnic/core';
import { ConfigError } from './ConfigError.ts';
import type { SwitchableNetDevice, SwitchPolicy } from './SwitchableNetDevice.ts';

/** Settings of a LiveFallbackPolicy (from a `net[]` entry's `fallback` + `liveFallback`). */
export interface LiveFallbackSettings {
  /** The NIC's own entry (its `backend`, e.g. vhost-user), to switch back to. */
  readonly primary: Readonly<Record<string, unknown>>;
  /** The entry of the fallback backend (e.g. virtio-net with its tap), to switch to. */
  readonly fallback: Readonly<Record<string, unknown>>;
  /** How long the primary backend's peer may be gone before the NIC switches to the fallback. */
  readonly afterMs: number;
  /** Pause between two attempts to return to the primary backend. */
  readonly retryMs: number;
}

/**
 * The live fallback: while the NIC runs on its primary backend (vhost-user) and that backend's
 * peer is gone (the device reports `connected: false`) for `afterMs`, the NIC switches itself to
 * the fallback backend (the in-process one) with `announce`; while it runs on the fallback it keeps
 * trying to build the primary device (each attempt is the backend's own connect with its
 * `connectTimeoutMs`, then `retryMs` of pause) and switches back as soon as one succeeds. Every
 * switch (and a failed attempt other than "still unavailable") is a `warning` on the NIC. A return
 * refused by the restore step (the guest negotiated a feature the primary lacks) ends the attempts.
 */
export class LiveFallbackPolicy implements SwitchPolicy {
  readonly #nic: SwitchableNetDevice;
  readonly #s: LiveFallbackSettings;
  readonly #primaryBackend: string;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #retry: ReturnType<typeof setTimeout> | undefined;
  #wake: (() => void) | undefined;
  #running: Promise<void> | undefined;
  #gaveUp = false;
  #closed = false;

  constructor(nic: SwitchableNetDevice, settings: LiveFallbackSettings) {
    this.#nic = nic;
    this.#s = settings;
    this.#primaryBackend = String(settings.primary['backend']);
  }

  /** Arms or disarms the fall-over timer, or starts the return attempts, for the NIC's current backend. */
  evaluate(): void {
    if (this.#closed || this.#running !== undefined) return;
    const cur = this.#nic.current;
    if (cur.backend === this.#primaryBackend) {
      this.#gaveUp = false;
      if (!isGone(cur)) {
        if (this.#timer !== undefined) clearTimeout(this.#timer);
        this.#timer = undefined;
        return;
      }
      if (this.#timer === undefined) this.#timer = setTimeout(() => this.#fallOver(), this.#s.afterMs);
      return;
    }
    if (!this.#gaveUp) this.#running = this.#returnLoop().finally(() => (this.#running = undefined));
  }

  /** Stops the timers and waits for a switch or attempt in progress. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    if (this.#retry !== undefined) clearTimeout(this.#retry);
    this.#wake?.();
    await this.#running;
  }

  #fallOver(): void {
    this.#timer = undefined;
    if (this.#closed || !isGone(this.#nic.current)) return;
    this.#running = (async () => {
      try {
        await this.#nic.switchBackend(this.#s.fallback, {
          announce: true,
          reason: `the "${this.#primaryBackend}" backend was gone for ${this.#s.afterMs} ms (liveFallback.afterMs)`,
        });
      } catch (err) {
        if (!this.#closed)
          this.#nic.events.emit('warning', `${this.#nic.id}: live fallback to "${String(this.#s.fallback['backend'])}" failed: ${errorMessage(err)}`);
      }
    })().finally(() => {
      this.#running = undefined;
      this.evaluate();
    });
  }

  async #returnLoop(): Promise<void> {
    while (!this.#closed && this.#nic.current.backend !== this.#primaryBackend) {
      try {
        await this.#nic.switchBackend(this.#s.primary, { announce: true, reason: `the "${this.#primaryBackend}" backend is back` });
        return;
      } catch (err) {
        if (this.#closed) return;
        const step = ConfigError.is(err) ? err.step : undefined;
        const cause = ConfigError.is(err) ? err.cause : undefined;
        const unavailable = step === 'build' && VnicError.is(cause) && cause.kind === 'unavailable';
        if (step === 'restore') {
          this.#gaveUp = true;
          this.#nic.events.emit(
            'warning',
            `${this.#nic.id}: live fallback: cannot return to "${this.#primaryBackend}", staying on "${this.#nic.backend}": ${errorMessage(err)}`,
          );
          return;
        }
        if (!unavailable)
          this.#nic.events.emit('warning', `${this.#nic.id}: live fallback: returning to "${this.#primaryBackend}" failed: ${errorMessage(err)}`);
      }
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        this.#retry = setTimeout(resolve, this.#s.retryMs);
      });
      this.#retry = undefined;
      this.#wake = undefined;
    }
  }
}

/** True when the device reports a peer connection (vhost-user's `connected`) and it is down. */
function isGone(device: object): boolean {
  return (device as { connected?: unknown }).connected === false;
}
