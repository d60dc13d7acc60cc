import { UnixSocket } from '../../packages/sys/src/index.ts';
import { VhostUserDeviceError } from '../../packages/vhost-user-device/src/VhostUserDeviceError.ts';
import { readFrontendMessage } from '../../packages/vhost-user-device/src/readFrontendMessage.ts';
import { VHOST_USER_MAX_PAYLOAD_SIZE } from '../../packages/vhost-user-protocol/src/index.ts';
import { FuzzOracleError } from '../FuzzOracleError.ts';

/**
 * Fuzz target for the device server's message reader (readFrontendMessage, the stable entry of the
 * message handler): the input is written to one end of a real socketpair, then closed; the other
 * end is read message by message. Oracle: only VhostUserDeviceError escapes, the reader ends (a
 * clean end of stream or an error) without hanging, each message's payload has exactly the size its
 * header announced, and the bytes consumed never exceed the bytes sent.
 */
export async function frontendMessageTarget(data: Uint8Array): Promise<void> {
  const [a, b] = UnixSocket.pair();
  try {
    if (data.length > 0) a.send(data.subarray(0, 64 * 1024));
    a.close();
    let consumed = 0;
    for (let i = 0; i <= data.length; i++) {
      let msg;
      try {
        msg = await readFrontendMessage(b, 'fuzz');
      } catch (err) {
        if (err instanceof VhostUserDeviceError) return;
        throw err;
      }
      if (msg === undefined) return;
      if (msg.payload.length !== msg.header.size || msg.header.size > VHOST_USER_MAX_PAYLOAD_SIZE)
        throw new FuzzOracleError(`payload of ${msg.payload.length} bytes for a header size of ${msg.header.size}`);
      if (msg.fds.length !== 0) throw new FuzzOracleError('fds appeared that were never sent');
      consumed += 12 + msg.payload.length;
      if (consumed > data.length) throw new FuzzOracleError(`read ${consumed} bytes of ${data.length} sent`);
    }
    throw new FuzzOracleError('more messages than input bytes');
  } finally {
    b.close();
  }
}
