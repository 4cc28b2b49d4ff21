/**
 * Client library of the local API (protocol in ./types.ts), used by
 * cl_status and meant for ipfail: connect, sign on (casual or named), query,
 * send cluster messages and receive events.
 *
 * Every call resolves to a result object and never rejects, except
 * `connect`, which rejects with HbError `API_CONNECT` when nothing listens.
 */
import { EventEmitter } from 'node:events';
import { connect as netConnect, type Socket } from 'node:net';
import type { MonitorEntry } from '../../lib/resources/monitor.js';
import { HbError } from '../../lib/util/errors.js';
import type { ClusterEvent, GroupEntry } from '../overview.js';
import {
  LineSplitter, parseServerLine,
  type ApiEvent, type ApiReply, type LinkEntry, type NodeEntry, type SignonInfo, type StringFields,
} from './types.js';

export type ApiResult<T> = { ok: true; value: T } | { ok: false; code: string; error: string };

export type SignonResult =
  | { ok: true; info: SignonInfo }
  /** deadtimeMs > 0: the daemon answered but refused (heartbeat's "apparently running"); -1: the socket exists but its directory refused us (EACCES). */
  | { ok: false; code: string; error: string; deadtimeMs: number };

interface ClientEvents {
  event: [ev: ApiEvent];
  close: [];
}

type Request = { op: string } & Record<string, unknown>;

export class HbApiClient extends EventEmitter<ClientEvents> {
  private nextId = 1;
  private readonly waiting = new Map<number, (r: ApiReply) => void>();
  private closed = false;
  private info: SignonInfo | undefined;

  private constructor(private readonly sock: Socket) {
    super();
    const splitter = new LineSplitter();
    sock.setEncoding('utf8');
    sock.on('data', (chunk: string) => {
      const lines = splitter.push(chunk);
      if (lines === undefined) {
        sock.destroy();
        return;
      }
      for (const line of lines) {
        const parsed = parseServerLine(line);
        if (!parsed) continue;
        if ('event' in parsed) this.emit('event', parsed.event);
        else {
          const done = this.waiting.get(parsed.reply.id);
          this.waiting.delete(parsed.reply.id);
          done?.(parsed.reply);
        }
      }
    });
    sock.on('error', () => undefined);
    sock.on('close', () => {
      this.closed = true;
      for (const [id, done] of this.waiting) done({ id, ok: false, code: 'INTERNAL', error: 'connection to heartbeat closed' });
      this.waiting.clear();
      this.emit('close');
    });
  }

  /** Connects to the daemon's socket; rejects with HbError API_CONNECT. */
  static connect(path: string): Promise<HbApiClient> {
    return new Promise((resolve, reject) => {
      const sock = netConnect(path);
      const fail = (err: Error): void => {
        sock.destroy();
        reject(new HbError('API_CONNECT', `cannot connect to heartbeat at ${path}: ${err.message}`, { cause: err }));
      };
      sock.once('error', fail);
      sock.once('connect', () => {
        sock.off('error', fail);
        resolve(new HbApiClient(sock));
      });
    });
  }

  get signedOn(): SignonInfo | undefined {
    return this.info;
  }

