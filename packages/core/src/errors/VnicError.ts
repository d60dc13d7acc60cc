/** A VnicError class as `is()` sees it: anything constructible that carries its own brand. */
type VnicErrorClass<T extends VnicError> = (abstract new (...args: never[]) => T) & { readonly brand: symbol };

/**
 * The one error class of vnic. Each package subclasses it once (SysError, ConfigError, ...);
 * `kind` is a short machine-readable category, `cause` keeps the underlying error.
 *
 * Every class in the hierarchy declares its own `static readonly brand = Symbol.for('vnic.<Name>')`.
 * An instance carries the brand of its class and of every ancestor, so `X.is(err)` is true exactly
 * for instances of X and its subclasses, across copies of a package (the brands are `Symbol.for`).
 */
export class VnicError extends Error {
  /** The brand of this class; each subclass overrides it with its own `Symbol.for` symbol. */
  static readonly brand: symbol = Symbol.for('vnic.VnicError');

  /** Machine-readable category, e.g. `invalid-argument`, `invalid-state`, `unsupported`. */
  readonly kind: string;

  constructor(kind: string, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.kind = kind;
    this.name = new.target.name;
    for (let c: unknown = new.target; typeof c === 'function' && c !== Error; c = Object.getPrototypeOf(c)) {
      if (!Object.hasOwn(c, 'brand')) throw new TypeError(`${c.name} extends VnicError without its own static brand`);
      Object.defineProperty(this, (c as unknown as { brand: symbol }).brand, { value: true, enumerable: false });
    }
  }

  /**
   * True for an instance of this class or one of its subclasses, from any copy of the package that
   * defines it (`VnicError.is` is true for every vnic error, `ConfigError.is` only for ConfigErrors).
   */
  static is<T extends VnicError>(this: VnicErrorClass<T>, value: unknown): value is T {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[ownBrand(this)] === true;
  }
}

function ownBrand(c: { readonly brand: symbol; readonly name: string }): symbol {
  if (!Object.hasOwn(c, 'brand')) throw new TypeError(`${c.name} extends VnicError without its own static brand`);
  return c.brand;
}
