import { VnicError } from '../errors/VnicError.ts';

/**
 * Runs `fn` and returns what it threw, when `errorClass.is()` recognises it (an instance of that
 * VnicError class or a subclass); rethrows anything else, and throws when `fn` returns normally.
 */
export function thrownBy<E extends VnicError>(
  errorClass: (abstract new (...args: never[]) => E) & { readonly brand: symbol; readonly is: typeof VnicError.is },
  fn: () => unknown,
): E {
  try {
    fn();
  } catch (e) {
    if (errorClass.is(e)) return e;
    throw e;
  }
  throw new Error('did not throw');
}
