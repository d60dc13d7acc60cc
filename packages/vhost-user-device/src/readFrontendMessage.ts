import { closeFd, SysError, type UnixSocket } from '@vnic/sys';
import {
  decodeHeader,
  requestName,
  VHOST_USER_HDR_SIZE,
  VHOST_USER_MAX_FDS,
  VHOST_USER_MAX_PAYLOAD_SIZE,
  type VhostUserHeader,
} from '@vnic/vhost-user-protocol';
import { VhostUserDeviceError } from './VhostUserDeviceError.ts';

/** One request from the frontend: header, payload, and the fds that came with it (owned by the caller). */
export interface FrontendMessage {
  readonly header: VhostUserHeader;
  readonly payload: Uint8Array;
  readonly fds: number[];
}

/**
 * Reads the next request from the frontend on a libuv pool thread (UnixSocket.recvAsync): the
 * 12-byte header first (the fds of a message arrive with its first byte), then exactly `size`
 * payload bytes. Resolves undefined at a clean end of stream (between messages). A size above
 * VHOST_USER_MAX_PAYLOAD_SIZE, more than VHOST_USER_MAX_FDS fds, fds in the middle of a message or
 * an end of stream inside one reject (`onFirstByte` runs when the header's first bytes arrive) with a VhostUserDeviceError `protocol`; received fds are
 * closed then.
 */
export async function readFrontendMessage(sock: UnixSocket, where: string, onFirstByte?: () => void): Promise<FrontendMessage | undefined> {
  const fds: number[] = [];
  try {
    const head = await readExact(sock, VHOST_USER_HDR_SIZE, fds, where, undefined, onFirstByte);
    if (head === undefined) return undefined;
    const header = decodeHeader(head);
    const name = requestName(header.request);
    if (header.size > VHOST_USER_MAX_PAYLOAD_SIZE) {
      throw new VhostUserDeviceError(
        'protocol',
        `${where}: ${name}: the header announces ${header.size} payload bytes; at most ${VHOST_USER_MAX_PAYLOAD_SIZE} are allowed`,
      );
    }
    const payload = header.size === 0 ? new Uint8Array(0) : await readExact(sock, header.size, fds, where, name);
    if (payload === undefined)
      throw new VhostUserDeviceError('protocol', `${where}: ${name}: the frontend closed the connection before the ${header.size}-byte payload`);
    return { header, payload, fds };
  } catch (e) {
    for (const fd of fds.splice(0)) closeFd(fd);
    throw e;
  }
}

async function readExact(
  sock: UnixSocket,
  len: number,
  fds: number[],
  where: string,
  name: string | undefined,
  onFirstByte?: () => void,
): Promise<Uint8Array | undefined> {
  const out = new Uint8Array(len);
  let got = 0;
  while (got < len) {
    let chunk: Uint8Array;
    let more: number[];
    try {
      ({ data: chunk, fds: more } = await sock.recvAsync(len - got, VHOST_USER_MAX_FDS));
    } catch (e) {
      if (SysError.is(e) && e.request === 'MSG_CTRUNC') {
        throw new VhostUserDeviceError('protocol', `${where}: ${name ?? 'a message'} carries more than ${VHOST_USER_MAX_FDS} fds`, { cause: e });
      }
      if (SysError.is(e) && (e.code === 'ECONNRESET' || e.code === 'EBADF' || e.code === 'ENOTCONN')) return undefinedOrCut(got, where, name);
      throw new VhostUserDeviceError('protocol', `${where}: receiving failed: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
    if (more.length > 0) {
      // Fds belong to the first byte of a message; anywhere else the stream is out of step.
      if (got > 0 || name !== undefined) {
        for (const fd of more) closeFd(fd);
        throw new VhostUserDeviceError('protocol', `${where}: ${name ?? 'a message header'}: fds arrived in the middle of a message`);
      }
      fds.push(...more);
    }
    if (chunk.length === 0) return undefinedOrCut(got, where, name);
    if (got === 0) onFirstByte?.();
    out.set(chunk, got);
    got += chunk.length;
  }
  return out;
}

function undefinedOrCut(got: number, where: string, name: string | undefined): undefined {
  if (got === 0 && name === undefined) return undefined;
  throw new VhostUserDeviceError('protocol', `${where}: ${name ?? 'a message header'}: the frontend closed the connection mid-message (${got} bytes received)`);
}
