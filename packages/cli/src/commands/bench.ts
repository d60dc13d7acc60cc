import type { CliIo } from '../CliIo.ts';

/** `vnic bench <backend>`: a placeholder until the benchmark lands; exit code 2. */
export function bench(backend: string, io: CliIo): number {
  io.err(`bench for ${backend} arrives with its issue\n`);
  return 2;
}
