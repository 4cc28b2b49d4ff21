/**
 * hb_status against a real API server on two real membership cores: the
 * screen, the JSON document, recent events (a peer going dead) and group
 * holders; and the holder computation from v1 resource sets.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hbStatus, parseArgs } from '../../../daemon/hb_status.js';
import { EventLog, EventRecorder, groupEntries } from '../../../daemon/overview.js';
import { toolSocketPath } from '../../../daemon/paths.js';
import { memoryIO } from '../../../daemon/tools/common.js';
import { parseHaResources } from '../../../lib/config/haresources.js';
import type { NodeView } from '../../../lib/membership/nodes.js';
import type { ResourceController } from '../../../lib/resources/controller.js';
import { apiLab, type ApiLab } from './api-fixture.js';

const GROUPS = parseHaResources('node1 IPaddr::10.0.0.10/24/eth0 Filesystem::/dev/sdb1::/srv\nnode2 10.0.0.20\n', { file: 'haresources', nodes: ['node1', 'node2'] } as Parameters<typeof parseHaResources>[1]).value ?? [];

/** A controller as the status code sees it: holdings and rscstatus. */
function holding(iHold: 0 | 1 | 2 | 3, otherHolds: 0 | 1 | 2 | 3, status = 'local'): ResourceController {
  return { holdings: { iHold, otherHolds }, rscstatus: () => status } as unknown as ResourceController;
}

const view = (name: string, status: string): NodeView => ({ name, type: 'normal', status, uuid: undefined, links: [], weight: 100, site: '' } as NodeView);

describe('groupEntries', () => {
  const up = [view('node1', 'active'), view('node2', 'active')];
  it('maps v1 resource sets to holders, from either side', () => {
    expect(GROUPS).toHaveLength(2);
    const holders = (c: ResourceController, views = up, me = 'node1') => groupEntries(GROUPS, c, views, me).map((g) => g.holder);
    expect(holders(holding(1, 1))).toEqual(['node1', 'node2']);
    expect(holders(holding(3, 0))).toEqual(['node1', 'node1']);
    expect(holders(holding(0, 3))).toEqual(['node2', 'node2']);
    expect(holders(holding(0, 3), [view('node1', 'active'), view('node2', 'dead')])).toEqual([null, null]);
    expect(holders(holding(1, 1), up, 'node2')).toEqual(['node1', 'node2']);
    const g = groupEntries(GROUPS, holding(1, 1, 'transition'), up, 'node1')[0];
    expect(g).toEqual({ group: 'IPaddr::10.0.0.10/24/eth0', resources: ['IPaddr::10.0.0.10/24/eth0', 'Filesystem::/dev/sdb1::/srv'], home: 'node1', holder: 'node1', state: 'transition' });
    expect(groupEntries(GROUPS, undefined, up, 'node1').map((x) => x.holder)).toEqual([null, null]);
  });
});

describe('EventLog', () => {
  it('keeps the last events only', () => {
    const log = new EventLog(3);
    for (let i = 0; i < 5; i++) log.add({ time: 't', kind: 'stalled', text: String(i) });
    expect(log.recent().map((e) => e.text)).toEqual(['2', '3', '4']);
    expect(log.recent(2).map((e) => e.text)).toEqual(['3', '4']);
    expect(log.recent(0)).toEqual([]);
  });
});

