import type { ActivateContext } from '../device/ActivateContext.ts';
import { FakeQueueHost } from '../device/FakeQueueHost.ts';
import { NetDeviceBase } from '../device/NetDeviceBase.ts';
import type { NetDeviceConfig } from '../device/NetDeviceConfig.ts';
import type { QueueStats } from '../device/QueueStats.ts';
import type { QueueState } from '../queue/QueueState.ts';

/**
 * A test backend for specs of {@link NetDeviceBase} and what drives it: records each data-plane
 * call (`activate`, `reset`, `close`) in `calls` and each activation context in `contexts`;
 * `activateGate` holds an activation open, `activateError` makes it fail, `resetStates` is what a
 * reset returns. Offers every backend feature unless told otherwise.
 */
export class RecordingNetDevice extends NetDeviceBase {
  readonly calls: string[] = [];
  readonly contexts: ActivateContext[] = [];
  activateGate: Promise<void> | undefined;
  activateError: Error | undefined;
  resetStates: QueueState[] = [];
  readonly host = new FakeQueueHost();

  constructor(cfg: NetDeviceConfig, backendFeatures: bigint = (1n << 64n) - 1n) {
    super(cfg, backendFeatures);
  }

  override stats(): QueueStats[] {
    return [];
  }
  protected override queueHost(): FakeQueueHost {
    return this.host;
  }
  protected override async activateDataPlane(ctx: ActivateContext): Promise<void> {
    this.calls.push('activate');
    if (this.activateGate !== undefined) await this.activateGate;
    if (this.activateError !== undefined) throw this.activateError;
    this.contexts.push(ctx);
  }
  protected override async resetDataPlane(): Promise<QueueState[]> {
    this.calls.push('reset');
    return this.resetStates;
  }
  protected override async closeBackend(): Promise<void> {
    this.calls.push('close');
  }
}
