/**
 * The bytes a hex string spells, whitespace ignored (`hexBytes('0001 f203')` is 00 01 f2 03): for
 * specs that write expected frames out byte by byte instead of building them with the code under test.
 */
export function hexBytes(s: string): Uint8Array {
  return Uint8Array.from(
    s
      .replace(/\s+/g, '')
      .match(/../g)!
      .map((b) => parseInt(b, 16)),
  );
}
