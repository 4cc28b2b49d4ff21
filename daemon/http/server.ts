/**
 * The daemon's HTTP endpoint (`http_listen` in heartbeat-ts.cf, off without
 * it): /metrics for Prometheus, the live status page and its JSON. Read
 * only: GET and HEAD, anything else 405. Bounded: total and per-address
 * connection caps, header size and time limits, no request bodies, a
 * malformed request closes its connection with 400. It lives as long as the
 * daemon, across node restarts, and re-listens when the address changes on
 * reload; an address that cannot be bound yet (a VIP) is tried again.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { isIP, type Socket } from 'node:net';
import type { HttpListen } from '../../lib/config/hbts-cf.js';
import type { Clock, TimerHandle } from '../../lib/util/clock.js';
import { describeError } from '../../lib/util/errors.js';
import type { Logger } from '../../lib/util/log.js';
import { renderMetrics } from './metrics.js';
import type { ObservedState } from './observed.js';
import { PAGE_CSS, PAGE_HTML, PAGE_JS } from './page.js';
import { CONTENT_TYPE } from './prom-text.js';
import { statusDocument } from './status-json.js';

export const HTTP_LIMITS = Object.freeze({
  maxConnections: 64,
  perAddress: 16,
  maxHeaderBytes: 8192,
  headersTimeoutMs: 5000,
  requestTimeoutMs: 10_000,
  keepAliveMs: 5000,
  idleMs: 10_000,
  retryListenMs: 5000,
});

interface Route { type: string; body: (s: ObservedState) => string }

const ROUTES: Record<string, Route> = {
  '/': { type: 'text/html; charset=utf-8', body: () => PAGE_HTML },
  '/app.js': { type: 'text/javascript; charset=utf-8', body: () => PAGE_JS },
  '/app.css': { type: 'text/css; charset=utf-8', body: () => PAGE_CSS },
  '/metrics': { type: CONTENT_TYPE, body: (s) => renderMetrics(s) },
  '/status.json': { type: 'application/json; charset=utf-8', body: (s) => `${JSON.stringify(statusDocument(s))}\n` },
};

const SECURITY_HEADERS: Record<string, string> = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
};

export interface HttpServerOptions {
  state: ObservedState;
  log: Logger;
  clock: Clock;
  /** Names a browser may use for this server besides numeric addresses (DNS rebinding). */
  names: string[];
}

export class StatusHttpServer {
  private server: Server | null = null;
  private listen_: HttpListen | undefined;
  private retry: TimerHandle | undefined;
  private failedOnce = false;
  private readonly perAddress = new Map<string, number>();
  /** Connections that sent a request (or a malformed one): the idle timer leaves them to Node's deadlines. */
  private readonly asked = new WeakSet<Socket>();

  constructor(private readonly o: HttpServerOptions) {}

  get address(): HttpListen | undefined {
    return this.listen_;
  }

  /** Listens on `where` (undefined: closes). Same address as now: nothing changes. */
  async configure(where: HttpListen | undefined): Promise<void> {
    const now = this.listen_;
    if (now && where && now.host === where.host && now.port === where.port) return;
    await this.close();
    this.listen_ = where;
    if (where) await this.tryListen();
  }

