import {
  describeFeatures,
  describeProtocolFeatures,
  parseVhostUserDeviceState,
  VhostUserDeviceServer,
  type VhostUserDeviceOptions,
  type VhostUserDeviceState,
} from '@vnic/vhost-user-device';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { CliIo } from '../CliIo.ts';
import { errorMessage } from '@vnic/core';

/** Options of `vnic serve` (besides the device options). */
export interface ServeOptions extends Omit<VhostUserDeviceOptions, 'state'> {
  /** Stops serving when aborted (the command also stops on SIGINT and SIGTERM). */
  readonly signal?: AbortSignal;
  /** `--state <file>`: take over the device state another `vnic serve` saved there. */
  readonly stateFile?: string;
  /** `--save-state <file>`: on SIGUSR2, save the device state there and stop (the hand-over). */
  readonly saveStateFile?: string;
}

/** Reads and checks a state file; the error names the file. */
function readState(file: string): VhostUserDeviceState {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`--state ${file}: cannot read it: ${errorMessage(e)}`, { cause: e });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new Error(`--state ${file}: not JSON: ${errorMessage(e)}`, { cause: e });
  }
  return parseVhostUserDeviceState(json, `--state ${file}`);
}

/** Writes the state next to `file` then renames it over `file`, so a reader never sees half of it. */
function writeState(file: string, state: VhostUserDeviceState): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, file);
}

/**
 * `vnic serve --socket <path> [--client] --tap <name> [--queue-pairs N] [--state <file>]
 * [--save-state <file>]`: serves vnic's virtio-net
 * device over vhost-user (VhostUserDeviceServer) to QEMU or DPDK virtio_user until Ctrl-C, with a
 * line per event (listening, frontend connected, features negotiated by name, memory mapped, rings
 * started and stopped, disconnect and why). Resolves with the exit code: 0 after Ctrl-C, 1 when the
 * server cannot start. Hand-over: with `--save-state <file>`, SIGUSR2 quiesces the data plane,
 * writes the device state (versioned JSON) to the file and stops (exit 0); a new `vnic serve
 * --state <file>` on the same socket and tap takes the device over and the frontend, reconnecting,
 * resumes its rings where they stopped (no device reset).
 */
export async function serve(options: ServeOptions, io: CliIo): Promise<number> {
  const { signal, stateFile, saveStateFile, ...deviceOptions } = options;
  const log = (line: string): void => io.out(`[vnic serve] ${line}\n`);
  let server: VhostUserDeviceServer;
  try {
    const state = stateFile === undefined ? undefined : readState(stateFile);
    server = VhostUserDeviceServer.open(state === undefined ? deviceOptions : { ...deviceOptions, state });
    if (state !== undefined) {
      log(
        `taking over the device state ${stateFile} saved by ${state.socket} at ${state.savedAt}: features ${state.features}, ${state.queues.length} vring(s) (${state.queues.map((q) => `${q.index}@${q.nextAvail}`).join(' ')})`,
      );
    }
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
  e.on('dirty-log', ({ logging, bytes, pages, setBits }) =>
    log(
      `dirty log: ${bytes === undefined ? 'none mapped' : `${bytes} bytes mapped (guest-physical addresses below 0x${(bytes * 8 * 4096).toString(16)})`}, logging ${logging ? 'on' : 'off'}${pages === undefined ? '' : `: ${pages} page(s) seen marked`}${setBits === undefined ? '' : `, ${setBits} page mark(s) set by vnic (exact)`}`,
    ),
  );
  e.on('ring-stopped', ({ index, nextAvail }) => log(`vring ${index} stopped at avail index ${nextAvail}`));
  e.on('resumed', ({ index, nextAvail, nextUsed, from, why }) =>
    log(`vring ${index} resumes at avail index ${nextAvail} (used ${nextUsed}; ${from === 'frontend' ? "the frontend's base" : 'the saved state'}: ${why})`),
  );
  e.on('disconnected', (reason) => log(reason === undefined ? 'frontend disconnected' : `frontend dropped: ${reason.message}`));
  e.on('refused', (m) => log(`refused: ${m}`));
  e.on('warning', (m) => log(`warning: ${m}`));
  log(`tap ${server.tapName}, ${server.queuePairs} queue pair(s), offering 0x${server.features.toString(16)} (${describeFeatures(server.features)})`);
  // Signals are taken from here on (a SIGUSR2 before its handler would kill the process).
  const requests = signalRequests(signal, saveStateFile !== undefined);
  try {
    server.start();
  } catch (err) {
    io.err(`vnic serve: ${errorMessage(err)}\n`);
    requests.dispose();
    await server.close();
    return 1;
  }
  if (options.client === true) log(`connecting to ${server.socket} (retrying until the frontend listens)`);
  for (;;) {
    const why = await requests.next();
    if (why === 'stop' || saveStateFile === undefined) break;
    try {
      const state = await server.saveState();
      writeState(saveStateFile, state);
      log(
        `state saved to ${saveStateFile} (features ${state.features}, ${state.queues.length} vring(s): ${state.queues.map((q) => `${q.index}@${q.nextAvail}`).join(' ')}): take over with vnic serve --state ${saveStateFile}`,
      );
      break;
    } catch (err) {
      log(`cannot save the state (still serving): ${errorMessage(err)}`);
    }
  }
  requests.dispose();
  log('stopping: dropping the frontend, removing the socket, closing the tap');
  await server.close();
  log('stopped');
  return 0;
}

/** SIGINT, SIGTERM and an abort `signal` ask to stop; SIGUSR2 (when `save`) asks to save the state. Queued until next() takes them. */
function signalRequests(signal: AbortSignal | undefined, save: boolean): { next(): Promise<'stop' | 'save'>; dispose(): void } {
  const queued: ('stop' | 'save')[] = [];
  let wake: (() => void) | undefined;
  const push = (what: 'stop' | 'save'): void => {
    queued.push(what);
    wake?.();
  };
  const stop = (): void => push('stop');
  const saveNow = (): void => push('save');
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  if (save) process.on('SIGUSR2', saveNow);
  if (signal?.aborted === true) stop();
  else signal?.addEventListener('abort', stop);
  return {
    async next() {
      while (queued.length === 0) await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
      return queued.shift()!;
    },
    dispose() {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      process.off('SIGUSR2', saveNow);
      signal?.removeEventListener('abort', stop);
    },
  };
}
