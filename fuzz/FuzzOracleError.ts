/** A fuzz target's oracle failed: the code under test did something it must never do. */
export class FuzzOracleError extends Error {
  override readonly name = 'FuzzOracleError';
}
