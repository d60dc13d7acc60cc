import { describe, expect, it } from 'vitest';
import { errorMessage } from './errorMessage.ts';
import { VnicError } from './VnicError.ts';

class PkgError extends VnicError {
  static override readonly brand: symbol = Symbol.for('vnic.test.PkgError');
}
class SubPkgError extends PkgError {
  static override readonly brand: symbol = Symbol.for('vnic.test.SubPkgError');
}
class OtherError extends VnicError {
  static override readonly brand: symbol = Symbol.for('vnic.test.OtherError');
}

describe('VnicError brands', () => {
  it('VnicError.is recognises every vnic error and nothing else', () => {
    expect(VnicError.is(new VnicError('x', 'm'))).toBe(true);
    expect(VnicError.is(new PkgError('x', 'm'))).toBe(true);
    expect(VnicError.is(new SubPkgError('x', 'm'))).toBe(true);
    expect(VnicError.is(new Error('m'))).toBe(false);
    expect(VnicError.is({ kind: 'x', message: 'm' })).toBe(false);
    expect(VnicError.is(null)).toBe(false);
    expect(VnicError.is('vnic')).toBe(false);
  });

  it("a subclass's is() recognises only itself and its own subclasses", () => {
    expect(PkgError.is(new PkgError('x', 'm'))).toBe(true);
    expect(PkgError.is(new SubPkgError('x', 'm'))).toBe(true);
    expect(PkgError.is(new VnicError('x', 'm'))).toBe(false);
    expect(PkgError.is(new OtherError('x', 'm'))).toBe(false);
    expect(SubPkgError.is(new PkgError('x', 'm'))).toBe(false);
    expect(OtherError.is(new PkgError('x', 'm'))).toBe(false);
  });

  it('recognises an instance from another copy of the package by its Symbol.for brand', () => {
    const foreign = Object.assign(new Error('m'), { [Symbol.for('vnic.VnicError')]: true, [Symbol.for('vnic.test.PkgError')]: true });
    expect(PkgError.is(foreign)).toBe(true);
    expect(OtherError.is(foreign)).toBe(false);
  });

  it('keeps kind, name and cause, and the brands out of enumeration', () => {
    const cause = new Error('inner');
    const e = new SubPkgError('invalid-state', 'outer', { cause });
    expect(e.kind).toBe('invalid-state');
    expect(e.name).toBe('SubPkgError');
    expect(e.cause).toBe(cause);
    expect(Object.keys(e)).not.toContain(String(Symbol.for('vnic.VnicError')));
    expect(Object.getOwnPropertySymbols(e).filter((s) => Object.getOwnPropertyDescriptor(e, s)!.enumerable)).toEqual([]);
    expect(Object.getOwnPropertySymbols(e)).toHaveLength(3);
  });

  it('refuses a subclass that did not declare its own brand', () => {
    class Unbranded extends PkgError {}
    expect(() => new Unbranded('x', 'm')).toThrow(/Unbranded extends VnicError without its own static brand/);
    expect(() => Unbranded.is(new PkgError('x', 'm'))).toThrow(TypeError);
  });
});

describe('errorMessage', () => {
  it('is the message of an Error and the string of anything else', () => {
    expect(errorMessage(new VnicError('x', 'boom'))).toBe('boom');
    expect(errorMessage(new TypeError('bad type'))).toBe('bad type');
    expect(errorMessage('plain')).toBe('plain');
    expect(errorMessage(42)).toBe('42');
    expect(errorMessage(undefined)).toBe('undefined');
  });
});
