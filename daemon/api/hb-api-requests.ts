/**
 * The answers to Heartbeat API requests (`t=hbapi-req reqtype=…`), field for
 * field as heartbeat's hb_api.c gives them: every reply is `t=hbapi-resp
 * reqtype=<request>` then the request's fields then `result`; a refused
 * request gets `result=badreq` and, where heartbeat gives one, `info=<why>`.
 * List requests (nodelist, iflist) answer one message per entry, `ok/more`
 * on all but the last. Requests heartbeat answers with nothing (signoff,
 * set_sendqlen, a clientstatus that asks another node) return no message.
 */
import type { HaConfig } from '../../lib/config/types.js';
import type { Cluster } from '../../lib/membership/cluster.js';
import type { NodeView } from '../../lib/membership/nodes.js';
import type { Logger } from '../../lib/util/log.js';
import type { ClusterSide } from './cluster-side.js';
import { API_BADREQ, API_MORE, API_OK, F, HaMsg, T } from './hb-api-wire.js';
import { findNode, parameter } from './queries.js';
import { clip, type Session } from './session.js';
import type { ResourceStatusSource } from './types.js';

/** What a request handler reads; `desiredTypes`/`signal` belong to the C session. */
export interface HbRequestSession extends Session {
  desiredTypes: number;
  signal: number;
  /** The uid the client signed on with (checked against the kernel's). */
  uid: number;
}

export interface HbRequestDeps {
  log: Logger;
  config: () => HaConfig;
  cluster: () => Cluster | null;
  side: () => ClusterSide | null;
  resources: () => ResourceStatusSource;
  manageResources: boolean;
  /** deadtime, keepalive, node, hbversion, pacemaker, logfacility of the signon reply. */
  signonFields: () => [string, string][];
}

/** Every treatment bit heartbeat knows; the ones above KEEPIT are debugging views. */
const ALL_TREATMENTS = 0x3f;
const DEBUG_TREATMENTS = 0x3e;
/** Signals a client may not ask for (they cannot be caught). */
const UNCATCHABLE = new Set([9, 19]);

type Answer = HaMsg[];

const badreq = (base: HaMsg, why?: string): Answer => {
  if (why !== undefined) base.add(F.RESULT, API_BADREQ).add(F.INFO, why);
  else base.add(F.RESULT, API_BADREQ);
  return [base];
};
const ok = (m: HaMsg): Answer => [m.add(F.RESULT, API_OK)];

function nodeOf(d: HbRequestDeps, msg: HaMsg): NodeView | undefined {
  const cluster = d.cluster();
  const name = msg.get(F.NODENAME);
  return cluster && name !== undefined ? findNode(cluster, name) : undefined;
}

function nodeList(views: NodeView[], base: () => HaMsg): Answer {
  return views.map((v, j) => base().add(F.NODENAME, v.name).add(F.NODETYPE, v.type).add(F.STATUS, v.status)
    .add(F.RESULT, j === views.length - 1 ? API_OK : API_MORE));
}

function ifList(v: NodeView, base: () => HaMsg): Answer {
  if (v.type === 'ping') {
    // A ping node has one "link": itself.
    const l = v.links.find((x) => x.name === v.name);
    return l ? ok(base().add(F.IFNAME, l.name).add(F.STATUS, l.status)) : badreq(base(), 'UhOh');
  }
  if (v.links.length === 0) return badreq(base(), 'EINVAL');
  return v.links.map((l, j) => base().add(F.IFNAME, l.name).add(F.STATUS, l.status)
    .add(F.RESULT, j === v.links.length - 1 ? API_OK : API_MORE));
}

function clientStatus(d: HbRequestDeps, s: HbRequestSession, msg: HaMsg, base: HaMsg): Answer {
  const v = nodeOf(d, msg);
  const cname = msg.get(F.CLIENTNAME);
  const fromId = msg.get(F.FROMID);
  const cluster = d.cluster();
  if (!v || !cluster || cname === undefined || fromId === undefined) return badreq(base, 'EINVAL');
  base.add(F.SUBTYPE, T.RCSTATUS);
  if (v.name === cluster.me.name) {
    const online = d.side()?.isOnline(cname) ?? false;
    return ok(base.add(F.CLIENTSTATUS, online ? 'online' : 'offline'));
  }
  if (v.status !== 'active') return ok(base.add(F.CLIENTSTATUS, 'offline'));
  // The node answers with respond-cstatus addressed to this client; it reaches it as a message.
  cluster.send(new HaMsg().add(F.TYPE, T.QCSTATUS).add(F.TO, v.name).add(F.CLIENTNAME, cname).add(F.FROMID, s.clientId ?? fromId));
  return [];
}

