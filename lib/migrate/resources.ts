/**
 * One haresources resource → one Pacemaker primitive. Heartbeat's own
 * resource.d scripts map to the OCF agents of Debian's resource-agents that
 * do the same job, their `::` arguments to the agents' parameters; an init
 * script becomes `lsb:`; any other resource.d script is run through the
 * wrapper agent heartbeat-ts ships (ocf:heartbeat-ts:hbscript), which keeps
 * its v1 call and "running" rule.
 */
import type { Resource } from '../config/types.js';
import { cibId, type Primitive } from './model.js';

/** Where a script was found: heartbeat's resource.d, init.d, or nowhere. */
export type ScriptPlace = 'resource.d' | 'init.d' | undefined;

export type Mapped = { primitive: Omit<Primitive, 'id' | 'monitor' | 'meta'> } | { error: string } ;

const IP_RE = /^\d{1,3}(\.\d{1,3}){3}$/;

/** `ip[/cidr[/nic[/broadcast]]]` of IPaddr, IPaddr2 and bare addresses. */
function ipParams(arg: string): Array<[string, string]> | string {
  const [ip, cidr, nic, brd] = arg.split('/');
  if (ip === undefined || !IP_RE.test(ip)) return `not an IPv4 address: ${arg}`;
  const p: Array<[string, string]> = [['ip', ip]];
  if (cidr !== undefined && cidr !== '') p.push(['cidr_netmask', cidr]);
  if (nic !== undefined && nic !== '') p.push(['nic', nic]);
  if (brd !== undefined && brd !== '') p.push(['broadcast', brd]);
  return p;
}

const named = (names: readonly string[], args: readonly string[]): Array<[string, string]> =>
  names.flatMap((n, k) => (args[k] !== undefined && args[k] !== '' ? [[n, args[k]] as [string, string]] : []));

/** Heartbeat script → [OCF agent, parameter names in `::` order] where the mapping is one to one. */
const SIMPLE: Record<string, [string, readonly string[]]> = {
  Filesystem: ['ocf:heartbeat:Filesystem', ['device', 'directory', 'fstype', 'options']],
  MailTo: ['ocf:heartbeat:MailTo', ['email', 'subject']],
  apache: ['ocf:heartbeat:apache', ['configfile']],
  Delay: ['ocf:heartbeat:Delay', ['startdelay', 'stopdelay']],
  IPsrcaddr: ['ocf:heartbeat:IPsrcaddr', ['ipaddress']],
  ldirectord: ['ocf:heartbeat:ldirectord', ['configfile']],
  Xinetd: ['ocf:heartbeat:Xinetd', ['service']],
  portblock: ['ocf:heartbeat:portblock', ['protocol', 'portno', 'action']],
};

export function mapResource(r: Resource, place: ScriptPlace): Mapped {
  const source = r.spec;
  const base = { source };
  if (r.script === 'IPaddr' || r.script === 'IPaddr2' || IP_RE.test(r.script.split('/')[0] ?? '')) {
    const arg = r.script === 'IPaddr' || r.script === 'IPaddr2' ? r.args[0] ?? '' : r.script;
    const params = ipParams(arg);
    return typeof params === 'string' ? { error: params } : { primitive: { ...base, agent: 'ocf:heartbeat:IPaddr2', params } };
  }
  const simple = SIMPLE[r.script];
  if (simple !== undefined) return { primitive: { ...base, agent: simple[0], params: named(simple[1], r.args) } };
  if (r.script === 'SendArp') {
    const [ip, nic] = (r.args[0] ?? '').split('/');
    return { primitive: { ...base, agent: 'ocf:heartbeat:SendArp', params: named(['ip', 'nic'], [ip ?? '', nic ?? '']) } };
  }
  if (r.script === 'IPv6addr') {
    const [addr, prefix, nic] = (r.args[0] ?? '').split('/');
    return { primitive: { ...base, agent: 'ocf:heartbeat:IPv6addr', params: named(['ipv6addr', 'cidr_netmask', 'nic'], [addr ?? '', prefix ?? '', nic ?? '']) } };
  }
  if (r.script === 'drbddisk') return { error: 'drbddisk: DRBD under Pacemaker is a promotable clone of ocf:linbit:drbd with ordering rules; write it by hand' };
  if (r.script === 'LVM') return { error: 'LVM: ocf:heartbeat:LVM-activate needs a vg_access_mode (system_id, lvmlockd or tagging) that v1 never had; choose one' };
  if (place === 'init.d') return { primitive: { ...base, agent: `lsb:${r.script}`, params: [] } };
  if (place === 'resource.d') {
    return { primitive: { ...base, agent: 'ocf:heartbeat-ts:hbscript', params: named(['script', 'args'], [r.script, r.args.join('::')]) } };
  }
  return { error: `unknown resource script ${r.script}: not in heartbeat's resource.d nor in /etc/init.d` };
}

/** A unique CIB id for a resource of a group. */
export function primitiveId(r: Resource, taken: Set<string>): string {
  const stem = cibId(`${r.script}-${r.args.join('-') || r.spec}`).slice(0, 60) || 'rsc';
  let id = stem;
  for (let n = 2; taken.has(id); n++) id = `${stem}-${n}`;
  taken.add(id);
  return id;
}
