/**
 * The IPVS data plane: the ipvsadm command lines that move the kernel's
 * virtual server table from one desired table to the next (the same
 * -A/-E/-D/-a/-e/-d lines ldirectord runs), the `-R` restore format, and
 * a plane that feeds them to `ipvsadm -R` in one run per change.
 */
import type { ConfigProblem } from '../config/types.js';
import { HbError, LDIRECTORD_ERRORS } from '../util/errors.js';
import type { Logger } from '../util/log.js';
import { run } from './exec.js';
import { parseIpvsadmLine, type IpvsLine } from './ipvsadm-grammar.js';
import type { DataPlane, PlaneReal, PlaneService, PlaneTable } from './plane.js';
import type { LdConfig } from './types.js';

const FORWARD_FLAG = { gate: '-g', masq: '-m', ipip: '-i' } as const;

/** `-t 10.0.0.1:80`, `-u …`, `-f 5`. */
export function serviceArg(s: PlaneService): string {
  if (s.protocol === 'fwm') return `-f ${s.fwmark ?? 0}`;
  return `${s.protocol === 'udp' ? '-u' : '-t'} ${s.address ?? ''}:${s.port}`;
}

function serviceOpts(s: PlaneService): string {
  let o = '';
  if (s.ops && (s.protocol === 'udp' || s.protocol === 'fwm')) o += ' -o';
  o += ` -s ${s.scheduler}`;
  if (s.persistent !== undefined) {
    o += ` -p ${s.persistent}`;
    if (s.netmask) o += ` -M ${s.netmask}`;
  }
  return o;
}

/**
 * The port IPVS keys a real server by: gate and ipip cannot change the
 * destination port, so for address:port services the kernel stores the
 * virtual port; using it here keeps the diff in step with `ipvsadm -S`.
 */
function realKey(s: PlaneService, r: PlaneReal): string {
  const port = s.protocol !== 'fwm' && r.forward !== 'masq' ? s.port : r.port;
  return `${r.address}:${port}`;
}

export const addService = (s: PlaneService): string => `-A ${serviceArg(s)}${serviceOpts(s)}`;
export const editService = (s: PlaneService): string => `-E ${serviceArg(s)}${serviceOpts(s)}`;
export const deleteService = (s: PlaneService): string => `-D ${serviceArg(s)}`;
export const addReal = (s: PlaneService, r: PlaneReal): string =>
  `-a ${serviceArg(s)} -r ${realKey(s, r)} ${FORWARD_FLAG[r.forward]} -w ${r.weight}`;
export const editReal = (s: PlaneService, r: PlaneReal): string =>
  `-e ${serviceArg(s)} -r ${realKey(s, r)} ${FORWARD_FLAG[r.forward]} -w ${r.weight}`;
export const deleteReal = (s: PlaneService, r: PlaneReal): string => `-d ${serviceArg(s)} -r ${realKey(s, r)}`;

/** The lines (without the leading `ipvsadm`) that turn `from` into `to`. */
export function ipvsadmDiff(from: PlaneTable, to: PlaneTable): string[] {
  const out: string[] = [];
  const oldById = new Map(from.map((s) => [s.id, s]));
  const newIds = new Set(to.map((s) => s.id));
  for (const s of from) if (!newIds.has(s.id)) out.push(deleteService(s));
  for (const s of to) {
    const old = oldById.get(s.id);
    if (!old) {
      out.push(addService(s));
      for (const r of s.reals) out.push(addReal(s, r));
      continue;
    }
    if (serviceOpts(old) !== serviceOpts(s)) out.push(editService(s));
    const oldReals = new Map(old.reals.map((r) => [realKey(old, r), r]));
    const newKeys = new Set(s.reals.map((r) => realKey(s, r)));
    for (const r of old.reals) if (!newKeys.has(realKey(old, r))) out.push(deleteReal(old, r));
    for (const r of s.reals) {
      const o = oldReals.get(realKey(s, r));
      if (!o) out.push(addReal(s, r));
      else if (o.weight !== r.weight || o.forward !== r.forward) out.push(editReal(s, r));
    }
  }
  return out;
}

/** The whole table in `ipvsadm -R` (and `-S`) format. */
export function ipvsadmRestore(table: PlaneTable): string {
  return ipvsadmDiff([], table).map((l) => `${l}\n`).join('');
}

