/**
 * The local API server. Two unix sockets in the run directory, one set of
 * client sessions:
 * - `<runDir>/register` speaks Heartbeat's own client API (cluster-glue IPC
 *   frames carrying ha_msg requests, ./hb-api-server.ts), so Debian's
 *   cl_status, ipfail, dopd and every program linked against libhbclient work;
 * - `<runDir>/heartbeat-ts.sock` speaks heartbeat-ts's JSON protocol
 *   (./types.ts) for heartbeat-ts's own tools.
 * Signon (apiauth on the kernel's view of the peer) is shared (./session.ts);
 * cluster-side duties (client status queries, join/leave, event fan-out) are
 * in ./cluster-side.ts.
 *
 * Like heartbeat, the sockets are only opened once communications are up
 * (Comm_now_up): until then `cl_status` reports heartbeat as stopped.
 */
import type { Socket } from 'node:net';
import type { HaConfig } from '../../lib/config/types.js';
import type { Cluster } from '../../lib/membership/cluster.js';
import { systemClock, type Clock } from '../../lib/util/clock.js';
import { describeError } from '../../lib/util/errors.js';
import { HaMsg } from '../../lib/wire/index.js';
import { stripControlFields, unsendableReason } from '../clustermsg.js';
import { apiSocketPath, toolSocketPath } from '../paths.js';
import { readIdTables } from './auth.js';
import { ClusterSide } from './cluster-side.js';
import { HbApiProtocol } from './hb-api-server.js';
import { UnixListener, whenListening } from './listener.js';
import { clientText, ConnectionGate, DEFAULT_API_LIMITS, LogThrottle, privilegedPeer, RateLimiter, type ApiLimits } from './limits.js';
import { peerCredUnavailable, readPeerCred } from './peercred.js';
import { Refusals } from './refusals.js';
import type { ApiServerOptions } from './server-options.js';
import { facilityNumber, ifStatus, monitorStatus, nodeList, nodeQuery, parameter, rscStatus } from './queries.js';
import { admit, writeBounded, type AdmitDeps, type Session } from './session.js';
import {
  LineSplitter, NO_RESOURCES, parseRequest,
  type ApiErrorCode, type ApiEvent, type ApiReply, type ApiRequest, type ResourceStatusSource,
} from './types.js';

export type { ApiServerOptions } from './server-options.js';

export class ApiServer {
  readonly name = 'api';
  private readonly sessions = new Set<Session>();
  private cluster: Cluster | null = null;
  private side: ClusterSide | null = null;
  private config: HaConfig;
  private resources: ResourceStatusSource;
  private clientGeneration = 0;
  private readonly refusals: Refusals;
  private readonly limits: Readonly<ApiLimits>;
  /** One gate for both sockets: the connection caps hold per daemon. */
  private readonly gate: ConnectionGate;
  private readonly badRequests: RateLimiter<number>;
  private readonly logs: LogThrottle;
  private readonly onCommUp = (): void => this.listen();
  private readonly admitDeps: AdmitDeps;
  private readonly hb: HbApiProtocol;
  private readonly register: UnixListener;
  private readonly tools: UnixListener;
  private readonly clock: Clock;

  constructor(private readonly o: ApiServerOptions) {
    this.clock = o.clock ?? systemClock;
    this.config = o.config;
    this.resources = o.resources ?? NO_RESOURCES;
    this.limits = { ...DEFAULT_API_LIMITS, ...o.limits };
    const ids = o.idTables ?? readIdTables;
    // Group membership is read at each decision, so adding a user to haclient needs no restart.
    this.gate = o.gate ?? new ConnectionGate(this.limits, (c) => privilegedPeer(ids())(c));
    this.badRequests = new RateLimiter(this.limits.badRequestBurst, this.limits.badRequestsPerSecond, () => this.clock.nowMs());
    this.logs = new LogThrottle(o.log, this.limits, this.clock);
    this.refusals = new Refusals(this.limits.maxRequestBytes, this.clock);
    this.admitDeps = {
      log: o.log,
      config: () => this.config,
      idTables: o.idTables,
      sessions: () => this.sessions,
      nextGen: () => this.clientGeneration++,
      side: () => this.side,
    };
    this.hb = new HbApiProtocol({
      ...this.admitDeps,
      cluster: () => this.cluster,
      resources: () => this.resources,
      manageResources: o.manageResources,
      signonFields: () => this.signonFields(),
      badMessage: (s, line) => this.refuseBad(s, line),
    });
    this.register = new UnixListener(apiSocketPath(o.paths), 'registration socket', o.log, (sock) => this.accept(sock, 'hb'));
    this.tools = new UnixListener(toolSocketPath(o.paths), 'heartbeat-ts tool socket', o.log, (sock) => this.accept(sock, 'json'));
  }

