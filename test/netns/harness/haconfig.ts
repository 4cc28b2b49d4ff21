/**
 * Builders for /etc/ha.d files (real ha.cf / authkeys text) and writing them
 * into a lab node's private /etc/ha.d. The same files drive real heartbeat
 * 3.0.6 and heartbeat-ts.
 */
import { rmSync } from 'node:fs';
import type { Lab, NodeId } from './lab.js';

export type Media = 'bcast' | 'ucast' | 'mcast' | 'serial';
export type AuthMethod = 'crc' | 'md5' | 'sha1';

export interface HaCfOptions {
  media: Media;
  /** node names, in config order */
  nodes: readonly string[];
  /** seconds (number) or a heartbeat time string such as '500ms' */
  keepalive?: number | string;
  deadtime?: number | string;
  warntime?: number | string;
  initdead?: number | string;
  /** written before the media line, as heartbeat requires; omitted = 694 */
  udpport?: number;
  /** interface of bcast/ucast/mcast (default eth0) */
  iface?: string;
  /** ucast: one line per address (the node's own address is harmless) */
  ucastPeers?: readonly string[];
  /** mcast group (default 239.77.0.1), port (default udpport or 694), ttl 1, loop 0 */
  mcast?: { group?: string; port?: number; ttl?: number; loop?: 0 | 1 };
  /** serial devices, and baud (written before them) */
  serialDevices?: readonly string[];
  baud?: number;
  autoFailback?: boolean | 'legacy';
  /** more directives, written last, verbatim */
  extra?: string | readonly string[];
}

/** ha.cf text: logfile /var/log/ha-log, debugfile /var/log/ha-debug, use_logd no, crm no, then the options. */
export function haCf(o: HaCfOptions): string {
  if (o.nodes.length === 0) throw new Error('haCf: at least one node');
  const iface = o.iface ?? 'eth0';
  const lines = [
    '# ha.cf written by the heartbeat-ts netns test harness',
    'logfile /var/log/ha-log',
    'debugfile /var/log/ha-debug',
    'use_logd no',
    'crm no',
  ];
  const timing: Array<[string, number | string | undefined]> = [
    ['keepalive', o.keepalive ?? 1],
    ['deadtime', o.deadtime ?? 5],
    ['warntime', o.warntime],
    ['initdead', o.initdead ?? 10],
  ];
  for (const [k, v] of timing) if (v !== undefined) lines.push(`${k} ${v}`);
  if (o.udpport !== undefined) lines.push(`udpport ${o.udpport}`);
  switch (o.media) {
    case 'bcast':
      lines.push(`bcast ${iface}`);
      break;
    case 'ucast':
      if (o.ucastPeers === undefined || o.ucastPeers.length === 0) throw new Error('haCf: ucast needs ucastPeers');
      for (const peer of o.ucastPeers) lines.push(`ucast ${iface} ${peer}`);
      break;
    case 'mcast': {
      const m = o.mcast ?? {};
      lines.push(`mcast ${iface} ${m.group ?? '239.77.0.1'} ${m.port ?? o.udpport ?? 694} ${m.ttl ?? 1} ${m.loop ?? 0}`);
      break;
    }
    case 'serial':
      if (o.serialDevices === undefined || o.serialDevices.length === 0) throw new Error('haCf: serial needs serialDevices');
      if (o.baud !== undefined) lines.push(`baud ${o.baud}`);
      lines.push(`serial ${o.serialDevices.join(' ')}`);
      break;
  }
  const af = o.autoFailback ?? false;
  lines.push(`auto_failback ${af === 'legacy' ? 'legacy' : af ? 'on' : 'off'}`);
  for (const n of o.nodes) lines.push(`node ${n}`);
  const extra = o.extra === undefined ? [] : typeof o.extra === 'string' ? [o.extra] : o.extra;
  lines.push(...extra);
  return `${lines.join('\n')}\n`;
}

/** authkeys text with one active key (crc takes no key). */
export function authKeys(method: AuthMethod, key = 'heartbeat-ts-test-key', index = 1): string {
  return method === 'crc' ? `auth ${index}\n${index} crc\n` : `auth ${index}\n${index} ${method} ${key}\n`;
}

export interface HaConfigFiles {
  hacf: string;
  authkeys: string;
  /** absent: an empty file (v1 mode refuses to start without one: exit 6) */
  haresources?: string;
  /** absent: any nodeinfo inherited from the host copy is removed (it would rename the node) */
  nodeinfo?: string;
}

/** Writes ha.cf, authkeys (0600, as heartbeat demands), haresources (and nodeinfo) into node i's /etc/ha.d. */
export function writeHaConfig(lab: Lab, i: NodeId, files: HaConfigFiles): void {
  lab.writeFile(i, '/etc/ha.d/ha.cf', files.hacf, 0o644);
  lab.writeFile(i, '/etc/ha.d/authkeys', files.authkeys, 0o600);
  lab.writeFile(i, '/etc/ha.d/haresources', files.haresources ?? '', 0o644);
  if (files.nodeinfo === undefined) rmSync(lab.path(i, '/etc/ha.d/nodeinfo'), { force: true });
  else lab.writeFile(i, '/etc/ha.d/nodeinfo', files.nodeinfo, 0o644);
}
