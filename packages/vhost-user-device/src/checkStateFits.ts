import { describeFeatures } from './describeFeatures.ts';
import { VhostUserDeviceError } from './VhostUserDeviceError.ts';
import type { VhostUserDeviceState } from './VhostUserDeviceState.ts';

/**
 * Refuses a saved state this server cannot take over, with a VhostUserDeviceError
 * `invalid-argument` naming what differs: another number of queue pairs, or acked features this
 * server does not offer (e.g. a receive offload the new tap lacks). `offered` is this server's
 * GET_FEATURES answer.
 */
export function checkStateFits(state: VhostUserDeviceState, offered: bigint, queuePairs: number, where: string): void {
  const from = `the device state saved by ${state.socket} at ${state.savedAt}`;
  if (state.queuePairs !== queuePairs) {
    throw new VhostUserDeviceError(
      'invalid-argument',
      `${where}: ${from} has ${state.queuePairs} queue pair(s); this server serves ${queuePairs}: start it with --queue-pairs ${state.queuePairs} (queuePairs)`,
    );
  }
  const missing = BigInt(state.features) & ~offered;
  if (missing !== 0n) {
    throw new VhostUserDeviceError(
      'invalid-argument',
      `${where}: ${from} has features 0x${missing.toString(16)} (${describeFeatures(missing)}) acked that this server does not offer (0x${offered.toString(16)}): the frontend would lose them; use a tap that has these offloads`,
    );
  }
}