  /** Heartbeat's API socket (`register`). */
  get socketPath(): string {
    return this.register.path;
  }

  /** heartbeat-ts's JSON tool socket. */
  get toolSocketPath(): string {
    return this.tools.path;
  }

  /** The resource manager provides holdings for `rscstatus` (default: always `none`). */
  setResourceSource(source: ResourceStatusSource): void {
    this.resources = source;
  }

  /** A reloaded configuration (apiauth, parameters, timing). */
  reconfigure(config: HaConfig): void {
    this.config = config;
  }

  start(node: { cluster: Cluster }): void {
    this.bind(node.cluster);
    if (node.cluster.isCommUp) this.listen();
  }

  rebind(node: { cluster: Cluster }): void {
    this.bind(node.cluster);
    if (node.cluster.isCommUp) this.listen();
  }

  private bind(cluster: Cluster): void {
    this.cluster?.off('commUp', this.onCommUp);
    this.side?.detach();
    this.cluster = cluster;
    cluster.on('commUp', this.onCommUp);
    this.side = new ClusterSide({
      cluster,
      log: this.o.log,
      clock: this.clock,
      sessions: () => [...this.sessions].filter((s) => !s.closed),
      emit: (s, ev, raw) => (s as Session).deliver(ev, raw),
    });
  }

  /** Opens both sockets; safe to call again. */
  listen(): void {
    if (this.register.isOpen && this.tools.isOpen) return;
    this.register.open();
    this.tools.open();
    // Without the kernel's word on who connects, every client is refused (fail closed).
    const missing = peerCredUnavailable();
    if (missing) this.o.log.error(`API clients will be refused: ${missing}`);
  }

  /** Resolves once both sockets accept connections (for tests). */
  ready(timeoutMs = 5000): Promise<void> {
    return whenListening([this.register, this.tools], timeoutMs, `API sockets in ${this.o.paths.runDir}`);
  }

  async shutdown(): Promise<void> {
    this.cluster?.off('commUp', this.onCommUp);
    this.side?.detach();
    for (const s of this.sessions) s.sock.destroy();
    this.sessions.clear();
    this.logs.closeAll();
    await Promise.all([this.register.close(), this.tools.close()]);
  }

  // ---------------------------------------------------------------- sessions

  private accept(sock: Socket, kind: 'hb' | 'json'): void {
    sock.on('error', () => undefined);
    // The kernel's record of who called connect(), read before anything else can happen.
    const peer = readPeerCred(sock);
    if (!peer.ok || peer.creds[0] === undefined) {
      this.logs.line('no credentials', 'warn', `API connection refused: cannot read its credentials: ${peer.ok ? 'none' : peer.reason}`);
      sock.destroy();
      return;
    }
    const cred = peer.creds[0];
    const admission = this.gate.admit(cred);
    if (!admission.ok) {
      this.logs.line('connection limit', 'warn', `API connection from pid ${cred.pid} uid ${cred.uid} refused: ${admission.reason}`);
      // A JSON client gets a BUSY answer; a C client (libhbclient has no such answer) sees its signon fail.
      if (kind === 'json') this.refusals.refuse(sock, cred.uid, admission.reason, this.timing());
      else sock.destroy();
      return;
    }
    const s: Session = {
      sock, cred, release: admission.release, queue: Promise.resolve(), queued: 0, signonTimer: null, signoff: false, closed: false,
      clientId: undefined, named: false, subscribed: false, gen: 0, pid: 0,
      deliver: (ev) => this.write(s, ev),
      enqueue: (task) => this.enqueue(s, task),
    };
    s.signonTimer = this.clock.setTimer(() => {
      s.signonTimer = null;
      if (s.clientId !== undefined || s.closed) return;
      this.logs.line('no signon', 'warn', `API client pid ${cred.pid} uid ${cred.uid} did not sign on within ${this.limits.signonTimeoutMs / 1000} s: disconnected`);
      sock.destroy();
    }, this.limits.signonTimeoutMs);
    this.sessions.add(s);
    sock.on('close', () => this.closed(s));
    if (kind === 'hb') {
      this.hb.accept(s);
      return;
    }
    const splitter = new LineSplitter(this.limits.maxRequestBytes);
    sock.setEncoding('utf8');
    sock.on('data', (chunk: string) => {
      const lines = splitter.push(chunk);
      if (lines === undefined) {
        this.logs.line('long line', 'warn', `API client ${this.who(s)} sent a request over ${this.limits.maxRequestBytes} bytes: disconnected`);
        sock.destroy();
        return;
      }
      for (const line of lines) this.enqueue(s, () => this.handle(s, line));
    });
  }

