/**
 * Issue 17: the HTTP check follows redirects only on the same real server.
 * Real servers here are HTTP servers on distinct loopback addresses.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { runCheck, type CheckContext } from '../../../lib/ldirectord/checks/index.js';
import { decideRedirect } from '../../../lib/ldirectord/checks/redirect.js';

const closers: (() => void)[] = [];
afterEach(() => { while (closers.length) closers.pop()?.(); });

/** An HTTP server on `addr` that records every request and answers with `handle`. */
async function server(addr: string, handle: (url: string) => { status: number; location?: string; body?: string }): Promise<{ port: number; hits: string[] }> {
  const hits: string[] = [];
  const s: Server = createServer((q, res) => {
    hits.push(`${q.url ?? ''} ${q.headers.host ?? ''}`);
    const a = handle(q.url ?? '');
    res.writeHead(a.status, a.location === undefined ? {} : { Location: a.location });
    res.end(a.body ?? '');
  });
  await new Promise<void>((r) => s.listen(0, addr, r));
  closers.push(() => { s.closeAllConnections(); s.close(); });
  return { port: (s.address() as AddressInfo).port, hits };
}

const ctx = (host: string, port: number, over: Partial<CheckContext> = {}): CheckContext => ({
  host, port, realPort: port, protocol: 'tcp', service: 'http', request: '/health', receive: '', httpmethod: 'GET',
  virtualhost: undefined, login: '', passwd: '', virtualHost: '10.0.0.1', virtualPort: 80, checkcommand: '/bin/true',
  checkcount: 1, checktimeoutS: 2, hostname: 'dir1', ...over,
});

describe('decideRedirect', () => {
  const origin = new URL('http://10.0.0.5:80/health');
  it('follows relative and same-host redirects (any port or http/https), and the virtual host name on the same address', () => {
    expect(decideRedirect('/ok', origin, origin, undefined)).toMatchObject({ follow: true, url: new URL('http://10.0.0.5/ok') });
    expect(decideRedirect('https://10.0.0.5:8443/x', origin, origin, undefined)).toMatchObject({ follow: true });
    const v = decideRedirect('http://www.example.org/login', origin, origin, 'www.example.org');
    expect(v).toMatchObject({ follow: true, hostHeader: 'www.example.org' });
    expect(v.follow && v.url.href).toBe('http://10.0.0.5/login');
  });
  it('never follows to another host, loopback, other schemes or credentials', () => {
    for (const loc of ['http://10.0.0.6/', 'http://127.0.0.1:8080/internal-admin?action=delete', 'http://localhost/', 'ftp://10.0.0.5/', 'http://u:p@10.0.0.5/', 'http://[::1]/']) {
      expect(decideRedirect(loc, origin, origin, 'www.example.org').follow, loc).toBe(false);
    }
  });
});

describe('HTTP check against real servers answering redirects', () => {
  it('a real server answering only 302 to another host is down, and the other host is never asked', async () => {
    const other = await server('127.0.0.2', () => ({ status: 200, body: 'I am fine' }));
    const real = await server('127.0.0.3', () => ({ status: 302, location: `http://127.0.0.2:${other.port}/` }));
    const r = await runCheck('negotiate', ctx('127.0.0.3', real.port), 3000);
    expect(r.up).toBe(false);
    expect(r.message).toMatch(/^302 Found: redirect to another host \(127\.0\.0\.2:\d+\) not followed$/);
    expect(other.hits).toEqual([]);
  });

  it('a redirect to the director\'s own loopback admin URL is never requested', async () => {
    const admin = await server('127.0.0.1', () => ({ status: 200, body: 'deleted everything' }));
    const real = await server('127.0.0.4', () => ({ status: 302, location: `http://127.0.0.1:${admin.port}/internal-admin?action=delete` }));
    expect((await runCheck('negotiate', ctx('127.0.0.4', real.port), 3000)).up).toBe(false);
    expect(admin.hits).toEqual([]);
  });

  it('redirects on the same real server are still followed (up to 7)', async () => {
    const real = await server('127.0.0.5', (u) => (u === '/health' ? { status: 301, location: '/health/' } : { status: 200, body: 'alive' }));
    expect(await runCheck('negotiate', ctx('127.0.0.5', real.port, { receive: 'alive' }), 3000)).toEqual({ up: true, message: '200 OK' });
    const loop = await server('127.0.0.6', (u) => ({ status: 302, location: `/r${u.length}` }));
    expect((await runCheck('negotiate', ctx('127.0.0.6', loop.port), 3000)).up).toBe(false);
    expect(loop.hits).toHaveLength(8);
  });
});
