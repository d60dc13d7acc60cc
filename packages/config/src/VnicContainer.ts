import type { VirtioNetDevice } from '@vnic/core';
import { Container } from 'inversify';

/**
 * The container createVnicContainer returns: an inversify Container that also remembers the
 * devices createNetDevices built from it, so that `dispose()` releases everything: it closes
 * those devices, then unbinds every service (inversify's deactivation hooks close the
 * IO_THREAD_POOL, joining its threads, and the EVENT_LOOP's epoll fd). Unusable afterwards.
 */
export class VnicContainer extends Container {
  readonly #devices = new Set<VirtioNetDevice>();
  #disposed: Promise<void> | undefined;

  /** Records a device built from this container (createNetDevices does it); dispose() closes it. */
  track(device: VirtioNetDevice): void {
    this.#devices.add(device);
  }

  /** Closes the tracked devices, then unbinds every service (their deactivation hooks run). Idempotent. */
  dispose(): Promise<void> {
    this.#disposed ??= (async () => {
      const devices = [...this.#devices];
      this.#devices.clear();
      await Promise.allSettled(devices.map((d) => d.close()));
      await this.unbindAllAsync();
    })();
    return this.#disposed;
  }
}
