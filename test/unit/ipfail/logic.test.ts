import { describe, expect, it } from 'vitest';
import { Ipfail, STABLE_RECHECK_MS, startIpfail, type IpfailEnv, type IpfailOutbound, type ResourceState } from '../../../lib/ipfail/logic.js';
import { ManualClock } from '../../../lib/util/clock.js';
import { memoryLogger } from '../../../lib/util/log.js';
import { HaMsg } from '../../../lib/wire/index.js';

interface Rig {
  env: IpfailEnv;
  clock: ManualClock;
  lines: string[];
  sent: IpfailOutbound[];
  /** Names of nodes in status ping; mutate to change what ipfail counts. */
  pings: string[];
  setResources(r: ResourceState): void;
  /** Sent messages as `to: field=value ...` text; cluster messages as `*: ...`. */
  wire(): string[];
  /** Log lines since the last call. */
  take(): string[];
}

function rig(opts: { keepaliveMs?: number; pings?: string[]; resources?: ResourceState } = {}): Rig {
  const clock = new ManualClock();
  const log = memoryLogger();
  const sent: IpfailOutbound[] = [];
  const pings = opts.pings ?? ['gw1'];
  let resources: ResourceState = 'resources' in opts ? opts.resources : 'all';
  let seen = 0;
  return {
    clock,
    lines: log.lines,
    sent,
    pings,
    setResources: (r) => void (resources = r),
    env: {
      clock,
      log,
      keepaliveMs: opts.keepaliveMs ?? 1000,
      pingNodes: () => [...pings],
      resources: () => resources,
      send: (o) => void sent.push(o),
    },
    wire: () => sent.map((o) => `${o.kind === 'node' ? o.to : '*'}: ${o.msg.fields.map((f) => `${f.name}=${f.value}`).join(' ')}`),
    take: () => {
      const out = log.lines.slice(seen);
      seen = log.lines.length;
      return out;
    },
  };
}

const NODES = [
  { name: 'node1', type: 'normal', status: 'active' },
  { name: 'node2', type: 'normal', status: 'active' },
  { name: '10.0.0.254', type: 'ping', status: 'ping' },
];

function started(r: Rig, autoFailback: string | undefined = 'on', me = 'node1'): Ipfail {
  const s = startIpfail({ myName: me, autoFailback, nodes: NODES }, r.env);
  if (!s.ok) throw new Error(`ipfail exited ${s.exitCode}`);
  r.take();
  return s.ipfail;
}

const msg = (fields: Record<string, string>): HaMsg => HaMsg.of(fields);
const numPing = (n: string, from = 'node2'): HaMsg => msg({ t: 'num_ping_nodes', src: from, num_ping: n, dest: 'node1' });

/** ipfail's lines when the partner asks for our count: the question, then the ping nodes it sees. */
const countLines = (...pings: string[]): string[] => ['debug: Got asked for num_ping.', ...pings.map((p) => `debug: Found ping node ${p}!`)];
/** What a balanced count logs, after the count lines for gw1, then `more`. */
const balancedLines = (...more: string[]): string[] => [...countLines('gw1'), 'info: Ping node count is balanced.', 'debug: Abort message sent.', ...more];

/** ipfail's lines when it asks the partner for its count: the ping nodes it sees, then the request. */
const askingLines = (...pings: string[]): string[] => [
  ...pings.map((p) => `debug: Found ping node ${p}!`),
  'info: Asking other side for ping node count.',
  'debug: Message [num_ping] sent.',
];

