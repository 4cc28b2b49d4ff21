/** Health checks against real servers on loopback speaking each protocol. */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { execFileSync } from 'node:child_process';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { runCheck, type CheckContext } from '../../../lib/ldirectord/checks/index.js';
import { buildQuery, parseAnswers } from '../../../lib/ldirectord/checks/dns.js';

const closers: (() => void)[] = [];
afterEach(() => { while (closers.length) closers.pop()?.(); });
const dir = mkdtempSync(join(tmpdir(), 'ldchecks-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function listen(s: Server): Promise<number> {
  const conns: Socket[] = [];
  s.on('connection', (c: Socket) => conns.push(c));
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  closers.push(() => { for (const c of conns) c.destroy(); s.close(); });
  return (s.address() as AddressInfo).port;
}

/** A line server: greets, then answers each received line by `reply`. */
function scripted(greeting: string, reply: (line: string) => string | undefined): Server {
  return createServer((sock) => {
    sock.setEncoding('latin1');
    if (greeting) sock.write(greeting);
    let buf = '';
    sock.on('data', (d: string) => {
      buf += d;
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i).replace(/\r$/, '');
        buf = buf.slice(i + 1);
        const r = reply(line);
        if (r !== undefined) sock.write(r);
      }
    });
    sock.on('error', () => { /* client went away */ });
  });
}

const ctx = (port: number, over: Partial<CheckContext> = {}): CheckContext => ({
  host: '127.0.0.1', port, realPort: port, protocol: 'tcp', service: 'http', request: '/', receive: '', httpmethod: 'GET',
  virtualhost: undefined, login: '', passwd: '', virtualHost: '10.0.0.1', virtualPort: 80, checkcommand: '/bin/true',
  checkcount: 1, checktimeoutS: 2, hostname: 'dir1', ...over,
});

describe('connect', () => {
  it('is up when the port accepts and down when it refuses', async () => {
    const port = await listen(createServer(() => undefined));
    expect(await runCheck('connect', ctx(port), 2000)).toMatchObject({ up: true });
    const closed = await listen(createServer());
    closers.pop()?.();
    expect(await runCheck('connect', ctx(closed), 2000)).toMatchObject({ up: false, message: expect.stringContaining('ECONNREFUSED') });
  });
});

describe('http negotiate', () => {
  it('sends the request with the virtual host, needs 2xx and a body matching receive, follows redirects', async () => {
    const seen: string[] = [];
    const port = await listen(createHttpServer((q, res) => {
      seen.push(`${q.method} ${q.url} ${q.headers.host}`);
      if (q.url === '/old') { res.writeHead(302, { Location: '/health' }); res.end(); return; }
      if (q.url === '/health') { res.end('status: alive\n'); return; }
      res.writeHead(503, 'Busy'); res.end('no');
    }));
    const c = ctx(port, { request: '/health', receive: 'ali+ve', virtualhost: 'www.example.org' });
    expect(await runCheck('negotiate', c, 2000)).toEqual({ up: true, message: '200 OK' });
    expect(seen[0]).toBe('GET /health www.example.org');
    expect(await runCheck('negotiate', { ...c, receive: 'dead' }, 2000)).toMatchObject({ up: false, message: expect.stringContaining('does not match') });
    expect(await runCheck('negotiate', { ...c, request: '/other' }, 2000)).toEqual({ up: false, message: '503 Busy' });
    expect(await runCheck('negotiate', { ...c, request: '/old' }, 2000)).toMatchObject({ up: true });
    expect(await runCheck('negotiate', { ...c, httpmethod: 'HEAD', virtualhost: undefined }, 2000)).toMatchObject({ up: true });
    expect(seen[seen.length - 1]).toBe(`HEAD /health 127.0.0.1:${port}`);
  });

  it('https works with a self-signed certificate and sends SNI from virtualhost', async () => {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=www.example.org', '-days', '2',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
    const { readFileSync } = await import('node:fs');
    let sni: string | undefined;
    const srv = createHttpsServer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) }, (q, res) => {
      sni = (q.socket as import('node:tls').TLSSocket).servername || undefined;
      res.end('secure page');
    });
    const port = await listen(srv);
    expect(await runCheck('negotiate', ctx(port, { service: 'https', receive: 'secure', virtualhost: 'www.example.org' }), 3000)).toMatchObject({ up: true });
    expect(sni).toBe('www.example.org');
  });

  it('times out on a server that accepts and never answers', async () => {
    const port = await listen(createServer(() => undefined));
    const t0 = Date.now();
    const r = await runCheck('negotiate', ctx(port), 500);
    expect(r).toEqual({ up: false, message: 'timed out after 0.5s' });
    expect(Date.now() - t0).toBeLessThan(5000);
  });
});

