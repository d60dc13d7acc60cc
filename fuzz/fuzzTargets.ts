import { frontendMessageTarget } from './targets/frontendMessageTarget.ts';
import { mmioTransportTarget } from './targets/mmioTransportTarget.ts';
import { splitQueueTarget } from './targets/splitQueueTarget.ts';
import { vhostUserCodecTarget } from './targets/vhostUserCodecTarget.ts';
import { vmConfigTarget } from './targets/vmConfigTarget.ts';

/** Every fuzz target by name; its corpus lives in fuzz/corpus/<name>/. */
export const fuzzTargets: Readonly<Record<string, (data: Uint8Array) => void | Promise<void>>> = {
  frontendMessage: frontendMessageTarget,
  mmioTransport: mmioTransportTarget,
  splitQueue: splitQueueTarget,
  vhostUserCodec: vhostUserCodecTarget,
  vmConfig: vmConfigTarget,
};
