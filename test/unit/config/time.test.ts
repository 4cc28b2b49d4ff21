import { describe, expect, it } from 'vitest';
import { parseBoolean, parseHbTime } from '../../../lib/config/time.js';
import { askLibplumb } from './libplumb.js';

/** input -> milliseconds (undefined = rejected), as libplumb's cl_get_msec answers. */
const TIMES: [string, number | undefined][] = [
  ['2', 2000], ['1.5', 1500], ['500ms', 500], ['0.2', 200], ['501us', 1], ['499us', 0], ['1000000us', 1000],
  ['0.001', 1], ['1ms', 1], ['1000us', 1], ['30', 30000], ['120', 120000], ['0', 0], ['0.0004', 0], ['0.0005', 1],
  ['.5', 500], ['5.', 5000], ['1..5', 1000], ['.', 0], ['', 0], ['  3', 3000], ['7 ms', 7], ['7MS', 7], ['7Ms', 7],
  ['7msec', 7], ['7msfoo', 7], ['7usec', 0], ['1500US', 2], ['5cl_g', 5], ['2 s', undefined], ['2s', undefined],
  ['1e3', undefined], ['us', undefined], ['ms', undefined], ['-1', undefined], ['+1', undefined], ['abc', undefined],
  ['0x10', undefined], ['2m', undefined], ['2 ', 2000], ['12345678', 12345678000],
];

const BOOLS: [string, boolean | undefined][] = [
  ['true', true], ['TRUE', true], ['On', true], ['yes', true], ['Y', true], ['y', true], ['1', true],
  ['false', false], ['OFF', false], ['no', false], ['N', false], ['0', false],
  ['2', undefined], ['', undefined], ['legacy', undefined], ['yes ', undefined], ['enable', undefined], ['t', undefined],
];

describe('parseHbTime', () => {
  it.each(TIMES)('%j -> %j', (input, ms) => {
    expect(parseHbTime(input)).toBe(ms);
  });

  it('agrees with the real libplumb cl_get_msec on every table entry', () => {
    const real = askLibplumb(TIMES.map(([s]) => s), []).msec;
    const ours = TIMES.map(([s]) => parseHbTime(s) ?? -1);
    expect(ours).toEqual(real);
  });
});

describe('parseBoolean', () => {
  it.each(BOOLS)('%j -> %j', (input, b) => {
    expect(parseBoolean(input)).toBe(b);
  });

  it('agrees with the real libplumb cl_str_to_boolean', () => {
    const real = askLibplumb([], BOOLS.map(([s]) => s)).bool;
    expect(BOOLS.map(([s]) => parseBoolean(s) ?? null)).toEqual(real);
  });
});
