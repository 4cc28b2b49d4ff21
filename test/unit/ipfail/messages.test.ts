import { describe, expect, it } from 'vitest';
import { abortGiveupMsg, askResourcesMsg, cAtoi, clStrToBoolean, numPingNodesMsg, youAreDeadMsg } from '../../../lib/ipfail/messages.js';
import type { HaMsg } from '../../../lib/wire/index.js';

const text = (m: HaMsg): string => m.fields.map((f) => `${f.name}=${f.value}`).join(' ');

describe('ipfail messages', () => {
  it('have heartbeat ipfail\'s fields in its order', () => {
    expect(text(numPingNodesMsg('node1', 2))).toBe('t=num_ping_nodes src=node1 num_ping=2');
    expect(text(numPingNodesMsg('node1', 123456))).toBe('t=num_ping_nodes src=node1 num_ping=1234');
    expect(text(abortGiveupMsg('node2'))).toBe('t=abort_giveup src=node2');
    expect(text(youAreDeadMsg())).toBe('t=you_are_dead');
    expect(text(askResourcesMsg('node1', 'foreign'))).toBe('t=ask_resources rsc_hold=foreign src=node1 info=me');
  });
});

describe('cAtoi', () => {
  it('reads like C atoi', () => {
    const cases: [string, number][] = [
      ['3', 3], [' \t\n12', 12], ['+7', 7], ['-4', -4], ['5abc', 5], ['', 0], ['abc', 0], ['- 3', 0],
      ['99999999999999', 2 ** 31 - 1], ['-99999999999999', -(2 ** 31)], ['007', 7],
    ];
    for (const [input, want] of cases) expect([input, cAtoi(input)]).toEqual([input, want]);
  });
});

describe('clStrToBoolean', () => {
  it('accepts glue\'s spellings in any case and nothing else', () => {
    for (const t of ['true', 'On', 'YES', 'y', '1']) expect(clStrToBoolean(t)).toBe(true);
    for (const f of ['false', 'OFF', 'no', 'N', '0']) expect(clStrToBoolean(f)).toBe(false);
    for (const x of ['', 'legacy', 'enable', ' on', '2']) expect(clStrToBoolean(x)).toBeUndefined();
  });
});