describe('startIpfail (main() after sign-on)', () => {
  it('exits 100 when heartbeat manages no resources', () => {
    const r = rig({ resources: undefined });
    expect(startIpfail({ myName: 'node1', autoFailback: 'on', nodes: NODES }, r.env)).toEqual({ ok: false, exitCode: 100 });
    expect(r.lines).toEqual(['ERROR: No managed resources']);
  });

  it('exits 100 with auto_failback legacy, or with a value glue cannot read as a boolean', () => {
    const r = rig();
    expect(startIpfail({ myName: 'node1', autoFailback: 'legacy', nodes: NODES }, r.env)).toEqual({ ok: false, exitCode: 100 });
    expect(r.take()).toEqual(['debug: [We are node1]', 'ERROR: auto_failback set to incompatible legacy option.']);
    expect(startIpfail({ myName: 'node1', autoFailback: 'maybe', nodes: NODES }, r.env)).toEqual({ ok: false, exitCode: 100 });
    expect(r.take()).toEqual(['debug: [We are node1]', 'ERROR:  invalid auto_faiback value(maybe)']);
  });

  it('reads auto_failback like cl_str_to_boolean and walks the nodes; the partner is the (last) other normal node', () => {
    const r = rig();
    const s = startIpfail({
      myName: 'node1',
      autoFailback: 'YES',
      nodes: [...NODES, { name: 'node3', type: 'normal', status: 'dead' }],
    }, r.env);
    expect(s.ok && [s.ipfail.partner, s.ipfail.autoFailback]).toEqual(['node3', true]);
    expect(r.take()).toEqual([
      'debug: [We are node1]',
      'debug: auto_failback -> 1 (YES)',
      'debug: Setting message filter mode',
      'debug: Starting node walk',
      'debug: Cluster node: node1: status: active',
      'debug: Cluster node: node2: status: active',
      'debug: [They are node2]',
      'debug: Cluster node: 10.0.0.254: status: ping',
      'debug: Cluster node: node3: status: dead',
      'debug: [They are node3]',
    ]);
    const off = startIpfail({ myName: 'node2', autoFailback: 'off', nodes: NODES }, r.env);
    expect(off.ok && [off.ipfail.partner, off.ipfail.autoFailback]).toEqual(['node1', false]);
  });

  it('goes on with auto_failback off when the daemon has no such parameter', () => {
    const r = rig();
    const s = startIpfail({ myName: 'node1', autoFailback: undefined, nodes: NODES }, r.env);
    expect(s.ok && s.ipfail.autoFailback).toBe(false);
    expect(r.lines).toContain("ERROR: Couldn't get auto_failback setting.");
  });

  it('without a partner still logs its decisions but sends nothing', () => {
    const r = rig();
    const s = startIpfail({ myName: 'node1', autoFailback: 'on', nodes: [NODES[0]!, NODES[2]!] }, r.env);
    if (!s.ok) throw new Error('exit');
    expect(s.ipfail.partner).toBeUndefined();
    r.take();
    s.ipfail.nodeStatus('10.0.0.254', 'ping');
    expect(r.take()).toContain('info: Asking other side for ping node count.');
    expect(r.sent).toEqual([]);
  });
});

