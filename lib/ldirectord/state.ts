/**
 * From health to table, pure: which real servers a virtual service holds
 * given which are up, with quiescent and fallback rules, and the log lines
 * a table change means (worded as ldirectord words them, so existing log
 * greps keep working).
 */
import type { PlaneReal, PlaneService, PlaneTable } from './plane.js';
import { fallbackFor, virtualId, virtualLabel, type LdConfig, type RealServer, type VirtualService } from './types.js';

export function realKey(v: VirtualService, r: Pick<RealServer, 'address' | 'port'>): string {
  return `${virtualId(v)}|${r.address}:${r.port}`;
}

/** Health as the director knows it: key -> up. Missing keys are down. */
export type Health = ReadonlyMap<string, boolean>;

export function isQuiescent(cfg: LdConfig, v: VirtualService): boolean {
  return v.quiescent ?? cfg.quiescent;
}

export function upCount(v: VirtualService, health: Health): number {
  if (v.checktype === 'on') return v.reals.length;
  if (v.checktype === 'off') return 0;
  return v.reals.filter((r) => health.get(realKey(v, r)) === true).length;
}

/** The desired table for `cfg` under `health`. */
export function computeTable(cfg: LdConfig, health: Health): PlaneTable {
  return cfg.virtuals.map((v) => {
    const reals: PlaneReal[] = [];
    const quiescent = isQuiescent(cfg, v);
    const seen = new Set<string>();
    for (const r of v.reals) {
      const id = `${r.address}:${r.port}`;
      if (seen.has(id)) continue;
      seen.add(id);
      const up = v.checktype === 'on' || (v.checktype !== 'off' && health.get(realKey(v, r)) === true);
      if (up) reals.push({ address: r.address, port: r.port, forward: r.forward, weight: r.weight, fallback: false });
      else if (quiescent) reals.push({ address: r.address, port: r.port, forward: r.forward, weight: 0, fallback: false });
    }
    const fb = fallbackFor(cfg, v);
    if (fb && v.checktype !== 'off' && upCount(v, health) === 0 && !seen.has(`${fb.address}:${fb.port}`)) {
      reals.push({ address: fb.address, port: fb.port, forward: fb.forward, weight: 1, fallback: true });
    }
    const s: PlaneService = {
      id: virtualId(v), protocol: v.protocol, port: v.port, scheduler: v.scheduler, ops: v.ops, reals,
    };
    if (v.address !== undefined) s.address = v.address;
    if (v.fwmark !== undefined) s.fwmark = v.fwmark;
    if (v.persistent !== undefined) s.persistent = v.persistent;
    if (v.netmask !== undefined) s.netmask = v.netmask;
    return s;
  });
}

function label(s: PlaneService): string {
  return virtualLabel({ protocol: s.protocol, address: s.address, port: s.port, fwmark: s.fwmark });
}

export interface Transition {
  serviceId: string;
  /** `address:port` of the real or fallback server. */
  server: string;
  kind: 'added' | 'restored' | 'quiescent' | 'deleted';
  fallback: boolean;
  /** The log line, ldirectord style. */
  text: string;
}

/** What changed between two tables, one entry per real or fallback server. */
export function transitions(from: PlaneTable, to: PlaneTable): { lines: string[]; changes: Transition[] } {
  const lines: string[] = [];
  const changes: Transition[] = [];
  const oldById = new Map(from.map((s) => [s.id, s]));
  const newIds = new Set(to.map((s) => s.id));
  for (const s of from) if (!newIds.has(s.id)) lines.push(`Purged virtual server (reload): ${label(s)}`);
  for (const s of to) {
    const old = oldById.get(s.id);
    if (!old) lines.push(`Added virtual server: ${label(s)}`);
    else if (old.scheduler !== s.scheduler || old.persistent !== s.persistent || old.netmask !== s.netmask) {
      lines.push(`Changed virtual server: ${label(s)}`);
    }
    const key = (r: PlaneReal): string => `${r.address}:${r.port}`;
    const before = new Map((old?.reals ?? []).map((r) => [key(r), r]));
    const after = new Map(s.reals.map((r) => [key(r), r]));
    const push = (r: PlaneReal, kind: Transition['kind'], text: string): void => {
      lines.push(text);
      changes.push({ serviceId: s.id, server: key(r), kind, fallback: r.fallback, text });
    };
    for (const [k, r] of before) {
      if (!after.has(k)) push(r, 'deleted', `Deleted ${r.fallback ? 'fallback' : 'real'} server: ${k} (${label(s)})`);
    }
    for (const [k, r] of after) {
      const o = before.get(k);
      const tag = r.fallback ? 'fallback' : 'real';
      if (!o) push(r, r.weight === 0 ? 'quiescent' : 'added', `${r.weight === 0 ? 'Readd Quiescent' : 'Added'} ${tag} server: ${k} (${label(s)}) (Weight set to ${r.weight})`);
      else if (o.weight !== r.weight && r.weight === 0) push(r, 'quiescent', `Quiescent ${tag} server: ${k} (${label(s)}) (Weight set to 0)`);
      else if (o.weight !== r.weight || o.forward !== r.forward) push(r, 'restored', `Restored ${tag} server: ${k} (${label(s)}) (Weight set to ${r.weight})`);
    }
  }
  return { lines, changes };
}
