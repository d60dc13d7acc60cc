import type { NetCtrlCommand } from './NetCtrlCommand.ts';
import type { NetCtrlErrorMessage } from './NetCtrlError.ts';

/** What decodeNetCtrlCommand returns: the command, or why the guest's bytes are not one. */
export type NetCtrlDecodeResult =
  | { readonly ok: true; readonly command: NetCtrlCommand }
  | {
      readonly ok: false;
      readonly error: NetCtrlErrorMessage;
      /** The class byte, when there was one. */
      readonly ctrlClass: number | undefined;
      /** The command byte, when there was one. */
      readonly ctrlCommand: number | undefined;
    };
