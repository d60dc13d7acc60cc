const brand = Symbol.for('vnic.VnicError');

/**
 * The one error class of vnic. Each package subclasses it once (SysError, ConfigError, ...);
 * `kind` is a short machine-readable category, `cause` keeps the underlying error.
 */
export class VnicError extends Error {
  /** Machine-readable category, e.g. `invalid-argument`, `invalid-state`, `unsupported`. */
  readonly kind: string;
  readonly [brand] = true;

  constructor(kind: string, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.kind = kind;
    this.name = new.target.name;
  }

  /** True for any vnic error, across module copies (branded with `Symbol.for`). */
  static is(value: unknown): value is VnicError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[brand] === true;
  }
}
