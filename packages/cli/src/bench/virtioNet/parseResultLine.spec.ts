import { describe, expect, it } from 'vitest';
import { parseResultLine } from './parseResultLine.ts';

describe('parseResultLine', () => {
  it('takes the last JSON line and its numeric fields', () => {
    const out = 'ready vnbc1\n{"packets":10,"seconds":1,"errors":0}\n{"packets":20,"seconds":2.5,"errors":1}\n';
    expect(parseResultLine(out, ['packets', 'seconds', 'errors'], 'tap_ref')).toEqual({ packets: 20, seconds: 2.5, errors: 1 });
  });

  it('names the program and the field when the result is missing or malformed', () => {
    expect(() => parseResultLine('ready x\n', ['packets'], 'the C writev loop')).toThrow(/the C writev loop printed no result line \(stdout: ready x\)/);
    expect(() => parseResultLine('{"packets":', ['packets'], 'tap_ref')).toThrow(/not JSON/);
    expect(() => parseResultLine('{"sent":1}', ['packets'], 'tap_ref')).toThrow(/field "packets" is missing or not a number/);
    expect(() => parseResultLine('{"packets":-1}', ['packets'], 'tap_ref')).toThrow(/field "packets"/);
  });
});