function setFilter(s: HbRequestSession, msg: HaMsg, base: HaMsg): Answer {
  const text = msg.get(F.FILTERMASK) ?? '';
  const mask = /^[0-9a-fA-F]{1,8}$/.test(text) ? Number.parseInt(text, 16) : NaN;
  if (Number.isNaN(mask) || (mask & ALL_TREATMENTS) === 0) return badreq(base, 'EINVAL');
  // Debug treatments show other clients' traffic: root and the daemon's own user only.
  if ((mask & DEBUG_TREATMENTS) !== 0 && s.pid > 0 && !isPrivileged(s)) return badreq(base, 'EPERM');
  s.desiredTypes = mask;
  return ok(base);
}

function isPrivileged(s: HbRequestSession): boolean {
  return s.uid === 0 || s.uid === process.getuid?.();
}

function setSignal(s: HbRequestSession, msg: HaMsg, base: HaMsg): Answer {
  const text = msg.get(F.SIGNAL) ?? '';
  if (!/^\d{1,10}$/.test(text)) return badreq(base);
  const sig = Number(text);
  if (UNCATCHABLE.has(sig) || sig >= 32) return badreq(base, 'EINVAL');
  s.signal = sig;
  return ok(base);
}

function uuidBytes(text: string | undefined): Buffer | undefined {
  const hex = text?.replace(/-/g, '');
  return hex !== undefined && /^[0-9a-fA-F]{32}$/.test(hex) ? Buffer.from(hex, 'hex') : undefined;
}

function getUuid(d: HbRequestDeps, msg: HaMsg, base: HaMsg): Answer {
  const name = msg.get(F.QUERYNAME);
  if (name === undefined) return badreq(base, 'no query node name found');
  const cluster = d.cluster();
  const bytes = uuidBytes(cluster ? findNode(cluster, name)?.uuid : undefined);
  if (bytes) base.addBinary(F.QUERYUUID, bytes);
  return ok(base);
}

function getNodename(d: HbRequestDeps, msg: HaMsg, base: HaMsg): Answer {
  const want = msg.getBinary(F.QUERYUUID);
  if (!want || want.length !== 16) return badreq(base, 'no query node name found');
  const v = d.cluster()?.views().find((x) => uuidBytes(x.uuid)?.equals(want));
  if (v) base.add(F.QUERYNAME, v.name);
  return ok(base);
}

/** The reply messages to one request of a signed-on client. */
export function answerRequest(d: HbRequestDeps, s: HbRequestSession, msg: HaMsg, reqtype: string): Answer {
  const base = (): HaMsg => new HaMsg().add(F.TYPE, T.APIRESP).add(F.APIREQ, reqtype);
  const cluster = d.cluster();
  const node = (): NodeView | undefined => nodeOf(d, msg);
  switch (reqtype) {
    case 'signoff':
      return [];
    case 'setfilter':
      return setFilter(s, msg, base());
    case 'setsignal':
      return setSignal(s, msg, base());
    case 'nodelist':
      return cluster ? nodeList(cluster.views(), base) : badreq(base(), 'EINVAL');
    case 'nodestatus':
    case 'nodetype':
    case 'nodeweight':
    case 'nodesite': {
      const v = node();
      if (!v) return badreq(base(), 'EINVAL');
      if (reqtype === 'nodestatus') return ok(base().add(F.STATUS, v.status));
      if (reqtype === 'nodetype') return ok(base().add(F.NODETYPE, v.type));
      if (reqtype === 'nodeweight') return ok(base().add(F.WEIGHT, String(v.weight)));
      return ok(base().add(F.SITE, v.site));
    }
    case 'numnodes':
      return ok(base().add(F.NUMNODES, String(cluster?.views().filter((v) => v.type === 'normal').length ?? 0)));
    case 'iflist': {
      const v = node();
      return v ? ifList(v, base) : badreq(base(), 'EINVAL');
    }
    case 'ifstatus': {
      const l = node()?.links.find((x) => x.name === msg.get(F.IFNAME));
      return l ? ok(base().add(F.STATUS, l.status)) : badreq(base(), 'EINVAL');
    }
    case 'getparm': {
      const name = msg.get(F.PNAME);
      if (name === undefined) return badreq(base(), 'EINVAL');
      const value = parameter(d.config(), name);
      return ok(value === undefined ? base() : base().add(F.PVALUE, value));
    }
    case 'getrsc':
      if (!d.manageResources) return badreq(base(), 'Resource is managed by crm. Use crm tool to query resource');
      return ok(base().add(F.RESOURCES, d.resources().rscstatus()));
    case 'clientstatus':
      return clientStatus(d, s, msg, base());
    case 'getuuid':
      return getUuid(d, msg, base());
    case 'getnodename':
      return getNodename(d, msg, base());
    case 'set_sendqlen':
      // Our own bound on queued output (session.ts) applies instead.
      d.log.info(`the send queue length from heartbeat to client ${clip(s.clientId ?? '?')} is set to ${clip(msg.get(F.SENDQLEN) ?? '?')}`);
      return [];
    default:
      d.log.error('Unknown API request');
      d.log.error(`api_process_request: bad request [${clip(reqtype)}]`);
      return badreq(base());
  }
}
