declare const tokenType: unique symbol;

/**
 * A DI service identifier that remembers the type it resolves to. It is a plain
 * `Symbol.for(name)` at run time, so every copy of a package agrees on it.
 */
export type Token<T> = symbol & { readonly [tokenType]?: T };

/** Creates the typed DI token `Symbol.for(name)`. */
export function token<T>(name: string): Token<T> {
  return Symbol.for(name);
}
