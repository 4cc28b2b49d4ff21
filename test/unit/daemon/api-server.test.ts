/**
 * The API server over a real unix socket, with real peer-credential checks
 * (SO_PEERCRED), on two real membership cores. A client running as `nobody`
 * (setpriv) proves that apiauth is enforced on what the kernel reports.
 */
import { spawn } from 'node:child_process';
import { chmodSync, existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { HbApiClient } from '../../../daemon/api/client.js';
import type { ApiEvent } from '../../../daemon/api/types.js';
import { apiSocketPath, toolSocketPath } from '../../../daemon/paths.js';
import { apiLab, type ApiLab } from './api-fixture.js';
import { until } from '../until.js';

let lab: ApiLab | undefined;
const clients: HbApiClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await lab?.close();
  lab = undefined;
});

async function client(l: ApiLab, i: number): Promise<HbApiClient> {
  const c = await HbApiClient.connect(toolSocketPath(l.nodes[i]!.paths));
  clients.push(c);
  return c;
}

function events(c: HbApiClient): ApiEvent[] {
  const out: ApiEvent[] = [];
  c.on('event', (e) => out.push(e));
  return out;
}

/** Runs a signon as another user; returns the server's reply line. */
function signonAs(socket: string, user: string, group: string): Promise<string> {
  const script = `const s=require('net').connect(${JSON.stringify(socket)});s.on('error',e=>{console.log('ERR '+e.code);process.exit(0)});` +
    `s.on('connect',()=>s.write(JSON.stringify({id:1,op:'signon'})+'\\n'));let b='';s.on('data',d=>{b+=d;if(b.includes('\\n')){console.log(b.trim());process.exit(0)}});`;
  return new Promise((resolve, reject) => {
    const p = spawn('setpriv', [`--reuid=${user}`, `--regid=${group}`, '--clear-groups', process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('error', reject);
    p.on('exit', () => resolve(out.trim() || `no output: ${err}`));
  });
}

describe('API server', () => {
  it('opens its socket only when communications are up, as heartbeat does', async () => {
    lab = await apiLab();
    const n1 = lab.nodes[0]!;
    expect(existsSync(apiSocketPath(n1.paths))).toBe(true);
    expect(existsSync(toolSocketPath(n1.paths))).toBe(true);
    await n1.api.shutdown();
    expect(existsSync(apiSocketPath(n1.paths))).toBe(false);
    expect(existsSync(toolSocketPath(n1.paths))).toBe(false);
  });

  it('signs a casual client on after checking its kernel credentials, and answers queries', async () => {
    lab = await apiLab({ resources: { rscstatus: () => 'local' } });
    const c = await client(lab, 0);
    const s = await c.signon();
    expect(s).toMatchObject({ ok: true, info: { clientId: String(process.pid), node: 'node1', deadtimeMs: 5000, keepaliveMs: 1000, version: '3.0.6 (test)', pacemaker: 'no' } });
    expect(await c.nodeList()).toEqual({ ok: true, value: [{ name: 'node1', type: 'normal', status: 'active' }, { name: 'node2', type: 'normal', status: 'active' }] });
    expect(await c.nodeStatus('NODE2')).toEqual({ ok: true, value: 'active' });
    expect(await c.nodeStatus('bogus')).toEqual({ ok: false, code: 'EINVAL', error: 'EINVAL' });
    expect(await c.nodeType('node2')).toEqual({ ok: true, value: 'normal' });
    expect(await c.nodeWeight('node2')).toEqual({ ok: true, value: 100 });
    expect(await c.nodeSite('node2')).toEqual({ ok: true, value: '' });
    expect(await c.ifList('node2')).toEqual({ ok: true, value: [{ name: 'eth0', status: 'up' }] });
    expect(await c.ifStatus('node2', 'eth0')).toEqual({ ok: true, value: 'up' });
    expect(await c.ifStatus('node2', 'eth9')).toMatchObject({ ok: false, code: 'EINVAL' });
    expect(await c.parameter('deadtime')).toEqual({ ok: true, value: '5' });
    expect(await c.parameter('crm')).toEqual({ ok: true, value: 'no' });
    expect(await c.parameter('nosuch')).toEqual({ ok: true, value: undefined });
    expect(await c.rscStatus()).toEqual({ ok: true, value: 'local' });
    expect(await c.numNodes()).toEqual({ ok: true, value: 2 });
    expect(await c.send([['t', 'x']])).toMatchObject({ ok: false, code: 'CASUAL' });
    expect(await c.signon()).toMatchObject({ ok: false, code: 'ALREADY_SIGNED_ON' });
  });

  it('refuses a client whose uid/gid apiauth does not list, and says why in the log', async () => {
    lab = await apiLab();
    // An admin who opened the run directory (0750 by default) still has apiauth.
    chmodSync(lab.dir, 0o755);
    chmodSync(lab.nodes[0]!.paths.stateDir, 0o755);
    chmodSync(lab.nodes[0]!.paths.runDir, 0o755);
    const reply = JSON.parse(await signonAs(toolSocketPath(lab.nodes[0]!.paths), 'nobody', 'nogroup')) as Record<string, unknown>;
    expect(reply).toMatchObject({ id: 1, ok: false, code: 'API_AUTH', error: 'client failed authorization', deadtimeMs: 5000 });
    expect(lab.nodes[0]!.lines.some((l) => /^WARN: Client \[\d+\] pid \d+ failed authorization \[client failed authorization\]$/.test(l))).toBe(true);
    // a named client without an apiauth line (and no `default`) is refused too
    const c = await client(lab, 0);
    expect(await c.signon('unlisted')).toMatchObject({ ok: false, code: 'API_AUTH', error: 'no default client auth' });
    expect(await c.nodeList()).toMatchObject({ ok: false, code: 'NOT_SIGNED_ON' });
  });

  it('answers requests before signon with an error and refuses bad names and duplicates', async () => {
    lab = await apiLab();
    const a = await client(lab, 0);
    const b = await client(lab, 0);
    expect(await a.signon('bad name')).toMatchObject({ ok: false, code: 'EINVAL' });
    expect(await a.signon('testclient')).toMatchObject({ ok: true });
    expect(await b.signon('testclient')).toMatchObject({ ok: false, code: 'API_DUPLICATE', error: 'duplicate add request' });
  });

  it('announces named clients with hbapi-clstat and answers clientstatus across nodes (spec 4.4)', async () => {
    lab = await apiLab();
    const watcher = await client(lab, 0);
    await watcher.signon('testclient');
    const seen = events(watcher);
    const asker = await client(lab, 0);
    await asker.signon();
    expect(await asker.clientStatus('node2', 'testclient', 1000)).toEqual({ ok: true, value: 'offline' });
    const remote = await client(lab, 1);
    await remote.signon('testclient');
    await until('join event', () => seen.some((e) => e.event === 'clientstatus' && e.node === 'node2'));
    expect(seen).toContainEqual({ event: 'clientstatus', node: 'node2', client: 'testclient', status: 'join', info: 'signon' });
    expect(await asker.clientStatus('node2', 'testclient', 1000)).toEqual({ ok: true, value: 'online' });
    expect(await asker.clientStatus('node1', 'testclient', 1000)).toEqual({ ok: true, value: 'online' });
    expect(await asker.clientStatus('node1', 'ghost', 1000)).toEqual({ ok: true, value: 'offline' });
    // no answer awaited with a zero timeout; an unknown node never answers
    expect(await asker.clientStatus('node2', 'testclient', 0)).toMatchObject({ ok: false, code: 'TIMEOUT', error: 'No timely response.' });
    const t0 = Date.now();
    expect(await asker.clientStatus('bogus', 'testclient', 200)).toMatchObject({ ok: false, code: 'TIMEOUT' });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(150);
    await remote.signoff();
    await until('leave event', () => seen.some((e) => e.event === 'clientstatus' && e.status === 'leave'));
    expect(seen).toContainEqual({ event: 'clientstatus', node: 'node2', client: 'testclient', status: 'leave', info: 'signoff' });
    expect(await asker.clientStatus('node2', 'testclient', 1000)).toEqual({ ok: true, value: 'offline' });
  });

  it('sends a named client\'s message with from_id/to_id/client_gen to the same client on the peer', async () => {
    lab = await apiLab();
    const a = await client(lab, 0);
    await a.signon('testclient');
    const b = await client(lab, 1);
    const sb = await b.signon('testclient');
    expect(sb.ok).toBe(true);
    const seen = events(b);
    expect(await a.send([['t', 'num_ping_nodes'], ['num_ping', '2'], ['src', 'forged']], 'node2')).toEqual({ ok: true, value: true });
    await until('message event', () => seen.some((e) => e.event === 'message'));
    const ev = seen.find((e) => e.event === 'message');
    expect(ev).toMatchObject({ event: 'message', from: 'node1', local: false });
    const fields = new Map(ev?.event === 'message' ? ev.fields : []);
    expect(fields.get('t')).toBe('num_ping_nodes');
    expect(fields.get('num_ping')).toBe('2');
    expect(fields.get('from_id')).toBe('testclient');
    expect(fields.get('to_id')).toBe('testclient');
    expect(fields.get('dest')).toBe('node2');
    expect(fields.get('src')).toBe('node1');
    expect(fields.get('client_gen')).toMatch(/^\d+$/);
    expect(await a.send([['t', 'status']])).toMatchObject({ ok: false, code: 'EINVAL' });
    expect(await a.send([['x', '1']])).toMatchObject({ ok: false, code: 'EINVAL', error: 'cannot send: no t (message type) field' });
  });

  it('reports node and link changes to subscribed clients', async () => {
    lab = await apiLab();
    const c = await client(lab, 0);
    await c.signon();
    const seen = events(c);
    expect(await c.subscribe()).toEqual({ ok: true, value: true });
    await lab.nodes[1]!.cluster.stop();
    lab.clock.advance(8000);
    await until('dead node event', () => seen.some((e) => e.event === 'nodestatus'));
    expect(seen).toContainEqual({ event: 'nodestatus', node: 'node2', status: 'dead', previous: 'active' });
    expect(seen).toContainEqual({ event: 'ifstatus', node: 'node2', link: 'eth0', status: 'dead' });
    expect(await c.nodeStatus('node2')).toEqual({ ok: true, value: 'dead' });
  });

  it('refuses rscstatus when resources are not managed (-M or pacemaker)', async () => {
    lab = await apiLab({ manageResources: false });
    const c = await client(lab, 0);
    await c.signon();
    expect(await c.rscStatus()).toEqual({ ok: false, code: 'NO_RESOURCES', error: 'Resource is managed by crm. Use crm tool to query resource' });
  });
});
