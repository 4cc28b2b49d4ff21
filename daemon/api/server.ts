/**
 * The local API server (protocol in ./types.ts): the unix socket
 * `<runDir>/register`, client sessions, signon with `apiauth` checks on the
 * kernel's view of the peer, and request dispatch. Cluster-side duties
 * (client status queries, join/leave, event fan-out) are in ./cluster-side.ts.
 *
 * Like heartbeat, the socket is only opened once communications are up
 * (Comm_now_up): until then `cl_status` reports heartbeat as stopped.
 */
import { chmodSync, lstatSync, mkdirSync, unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import type { HaConfig } from '../../lib/config/types.js';
import type { Cluster } from '../../lib/membership/cluster.js';
import { describeError } from '../../lib/util/errors.js';
import type { Logger } from '../../lib/util/log.js';
import { HaMsg } from '../../lib/wire/index.js';
import { stripControlFields, unsendableReason } from '../clustermsg.js';
import { apiSocketPath, type Paths } from '../paths.js';
import { authorize, readIdTables, type IdTables } from './auth.js';
import { ClusterSide, type ApiSessionView } from './cluster-side.js';
import { peerCredentials, type PeerResult } from './peercred.js';
import { facilityNumber, ifStatus, nodeList, nodeQuery, parameter, rscStatus } from './queries.js';
import {
  LineSplitter, MAX_CLIENT_NAME, NO_RESOURCES, parseRequest,
  type ApiErrorCode, type ApiEvent, type ApiReply, type ApiRequest, type ResourceStatusSource,
} from './types.js';

/** A client that does not read its events is dropped past this much queued output. */
const MAX_PENDING_OUTPUT = 1024 * 1024;
/** Connections beyond this are closed at once (each one costs a credential lookup). */
const MAX_SESSIONS = 128;

export interface ApiServerOptions {
  log: Logger;
  config: HaConfig;
  paths: Paths;
  /** false with `heartbeat -M` or pacemaker: rscstatus is refused. */
  manageResources: boolean;
  /** Reported at signon and by `cl_status hbparameter -p hbversion`. */
  version: string;
  resources?: ResourceStatusSource;
  /** Defaults to /etc/passwd and /etc/group, read at each signon. */
  idTables?: () => IdTables;
}

interface Session extends ApiSessionView {
  sock: Socket;
  creds: Promise<PeerResult>;
  queue: Promise<void>;
  signoff: boolean;
  closed: boolean;
}

export class ApiServer {
  readonly name = 'api';
  private server: Server | null = null;
  private listening = false;
  private readonly sessions = new Set<Session>();
  private cluster: Cluster | null = null;
  private side: ClusterSide | null = null;
  private config: HaConfig;
  private resources: ResourceStatusSource;
  private clientGeneration = 0;
  private overloadLogged = false;
  private readonly onCommUp = (): void => this.listen();

  constructor(private readonly o: ApiServerOptions) {
    this.config = o.config;
    this.resources = o.resources ?? NO_RESOURCES;
  }

  get socketPath(): string {
    return apiSocketPath(this.o.paths);
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
      sessions: () => [...this.sessions].filter((s) => !s.closed),
      emit: (s, ev) => this.emit(s as Session, ev),
    });
  }

  /** Opens the socket; safe to call again. */
  listen(): void {
    if (this.server) return;
    const path = this.socketPath;
    try {
      mkdirSync(this.o.paths.runDir, { recursive: true, mode: 0o755 });
      removeStaleSocket(path);
    } catch (err) {
      this.o.log.error(`Cannot open registration socket at ${path}: ${describeError(err)}`);
      return;
    }
    const server = createServer((sock) => this.accept(sock));
    this.server = server;
    server.on('error', (err) => this.o.log.error(`Cannot open registration socket at ${path}: ${describeError(err)}`));
    server.listen(path, () => {
      this.listening = true;
      try {
        // Access is decided by apiauth, as heartbeat's 0777 socket does.
        chmodSync(path, 0o777);
      } catch (err) {
        this.o.log.warn(`Cannot chmod ${path}: ${describeError(err)}`);
      }
      this.o.log.debug(`API registration socket open at ${path}`);
    });
  }

  /** Resolves once the socket accepts connections (for tests). */
  async ready(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.listening) {
      if (Date.now() > deadline) throw new Error(`API socket ${this.socketPath} not listening after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async shutdown(): Promise<void> {
    this.cluster?.off('commUp', this.onCommUp);
    this.side?.detach();
    for (const s of this.sessions) s.sock.destroy();
    this.sessions.clear();
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((r) => server.close(() => r()));
    if (this.listening) {
      this.listening = false;
      try {
        unlinkSync(this.socketPath);
      } catch {
        /* already gone */
      }
    }
  }

  // ---------------------------------------------------------------- sessions

  private accept(sock: Socket): void {
    if (this.sessions.size >= MAX_SESSIONS) {
      if (!this.overloadLogged) this.o.log.warn(`More than ${MAX_SESSIONS} API connections: refusing new ones until some close`);
      this.overloadLogged = true;
      sock.destroy();
      return;
    }
    this.overloadLogged = false;
    // Ask the kernel who this is right away, while the client is surely alive.
    const creds = peerCredentials(sock);
    const s: Session = {
      sock, creds, queue: Promise.resolve(), signoff: false, closed: false,
      clientId: undefined, named: false, subscribed: false, gen: 0, pid: 0,
    };
    this.sessions.add(s);
    const splitter = new LineSplitter();
    sock.setEncoding('utf8');
    sock.on('data', (chunk: string) => {
      const lines = splitter.push(chunk);
      if (lines === undefined) {
        this.o.log.warn(`API client ${s.clientId ?? '(not signed on)'} sent an over-long line: disconnected`);
        sock.destroy();
        return;
      }
      for (const line of lines) s.queue = s.queue.then(() => this.handle(s, line));
    });
    sock.on('error', () => undefined);
    sock.on('close', () => this.closed(s));
  }

  private closed(s: Session): void {
    if (s.closed) return;
    s.closed = true;
    this.sessions.delete(s);
    this.side?.sessionGone(s, s.signoff ? 'signoff' : 'died');
  }

  private write(s: Session, obj: ApiReply | ApiEvent): void {
    if (s.closed || s.sock.destroyed) return;
    if (s.sock.writableLength > MAX_PENDING_OUTPUT) {
      this.o.log.warn(`API client ${s.clientId ?? '?'} does not read its messages: disconnected`);
      s.sock.destroy();
      return;
    }
    s.sock.write(`${JSON.stringify(obj)}\n`);
  }

  private emit(s: Session, ev: ApiEvent): void {
    this.write(s, ev);
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
      this.o.log.error(`api_process_request: bad request from client ${s.clientId ?? '(not signed on)'}: ${parsed.reason}`);
      if (parsed.id !== undefined) this.fail(s, parsed.id, parsed.reason.startsWith('unknown request') ? 'UNKNOWN_OP' : 'EINVAL', parsed.reason);
      else s.sock.destroy();
      return;
    }
    const req = parsed.req;
    try {
      if (req.op === 'signon') return await this.signon(s, req);
      if (s.clientId === undefined) return this.fail(s, req.id, 'NOT_SIGNED_ON', 'not signed on');
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
    const name = req.client;
    if (name !== undefined && (name.length === 0 || name.length > MAX_CLIENT_NAME || !/^[\x21-\x7e]+$/.test(name))) {
      return this.fail(s, req.id, 'EINVAL', `bad client name (1 to ${MAX_CLIENT_NAME} printable characters without spaces)`);
    }
    const gen = this.clientGeneration++;
    const peer = await s.creds;
    if (s.closed) return;
    if (!peer.ok) {
      this.o.log.warn(`Client [${name ?? 'casual'}] failed authorization [cannot verify credentials: ${peer.reason}]`);
      return this.fail(s, req.id, 'API_AUTH', 'client failed authorization', this.timing());
    }
    const pid = peer.creds[0]?.pid ?? 0;
    const id = name ?? String(pid);
    if ([...this.sessions].some((o) => o !== s && o.clientId === id)) {
      this.o.log.warn(`duplicate client add request [${id}] [${pid}]`);
      return this.fail(s, req.id, 'API_DUPLICATE', 'duplicate add request', this.timing());
    }
    const decision = authorize(this.config.apiauth, name, peer.creds, (this.o.idTables ?? readIdTables)());
    if (!decision.ok) {
      this.o.log.warn(`Client [${id}] pid ${pid} failed authorization [${decision.reason}]`);
      return this.fail(s, req.id, 'API_AUTH', decision.reason, this.timing());
    }
    s.clientId = id;
    s.named = name !== undefined;
    s.subscribed = s.named;
    s.gen = gen;
    s.pid = pid;
    this.o.log.debug(`Signing on API client ${pid} (${s.named ? id : "'casual'"})`);
    if (s.named) this.side?.joined(s);
    this.reply(s, req.id, {
      clientId: id,
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
      this.o.log.info('api_process_request: general message from casual client!');
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

/** Removes a socket left by an earlier run; refuses to remove anything else. */
function removeStaleSocket(path: string): void {
  let st;
  try {
    st = lstatSync(path);
  } catch {
    return;
  }
  if (!st.isSocket()) throw new Error(`${path} exists and is not a socket`);
  unlinkSync(path);
}