describe('hb_status', () => {
  let lab: ApiLab;
  let sock: string;
  const events = new EventLog();
  let controller = holding(1, 1);
  let recorder: EventRecorder;
  const run = async (args: string[], socketPath = sock) => {
    const io = memoryIO();
    const code = await hbStatus(args, { io, socketPath, env: {} });
    return { code, out: io.stdout, err: io.stderr };
  };
  beforeAll(async () => {
    lab = await apiLab({ overview: (cluster) => ({ groups: groupEntries(GROUPS, controller, cluster.views(), 'node1'), events: events.recent() }) });
    sock = toolSocketPath(lab.nodes[0]!.paths);
    recorder = new EventRecorder({ log: events, clock: lab.clock, groups: (c) => groupEntries(GROUPS, controller, c.views(), 'node1') });
    recorder.start({ cluster: lab.nodes[0]!.cluster });
  });
  afterAll(async () => {
    await recorder.shutdown();
    await lab.close();
  });

  it('parses its arguments', () => {
    expect(parseArgs([])).toEqual({ json: false, events: 10 });
    expect(parseArgs(['--json', '--events', '3'])).toEqual({ json: true, events: 3 });
    expect(parseArgs(['--events=0'])).toEqual({ json: false, events: 0 });
    expect(parseArgs(['--events', '201'])).toMatchObject({ error: expect.stringContaining('0 to 200') });
    expect(parseArgs(['--events'])).toHaveProperty('error');
    expect(parseArgs(['-x'])).toEqual({ error: 'unknown argument: "-x"' });
  });

  it('shows nodes, links and groups on one screen, and the same as JSON', async () => {
    const r = await run([]);
    expect(r.code).toBe(0);
    expect(r.out).toBe([
      'Heartbeat 3.0.6 (test) on node1; resources here: none', '',
      'Nodes (2 of 2 up):', '  node1   active  normal  (this node)', '  node2   active  normal  links: eth0 up', '',
      'Resource groups (2):', '  IPaddr::10.0.0.10/24/eth0: held by node1 (home node1)', '      IPaddr::10.0.0.10/24/eth0 Filesystem::/dev/sdb1::/srv',
      '  10.0.0.20: held by node2 (home node2)', '', 'Last events:', '  (none)', '',
    ].join('\n'));
    expect(r.out.split('\n').length).toBeLessThan(25);
    const j = await run(['--json']);
    expect(j.out.split('\n')).toHaveLength(2);
    expect(JSON.parse(j.out)).toMatchObject({
      running: true, node: 'node1', version: '3.0.6 (test)', managedBy: 'haresources', resources: 'none',
      nodes: [{ name: 'node1', type: 'normal', status: 'active', links: [{ name: 'eth0', status: 'up' }] }, { name: 'node2', status: 'active' }],
      groups: [{ group: 'IPaddr::10.0.0.10/24/eth0', holder: 'node1', home: 'node1', state: 'stable' }, { group: '10.0.0.20', holder: 'node2' }],
      events: [],
    });
  });

  it('records a peer going dead and its group changing hands', async () => {
    lab.hub.partition(['node1'], ['node2']);
    lab.clock.advance(7000);
    controller = holding(3, 0);
    lab.clock.advance(1500);
    const doc = JSON.parse((await run(['--json'])).out) as { events: { kind: string; text: string; time: string }[]; groups: { holder: string }[] };
    expect(doc.groups.map((g) => g.holder)).toEqual(['node1', 'node1']);
    const kinds = doc.events.map((e) => `${e.kind}: ${e.text}`);
    expect(kinds).toContain('node: node node2: active -> dead');
    expect(kinds).toContain('link: link node2/eth0: dead');
    expect(kinds).toContain('holder: group 10.0.0.20: node2 -> node1');
    expect(doc.events[0]!.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const text = (await run(['--events', '1'])).out;
    expect(text).toMatch(/Last events:\n {2}\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ {2}group 10\.0\.0\.20: node2 -> node1\n$/);
    expect(text).toContain('Nodes (1 of 2 up):');
    lab.hub.heal();
  });

  it('says heartbeat is stopped (exit 1), as text and JSON; usage errors exit 2', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hbts-hbst-'));
    try {
      const none = join(dir, 'sock');
      expect(await run([], none)).toEqual({ code: 1, out: '', err: 'hb_status: Heartbeat is stopped on this machine.\n' });
      expect(await run(['--json'], none)).toEqual({ code: 1, out: '{"running":false,"reason":"Heartbeat is stopped on this machine."}\n', err: '' });
      expect((await run(['--bogus'], none)).code).toBe(2);
      expect((await run(['-h'], none)).out).toMatch(/^usage: hb_status \[--json\] \[--events N\]/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