describe('Ipfail triggers', () => {
  it('node death: logs whether we still see a ping node, sends nothing', () => {
    const r = rig({ pings: ['gw1', 'gw2'] });
    const ip = started(r);
    ip.nodeStatus('node2', 'dead');
    expect(r.take()).toEqual([
      'info: Status update: Node node2 now has status dead',
      'debug: Found ping node gw1!',
      'debug: Found ping node gw2!',
      'info: NS: We are still alive!',
    ]);
    r.pings.length = 0;
    ip.nodeStatus('gw1', 'dead');
    expect(r.take()).toEqual(['info: Status update: Node gw1 now has status dead', 'info: NS: We are dead. :<']);
    ip.nodeStatus('node2', 'active');
    expect(r.take()).toEqual(['info: Status update: Node node2 now has status active']);
    expect(r.sent).toEqual([]);
  });

  it('a ping node coming up asks the partner for its count', () => {
    const r = rig();
    const ip = started(r);
    ip.nodeStatus('gw1', 'ping');
    expect(r.take()).toEqual([
      'info: Status update: Node gw1 now has status ping',
      'info: A ping node just came up.',
      ...askingLines('gw1'),
    ]);
    expect(r.wire()).toEqual(['node2: t=num_ping_nodes src=node1 num_ping=1']);
  });

  it('a dead link asks for the count, saying whether we still see ping nodes; other link states only log', () => {
    const r = rig({ pings: ['gw1', 'gw2'] });
    const ip = started(r);
    ip.linkStatus('node2', 'eth0', 'dead');
    expect(r.take()).toEqual([
      'info: Link Status update: Link node2/eth0 now has status dead',
      ...askingLines('gw1', 'gw2'),
      'info: Checking remote count of ping nodes.',
    ]);
    r.pings.length = 0;
    ip.linkStatus('gw1', 'gw1', 'dead');
    expect(r.take()).toEqual([
      'info: Link Status update: Link gw1/gw1 now has status dead',
      'info: We are dead. :<',
      ...askingLines(),
    ]);
    ip.linkStatus('node2', 'eth0', 'up');
    expect(r.take()).toEqual(['info: Link Status update: Link node2/eth0 now has status up']);
    expect(r.wire()).toEqual(['node2: t=num_ping_nodes src=node1 num_ping=2', 'node2: t=num_ping_nodes src=node1 num_ping=0']);
  });

  it('the partner\'s ipfail joining asks for its count; our own join, leaves and other clients do not', () => {
    const r = rig();
    const ip = started(r);
    ip.message(msg({ t: 'hbapi-clstat', st: 'join', from_id: 'ipfail', to_id: 'ipfail', src: 'node1', client_gen: '1' }));
    ip.message(msg({ t: 'hbapi-clstat', st: 'leave', from_id: 'ipfail', src: 'node2' }));
    ip.message(msg({ t: 'hbapi-clstat', st: 'join', from_id: 'cl_status', src: 'node2' }));
    ip.message(msg({ t: 'hbapi-clstat', st: 'join', from_id: 'ipfail' })); // no src: ignored, not a crash
    expect(r.sent).toEqual([]);
    ip.message(msg({ t: 'hbapi-clstat', st: 'join', from_id: 'ipfail', to_id: 'ipfail', src: 'node2', client_gen: '3' }));
    expect(r.take()).toEqual([
      'debug: Got join message from another ipfail client. (node2)',
      ...askingLines('gw1'),
    ]);
    expect(r.wire()).toEqual(['node2: t=num_ping_nodes src=node1 num_ping=1']);
  });

  it('ignores message types it has no callback for', () => {
    const r = rig();
    const ip = started(r);
    ip.message(msg({ t: 'ip-request', src: 'node2' }));
    ip.message(msg({ src: 'node2' }));
    expect(r.take()).toEqual([]);
  });
});