  async close(): Promise<void> {
    this.retry?.cancel();
    this.retry = undefined;
    const s = this.server;
    this.server = null;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  private async tryListen(): Promise<void> {
    const where = this.listen_;
    if (!where) return;
    const server = this.makeServer();
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host: where.host, port: where.port, exclusive: true }, () => { server.off('error', reject); resolve(); });
      });
    } catch (err) {
      if (!this.failedOnce) this.o.log.error(`http_listen ${fmt(where)}: cannot listen: ${describeError(err)}; trying again every ${HTTP_LIMITS.retryListenMs / 1000} s`);
      this.failedOnce = true;
      this.retry = this.o.clock.setTimer(() => void this.tryListen(), HTTP_LIMITS.retryListenMs);
      return;
    }
    server.on('error', (err) => this.o.log.error(`http_listen ${fmt(where)}: ${describeError(err)}`));
    this.server = server;
    this.failedOnce = false;
    this.o.log.info(`Serving /metrics and the status page on http://${fmt(where)}/`);
  }

  private makeServer(): Server {
    const server = createServer({
      maxHeaderSize: HTTP_LIMITS.maxHeaderBytes,
      headersTimeout: HTTP_LIMITS.headersTimeoutMs,
      requestTimeout: HTTP_LIMITS.requestTimeoutMs,
      keepAliveTimeout: HTTP_LIMITS.keepAliveMs,
      // the default checks the header/request deadlines only every 30 s
      connectionsCheckingInterval: 1000,
    }, (req, res) => this.handle(req, res));
    server.maxConnections = HTTP_LIMITS.maxConnections;
    server.maxRequestsPerSocket = 1000;
    server.on('connection', (sock: Socket) => this.admit(sock));
    server.on('clientError', (_err, sock: Socket) => {
      // end() flushes the answer, then closes; a socket that cannot take it is dropped
      if (sock.writable && !sock.writableEnded) sock.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      else sock.destroy();
    });
    return server;
  }

  /** Per-address cap: one client cannot take every connection. */
  private admit(sock: Socket): void {
    const from = sock.remoteAddress ?? '?';
    const n = this.perAddress.get(from) ?? 0;
    if (n >= HTTP_LIMITS.perAddress) {
      sock.destroy();
      return;
    }
    this.perAddress.set(from, n + 1);
    // Node's header deadline starts with the first byte: a connection that sends nothing is closed here
    const idle = this.o.clock.setTimer(() => { if (!this.asked.has(sock)) sock.destroy(); }, HTTP_LIMITS.idleMs);
    sock.once('close', () => {
      idle.cancel();
      const left = (this.perAddress.get(from) ?? 1) - 1;
      if (left <= 0) this.perAddress.delete(from);
      else this.perAddress.set(from, left);
    });
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    this.asked.add(req.socket);
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const hasBody = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? '0') > 0;
    if (req.method !== 'GET' && req.method !== 'HEAD') return reply(res, 405, 'method not allowed: only GET and HEAD\n', { allow: 'GET, HEAD' }, true);
    if (hasBody) return reply(res, 400, 'a GET or HEAD request carries no body\n', {}, true);
    if (!this.hostAllowed(req.headers.host)) return reply(res, 421, 'unknown host name: use this node\'s address or name\n', {}, true);
    const route = ROUTES[path];
    if (!route) return reply(res, 404, 'not found: try /, /metrics or /status.json\n', {}, false);
    let body: string;
    try {
      body = route.body(this.o.state);
    } catch (err) {
      this.o.log.error(`http: ${path}: ${describeError(err)}`);
      return reply(res, 500, 'internal error\n', {}, true);
    }
    res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': route.type, 'content-length': Buffer.byteLength(body) });
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  /** A browser sent here by a foreign DNS name (rebinding) is refused; Prometheus uses the address. */
  private hostAllowed(host: string | undefined): boolean {
    if (host === undefined) return true;
    const m = /^(?:\[([^\]]+)\]|([^:]+))(?::\d+)?$/.exec(host);
    const name = (m?.[1] ?? m?.[2] ?? '').toLowerCase();
    if (isIP(name) !== 0 || name === 'localhost') return true;
    const first = name.split('.')[0] ?? '';
    return this.o.names.some((n) => n.toLowerCase() === name || n.toLowerCase() === first);
  }
}

function fmt(w: HttpListen): string {
  return isIP(w.host) === 6 ? `[${w.host}]:${w.port}` : `${w.host}:${w.port}`;
}

function reply(res: ServerResponse, code: number, text: string, headers: Record<string, string>, close: boolean): void {
  res.writeHead(code, { ...SECURITY_HEADERS, ...headers, 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text), ...(close ? { connection: 'close' } : {}) });
  res.end(text);
}
