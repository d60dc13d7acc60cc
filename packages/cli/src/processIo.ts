import { defaultBackendModules } from '@vnic/config';
import type { CliIo } from './CliIo.ts';

/** The CliIo of the real command: process.stdout / stderr and the backends vnic ships. */
export function processIo(): CliIo {
  return {
    out: (text) => void process.stdout.write(text),
    err: (text) => void process.stderr.write(text),
    isTTY: process.stdout.isTTY === true,
    backendModules: () => defaultBackendModules(),
  };
}
