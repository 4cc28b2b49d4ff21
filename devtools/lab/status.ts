/**
 * Text views of labs for people: one lab's nodes, links, processes and
 * filters (`status`), and every lab on the machine (`list`).
 */
import { readFileSync } from 'node:fs';
import { switchStatus } from './net.js';
import {
  allIds, existingLabNames, hostnameOf, ifnameOf, ipOf, labHealth, type LabState, lansOf, lanSubnet, macOf, type NodeId, nodeNs, portOf, readState,
  stateDirOf,
} from './state.js';
import { captureProcess } from './teardown.js';

interface NodeView {
  pids(id: NodeId): Promise<number[]>;
}

const row = (cells: readonly string[]): string => cells.map((c, k) => (k === cells.length - 1 ? c : c.padEnd([5, 16, 9, 15, 18, 5, 0][k] ?? 8))).join(' ');

/** `status` text of one lab. */
export async function describeLab(lab: NodeView, s: LabState): Promise<string> {
  const links = new Map<string, string>();
  for (const line of (await switchStatus(s)).split('\n')) {
    const [port, state] = line.split(/\s+/);
    if (port !== undefined && state !== undefined) links.set(port.replace(/@.*/, ''), state);
  }
  const out = [
    `lab ${s.name}: ${s.nodes} node(s) + client, ${lansOf(s)} LAN(s) (bridges br0… in netns ${s.name}-sw), state ${stateDirOf(s.name)}`,
    `owner pid ${s.owner.pid} (${labHealth(s.name)}), made for ${s.purpose} at ${s.created}; private: ${s.private.join(' ')}`,
    row(['ID', 'NETNS', 'HOSTNAME', 'ADDRESS', 'MAC', 'PORT', 'LINK PROCS']),
  ];
  for (const id of allIds(s.nodes)) {
    const procs = (await lab.pids(id)).length;
    out.push(row([String(id), nodeNs(s.name, id), hostnameOf(id), ipOf(s.subnet, id), macOf(s.subnet, id), portOf(id), `${links.get(portOf(id)) ?? '?'} ${procs}`]));
    // further LANs: one line each, under the node
    for (let lan = 1; lan < lansOf(s); lan++) {
      const port = portOf(id, lan);
      out.push(row(['', `  ${ifnameOf(lan)}`, '', ipOf(s.subnet, id, lan), macOf(lanSubnet(s.subnet, lan), id), port, links.get(port) ?? '?']));
    }
  }
  const f = s.filters;
  const filters = [
    ...f.drop.map((k) => `cut ${k} drop`),
    ...Object.entries(f.loss).map(([k, p]) => `loss ${k} ${p}%`),
    ...(f.partition.length > 0 ? [`partition ${f.partition.map((g) => g.join(',')).join(' | ')}`] : []),
  ];
  out.push(`filters: ${filters.length > 0 ? filters.join('; ') : 'none'}`);
  const cap = captureProcess(s.name);
  if (cap !== undefined) {
    let file = '?';
    try {
      file = (JSON.parse(readFileSync(`${stateDirOf(s.name)}/capture.json`, 'utf8')) as { file?: string }).file ?? '?';
    } catch {
      // ended meanwhile
    }
    out.push(`capture running: pid ${cap} into ${file}`);
  }
  return `${out.join('\n')}\n`;
}

/** `list` text: every lab on the machine with its owner and health. */
export function describeLabs(): string {
  const names = existingLabNames();
  if (names.length === 0) return 'no labs\n';
  const lines = names.map((n) => {
    const s = readState(n);
    const what = s === undefined ? '(no lab.json)' : `${s.nodes} node(s), ${s.purpose}, owner pid ${s.owner.pid}, since ${s.created}`;
    return `${n.padEnd(13)} ${labHealth(n).padEnd(8)} ${what}`;
  });
  return `${['NAME          HEALTH   WHAT', ...lines].join('\n')}\n`;
}
