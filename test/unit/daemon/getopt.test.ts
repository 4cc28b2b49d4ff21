import { describe, expect, it } from 'vitest';
import { getopt } from '../../../daemon/tools/getopt.js';

const env = {};

describe('getopt (glibc behaviour, as the real cl_status parses)', () => {
  it('permutes: options after operands are still options, operands keep their order', () => {
    const r = getopt(['nodestatus', 'node2', '-m', 'node1'], 'm', env);
    expect(r.items).toEqual([{ kind: 'option', option: 'm' }]);
    expect(r.operands).toEqual(['node2', 'node1']);
  });

  it('stops permuting at the first operand under POSIXLY_CORRECT or a leading +', () => {
    expect(getopt(['x', 'a', '-m'], 'm', { POSIXLY_CORRECT: '1' }).operands).toEqual(['a', '-m']);
    expect(getopt(['x', 'a', '-m'], '+m', env).operands).toEqual(['a', '-m']);
  });

  it('clusters flags and takes an argument from the rest of the word or the next word', () => {
    expect(getopt(['hbparameter', '-mpkeepalive'], 'mp:', env).items).toEqual([
      { kind: 'option', option: 'm' }, { kind: 'option', option: 'p', arg: 'keepalive' },
    ]);
    expect(getopt(['hbparameter', '-p', '-m'], 'mp:', env).items).toEqual([{ kind: 'option', option: 'p', arg: '-m' }]);
  });

  it('reports unknown options and missing arguments as glibc words them', () => {
    expect(getopt(['listnodes', '-vx'], 'mpnv', env).items).toEqual([
      { kind: 'option', option: 'v' },
      { kind: 'error', option: 'x', message: "listnodes: invalid option -- 'x'" },
    ]);
    expect(getopt(['hbparameter', '-p'], 'mp:', env).items).toEqual([
      { kind: 'error', option: 'p', message: "hbparameter: option requires an argument -- 'p'" },
    ]);
    // `--v` is not a long option for getopt: its first character is '-'.
    expect(getopt(['listnodes', '--v'], 'mpnv', env).items[0]).toEqual({ kind: 'error', option: '-', message: "listnodes: invalid option -- '-'" });
    // a negative number looks like options
    expect(getopt(['clientstatus', 'n', 'c', '-5'], 'm', env).items[0]).toMatchObject({ kind: 'error', option: '5' });
  });

  it('ends options at -- and keeps a lone - as an operand', () => {
    const r = getopt(['listnodes', '-m', '--', '-v', '-'], 'mpnv', env);
    expect(r.items).toEqual([{ kind: 'option', option: 'm' }]);
    expect(r.operands).toEqual(['-v', '-']);
    expect(getopt(['x', '-', 'a'], 'm', env).operands).toEqual(['-', 'a']);
  });
});
