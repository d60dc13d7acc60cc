import { randomBytes } from 'node:crypto';
import { CliError } from '../CliError.ts';

/**
 * `prefix` + random hex: a name for a namespace or interface that no one else uses. Interface
 * names are at most 15 bytes (IFNAMSIZ - 1), so prefix + digits must fit in 15.
 */
export function uniqueName(prefix: string, hexDigits = 6): string {
  const name =
    prefix +
    randomBytes(Math.ceil(hexDigits / 2))
      .toString('hex')
      .slice(0, hexDigits);
  if (name.length > 15) throw new CliError('invalid-argument', `name ${name} is longer than 15 bytes (IFNAMSIZ): use a shorter prefix`);
  return name;
}
