import { describeFeatures, describeProtocolFeatures, VhostUserDeviceServer, type VhostUserDeviceOptions } from '@vnic/vhost-user-device';
import type { CliIo } from '../CliIo.ts';
import { errorMessage } from '@vnic/core';

/** Options of `vnic serve` (besides the device options). */
export interface ServeOptions extends VhostUserDeviceOptions {
  /** Stops serving when aborted (the command also stops on SIGINT and SIGTERM). */
  readonly signal?: AbortSignal;
}

/**
 * `vnic serve --socket <path> [--client] --tap <name> [--queue-pairs N]`: serves vnic's virtio-net
 * device over vhost-user (VhostUserDeviceServer) to QEMU or DPDK virtio_user until Ctrl-C, with a
 * line per event (listening, frontend connected, features negotiated by name, memory mapped, rings
 * started and stopped, disconnect and why). Resolves with the exit code: 0 after Ctrl-C, 1 when the
 * server cannot start.
 */
export async function serve(options: ServeOptions, io: CliIo): Promise<number> {
  const { signal, ...deviceOptions } = options;
  const log = (line: string): void => io.out(`[vnic serve] ${line}\n`);
  let server: VhostUserDeviceServer;
  try {
    server = VhostUserDeviceServer.open(deviceOptions);
  } catch (e) {
    io.err(`vnic serve: ${errorMessage(e)}\n`);
    return 1;
  }
  const e = server.events;
  e.on('listening', (path) =>
    log(
      `listening on ${path}: point a vhost-user frontend at it (QEMU -chardev socket,path=${path} -netdev vhost-user,chardev=..., DPDK --vdev net_virtio_user0,path=${path})`,
    ),
  );
  e.on('connected', () => log('frontend connected'));
  e.on('negotiated', ({ features, protocolFeatures }) =>
    log(
      `features negotiated: 0x${features.toString(16)} (${describeFeatures(features)}); protocol features 0x${protocolFeatures.toString(16)} (${describeProtocolFeatures(protocolFeatures) || 'none'})`,
    ),
  );
  e.on('memory', ({ regions }) =>
    log(`memory table: ${regions.length} region(s), ${(regions.reduce((n, r) => n + r.size, 0) / 2 ** 20).toFixed(0)} MiB mapped`),
  );
  e.on('rings-started', ({ pair, rx, tx }) =>
    log(`queue pair ${pair} running (${[rx ? 'receiveq' : '', tx ? 'transmitq' : ''].filter(Boolean).join(' + ')}) <-> tap ${server.tapName}`),
  );
  e.on('ring-stopped', ({ index, nextAvail }) => log(`vring ${index} stopped at avail index ${nextAvail}`));
  e.on('disconnected', (reason) => log(reason === undefined ? 'frontend disconnected' : `frontend dropped: ${reason.message}`));
  e.on('refused', (m) => log(`refused: ${m}`));
  e.on('warning', (m) => log(`warning: ${m}`));
  log(`tap ${server.tapName}, ${server.queuePairs} queue pair(s), offering 0x${server.features.toString(16)} (${describeFeatures(server.features)})`);
  try {
    server.start();
  } catch (err) {
    io.err(`vnic serve: ${errorMessage(err)}\n`);
    await server.close();
    return 1;
  }
  if (options.client === true) log(`connecting to ${server.socket} (retrying until the frontend listens)`);
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      signal?.removeEventListener('abort', stop);
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    if (signal?.aborted === true) stop();
    else signal?.addEventListener('abort', stop);
  });
  log('stopping: dropping the frontend, removing the socket, closing the tap');
  await server.close();
  log('stopped');
  return 0;
}