/** Reads `ipvsadm -S -n` output back into a table (unknown lines are skipped). */
export function parseIpvsadmSave(text: string): PlaneTable {
  const byId = new Map<string, PlaneService>();
  const idOf = (svc: IpvsLine['service']): string | undefined => {
    if (!svc) return undefined;
    return svc.kind === 'fwm' ? `fwm:${svc.mark}` : `${svc.kind}:${svc.address}:${svc.port}`;
  };
  for (const raw of text.split('\n')) {
    const l = parseOk(raw);
    if (!l || !l.service || l.service.kind === 'sctp') continue;
    const id = idOf(l.service);
    if (!id) continue;
    if (l.command === 'A') {
      const s: PlaneService = {
        id, protocol: l.service.kind, port: l.service.kind === 'fwm' ? 0 : l.service.port,
        scheduler: l.scheduler ?? 'wlc', ops: l.ops ?? false, reals: [],
      };
      if (l.service.kind === 'fwm') s.fwmark = l.service.mark; else s.address = l.service.address;
      if (l.persistent !== undefined) s.persistent = l.persistent;
      if (l.netmask !== undefined && l.netmask !== '255.255.255.255') s.netmask = l.netmask;
      byId.set(id, s);
    } else if (l.command === 'a' && l.real) {
      byId.get(id)?.reals.push({
        address: l.real.address, port: l.real.port, forward: l.forward ?? 'gate', weight: l.weight ?? 1, fallback: false,
      });
    }
  }
  return [...byId.values()];
}

function parseOk(line: string): IpvsLine | undefined {
  if (!line.trim()) return undefined;
  const r = parseIpvsadmLine(line);
  return typeof r === 'string' ? undefined : r;
}

export interface IpvsPlaneOptions {
  ipvsadm?: string;
  logger: Logger;
  timeoutMs?: number;
}

export class IpvsPlane implements DataPlane {
  readonly name = 'ipvs' as const;
  private current: PlaneTable | undefined;
  private readonly bin: string;
  constructor(private readonly opts: IpvsPlaneOptions) {
    this.bin = opts.ipvsadm ?? 'ipvsadm';
  }

  validate(_cfg: LdConfig): ConfigProblem[] {
    return [];
  }

  async apply(table: PlaneTable): Promise<string[]> {
    // The first time, start from what the kernel has, as ldirectord does
    // with `ipvsadm -L -n`, limited to the services we manage: stale real
    // servers in them are purged, other services are left alone.
    if (!this.current) {
      const res = await run(this.bin, ['-S', '-n'], { timeoutMs: this.opts.timeoutMs ?? 15_000 });
      const ids = new Set(table.map((s) => s.id));
      this.current = res.code === 0 ? parseIpvsadmSave(res.stdout).filter((s) => ids.has(s.id)) : [];
    }
    const lines = ipvsadmDiff(this.current, table);
    if (lines.length === 0) return [];
    for (const l of lines) this.opts.logger.debug(`Running ipvsadm ${l}`);
    const res = await run(this.bin, ['-R'], { input: lines.map((l) => `${l}\n`).join(''), timeoutMs: this.opts.timeoutMs ?? 15_000 });
    if (res.code !== 0) {
      // Unknown kernel state now: re-read it before the next change.
      this.current = undefined;
      throw new HbError(LDIRECTORD_ERRORS.IPVSADM_FAILED, `ipvsadm -R failed (${res.spawnError ?? `exit ${String(res.code)}`}): ${res.stderr.trim()}`);
    }
    this.current = structuredClone(table);
    return lines;
  }

  async clear(): Promise<void> {
    if (!this.current || this.current.length === 0) return;
    const lines = this.current.map(deleteService);
    const res = await run(this.bin, ['-R'], { input: lines.map((l) => `${l}\n`).join(''), timeoutMs: this.opts.timeoutMs ?? 15_000 });
    this.current = undefined;
    if (res.code !== 0) throw new HbError(LDIRECTORD_ERRORS.IPVSADM_FAILED, `ipvsadm -R (purge) failed: ${res.stderr.trim() || res.spawnError || 'unknown error'}`);
  }
}