describe('Ipfail decisions on num_ping_nodes', () => {
  it('more ping nodes than the partner: tell it that it is dead', () => {
    const r = rig({ pings: ['gw1', 'gw2'] });
    const ip = started(r);
    ip.message(numPing('1'));
    expect(r.take()).toEqual([
      ...countLines('gw1', 'gw2'),
      'info: Telling other node that we have more visible ping nodes.',
      'debug: Sending you_are_dead.',
      'debug: Message [you_are_dead] sent.',
    ]);
    expect(r.wire()).toEqual(['node2: t=you_are_dead']);
    expect(ip.pendingGiveup).toBeUndefined();
  });

  it('fewer: delayed giveup of all resources after 2 x keepalive, through a standby request', () => {
    const r = rig({ pings: [] });
    const ip = started(r);
    ip.message(numPing('1'));
    expect(r.take()).toEqual([
      ...countLines(),
      'info: Giving up because we have less visible ping nodes.',
      'info: Delayed giveup in 2 seconds.',
    ]);
    expect(ip.pendingGiveup).toBe('all');
    r.clock.advance(1999);
    expect(r.sent).toEqual([]);
    r.clock.advance(1);
    expect(r.take()).toEqual([
      'info: giveup() called (timeout worked)',
      'debug: Message [ask_resources] sent.',
      'debug: giveup timeout has been destroyed.',
    ]);
    expect(r.wire()).toEqual(['*: t=ask_resources rsc_hold=all src=node1 info=me']);
    expect(r.sent[0]).toMatchObject({ kind: 'cluster', giveup: 'all' });
    expect(ip.pendingGiveup).toBeUndefined();
  });

  it('balanced: sends abort_giveup and cancels our own pending giveup', () => {
    const r = rig({ pings: [] });
    const ip = started(r);
    ip.message(numPing('1'));
    r.pings.push('gw1');
    r.clock.advance(1000);
    r.take();
    ip.message(numPing('1'));
    expect(r.take()).toEqual(balancedLines('info: Aborted delayed giveup (1)', 'debug: giveup timeout has been destroyed.'));
    r.clock.advance(10_000);
    expect(r.wire()).toEqual(['node2: t=abort_giveup src=node1']);
  });

  it('balanced with auto_failback on and stable resources: delayed giveup of foreign resources', () => {
    const r = rig();
    const ip = started(r, 'on');
    ip.message(numPing('1'));
    expect(r.take()).toEqual(balancedLines('info: Giving up foreign resources (auto_failback).', 'info: Delayed giveup in 2 seconds.'));
    r.clock.advance(2000);
    expect(r.wire()).toEqual(['node2: t=abort_giveup src=node1', '*: t=ask_resources rsc_hold=foreign src=node1 info=me']);
  });

  it('balanced without auto_failback, or while in transition: only abort_giveup', () => {
    for (const [af, res] of [['off', 'all'], ['on', 'transition']] as const) {
      const r = rig();
      const ip = started(r, af);
      r.setResources(res);
      ip.message(numPing('1'));
      expect(r.take().slice(-2)).toEqual(['info: Ping node count is balanced.', 'debug: Abort message sent.']);
      r.clock.advance(10_000);
      expect(r.wire()).toEqual(['node2: t=abort_giveup src=node1']);
    }
  });

  it('reads num_ping like atoi and ignores a message without it', () => {
    const r = rig({ pings: ['a', 'b'] });
    const ip = started(r);
    ip.message(numPing(' 2xyz'));
    expect(r.take()).toContain('info: Ping node count is balanced.');
    ip.message(numPing('junk'));
    expect(r.take()).toContain('info: Telling other node that we have more visible ping nodes.');
    ip.message(msg({ t: 'num_ping_nodes', src: 'node2' }));
    expect(r.take()).toEqual(['debug: Got asked for num_ping.', 'ERROR: num_ping_nodes message from node2 without num_ping field: ignored']);
  });
});

