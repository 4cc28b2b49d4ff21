#!/usr/bin/env node
/**
 * Probe run inside the lab's client namespace by the demo and the
 * benchmarks: it asks a URL who serves it every --interval ms (new
 * connection each time, several in flight, so a stalled attempt does not
 * hide the moment another node answers) and optionally listens for the
 * cluster's heartbeats on a UDP port (bcast reaches the client too).
 *
 * Output, one JSON object per line, times in wall-clock ms:
 *   {"ev":"ready","t":…}
 *   {"ev":"http","t":…,"node":"node2","sent":…}   every finished request ("" = no answer,
 *                                                  then "err" says why: ECONNREFUSED = the
 *                                                  address is up but nothing listens yet)
 *   {"ev":"udp","t":…,"src":"10.77.0.11"}         every status heartbeat heard, with --udp
 *                                                  (other messages, e.g. acks, are not heartbeats)
 */
import { createSocket } from 'node:dgram';
import { request } from 'node:http';

interface Args {
  url: string | undefined;
  intervalMs: number;
  timeoutMs: number;
  udpPort: number | undefined;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { url: undefined, intervalMs: 100, timeoutMs: 500, udpPort: undefined };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i + 1];
    switch (argv[i]) {
      case '--http': a.url = v; i++; break;
      case '--interval': a.intervalMs = Number(v); i++; break;
      case '--timeout': a.timeoutMs = Number(v); i++; break;
      case '--udp': a.udpPort = Number(v); i++; break;
      default: throw new Error(`client-agent: unknown argument ${argv[i]}`);
    }
  }
  return a;
}

const now = (): number => performance.timeOrigin + performance.now();
const emit = (o: Record<string, unknown>): void => {
  process.stdout.write(`${JSON.stringify(o)}\n`);
};

function probeLoop(url: string, intervalMs: number, timeoutMs: number): void {
  const u = new URL(url);
  let inFlight = 0;
  const report = (node: string, sent: number, err?: string): void =>
    emit(err === undefined ? { ev: 'http', t: now(), node, sent } : { ev: 'http', t: now(), node, sent, err });
  const probe = (): void => {
    if (inFlight >= 20) return; // the server is unreachable: enough attempts pending
    inFlight++;
    const sent = now();
    let done = false;
    const finish = (node: string, err?: string): void => {
      if (done) return;
      done = true;
      inFlight--;
      report(node, sent, err);
    };
    const req = request({ host: u.hostname, port: u.port === '' ? 80 : Number(u.port), path: u.pathname, agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { body += d; });
      res.on('end', () => finish(res.statusCode === 200 ? (/\bnode\d+\b/.exec(body)?.[0] ?? '?') : ''));
      res.on('error', () => finish('', 'response'));
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
    req.on('error', (e: NodeJS.ErrnoException) => finish('', e.code ?? 'error'));
    req.end();
  };
  setInterval(probe, intervalMs);
  probe();
}

function udpListen(port: number): void {
  const s = createSocket({ type: 'udp4', reuseAddr: true });
  s.on('message', (msg, rinfo) => {
    // `t=status` in either wire format (classic `t=status\n`, netstring `(0)t=status,`)
    if (msg.includes('t=status')) emit({ ev: 'udp', t: now(), src: rinfo.address });
  });
  s.on('error', (err) => {
    process.stderr.write(`client-agent: udp ${port}: ${err.message}\n`);
    process.exit(1);
  });
  s.bind(port, '0.0.0.0');
}

function main(): void {
  const a = parseArgs(process.argv.slice(2));
  if (a.udpPort !== undefined) udpListen(a.udpPort);
  if (a.url !== undefined) probeLoop(a.url, a.intervalMs, a.timeoutMs);
  process.on('SIGTERM', () => process.exit(0));
  emit({ ev: 'ready', t: now() });
}

main();
