/** True for a JSON object: valibot's object schemas also take arrays, which a config never means. */
export function isConfigObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}
