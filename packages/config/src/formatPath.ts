/** Formats a field path as `net[1].offloads.csum` from its keys. */
export function formatPath(keys: readonly (string | number)[]): string {
  let out = '';
  for (const k of keys) {
    if (typeof k === 'number') out += `[${k}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(k)) out += out === '' ? k : `.${k}`;
    else out += out === '' ? k : `.${k}`;
  }
  return out === '' ? '(root)' : out;
}
