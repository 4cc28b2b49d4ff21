/**
 * Heartbeat v1 (ha.cf, authkeys, haresources, heartbeat-ts.cf) → a
 * Corosync 3 + Pacemaker 2 model (./model.ts). Pure: files are read and
 * scripts looked up by the caller. Everything that has no faithful
 * translation is a MigrationProblem with its file and line.
 */
import type { AuthKeys, HaConfig, ResourceGroup } from '../config/types.js';
import type { HbtsConfig, MonitorSpec } from '../config/hbts-cf.js';
import { cibId, type Group, type MigrationProblem, type PcmkModel, type Primitive } from './model.js';
import { mapResource, primitiveId, type ScriptPlace } from './resources.js';

/** A `stonith_host` line of ha.cf, whichever host it is for (the parser keeps only this node's). */
export interface StonithHostLine {
  host: string;
  type: string;
  params: string[];
  line: number;
}

export interface MigrationInput {
  config: HaConfig;
  groups: ResourceGroup[];
  keys: AuthKeys | undefined;
  hbts: HbtsConfig;
  files: { haCf: string; haresources: string; authkeys: string; hbtsCf: string };
  stonithHosts: StonithHostLine[];
  /** Where a resource script lives. */
  place: (script: string) => ScriptPlace;
  /** cluster-glue's parameter names of a STONITH type (`stonith -t TYPE -n`), undefined when unknown. */
  stonithParamNames: (type: string) => string[] | undefined;
}

/** Default monitor of a primitive without a heartbeat-ts.cf `monitor` line. */
export const DEFAULT_MONITOR = { intervalS: 30, timeoutS: 20 };

/** Heartbeat declares a node dead after deadtime; Corosync after token + consensus (1.2 × token). */
export function corosyncTiming(deadtimeMs: number): { tokenMs: number; consensusMs: number } {
  const tokenMs = Math.max(300, Math.round(deadtimeMs / 2.2));
  return { tokenMs, consensusMs: Math.round(tokenMs * 1.2) };
}

export function convert(i: MigrationInput): { model: PcmkModel; problems: MigrationProblem[] } {
  const problems: MigrationProblem[] = [];
  const at = (file: string, line: number, severity: MigrationProblem['severity'], message: string): void => {
    problems.push({ file, line, severity, message });
  };
  const { config: c, files } = i;
  const links = media(c, files.haCf, at);
  authentication(i.keys, files.authkeys, at);
  if (c.autoFailback === 'legacy') at(files.haCf, 0, 'warning', 'auto_failback legacy: converted as auto_failback on (resource-stickiness 0)');
  const ipfail = c.respawn.some((r) => /(^|\/)ipfail$/.test(r.command ?? ''));
  for (const r of c.respawn) {
    if (!/(^|\/)ipfail$/.test(r.command ?? '')) at(files.haCf, r.line, 'error', `respawn ${r.command ?? ''}: not a cluster resource; run it as a systemd service (or ocf:heartbeat:anything)`);
  }
  const pingHosts = c.media.flatMap((m) => (m.kind === 'ping' || m.kind === 'ping6' ? [m.host] : m.kind === 'ping_group' ? m.hosts : []));
  if (pingHosts.length > 0 && !ipfail) at(files.haCf, 0, 'warning', 'ping nodes without ipfail only reported status: not converted');
  const taken = new Set<string>();
  const groups = i.groups.flatMap((g) => convertGroup(g, i, taken, at));
  for (const m of i.hbts.monitors) {
    if (!i.groups.some((g) => g.resources.some((r) => r.spec === m.resource))) at(files.hbtsCf, m.line, 'error', `monitor ${m.resource}: no such resource in haresources`);
  }
  const { tokenMs, consensusMs } = corosyncTiming(c.deadtimeMs);
  const model: PcmkModel = {
    clusterName: cibId(c.cluster || 'hacluster'),
    nodes: [...c.nodes],
    links,
    tokenMs,
    consensusMs,
    twoNode: c.nodes.length === 2,
    groups,
    stickiness: c.autoFailback === 'off' ? 'INFINITY' : '0',
    homeScore: 100,
    noQuorumPolicy: i.hbts.quorum === 'majority' ? 'stop' : 'ignore',
    fencing: fencing(i, taken, at),
    ping: ipfail && pingHosts.length > 0 ? { hosts: pingHosts } : undefined,
  };
  if (model.fencing.length === 0) at(files.haCf, 0, 'warning', 'no STONITH device: stonith-enabled=false (as v1 without stonith: shared disks are not protected)');
  return { model, problems };
}

type At = (file: string, line: number, severity: MigrationProblem['severity'], message: string) => void;