describe('line protocols', () => {
  it('simpletcp sends the request and matches the reply', async () => {
    const port = await listen(scripted('', (l) => (l === 'PING' ? '+PONG\r\n' : '-ERR\r\n')));
    expect(await runCheck('negotiate', ctx(port, { service: 'simpletcp', request: '/PING\\n', receive: '^\\+PONG' }), 2000)).toMatchObject({ up: true });
    expect(await runCheck('negotiate', ctx(port, { service: 'simpletcp', request: '/PANG\\n', receive: '^\\+PONG' }), 1000)).toMatchObject({ up: false });
  });

  it('smtp needs a 220 greeting and a 250 answer to EHLO', async () => {
    const port = await listen(scripted('220 mx ESMTP\r\n', (l) => (l.startsWith('EHLO dir1') ? '250-mx\r\n250 SIZE 100\r\n' : l === 'QUIT' ? '221 bye\r\n' : '500 ?\r\n')));
    expect(await runCheck('negotiate', ctx(port, { service: 'smtp' }), 2000)).toEqual({ up: true, message: '220 mx ESMTP' });
    const busy = await listen(scripted('421 busy\r\n', () => undefined));
    expect(await runCheck('negotiate', ctx(busy, { service: 'smtp' }), 2000)).toMatchObject({ up: false, message: expect.stringContaining('421') });
  });

  it('pop and imap log in when a login is configured', async () => {
    const pop = await listen(scripted('+OK ready\r\n', (l) => (l === 'USER u' ? '+OK\r\n' : l === 'PASS p' ? '+OK in\r\n' : l.startsWith('PASS') ? '-ERR\r\n' : '+OK\r\n')));
    expect(await runCheck('negotiate', ctx(pop, { service: 'pop', login: 'u', passwd: 'p' }), 2000)).toMatchObject({ up: true });
    expect(await runCheck('negotiate', ctx(pop, { service: 'pop', login: 'u', passwd: 'wrong' }), 2000)).toMatchObject({ up: false, message: 'POP3 login refused' });
    const imap = await listen(scripted('* OK IMAP ready\r\n', (l) => (l === 'a1 LOGIN "u" "p"' ? 'a1 OK done\r\n' : l.startsWith('a1') ? 'a1 NO\r\n' : '* BYE\r\na2 OK\r\n')));
    expect(await runCheck('negotiate', ctx(imap, { service: 'imap', login: 'u', passwd: 'p' }), 2000)).toMatchObject({ up: true });
    expect(await runCheck('negotiate', ctx(imap, { service: 'imap', login: 'u', passwd: 'x' }), 2000)).toMatchObject({ up: false });
  });

  it('nntp needs a 2xx greeting', async () => {
    const port = await listen(scripted('200 news ready\r\n', () => '205 bye\r\n'));
    expect(await runCheck('negotiate', ctx(port, { service: 'nntp' }), 2000)).toMatchObject({ up: true });
  });

  it('ftp logs in, fetches the file in passive mode and matches it', async () => {
    const data = createServer((s) => { s.end('ftp file: ok-marker\n'); });
    const dataPort = await listen(data);
    const port = await listen(scripted('220 ftp\r\n', (l) => {
      if (l === 'USER anonymous') return '331 pass please\r\n';
      if (l.startsWith('PASS')) return '230 in\r\n';
      if (l === 'TYPE I') return '200 ok\r\n';
      if (l === 'PASV') return `227 Entering Passive Mode (127,0,0,1,${dataPort >> 8},${dataPort & 255})\r\n`;
      if (l === 'RETR probe.txt') return '150 here\r\n226 done\r\n';
      return '221 bye\r\n';
    }));
    const c = ctx(port, { service: 'ftp', login: 'anonymous', passwd: 'ld@dir1', request: '/probe.txt', receive: 'ok-marker' });
    expect(await runCheck('negotiate', c, 3000)).toMatchObject({ up: true });
    expect(await runCheck('negotiate', { ...c, receive: 'missing' }, 3000)).toMatchObject({ up: false });
  });
});

describe('dns', () => {
  it('builds A and PTR queries and reads answers', () => {
    const q = buildQuery('/www.example.org', 7);
    expect(q.type).toBe(1);
    expect(q.packet.subarray(12).toString('latin1')).toContain('\x03www\x07example\x03org\x00');
    expect(buildQuery('10.0.0.5', 7).type).toBe(12);
    expect(parseAnswers(Buffer.alloc(3), 7)).toMatch(/match/);
  });

  it('is up when an A answer equals receive', async () => {
    const sock: UdpSocket = createSocket('udp4');
    sock.on('message', (m, rinfo) => {
      // echo the question, add one A answer pointing at the question name
      const header = Buffer.from(m.subarray(0, 12));
      header.writeUInt16BE(0x8180, 2);
      header.writeUInt16BE(1, 6);
      const answer = Buffer.from([0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 7]);
      sock.send(Buffer.concat([header, m.subarray(12), answer]), rinfo.port, rinfo.address);
    });
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
    closers.push(() => sock.close());
    const port = sock.address().port;
    const c = ctx(port, { service: 'dns', protocol: 'udp', request: '/www.example.org', receive: '192.0.2.7' });
    expect(await runCheck('negotiate', c, 2000)).toEqual({ up: true, message: 'Success' });
    expect(await runCheck('negotiate', { ...c, receive: '192.0.2.8' }, 2000)).toMatchObject({ up: false, message: expect.stringContaining('192.0.2.7') });
  });
});

describe('external', () => {
  it('passes vip vport rip rport and uses the exit status', async () => {
    const script = join(dir, 'check.sh');
    writeFileSync(script, `#!/bin/sh\necho "$@" > ${join(dir, 'args')}\n[ "$3" = 127.0.0.1 ]\n`);
    chmodSync(script, 0o755);
    expect(await runCheck('external', ctx(8080, { checkcommand: script }), 2000)).toMatchObject({ up: true });
    const { readFileSync } = await import('node:fs');
    expect(readFileSync(join(dir, 'args'), 'utf8')).toBe('10.0.0.1 80 127.0.0.1 8080\n');
    expect(await runCheck('external', ctx(8080, { checkcommand: script, host: '127.0.0.9' }), 2000)).toMatchObject({ up: false, message: `${script} exited 1` });
    const slow = join(dir, 'slow.sh');
    writeFileSync(slow, '#!/bin/sh\nsleep 30\n');
    chmodSync(slow, 0o755);
    expect(await runCheck('external', ctx(8080, { checkcommand: slow }), 300)).toMatchObject({ up: false, message: expect.stringContaining('timed out') });
  });
});
