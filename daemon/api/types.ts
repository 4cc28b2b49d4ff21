/**
 * The local client API of heartbeat-ts: protocol shapes shared by the server
 * (daemon/api/server.ts) and the client library (daemon/api/client.ts).
 *
 * Transport: a unix stream socket `<runDir>/heartbeat-ts.sock` (socket 0777
 * as 3.0.6's, in a directory 0750 hacluster:haclient, so only root,
 * hacluster and haclient reach it; then the `apiauth` check on the peer's
 * connect-time credentials, which the server takes from the kernel, never
 * from the client). Heartbeat's own C API is on `<runDir>/register`
 * (./hb-api-server.ts). Framing: one JSON object per line (`
`), UTF-8, at
 * most MAX_LINE bytes. Limits on connections, unsigned-on time and bad
 * requests (both sockets): ./limits.ts.
 *
 * Client -> server: `{"id":N,"op":"...",...}`; every request gets exactly one
 * reply with the same id: `{"id":N,"ok":true,...}` or
 * `{"id":N,"ok":false,"code":"EINVAL","error":"..."}`.
 *
 *   signon       {client?: string}  first request; no `client` = casual client
 *                (its id is its pid, like heartbeat's casual clients); a named
 *                client is checked against `apiauth <name>` (else `default`),
 *                a casual one against `apiauth anon`.
 *                -> {clientId, node, deadtimeMs, keepaliveMs, version, pacemaker, logfacility}
 *                refused -> ok:false, code API_AUTH, plus deadtimeMs/keepaliveMs
 *                so the client can tell "running but refuses me" from "stopped".
 *   signoff      -> ok, then the server closes the connection.
 *   nodelist     -> {nodes: [{name, type, status}]} in configuration order.
 *   nodestatus / nodetype / nodeweight / nodesite / iflist   {node}
 *                -> {status} / {type} / {weight} / {site} / {links: [{name, status}]}
 *   ifstatus     {node, link} -> {status}
 *   clientstatus {node, client, timeoutMs} -> {status: online|offline}; a peer is
 *                asked with `query-cstatus` (spec 4.4); no answer within
 *                timeoutMs (0: none awaited, < 0: no limit) -> code TIMEOUT.
 *   rscstatus    -> {status: none|local|foreign|all|transition}
 *   monitors     -> {monitors: MonitorEntry[]} (heartbeat-ts.cf monitoring; rscstatus -v)
 *   parameter    {name} -> {value?: string} (absent: not set)
 *   numnodes     -> {count} (normal nodes)
 *   overview     -> {groups: GroupEntry[], events: ClusterEvent[]} (../overview.ts; hb_status)
 *   send         {fields: [[name, value], ...], node?: string}  named clients only:
 *                the daemon adds from_id/to_id/client_gen (and dest=node) and
 *                sends it to the cluster -> ok
 *   subscribe    -> ok; events follow (named clients are subscribed at signon)
 *
 * Server -> client events (no id): see ApiEvent.
 */

import type { MonitorEntry } from '../../lib/resources/monitor.js';
import { clientText } from './limits.js';

/** Resource holdings as `cl_status rscstatus` reports them. */
export type RscStatus = 'none' | 'local' | 'foreign' | 'all' | 'transition';

/** Provided by the resource manager; the API asks it for `rscstatus`. */
export interface ResourceStatusSource {
  rscstatus(): RscStatus;
  /** heartbeat-ts.cf monitored resources and their failure counts (none without the file). */
  monitors?(): MonitorEntry[];
}

/** Used until the resource manager provides holdings. */
export const NO_RESOURCES: ResourceStatusSource = { rscstatus: () => 'none' };

export const MAX_LINE = 64 * 1024;
/** Longest client name (heartbeat's CLIENTID_MAXLEN is 32 with the NUL). */
export const MAX_CLIENT_NAME = 31;

export type StringFields = [string, string][];

export type ApiRequest =
  | { id: number; op: 'signon'; client?: string }
  | { id: number; op: 'signoff' | 'nodelist' | 'rscstatus' | 'monitors' | 'numnodes' | 'subscribe' | 'overview' }
  | { id: number; op: 'nodestatus' | 'nodetype' | 'nodeweight' | 'nodesite' | 'iflist'; node: string }
  | { id: number; op: 'ifstatus'; node: string; link: string }
  | { id: number; op: 'clientstatus'; node: string; client: string; timeoutMs: number }
  | { id: number; op: 'parameter'; name: string }
  | { id: number; op: 'send'; fields: StringFields; node?: string };

export type ApiOp = ApiRequest['op'];

/** Stable error codes of replies. */
export type ApiErrorCode =
  | 'EINVAL' // bad request or unknown node / link
  | 'API_AUTH' // signon refused by apiauth
  | 'API_DUPLICATE' // a client with that name is already signed on
  | 'NOT_SIGNED_ON'
  | 'ALREADY_SIGNED_ON'
  | 'CASUAL' // casual clients may not send cluster messages
  | 'NO_RESOURCES' // resource management is off (-M / pacemaker)
  | 'TIMEOUT'
  | 'BUSY' // connection limits reached (see ./limits.ts); the connection is closed after this reply
  | 'UNKNOWN_OP'
  | 'INTERNAL';

export interface ApiErrorReply {
  id: number;
  ok: false;
  code: ApiErrorCode;
  error: string;
  deadtimeMs?: number;
  keepaliveMs?: number;
}

export interface ApiOkReply {
  id: number;
  ok: true;
  [key: string]: unknown;
}

export type ApiReply = ApiOkReply | ApiErrorReply;