/** knet links, one per interface of the UDP media; what Corosync cannot carry is reported. */
function media(c: HaConfig, file: string, at: At): string[] {
  const links: string[] = [];
  for (const m of c.media) {
    if (m.kind === 'serial') at(file, m.line, 'error', `serial ${m.device}: Corosync has no serial transport; use a second network link`);
    else if (m.kind === 'bcast' || m.kind === 'ucast' || m.kind === 'mcast' || m.kind === 'ucast6' || m.kind === 'mcast6') {
      if (!links.includes(m.iface)) links.push(m.iface);
    }
  }
  if (links.length > 1) at(file, 0, 'warning', `${links.length} heartbeat interfaces (${links.join(', ')}): corosync.conf gets link 0 only; add ringN_addr of every node for each further link`);
  if (links.length === 0) at(file, 0, 'error', 'no network medium: Corosync needs at least one link');
  return links;
}

function authentication(keys: AuthKeys | undefined, file: string, at: At): void {
  const active = keys?.keys.get(keys.activeNum);
  if (active?.method === 'crc') {
    at(file, active.line, 'error', 'crc authenticates nothing; the converted cluster uses Corosync\'s crypto (aes256, sha256) with the fresh authkey');
  }
}

function monitorOf(spec: MonitorSpec | undefined): Pick<Primitive, 'monitor' | 'meta'> {
  if (spec === undefined) return { monitor: DEFAULT_MONITOR, meta: [] };
  const monitor = { intervalS: Math.max(1, Math.round(spec.intervalMs / 1000)), timeoutS: Math.max(1, Math.round(spec.timeoutMs / 1000)) };
  const window = `${Math.round(spec.failureWindowMs / 1000)}s`;
  if (spec.onFail === 'ignore') return { monitor, meta: [['on-fail', 'ignore']] };
  if (spec.onFail === 'standby') return { monitor, meta: [['migration-threshold', '1'], ['failure-timeout', window]] };
  return { monitor, meta: [['migration-threshold', String(spec.maxFailures)], ['failure-timeout', window]] };
}

function convertGroup(g: ResourceGroup, i: MigrationInput, taken: Set<string>, at: At): Group[] {
  const primitives: Primitive[] = [];
  for (const r of g.resources) {
    const mapped = mapResource(r, i.place(r.script));
    if ('error' in mapped) {
      at(i.files.haresources, g.line, 'error', `${r.spec}: ${mapped.error}`);
      continue;
    }
    const spec = i.hbts.monitors.find((m) => m.resource === r.spec);
    primitives.push({ ...mapped.primitive, id: primitiveId(r, taken), ...monitorOf(spec) });
  }
  if (primitives.length === 0) return [];
  let id = cibId(`grp-${g.key}`).slice(0, 60);
  for (let n = 2; taken.has(id); n++) id = `${cibId(`grp-${g.key}`).slice(0, 60)}-${n}`;
  taken.add(id);
  return [{ id, home: g.node, primitives }];
}

/** Fence devices from `stonith` (this node's) and every `stonith_host` line. */
function fencing(i: MigrationInput, taken: Set<string>, at: At): Primitive[] {
  const out: Primitive[] = [];
  const add = (type: string, values: string[], line: number, host: string): void => {
    const names = i.stonithParamNames(type);
    if (names === undefined) {
      at(i.files.haCf, line, 'error', `stonith ${type}: its parameter names are unknown here (install cluster-glue to read them with stonith -t ${type} -n)`);
      return;
    }
    if (host !== '*') at(i.files.haCf, line, 'warning', `stonith_host ${host}: Pacemaker runs fence devices on any node; restrict it with a location constraint if it matters`);
    let id = cibId(`fence-${type}`);
    for (let n = 2; taken.has(id); n++) id = `${cibId(`fence-${type}`)}-${n}`;
    taken.add(id);
    // Positional, as cluster-glue reads -p; the last parameter takes the rest (a host list).
    const params = names.flatMap((n, k) => {
      const v = k === names.length - 1 ? values.slice(k).join(' ') : values[k];
      return v !== undefined && v !== '' ? [[n, v] as [string, string]] : [];
    });
    out.push({ id, agent: `stonith:${type}`, params, monitor: { intervalS: 60, timeoutS: 20 }, meta: [], source: `${type} ${values.join(' ')}` });
  };
  for (const s of i.config.stonith) {
    if (s.configFile !== undefined) at(i.files.haCf, s.line, 'error', `stonith ${s.type} ${s.configFile}: copy the device's parameters from that file into the fence device by hand`);
  }
  for (const h of i.stonithHosts) add(h.type, h.params, h.line, h.host);
  return out;
}