  /** Runs requests one at a time; a client that keeps sending is not read until its backlog is answered. */
  private enqueue(s: Session, task: () => Promise<void>): void {
    s.queued++;
    if (s.queued >= this.limits.maxQueuedRequests) s.sock.pause();
    s.queue = s.queue.then(task).finally(() => {
      s.queued--;
      if (s.queued < this.limits.maxQueuedRequests && !s.closed) s.sock.resume();
    });
  }

  /** A client as log lines name it: its id once signed on, else its pid and uid. */
  private who(s: Session): string {
    return s.clientId !== undefined ? clientText(s.clientId) : `pid ${s.cred.pid} uid ${s.cred.uid} (not signed on)`;
  }

  /** Counts a bad request against the client's uid; past the limit the client is disconnected. */
  private badRequest(s: Session, what: string): void {
    this.refuseBad(s, `api_process_request: bad request from client ${this.who(s)}: ${what}`);
  }

  /** Logs a bad request or message (throttled); past the uid's limit the client is disconnected. */
  private refuseBad(s: Session, line: string): void {
    if (this.badRequests.take(s.cred.uid)) {
      this.logs.line('bad request', 'error', line);
      return;
    }
    this.logs.line('bad request flood', 'warn', `API client ${this.who(s)}: too many bad requests from uid ${s.cred.uid}: disconnected`);
    s.sock.destroy();
  }

  private closed(s: Session): void {
    if (s.closed) return;
    s.closed = true;
    s.signonTimer?.cancel();
    s.release();
    this.sessions.delete(s);
    this.side?.sessionGone(s, s.signoff ? 'signoff' : 'died');
  }

  /** The fields of heartbeat's signon reply after `result`. */
  private signonFields(): [string, string][] {
    const out: [string, string][] = [
      ['deadtime', this.config.deadtimeMs.toString(16)],
      ['keepalive', this.config.keepaliveMs.toString(16)],
      ['node', this.cluster?.me.name ?? this.config.localNode],
      ['hbversion', this.o.version],
    ];
    const pacemaker = parameter(this.config, 'pacemaker');
    if (pacemaker !== undefined) out.push(['pacemaker', pacemaker]);
    out.push(['logfacility', String(facilityNumber(this.config))]);
    return out;
  }

  private write(s: Session, obj: ApiReply | ApiEvent): void {
    writeBounded(s, `${JSON.stringify(obj)}\n`, this.o.log);
  }

  private fail(s: Session, id: number, code: ApiErrorCode, error: string, extra: Record<string, number> = {}): void {
    this.write(s, { id, ok: false, code, error, ...extra });
  }

  private reply(s: Session, id: number, data: Record<string, unknown>): void {
    this.write(s, { ...data, id, ok: true });
  }

  private async handle(s: Session, line: string): Promise<void> {
    if (s.closed) return;
    const parsed = parseRequest(line);
    if (!parsed.ok) {
      this.badRequest(s, parsed.reason);
      if (parsed.id !== undefined) this.fail(s, parsed.id, parsed.reason.startsWith('unknown request') ? 'UNKNOWN_OP' : 'EINVAL', parsed.reason);
      else s.sock.destroy();
      return;
    }
    const req = parsed.req;
    try {
      if (req.op === 'signon') return await this.signon(s, req);
      if (s.clientId === undefined) {
        this.badRequest(s, `${req.op} before signon`);
        return this.fail(s, req.id, 'NOT_SIGNED_ON', 'not signed on');
      }
      await this.dispatch(s, req);
    } catch (err) {
      this.o.log.error(`API request ${req.op} failed: ${describeError(err)}`);
      this.fail(s, req.id, 'INTERNAL', describeError(err));
    }
  }

