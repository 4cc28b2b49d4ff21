/**
 * What a data plane is told: the full desired table (virtual services and
 * the real servers currently in them, with weights), never individual
 * events. Each plane turns a table into kernel state its own way: ipvsadm
 * diffs against what it applied last, nftables replaces its whole table.
 */
import type { ConfigProblem } from '../config/types.js';
import type { Forward, LdConfig, Protocol } from './types.js';

export interface PlaneReal {
  address: string;
  port: number;
  forward: Forward;
  /** 0 = quiescent: kept for existing/persistent clients, no new ones. */
  weight: number;
  /** true for the fallback server (never quiescent). */
  fallback: boolean;
}

export interface PlaneService {
  /** virtualId(): `tcp:10.0.0.1:80` / `fwm:5`. */
  id: string;
  protocol: Protocol;
  address?: string;
  port: number;
  fwmark?: number;
  scheduler: string;
  persistent?: number;
  netmask?: string;
  ops: boolean;
  reals: PlaneReal[];
}

export type PlaneTable = PlaneService[];

export interface DataPlane {
  readonly name: 'nftables' | 'ipvs';
  /** Configuration this plane cannot carry out, with lines. */
  validate(cfg: LdConfig): ConfigProblem[];
  /** Makes the kernel match `table`. Resolves with the lines it ran, for logs and tests. */
  apply(table: PlaneTable): Promise<string[]>;
  /** Removes everything this plane installed (cleanstop). */
  clear(): Promise<void>;
}

/** Pure helper for tests and logs: the table as `id -> rip:port(w)` lines. */
export function describeTable(table: PlaneTable): string[] {
  return table.map((s) => `${s.id} ${s.scheduler}${s.persistent !== undefined ? ` p${s.persistent}` : ''}: ` +
    (s.reals.map((r) => `${r.address}:${r.port}/${r.forward}/w${r.weight}${r.fallback ? '/fallback' : ''}`).join(' ') || '-'));
}