describe('Ipfail giveup timer', () => {
  it('you_are_dead gives up all resources after the delay', () => {
    const r = rig({ keepaliveMs: 500 });
    const ip = started(r);
    ip.message(msg({ t: 'you_are_dead', dest: 'node1' }));
    expect(r.take()).toEqual(['info: Giving up because we were told that we have less ping nodes.', 'info: Delayed giveup in 1 seconds.']);
    r.clock.advance(1000);
    expect(r.wire()).toEqual(['*: t=ask_resources rsc_hold=all src=node1 info=me']);
    expect(ip.pendingGiveup).toBeUndefined();
  });

  it('prints whole seconds of the delay as ipfail does (200 ms keepalive: 0 seconds)', () => {
    const r = rig({ keepaliveMs: 200 });
    const ip = started(r);
    ip.message(msg({ t: 'you_are_dead' }));
    expect(r.take()).toContain('info: Delayed giveup in 0 seconds.');
    r.clock.advance(400);
    expect(r.sent).toHaveLength(1);
  });

  it('abort_giveup without a pending giveup says so', () => {
    const r = rig();
    const ip = started(r);
    ip.message(msg({ t: 'abort_giveup', src: 'node2' }));
    expect(r.take()).toEqual(['info: No giveup timer to abort.']);
    ip.message(msg({ t: 'you_are_dead' }));
    ip.message(msg({ t: 'abort_giveup', src: 'node2' }));
    expect(r.take().slice(-2)).toEqual(['info: Aborted delayed giveup (1)', 'debug: giveup timeout has been destroyed.']);
    r.clock.advance(5000);
    expect(r.sent).toEqual([]);
  });

  it('a second delayed giveup replaces the first (one request, with the later set, timed from the later call)', () => {
    const r = rig();
    const ip = started(r, 'on');
    ip.message(msg({ t: 'you_are_dead' }));
    r.clock.advance(1500);
    r.take();
    ip.message(numPing('1')); // balanced but... a giveup is pending, so it is aborted instead
    expect(r.take()).toContain('info: Aborted delayed giveup (1)');
    ip.message(msg({ t: 'you_are_dead' }));
    r.clock.advance(1000);
    ip.message(numPing('2')); // fewer: all, replacing tag 2
    expect(r.take()).toEqual([
      'info: Giving up because we were told that we have less ping nodes.',
      'info: Delayed giveup in 2 seconds.',
      ...countLines('gw1'),
      'info: Giving up because we have less visible ping nodes.',
      'info: Delayed giveup in 2 seconds.',
      'debug: Detected existing delay timer, overriding',
      'debug: giveup timeout has been destroyed.',
    ]);
    r.clock.advance(1999);
    expect(r.wire()).toEqual(['node2: t=abort_giveup src=node1']);
    r.clock.advance(1);
    expect(r.wire()).toEqual(['node2: t=abort_giveup src=node1', '*: t=ask_resources rsc_hold=all src=node1 info=me']);
  });

  it('in transition the giveup waits for the partner to be stable, then re-counts after 10 s', () => {
    const r = rig();
    const ip = started(r);
    r.setResources('transition');
    ip.message(msg({ t: 'you_are_dead' }));
    r.clock.advance(2000);
    expect(r.take()).toEqual([
      'info: Giving up because we were told that we have less ping nodes.',
      'info: Delayed giveup in 2 seconds.',
      'info: giveup() called (timeout worked)',
      'debug: giveup timeout has been destroyed.',
    ]);
    expect(r.sent).toEqual([]);
    expect(ip.waitingForStability).toBe(true);
    // Not the partner's final word: ignored.
    ip.message(msg({ t: 'resource', src: 'node2', rsc_hold: 'all', rtype: 'full', isstable: '1', info: 'standby' }));
    ip.message(msg({ t: 'resource', src: 'node1', rsc_hold: 'all', rtype: 'full', isstable: '1' }));
    ip.message(msg({ t: 'resource', src: 'node2', rsc_hold: 'all' }));
    expect(r.take()).toEqual([]);
    ip.message(msg({ t: 'resource', src: 'node2', rsc_hold: 'local', rtype: 'full', isstable: '0' }));
    expect(r.take()).toEqual(['debug: Other side is unstable.']);
    expect(ip.partnerIsStable).toBe(false);
    ip.message(msg({ t: 'resource', src: 'node2', rsc_hold: 'local', rtype: 'full', isstable: '1' }));
    ip.message(msg({ t: 'resource', src: 'node2', rsc_hold: 'local', rtype: 'full', isstable: '1' })); // no second recheck
    expect(r.take()).toEqual(['debug: Other side is now stable.', 'debug: Other side is now stable.']);
    expect(ip.partnerIsStable).toBe(true);
    r.clock.advance(STABLE_RECHECK_MS - 1);
    expect(r.sent).toEqual([]);
    r.clock.advance(1);
    expect(r.take()).toEqual(askingLines('gw1'));
    expect(r.wire()).toEqual(['node2: t=num_ping_nodes src=node1 num_ping=1']);
    expect(ip.waitingForStability).toBe(false);
    r.clock.advance(60_000);
    expect(r.sent).toHaveLength(1);
  });

  it('a stable partner without a waiting giveup changes nothing', () => {
    const r = rig();
    const ip = started(r);
    ip.message(msg({ t: 'resource', src: 'node2', rsc_hold: 'local', rtype: 'full', isstable: '1' }));
    r.clock.advance(60_000);
    expect(r.sent).toEqual([]);
  });

  it('stop() cancels a pending giveup and a pending recheck, and later input is ignored', () => {
    const r = rig();
    const ip = started(r);
    ip.message(msg({ t: 'you_are_dead' }));
    ip.stop();
    r.clock.advance(10_000);
    ip.message(numPing('0'));
    ip.nodeStatus('gw1', 'ping');
    expect(r.sent).toEqual([]);
    const r2 = rig();
    const ip2 = started(r2);
    r2.setResources('transition');
    ip2.message(msg({ t: 'you_are_dead' }));
    r2.clock.advance(2000);
    ip2.message(msg({ t: 'resource', src: 'node2', isstable: '1' }));
    ip2.stop();
    r2.clock.advance(STABLE_RECHECK_MS);
    expect(r2.sent).toEqual([]);
  });
});
