/**
 * What hb2pcmk makes of a Heartbeat v1 configuration before it writes any
 * file: a Corosync + Pacemaker cluster described once, then rendered as
 * corosync.conf, CIB XML, and crm / pcs commands.
 */

/** Something hb2pcmk could not translate, or translated with a caveat; `file:line` where it came from. */
export interface MigrationProblem {
  file: string;
  line: number;
  severity: 'error' | 'warning';
  message: string;
}

export interface Primitive {
  /** CIB id (unique, XML-safe). */
  id: string;
  /** `ocf:heartbeat:IPaddr2`, `lsb:apache2`, `stonith:external/ssh`. */
  agent: string;
  params: Array<[string, string]>;
  /** monitor operation, from heartbeat-ts.cf `monitor` (or a default one). */
  monitor: { intervalS: number; timeoutS: number };
  meta: Array<[string, string]>;
  /** The haresources text it came from. */
  source: string;
}

export interface Group {
  id: string;
  /** The node the group prefers (first word of its haresources line). */
  home: string;
  primitives: Primitive[];
}

export interface PcmkModel {
  clusterName: string;
  nodes: string[];
  /** knet links: one per heartbeat interface, in ha.cf order. */
  links: string[];
  tokenMs: number;
  consensusMs: number;
  twoNode: boolean;
  groups: Group[];
  /** resource-stickiness from auto_failback. */
  stickiness: string;
  /** Score of each group's preference for its home node. */
  homeScore: number;
  noQuorumPolicy: 'stop' | 'ignore';
  fencing: Primitive[];
  /** ocf:pacemaker:ping clone for ping nodes (ipfail's job). */
  ping: { hosts: string[] } | undefined;
}

/** An id Pacemaker accepts (XML NCName-ish): letters, digits, `-`, `_`, `.`; never starting with a digit. */
export function cibId(text: string): string {
  const id = text.replace(/[^A-Za-z0-9_.-]+/g, '-').replace(/^-+|-+$/g, '');
  return /^[A-Za-z_]/.test(id) ? id : `r-${id}`;
}