  private timing(): { deadtimeMs: number; keepaliveMs: number } {
    return { deadtimeMs: this.config.deadtimeMs, keepaliveMs: this.config.keepaliveMs };
  }

  private async signon(s: Session, req: Extract<ApiRequest, { op: 'signon' }>): Promise<void> {
    if (s.clientId !== undefined) return this.fail(s, req.id, 'ALREADY_SIGNED_ON', `already signed on as ${s.clientId}`);
    const r = await admit(this.admitDeps, s, req.client);
    if (s.closed) return;
    if (!r.ok) {
      if (r.code === 'EINVAL') this.badRequest(s, `signon with a bad client name "${clientText(req.client ?? '')}"`);
      return this.fail(s, req.id, r.code, r.reason, r.code === 'EINVAL' ? {} : this.timing());
    }
    this.reply(s, req.id, {
      clientId: s.clientId,
      node: this.cluster?.me.name ?? this.config.localNode,
      ...this.timing(),
      version: this.o.version,
      pacemaker: parameter(this.config, 'pacemaker'),
      logfacility: facilityNumber(this.config),
    });
  }

  private async dispatch(s: Session, req: Exclude<ApiRequest, { op: 'signon' }>): Promise<void> {
    const cluster = this.cluster;
    if (!cluster) return this.fail(s, req.id, 'INTERNAL', 'no running node');
    const answer = (r: ReturnType<typeof nodeQuery>): void => (r.ok ? this.reply(s, req.id, r.data) : this.fail(s, req.id, r.code, r.error));
    switch (req.op) {
      case 'signoff':
        s.signoff = true;
        this.reply(s, req.id, {});
        s.sock.end();
        return;
      case 'subscribe':
        s.subscribed = true;
        return this.reply(s, req.id, {});
      case 'nodelist':
        return this.reply(s, req.id, { nodes: nodeList(cluster) });
      case 'numnodes':
        return this.reply(s, req.id, { count: cluster.views().filter((v) => v.type === 'normal').length });
      case 'overview':
        return this.reply(s, req.id, this.o.overview?.(cluster) ?? { groups: [], events: [] });
      case 'nodestatus':
      case 'nodetype':
      case 'nodeweight':
      case 'nodesite':
      case 'iflist':
        return answer(nodeQuery(cluster, req.op, req.node));
      case 'ifstatus':
        return answer(ifStatus(cluster, req.node, req.link));
      case 'parameter': {
        const value = parameter(this.config, req.name);
        return this.reply(s, req.id, value === undefined ? {} : { value });
      }
      case 'rscstatus':
        return answer(rscStatus(this.o.manageResources, this.resources));
      case 'monitors':
        return answer(monitorStatus(this.o.manageResources, this.resources));
      case 'clientstatus': {
        const r = await (this.side as ClusterSide).clientStatus(s, req.node, req.client, req.timeoutMs);
        return r.ok ? this.reply(s, req.id, { status: r.status }) : this.fail(s, req.id, r.code, r.error);
      }
      case 'send':
        return this.send(s, req);
    }
  }

  private send(s: Session, req: Extract<ApiRequest, { op: 'send' }>): void {
    if (!s.named) {
      this.logs.line('casual send', 'info', 'api_process_request: general message from casual client!');
      return this.fail(s, req.id, 'CASUAL', 'casual clients cannot send cluster messages');
    }
    const msg = new HaMsg();
    for (const [k, v] of req.fields) msg.add(k, v);
    stripControlFields(msg);
    if (req.node !== undefined) msg.mod('dest', req.node);
    // Spec 4.4: the daemon stamps the sender's identity, which peers deliver to the same client id.
    msg.mod('from_id', s.clientId ?? '');
    msg.mod('to_id', s.clientId ?? '');
    msg.mod('client_gen', String(s.gen));
    const why = unsendableReason(msg);
    if (why) return this.fail(s, req.id, 'EINVAL', `cannot send: ${why}`);
    this.cluster?.send(msg);
    this.reply(s, req.id, {});
  }
}