export type ApiEvent =
  | { event: 'nodestatus'; node: string; status: string; previous: string }
  | { event: 'ifstatus'; node: string; link: string; status: string }
  /** A named client joined or left on some node (`hbapi-clstat`, spec 4.4). */
  | { event: 'clientstatus'; node: string; client: string; status: 'join' | 'leave'; info?: string }
  /** Any other cluster message addressed to this client (to_id) or to everyone. */
  | { event: 'message'; from: string; local: boolean; fields: StringFields };

export interface NodeEntry {
  name: string;
  type: string;
  status: string;
}

export interface LinkEntry {
  name: string;
  status: string;
}

export interface SignonInfo {
  clientId: string;
  node: string;
  deadtimeMs: number;
  keepaliveMs: number;
  version: string;
  pacemaker: string | undefined;
  logfacility: number;
}

const isStr = (v: unknown): v is string => typeof v === 'string';
/** Longest node, link, client or parameter name a request may carry. */
export const MAX_NAME = 255;
/** A name: 1 to MAX_NAME characters, none of them a control character. */
const isName = (v: unknown): v is string => isStr(v) && v.length > 0 && v.length <= MAX_NAME && !/[\x00-\x1f\x7f]/.test(v);
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function isFields(v: unknown): v is StringFields {
  return Array.isArray(v) && v.every((p) => Array.isArray(p) && p.length === 2 && isStr(p[0]) && isStr(p[1]));
}

/**
 * Validates one decoded request line. Returns the request, or a reason (and
 * the id when one could be read, so the error can be answered).
 */
export function parseRequest(line: string): { ok: true; req: ApiRequest } | { ok: false; id: number | undefined; reason: string } {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return { ok: false, id: undefined, reason: 'request is not JSON' };
  }
  if (!isObj(v)) return { ok: false, id: undefined, reason: 'request is not a JSON object' };
  const id = v['id'];
  if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0) return { ok: false, id: undefined, reason: 'request without a numeric id' };
  const bad = (reason: string) => ({ ok: false as const, id, reason });
  const op = v['op'];
  switch (op) {
    case 'signon': {
      const client = v['client'];
      if (client === undefined || client === null) return { ok: true, req: { id, op } };
      if (!isStr(client)) return bad('signon: client must be a string');
      return { ok: true, req: { id, op, client } };
    }
    case 'signoff':
    case 'nodelist':
    case 'rscstatus':
    case 'monitors':
    case 'numnodes':
    case 'subscribe':
    case 'overview':
      return { ok: true, req: { id, op } };
    case 'nodestatus':
    case 'nodetype':
    case 'nodeweight':
    case 'nodesite':
    case 'iflist': {
      const node = v['node'];
      if (!isName(node)) return bad(`${op}: node must be a name (1 to ${MAX_NAME} characters, no control characters)`);
      return { ok: true, req: { id, op, node } };
    }
    case 'ifstatus': {
      const node = v['node'];
      const link = v['link'];
      if (!isName(node) || !isName(link)) return bad(`ifstatus: node and link must be names (1 to ${MAX_NAME} characters, no control characters)`);
      return { ok: true, req: { id, op, node, link } };
    }
    case 'clientstatus': {
      const node = v['node'];
      const client = v['client'];
      const timeoutMs = v['timeoutMs'];
      if (!isName(node) || !isName(client)) return bad(`clientstatus: node and client must be names (1 to ${MAX_NAME} characters, no control characters)`);
      if (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs)) return bad('clientstatus: timeoutMs must be a number');
      return { ok: true, req: { id, op, node, client, timeoutMs } };
    }
    case 'parameter': {
      const name = v['name'];
      if (!isName(name)) return bad(`parameter: name must be a name (1 to ${MAX_NAME} characters, no control characters)`);
      return { ok: true, req: { id, op, name } };
    }
    case 'send': {
      const fields = v['fields'];
      const node = v['node'];
      if (!isFields(fields)) return bad('send: fields must be a list of [name, value] string pairs');
      if (node !== undefined && !isName(node)) return bad(`send: node must be a name (1 to ${MAX_NAME} characters, no control characters)`);
      return { ok: true, req: node === undefined ? { id, op, fields } : { id, op, fields, node } };
    }
    default:
      // The op is echoed escaped and cut short: it goes into a log line.
      return bad(`unknown request ${isStr(op) ? `"${clientText(op)}"` : 'without op'}`);
  }
}

/** Validates one server line: a reply (has `id`) or an event; undefined if neither. */
export function parseServerLine(line: string): { reply: ApiReply } | { event: ApiEvent } | undefined {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (!isObj(v)) return undefined;
  if (typeof v['id'] === 'number' && typeof v['ok'] === 'boolean') {
    if (v['ok'] === false && (!isStr(v['code']) || !isStr(v['error']))) return undefined;
    return { reply: v as unknown as ApiReply };
  }
  if (isStr(v['event'])) return { event: v as unknown as ApiEvent };
  return undefined;
}

/**
 * Splits a byte stream into lines; refuses lines longer than `max` bytes so a
 * peer cannot make us buffer without limit.
 */
export class LineSplitter {
  private buf = '';
  constructor(private readonly max = MAX_LINE) {}
  /** Returns the complete lines, or undefined when a line exceeds the limit. */
  push(chunk: string): string[] | undefined {
    this.buf += chunk;
    const lines = this.buf.split('\n');
    this.buf = lines.pop() ?? '';
    if (this.buf.length > this.max || lines.some((l) => l.length > this.max)) return undefined;
    return lines.filter((l) => l.trim() !== '');
  }
}
