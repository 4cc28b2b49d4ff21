/**
 * Read-only API answers computed from the membership views and the
 * configuration (heartbeat's api_nodelist, api_nodestatus, … in hb_api.c).
 * Node names are matched without regard to case, as heartbeat's lookup_node
 * does; link names exactly.
 */
import type { HaConfig } from '../../lib/config/types.js';
import { SYSLOG_FACILITIES } from '../../lib/util/log.js';
import type { NodeView } from '../../lib/membership/nodes.js';
import type { ApiErrorCode, LinkEntry, NodeEntry, ResourceStatusSource } from './types.js';

/** What the queries read from the running node. */
export interface QuerySource {
  views(): NodeView[];
  view(name: string): NodeView | undefined;
}

export type QueryResult = { ok: true; data: Record<string, unknown> } | { ok: false; code: ApiErrorCode; error: string };

const ok = (data: Record<string, unknown>): QueryResult => ({ ok: true, data });
const einval = (error: string): QueryResult => ({ ok: false, code: 'EINVAL', error });

export function findNode(src: QuerySource, name: string): NodeView | undefined {
  return src.view(name) ?? src.views().find((v) => v.name.toLowerCase() === name.toLowerCase());
}

export function nodeList(src: QuerySource): NodeEntry[] {
  return src.views().map((v) => ({ name: v.name, type: v.type, status: v.status }));
}

export function nodeQuery(src: QuerySource, op: 'nodestatus' | 'nodetype' | 'nodeweight' | 'nodesite' | 'iflist', name: string): QueryResult {
  const v = findNode(src, name);
  // heartbeat's reply comment for every unknown node is just "EINVAL".
  if (!v) return einval('EINVAL');
  switch (op) {
    case 'nodestatus':
      return ok({ status: v.status });
    case 'nodetype':
      return ok({ type: v.type });
    case 'nodeweight':
      return ok({ weight: v.weight });
    case 'nodesite':
      return ok({ site: v.site });
    case 'iflist': {
      const links: LinkEntry[] = v.links.map((l) => ({ name: l.name, status: l.status }));
      return ok({ links });
    }
  }
}

export function ifStatus(src: QuerySource, node: string, link: string): QueryResult {
  const v = findNode(src, node);
  const l = v?.links.find((x) => x.name === link);
  return l ? ok({ status: l.status }) : einval('EINVAL');
}

/** `hbparameter`: values as written in ha.cf (spec 8.2); `crm` is the old name of `pacemaker`. */
export function parameter(config: HaConfig, name: string): string | undefined {
  const key = name === 'crm' ? 'pacemaker' : name;
  return Object.prototype.hasOwnProperty.call(config.raw, key) ? config.raw[key] : undefined;
}

export function rscStatus(manageResources: boolean, source: ResourceStatusSource): QueryResult {
  if (!manageResources) return { ok: false, code: 'NO_RESOURCES', error: 'Resource is managed by crm. Use crm tool to query resource' };
  return ok({ status: source.rscstatus() });
}

export function monitorStatus(manageResources: boolean, source: ResourceStatusSource): QueryResult {
  if (!manageResources) return { ok: false, code: 'NO_RESOURCES', error: 'Resource is managed by crm. Use crm tool to query resource' };
  return ok({ monitors: source.monitors?.() ?? [] });
}

/** The syslog facility as heartbeat hands it to clients (LOG_DAEMON = 24), -1 for none. */
export function facilityNumber(config: HaConfig): number {
  const f = config.logfacility === undefined ? undefined : SYSLOG_FACILITIES[config.logfacility];
  return f === undefined ? -1 : f * 8;
}
