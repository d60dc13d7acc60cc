import { randomBytes } from 'node:crypto';

/** `prefix` + random hex, at most 15 bytes (IFNAMSIZ - 1) when `prefix` is at most 7: unique interface and netns names for tests. */
export function uniqueName(prefix = 'vt', hexDigits = 8): string {
  const name =
    prefix +
    randomBytes(Math.ceil(hexDigits / 2))
      .toString('hex')
      .slice(0, hexDigits);
  if (name.length > 15) throw new Error(`test name ${name} is longer than 15 bytes`);
  return name;
}
