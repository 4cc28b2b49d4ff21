/**
 * The daemon's HTTP endpoint on loopback (issue 15): the exposition format,
 * failover phases, and the server's rules — GET/HEAD only, no bodies, a
 * foreign Host refused, unknown paths 404, an address in use tried again,
 * re-listening on a changed address. Real sockets; the cluster part of the
 * pages is covered with real daemons in test/netns/http-observe.test.ts.
 */
import { createServer as createTcpServer, connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { ResourceGroup } from '../../../lib/config/types.js';
import { systemClock } from '../../../lib/util/clock.js';
import { memoryLogger } from '../../../lib/util/log.js';
import { FailoverPhases, type FailoverRecord } from '../../../daemon/http/failover-phases.js';
import { renderMetrics } from '../../../daemon/http/metrics.js';
import { ObservedState } from '../../../daemon/http/observed.js';
import { Exposition, Histogram } from '../../../daemon/http/prom-text.js';
import { StatusHttpServer } from '../../../daemon/http/server.js';
import { statusDocument } from '../../../daemon/http/status-json.js';
import { EventLog } from '../../../daemon/overview.js';

const res = (script: string, spec = script): ResourceGroup['resources'][number] => ({ script, args: [], spec } as unknown as ResourceGroup['resources'][number]);
const GROUPS = [
  { key: 'IPaddr::10.0.0.10', node: 'node1', resources: [res('IPaddr', 'IPaddr::10.0.0.10'), res('httpd')] },
  { key: 'db', node: 'node2', resources: [res('db')] },
] as unknown as ResourceGroup[];

function state(): ObservedState {
  return new ObservedState({
    clock: systemClock, nodename: 'node2', version: '3.0.6', groups: GROUPS, events: new EventLog(),
    groupEntries: () => [], rscstatus: () => 'all', monitors: () => [], quorum: 'off',
  });
}

describe('exposition format', () => {
  it('escapes label values and help, types counters by name, renders cumulative histograms', () => {
    const h = new Histogram([0.1, 1]);
    h.observe(0.05);
    h.observe(0.5);
    h.observe(7);
    const text = new Exposition()
      .family('x_total', 'a\\b\nc', [[{ r: 'a"b\\c\nd' }, 3]])
      .family('y', 'gauge', [[undefined, Infinity]])
      .histograms('z_seconds', 'h', [[{ phase: 'p' }, h]])
      .text();
    expect(text).toContain('# HELP x_total a\\\\b\\nc\n# TYPE x_total counter\nx_total{r="a\\"b\\\\c\\nd"} 3\n');
    expect(text).toContain('# TYPE y gauge\ny +Inf\n');
    expect(text).toContain('z_seconds_bucket{phase="p",le="0.1"} 1\nz_seconds_bucket{phase="p",le="1"} 2\nz_seconds_bucket{phase="p",le="+Inf"} 3\nz_seconds_sum{phase="p"} 7.55\nz_seconds_count{phase="p"} 3\n');
  });

  it('a node without a running core still renders every family (no cluster, no samples)', () => {
    const text = renderMetrics(state());
    expect(text).toMatch(/^heartbeat_info\{node="node2",version="3.0.6"\} 1$/m);
    expect(text).toContain('# TYPE heartbeat_takeovers_total counter\nheartbeat_takeovers_total 0\n');
    expect(text).toContain('# TYPE heartbeat_failover_phase_seconds histogram');
    expect(text).toMatch(/^heartbeat_resource_state\{state="all"\} 1$/m);
  });
});

describe('failover phases', () => {
  it('dead → first script → address up → every group of the dead node started', () => {
    const done: FailoverRecord[] = [];
    const p = new FailoverPhases(GROUPS, (r) => done.push(r));
    p.nodeDead('node1', 1000, 5_000_000, new Map([['IPaddr::10.0.0.10', 'node1'], ['db', 'node2']]), 'node2');
    p.scriptStarted(1002);
    p.started(res('IPaddr', 'IPaddr::10.0.0.10'), true, 1040);
    expect(done).toEqual([]);
    p.started(res('httpd'), true, 1150);
    expect(done).toHaveLength(1);
    expect(done[0]?.phases).toEqual({ first_script: 2, address_up: 40, group_started: 150 });
    expect(done[0]?.groups).toEqual(['IPaddr::10.0.0.10']);
  });

  it('a failed start does not complete it; a dead node holding nothing starts none', () => {
    const done: FailoverRecord[] = [];
    const p = new FailoverPhases(GROUPS, (r) => done.push(r));
    p.nodeDead('node1', 0, 0, new Map([['IPaddr::10.0.0.10', 'node2']]), 'node2');
    expect(p.latest()).toBeNull();
    p.nodeDead('node1', 0, 0, new Map([['IPaddr::10.0.0.10', 'node1']]), 'node2');
    p.started(res('httpd'), false, 10);
    expect(done).toEqual([]);
    expect(p.latest()?.complete).toBe(false);
  });

  it('the status document lists a failover in progress', () => {
    const s = state();
    s.phases.nodeDead('node1', 0, 0, new Map([['IPaddr::10.0.0.10', 'node1']]), 'node2');
    const doc = statusDocument(s);
    expect(doc.failovers).toEqual([{ node: 'node1', deadAt: '1970-01-01T00:00:00.000Z', complete: false, groups: ['IPaddr::10.0.0.10'], phasesMs: {} }]);
  });
});

// ------------------------------------------------------------------ the server on loopback

const servers: StatusHttpServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function freePort(): Promise<number> {
  const t = createTcpServer();
  await new Promise<void>((r) => t.listen(0, '127.0.0.1', () => r()));
  const port = (t.address() as { port: number }).port;
  await new Promise((r) => t.close(r));
  return port;
}

async function serve(port: number, log = memoryLogger()): Promise<StatusHttpServer> {
  const s = new StatusHttpServer({ state: state(), log, clock: systemClock, names: ['node2'] });
  servers.push(s);
  await s.configure({ host: '127.0.0.1', port, line: 1 });
  return s;
}

/** One raw request; the status code of the answer (0: closed without one). */
function raw(port: number, text: string): Promise<{ code: number; head: string; body: string }> {
  return new Promise((resolve) => {
    const c = connect(port, '127.0.0.1');
    let got = '';
    c.on('data', (d) => { got += d.toString('latin1'); });
    c.on('close', () => {
      const [head = '', body = ''] = got.split('\r\n\r\n');
      resolve({ code: Number(head.slice(9, 12)) || 0, head, body });
    });
    c.on('error', () => undefined);
    c.end(text);
  });
}

describe('the HTTP server', () => {
  it('serves the page, its script, /metrics and /status.json to GET and HEAD', async () => {
    const port = await freePort();
    await serve(port);
    const page = await fetch(`http://127.0.0.1:${port}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(await page.text()).toContain('<script src="/app.js"');
    const m = await fetch(`http://127.0.0.1:${port}/metrics?x=1`);
    expect(m.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(await m.text()).toContain('heartbeat_info{');
    const j = (await (await fetch(`http://127.0.0.1:${port}/status.json`)).json()) as { node: string };
    expect(j.node).toBe('node2');
    const head = await raw(port, 'HEAD /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
    expect(head.code).toBe(200);
    expect(head.body).toBe('');
  });

  it('refuses other methods (405 with Allow), bodies (400), foreign names (421), unknown paths (404)', async () => {
    const port = await freePort();
    await serve(port);
    for (const method of ['POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH']) {
      const r = await raw(port, `${method} /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
      expect(r.code, method).toBe(405);
      expect(r.head).toMatch(/^allow: GET, HEAD$/im);
    }
    expect((await raw(port, 'GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc')).code).toBe(400);
    expect((await raw(port, 'GET / HTTP/1.1\r\nHost: evil.example\r\n\r\n')).code).toBe(421);
    expect((await raw(port, 'GET / HTTP/1.1\r\nHost: node2.example.org:9694\r\nConnection: close\r\n\r\n')).code).toBe(200);
    expect((await raw(port, 'GET /etc/passwd HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n')).code).toBe(404);
    expect((await raw(port, 'NONSENSE\r\n\r\n')).code).toBe(400);
  });

  it('an address in use is tried again until it is free; a new address on reload re-listens', async () => {
    const port = await freePort();
    const squatter = createTcpServer();
    await new Promise<void>((r) => squatter.listen(port, '127.0.0.1', () => r()));
    const log = memoryLogger();
    const s = await serve(port, log);
    expect(log.lines.some((l) => l.includes(`http_listen 127.0.0.1:${port}: cannot listen`))).toBe(true);
    await new Promise((r) => squatter.close(r));
    for (let tries = 0; (await fetch(`http://127.0.0.1:${port}/metrics`).catch(() => null))?.status !== 200; tries++) {
      expect(tries, 'the server listening once the port is free').toBeLessThan(60);
      await new Promise((r) => setTimeout(r, 500));
    }
    const other = await freePort();
    await s.configure({ host: '127.0.0.1', port: other, line: 1 });
    expect((await fetch(`http://127.0.0.1:${other}/metrics`)).status).toBe(200);
    await expect(fetch(`http://127.0.0.1:${port}/metrics`)).rejects.toThrow();
    await s.configure(undefined);
    await expect(fetch(`http://127.0.0.1:${other}/metrics`)).rejects.toThrow();
  }, 60_000);
});

describe('quorum in /metrics and /status.json', () => {
  it('with quorum majority: whether the partition has it and whom it counts; nothing when off', async () => {
    const { SimCluster } = await import('../../sim/cluster.js');
    const sim = new SimCluster({ nodes: ['node1', 'node2', 'node3'], haresources: 'node1 ra\n', autoFailback: 'off', quorum: 'majority' });
    try {
      for (const n of ['node1', 'node2', 'node3']) await sim.start(n);
      await sim.until('all active', () => ['node2', 'node3'].every((n) => sim.cluster('node1').view(n)?.status === 'active'), 60_000);
      const s = new ObservedState({
        clock: sim.clock, nodename: 'node1', version: '3.0.6', groups: [], events: new EventLog(),
        groupEntries: () => [], rscstatus: () => 'local', monitors: () => [], quorum: 'majority',
      });
      s.bind({ cluster: sim.cluster('node1'), auth: () => ({ ok: 0, malformed: 0, 'unknown-key': 0, 'bad-digest': 0, replay: 0 }) });
      expect(statusDocument(s).quorum).toEqual({ has: true, live: ['node1', 'node2', 'node3'], configured: 3 });
      expect(renderMetrics(s)).toMatch(/^heartbeat_quorum 1$/m);
      expect(renderMetrics(s)).toMatch(/^heartbeat_heartbeats_received_total\{node="node2"\} [1-9]\d*$/m);
      sim.net.partition(['node1'], ['node2', 'node3']);
      await sim.until('node1 alone', () => sim.runtime('node1')?.phase === 'restarting', 60_000);
      expect(statusDocument(s).quorum?.has).toBe(false);
      expect(renderMetrics(state())).not.toMatch(/^heartbeat_quorum /m);
    } finally {
      await sim.stopAll();
    }
  });
});