  private call(req: Request): Promise<ApiReply> {
    const id = this.nextId++;
    if (this.closed) return Promise.resolve({ id, ok: false, code: 'INTERNAL', error: 'connection to heartbeat closed' });
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.sock.write(`${JSON.stringify({ ...req, id })}\n`);
    });
  }

  private async value<T>(req: Request, pick: (r: Record<string, unknown>) => T | undefined): Promise<ApiResult<T>> {
    const r = await this.call(req);
    if (!r.ok) return { ok: false, code: r.code, error: r.error };
    const v = pick(r);
    return v === undefined ? { ok: false, code: 'INTERNAL', error: `malformed ${req.op} reply` } : { ok: true, value: v };
  }

  /** Signs on; `name` undefined = casual client. */
  async signon(name?: string): Promise<SignonResult> {
    const r = await this.call(name === undefined ? { op: 'signon' } : { op: 'signon', client: name });
    if (!r.ok) return { ok: false, code: r.code, error: r.error, deadtimeMs: r.deadtimeMs ?? 0 };
    const str = (k: string): string => (typeof r[k] === 'string' ? (r[k] as string) : '');
    const num = (k: string): number => (typeof r[k] === 'number' ? (r[k] as number) : 0);
    this.info = {
      clientId: str('clientId'), node: str('node'), deadtimeMs: num('deadtimeMs'), keepaliveMs: num('keepaliveMs'),
      version: str('version'), pacemaker: typeof r['pacemaker'] === 'string' ? r['pacemaker'] : undefined,
      logfacility: typeof r['logfacility'] === 'number' ? r['logfacility'] : -1,
    };
    return { ok: true, info: this.info };
  }

  nodeList(): Promise<ApiResult<NodeEntry[]>> {
    return this.value({ op: 'nodelist' }, (r) => (Array.isArray(r['nodes']) ? (r['nodes'] as NodeEntry[]) : undefined));
  }

  private nodeField<T>(op: string, node: string, key: string, check: (v: unknown) => v is T): Promise<ApiResult<T>> {
    return this.value({ op, node }, (r) => (check(r[key]) ? r[key] : undefined));
  }

  nodeStatus(node: string): Promise<ApiResult<string>> {
    return this.nodeField('nodestatus', node, 'status', isString);
  }
  nodeType(node: string): Promise<ApiResult<string>> {
    return this.nodeField('nodetype', node, 'type', isString);
  }
  nodeWeight(node: string): Promise<ApiResult<number>> {
    return this.nodeField('nodeweight', node, 'weight', isNumber);
  }
  nodeSite(node: string): Promise<ApiResult<string>> {
    return this.nodeField('nodesite', node, 'site', isString);
  }
  ifList(node: string): Promise<ApiResult<LinkEntry[]>> {
    return this.value({ op: 'iflist', node }, (r) => (Array.isArray(r['links']) ? (r['links'] as LinkEntry[]) : undefined));
  }
  ifStatus(node: string, link: string): Promise<ApiResult<string>> {
    return this.value({ op: 'ifstatus', node, link }, (r) => (isString(r['status']) ? r['status'] : undefined));
  }
  /** `timeoutMs`: 0 = do not wait for a peer, < 0 = wait without limit. */
  clientStatus(node: string, client: string, timeoutMs: number): Promise<ApiResult<string>> {
    return this.value({ op: 'clientstatus', node, client, timeoutMs }, (r) => (isString(r['status']) ? r['status'] : undefined));
  }
  rscStatus(): Promise<ApiResult<string>> {
    return this.value({ op: 'rscstatus' }, (r) => (isString(r['status']) ? r['status'] : undefined));
  }
  /** heartbeat-ts.cf monitored resources with their failure counts. */
  monitors(): Promise<ApiResult<MonitorEntry[]>> {
    return this.value({ op: 'monitors' }, (r) => (Array.isArray(r['monitors']) ? r['monitors'] as MonitorEntry[] : undefined));
  }
  /** Groups with their holders and the daemon's recent events (heartbeat-ts only; ../overview.ts). */
  overview(): Promise<ApiResult<{ groups: GroupEntry[]; events: ClusterEvent[] }>> {
    return this.value({ op: 'overview' }, (r) => (Array.isArray(r['groups']) && Array.isArray(r['events'])
      ? { groups: r['groups'] as GroupEntry[], events: r['events'] as ClusterEvent[] } : undefined));
  }
  numNodes(): Promise<ApiResult<number>> {
    return this.value({ op: 'numnodes' }, (r) => (isNumber(r['count']) ? r['count'] : undefined));
  }

  /**
   * A parameter as recorded by the daemon; undefined value = not set.
   * `hbversion` and `pacemaker` come from the signon reply, as heartbeat's
   * client library caches them.
   */
  async parameter(name: string): Promise<ApiResult<string | undefined>> {
    if (name === 'hbversion' && this.info?.version) return { ok: true, value: this.info.version };
    if (name === 'pacemaker' && this.info?.pacemaker !== undefined) return { ok: true, value: this.info.pacemaker };
    const r = await this.call({ op: 'parameter', name });
    if (!r.ok) return { ok: false, code: r.code, error: r.error };
    return { ok: true, value: isString(r['value']) ? r['value'] : undefined };
  }

  /** Named clients: sends a cluster message (to `node` only, when given). */
  async send(fields: StringFields, node?: string): Promise<ApiResult<true>> {
    return this.value(node === undefined ? { op: 'send', fields } : { op: 'send', fields, node }, () => true as const);
  }

  /** Asks for events (named clients get them from signon on). */
  async subscribe(): Promise<ApiResult<true>> {
    return this.value({ op: 'subscribe' }, () => true as const);
  }

  async signoff(): Promise<void> {
    if (this.info) await this.call({ op: 'signoff' });
    this.close();
  }

  close(): void {
    this.sock.destroy();
  }
}

function isString(v: unknown): v is string {
  return typeof v === 'string';
}
function isNumber(v: unknown): v is number {
  return typeof v === 'number';
}
