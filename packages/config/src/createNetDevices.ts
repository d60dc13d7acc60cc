import { errorMessage, LOGGER, silentLogger, VnicError, type Logger, type NetDeviceConfig, type RestoreContext, type VirtioNetDevice } from '@vnic/core';
import type { Container } from 'inversify';
import { ConfigError } from './ConfigError.ts';
import { containerBackends } from './containerBackends.ts';
import { createVnicContainer } from './createVnicContainer.ts';
import { liveFallbackFor } from './liveFallbackFor.ts';
import { SwitchableNetDevice } from './SwitchableNetDevice.ts';
import { validateVmConfig } from './validateVmConfig.ts';
import { VnicContainer } from './VnicContainer.ts';

/** Options of createNetDevices. */
export interface CreateNetDevicesOptions {
  /** The container to resolve backends from (default: createVnicContainer()). */
  readonly container?: Container;
  /** Where the config came from, for error messages (e.g. a file path). */
  readonly source?: string;
  /** Called with a warning (e.g. a fallback backend was used). Default: process.emitWarning. */
  readonly onWarning?: (message: string) => void;
  /**
   * Restore saved NICs (a VM snapshot taken over, maybe in another process or on another host):
   * `states[id]` is the NetDeviceState a device's saveState() returned (parsed JSON), `context(id)`
   * the VMM's memory map and new eventfds for a NIC that was running. Each device is built from
   * the config as usual, then takes its state over (VirtioNetDevice.restoreState); entries without
   * a state start fresh.
   */
  readonly restore?: {
    readonly states: Readonly<Record<string, unknown>>;
    readonly context?: (id: string) => RestoreContext | undefined;
  };
  /**
   * Return every NIC as a SwitchableNetDevice (its backend can then be switched at run time with
   * `switchBackend(entry)`). NICs with `liveFallback` are SwitchableNetDevices either way.
   */
  readonly switchable?: boolean;
}

/**
 * Validates a VM config and builds one VirtioNetDevice per `net[]` entry, in order. Invalid configs
 * throw a ConfigError listing every issue. When a backend is unavailable on this host (its provider
 * throws kind `unavailable`) and the entry names a `fallback`, the fallback backend is used with a
 * warning. If any device fails, the ones already built are closed before the error is thrown.
 * Each device's `warning` and `needs-reset` events also go to the container's LOGGER (warn and
 * error, with `{ nic, backend }`), and a VnicContainer tracks the devices so that its
 * `dispose()` closes them. With `restore`, each NIC that has a saved state takes it over; a
 * refused state (ConfigError `state-refused`, naming the entry and what differs) closes every device
 * built so far.
 */
export async function createNetDevices(raw: unknown, options: CreateNetDevicesOptions & { readonly switchable: true }): Promise<SwitchableNetDevice[]>;
export async function createNetDevices(raw: unknown, options?: CreateNetDevicesOptions): Promise<VirtioNetDevice[]>;
export async function createNetDevices(raw: unknown, options: CreateNetDevicesOptions = {}): Promise<VirtioNetDevice[]> {
  const container = options.container ?? createVnicContainer();
  const backends = containerBackends(container);
  const { issues, net } = validateVmConfig(raw, backends);
  if (issues.length > 0) throw ConfigError.fromIssues(issues, options.source);
  const warn = options.onWarning ?? ((m: string) => process.emitWarning(m, { code: 'VNIC_FALLBACK' }));
  const logger = container.isBound(LOGGER) ? container.get<Logger>(LOGGER) : silentLogger;
  const devices: VirtioNetDevice[] = [];
  try {
    const build = (entry: unknown): Promise<VirtioNetDevice> => buildEntry(entry, backends);
    for (const [i, cfg] of net.entries()) {
      let device = await createOne(cfg, i, raw, backends, warn);
      const policy = liveFallbackFor((raw as { net: Record<string, unknown>[] }).net[i]!);
      if (options.switchable === true || policy !== undefined) device = new SwitchableNetDevice(device, build, policy);
      devices.push(device);
      await restoreOne(device, i, options.restore);
      const fields = { nic: device.id, backend: device.backend };
      device.events.on('warning', (m) => logger.warn(fields, m));
      device.events.on('needs-reset', (reason) => logger.error(fields, `${device.id}: needs reset: ${reason}`));
      if (container instanceof VnicContainer) container.track(device);
    }
  } catch (err) {
    await Promise.allSettled(devices.map((d) => d.close()));
    throw err;
  }
  return devices;
}

async function createOne(
  cfg: NetDeviceConfig,
  i: number,
  raw: unknown,
  backends: ReturnType<typeof containerBackends>,
  warn: (message: string) => void,
): Promise<VirtioNetDevice> {
  const provider = backends.provider(cfg.backend)!;
  try {
    return await provider.create(cfg);
  } catch (err) {
    const entry = (raw as { net: Record<string, unknown>[] }).net[i]!;
    const fallback = typeof entry['fallback'] === 'string' ? entry['fallback'] : undefined;
    if (fallback !== undefined && VnicError.is(err) && err.kind === 'unavailable') {
      warn(`net[${i}] (${cfg.id}): backend "${cfg.backend}" is unavailable (${err.message}); using fallback "${fallback}"`);
      const section = entry[fallback];
      const fbCfg: NetDeviceConfig = {
        ...cfg,
        backend: fallback,
        options: typeof section === 'object' && section !== null ? (section as Record<string, unknown>) : {},
      };
      try {
        return await backends.provider(fallback)!.create(fbCfg);
      } catch (err2) {
        throw new ConfigError('create-failed', `net[${i}] (${cfg.id}): fallback backend "${fallback}" failed too: ${errorMessage(err2)}`, { cause: err2 });
      }
    }
    throw new ConfigError('create-failed', `net[${i}] (${cfg.id}): backend "${cfg.backend}" could not create the device: ${errorMessage(err)}`, { cause: err });
  }
}

/** Builds the device of one `net[]` entry exactly on its backend (no config-time fallback): what switchBackend builds. */
async function buildEntry(entry: unknown, backends: ReturnType<typeof containerBackends>): Promise<VirtioNetDevice> {
  const { issues, net } = validateVmConfig({ net: [entry] }, backends);
  if (issues.length > 0)
    throw ConfigError.fromIssues(
      issues.map((i) => ({ path: i.path.replace(/^net\[0\]/, 'entry'), message: i.message })),
      'switchBackend entry',
    );
  const cfg = net[0]!;
  return backends.provider(cfg.backend)!.create(cfg);
}

async function restoreOne(device: VirtioNetDevice, i: number, restore: CreateNetDevicesOptions['restore']): Promise<void> {
  const state = restore?.states[device.id];
  if (state === undefined) return;
  try {
    await device.restoreState(state, restore?.context?.(device.id));
  } catch (err) {
    throw new ConfigError(
      'state-refused',
      `net[${i}] (${device.id}): the saved state cannot be restored on backend "${device.backend}": ${errorMessage(err)}`,
      {
        cause: err,
      },
    );
  }
}
