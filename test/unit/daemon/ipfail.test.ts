/**
 * The ipfail client process's wiring (daemon/ipfail.ts) on two real
 * membership cores with real API servers: sign-on and start-up checks, the
 * partner's join triggering the count exchange, the auto_failback giveup
 * reaching the cluster as a standby request, sign-off and a vanished daemon.
 * The decisions themselves are tested in test/unit/ipfail/logic.test.ts.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { IpfailClient, envSinkConfig, type IpfailClientStart } from '../../../daemon/ipfail.js';
import { toolSocketPath } from '../../../daemon/paths.js';
import { createLogRoot, memoryLogger, type LogRoot } from '../../../lib/util/log.js';
import type { HaMsg } from '../../../lib/wire/index.js';
import { HACF, apiLab, type ApiLab } from './api-fixture.js';
import { until } from '../until.js';

const WITH_IPFAIL = `${HACF}apiauth ipfail uid=root\n`;

let lab: ApiLab | undefined;
const clients: IpfailClient[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.stop();
  await lab?.close();
  lab = undefined;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function memoryRoot(): LogRoot & { lines: string[] } {
  const logger = memoryLogger();
  return { logger, lines: logger.lines, reopen: () => undefined, reconfigure: () => undefined, close: () => undefined };
}

async function start(l: ApiLab, i: number, root: LogRoot, configureLogs = false): Promise<IpfailClientStart> {
  const r = await IpfailClient.start({ socketPath: toolSocketPath(l.nodes[i]!.paths), logRoot: root, clock: l.clock, configureLogs, startupStderr: false });
  if (r.ok) clients.push(r.client);
  return r;
}

const text = (m: HaMsg): string => m.fields.map((f) => `${f.name}=${String(f.value)}`).join(' ');

describe('ipfail client', () => {
  it('starts as heartbeat\'s ipfail does, and a joining partner leads to balanced counts and an auto_failback giveup', async () => {
    lab = await apiLab({ text: WITH_IPFAIL, resources: { rscstatus: () => 'local' } });
    const l = lab;
    const seen: string[] = [];
    l.nodes[0]!.cluster.on('message', (m, from) => {
      if (m.get('t') === 'ask_resources') seen.push(`${from}: ${text(m)}`);
    });
    const r1 = memoryRoot();
    expect((await start(l, 0, r1)).ok).toBe(true);
    expect(r1.lines).toEqual([
      `debug: PID=${process.pid}`,
      'debug: Signing in with heartbeat',
      'debug: [We are node1]',
      'debug: auto_failback -> 1 (on)',
      'debug: Setting message filter mode',
      'debug: Starting node walk',
      'debug: Cluster node: node1: status: active',
      'debug: Cluster node: node2: status: active',
      'debug: [They are node2]',
      'debug: Setting message signal',
      'debug: Waiting for messages...',
    ]);
    const r2 = memoryRoot();
    expect((await start(l, 1, r2)).ok).toBe(true);
    // node1 sees node2's ipfail join and asks; node2 (0 = 0) answers abort_giveup and gives foreign up.
    await until('node2 balanced', () => r2.lines.includes('info: Ping node count is balanced.'));
    expect(r1.lines).toContain('debug: Got join message from another ipfail client. (node2)');
    expect(r1.lines).toContain('info: Asking other side for ping node count.');
    await until('node1 got abort_giveup', () => r1.lines.includes('info: No giveup timer to abort.'));
    expect(r2.lines).toContain('info: Giving up foreign resources (auto_failback).');
    expect(r2.lines).toContain('info: Delayed giveup in 2 seconds.');
    expect(seen).toEqual([]);
    l.clock.advance(2100);
    await until('the standby request', () => seen.length > 0);
    expect(r2.lines).toContain('info: giveup() called (timeout worked)');
    expect(seen[0]).toMatch(/^node2: t=ask_resources rsc_hold=foreign info=me .*from_id=ipfail to_id=ipfail client_gen=\d+/);
    expect(seen[0]).toMatch(/ src=node2 /);
  });

  it('loses no event that arrives while it is still setting up: two started at once find each other', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hbts-ipfail-'));
    dirs.push(dir);
    lab = await apiLab({ text: `${WITH_IPFAIL}debugfile ${dir}/ha-debug\n`, resources: { rscstatus: () => 'local' } });
    const l = lab;
    const roots = [memoryRoot(), memoryRoot()];
    // configureLogs: the longest set-up, during which the partner's join arrives.
    const quiet = (r: LogRoot): LogRoot => ({ ...r, reconfigure: () => undefined });
    const [a, b] = await Promise.all([0, 1].map((i) => start(l, i, quiet(roots[i]!), true)));
    expect(a?.ok && b?.ok).toBe(true);
    const joined = (i: number): boolean => roots[i]!.lines.some((x) => x.startsWith('debug: Got join message from another ipfail client.'));
    await until('a join seen', () => joined(0) || joined(1));
    await until('balanced', () => roots.some((r) => r.lines.includes('info: Ping node count is balanced.')));
  });

  it('logs into the daemon\'s files as the API parameters name them, debug lines only in the debug file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hbts-ipfail-'));
    dirs.push(dir);
    lab = await apiLab({ text: `${WITH_IPFAIL}logfile ${dir}/ha-log\ndebugfile ${dir}/ha-debug\nsyslogmsgfmt false\n`, resources: { rscstatus: () => 'all' } });
    const root = createLogRoot('ipfail', { ...envSinkConfig({}), stderr: false });
    try {
      expect((await start(lab, 0, root, true)).ok).toBe(true);
    } finally {
      root.close();
    }
    const log = readFileSync(join(dir, 'ha-log'), 'utf8');
    const debug = readFileSync(join(dir, 'ha-debug'), 'utf8');
    expect(log).toBe('');
    expect(debug).toMatch(new RegExp(`^ipfail\\[${process.pid}\\]: \\d{4}/\\d\\d/\\d\\d_\\d\\d:\\d\\d:\\d\\d debug: \\[We are node1\\]$`, 'm'));
    expect(debug).toMatch(/debug: Waiting for messages\.\.\.\n$/);
  });

  it('exits 100 when heartbeat manages no resources, and 1 when apiauth refuses it', async () => {
    lab = await apiLab({ text: WITH_IPFAIL, manageResources: false });
    const r = memoryRoot();
    expect(await start(lab, 0, r)).toEqual({ ok: false, exitCode: 100 });
    expect(r.lines).toContain('ERROR: No managed resources');
    await lab.close();
    lab = await apiLab();
    const refused = memoryRoot();
    expect(await start(lab, 0, refused)).toEqual({ ok: false, exitCode: 1 });
    expect(refused.lines.slice(-2)).toEqual(['ERROR: Cannot sign on with heartbeat', 'ERROR: REASON: client failed authorization']);
    expect(lab.nodes[0]!.lines.some((x) => /Client \[ipfail\] pid \d+ failed authorization/.test(x))).toBe(true);
  });

  it('signs off when stopped (the peer sees it leave) and ends with 1 when heartbeat goes away', async () => {
    lab = await apiLab({ text: WITH_IPFAIL, resources: { rscstatus: () => 'local' } });
    const a = await start(lab, 0, memoryRoot());
    const rb = memoryRoot();
    const b = await start(lab, 1, rb);
    if (!a.ok || !b.ok) throw new Error('ipfail did not start');
    const left: string[] = [];
    lab.nodes[1]!.cluster.on('message', (m) => {
      if (m.get('t') === 'hbapi-clstat' && m.get('st') === 'leave') left.push(text(m));
    });
    await a.client.stop();
    expect(await a.client.done).toBe(0);
    await until('leave on node2', () => left.length > 0);
    expect(left[0]).toMatch(/from_id=ipfail .*info=signoff/);
    await lab.nodes[1]!.api.shutdown();
    expect(await b.client.done).toBe(1);
    expect(rb.lines).toContain('ERROR: Connection to heartbeat lost: exiting');
  });
});
