/**
 * What `hb_status` reads from the daemon (one API connection) and how it
 * prints it: one screen for people, or one JSON document (fields in the README).
 */
import type { HbApiClient } from '../api/client.js';
import type { LinkEntry, NodeEntry } from '../api/types.js';
import type { ClusterEvent, GroupEntry } from '../overview.js';

export interface StatusNode extends NodeEntry {
  links: LinkEntry[];
}

export interface ClusterSummary {
  running: true;
  /** This node's name. */
  node: string;
  version: string;
  managedBy: 'haresources' | 'pacemaker';
  /** cl_status rscstatus's answer; null when resources are not managed here (pacemaker, -M). */
  resources: string | null;
  nodes: StatusNode[];
  groups: GroupEntry[];
  events: ClusterEvent[];
}

/** Reads everything in configuration order; an error text when the daemon refuses a query. */
export async function readSummary(api: HbApiClient, me: string, version: string, eventLimit: number): Promise<ClusterSummary | string> {
  const list = await api.nodeList();
  if (!list.ok) return `cannot list the nodes: ${list.error}`;
  const nodes: StatusNode[] = [];
  for (const n of list.value) {
    const links = await api.ifList(n.name);
    if (!links.ok) return `cannot list the links of ${n.name}: ${links.error}`;
    nodes.push({ name: n.name, type: n.type, status: n.status, links: links.value.map((l) => ({ name: l.name, status: l.status })) });
  }
  const rsc = await api.rscStatus();
  const ov = await api.overview();
  if (!ov.ok) return `cannot read groups and events: ${ov.error}`;
  const managedBy = !rsc.ok && rsc.code === 'NO_RESOURCES' ? 'pacemaker' : 'haresources';
  return {
    running: true, node: me, version, managedBy, resources: rsc.ok ? rsc.value : null, nodes,
    groups: ov.value.groups, events: eventLimit === 0 ? [] : ov.value.events.slice(-eventLimit),
  };
}

function pad(text: string, width: number): string {
  return text.length >= width ? `${text} ` : text.padEnd(width);
}

/** The screen: nodes with their links, groups and holders, the last events. */
export function formatSummary(s: ClusterSummary): string {
  const out: string[] = [];
  out.push(`Heartbeat ${s.version} on ${s.node}; resources ${s.managedBy === 'pacemaker' ? 'managed by pacemaker (see crm_mon)' : `here: ${s.resources ?? 'unknown'}`}`);
  const up = s.nodes.filter((n) => n.type === 'normal' && (n.status === 'active' || n.status === 'up')).length;
  out.push('', `Nodes (${up} of ${s.nodes.filter((n) => n.type === 'normal').length} up):`);
  const w = Math.max(8, ...s.nodes.map((n) => n.name.length + 2));
  for (const n of s.nodes) {
    const links = n.links.map((l) => `${l.name} ${l.status}`).join(', ');
    out.push(`  ${pad(n.name, w)}${pad(n.status, 8)}${pad(n.type, 8)}${n.name === s.node ? '(this node)' : links === '' ? '' : `links: ${links}`}`);
  }
  if (s.managedBy === 'haresources') {
    out.push('', `Resource groups (${s.groups.length}):`);
    if (s.groups.length === 0) out.push('  (none in haresources)');
    for (const g of s.groups) {
      const who = g.holder === null ? 'not running' : `held by ${g.holder}`;
      out.push(`  ${g.group}: ${who} (home ${g.home})${g.state === 'transition' ? ', in transition' : ''}`);
      if (g.resources.length > 1) out.push(`      ${g.resources.join(' ')}`);
    }
  }
  out.push('', 'Last events:');
  if (s.events.length === 0) out.push('  (none)');
  for (const e of s.events) out.push(`  ${e.time.replace('T', ' ').replace(/\.\d+Z$/, 'Z')}  ${e.text}`);
  return `${out.join('\n')}\n`;
}
