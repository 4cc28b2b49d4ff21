/**
 * keepalived 2.2 (Debian's package) as a VRRPv3 pair on a lab, for the
 * benchmark's third column: one configuration per node written under the
 * lab's state directory (never /etc/keepalived), pid files there too, the
 * daemon started in the node's namespaces without forking away (so its PID
 * is known) and killed by PID. Its log goes to the console and is stamped
 * line by line as it arrives.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Lab, NodeProcess } from './lab.js';
import { nowMs, signalAll } from './proc.js';
import type { TimedLine } from './watch.js';

export const KEEPALIVED = '/usr/sbin/keepalived';
/** VRRP router id of the lab pair (any 1..255: each lab is its own LAN) */
const VRID = 51;

export interface VrrpSpec {
  /** advertisement interval in seconds; VRRPv3 takes centiseconds (0.01 .. 40.95) */
  advertS: number;
  /** the address the pair moves, on eth0, with its prefix length */
  vip: string;
  prefix: number;
  /** `vrrp_rt_priority 1` and `vrrp_no_swap`: SCHED_RR at the lowest priority and locked memory, as Heartbeat runs (default: keepalived's own, neither) */
  realtime?: boolean;
}

/** Priority of node i: node1 is the preferred master, the others back it up in order. */
export const vrrpPriority = (i: number): number => Math.max(1, 200 - 10 * i);

/** The master-down interval a backup waits (RFC 5798): 3 × advert + skew, skew = (256 − priority) × advert / 256. */
export function masterDownMs(advertS: number, priority: number): number {
  return (3 * advertS + ((256 - priority) * advertS) / 256) * 1000;
}

/** Per-node directory for keepalived's configuration and pid files, on the host, under the lab's state dir. */
export function keepalivedDir(lab: Lab, i: number): string {
  return join(lab.stateDir, 'keepalived', `node${i}`);
}

/** keepalived.conf of node i (1-based) of nodes whose eth0 addresses are `ips`: VRRPv3, unicast to the others, the VIP on eth0. */
export function keepalivedConf(i: number, ips: readonly string[], s: VrrpSpec): string {
  const own = ips[i - 1];
  if (own === undefined) throw new Error(`keepalived: no address for node${i} among ${ips.length}`);
  if (!Number.isFinite(s.advertS) || s.advertS < 0.01 || s.advertS > 40.95) {
    throw new Error(`keepalived: advert_int must be 0.01..40.95 s in VRRPv3, got ${s.advertS}`);
  }
  const peers = ips.filter((_, k) => k !== i - 1).map((ip) => `    ${ip}`);
  return [
    '# written by heartbeat-ts bench (devtools/lab/keepalived.ts)',
    'global_defs {',
    `  router_id node${i}`,
    '  vrrp_version 3',
    ...(s.realtime === true ? ['  vrrp_rt_priority 1', '  vrrp_no_swap'] : []),
    '}',
    'vrrp_instance LAB {',
    `  state ${i === 1 ? 'MASTER' : 'BACKUP'}`,
    '  interface eth0',
    `  virtual_router_id ${VRID}`,
    `  priority ${vrrpPriority(i)}`,
    `  advert_int ${s.advertS}`,
    `  unicast_src_ip ${own}`,
    '  unicast_peer {',
    ...peers,
    '  }',
    '  virtual_ipaddress {',
    `    ${s.vip}/${s.prefix} dev eth0`,
    '  }',
    '}',
    '',
  ].join('\n');
}

/** A running keepalived of one node: its parent's PID and its stamped log lines. */
export interface KeepalivedNode {
  readonly node: number;
  readonly proc: NodeProcess;
  readonly lines: TimedLine[];
}

/** Writes node i's configuration and starts keepalived (VRRP only) in the node. */
export async function startKeepalived(lab: Lab, i: number, s: VrrpSpec): Promise<KeepalivedNode> {
  const dir = keepalivedDir(lab, i);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const conf = join(dir, 'keepalived.conf');
  writeFileSync(conf, keepalivedConf(i, lab.ids().map((k) => lab.ip(k)), s), { mode: 0o600 });
  const lines: TimedLine[] = [];
  const argv = [
    KEEPALIVED, '--dont-fork', '--vrrp', '--log-console', '--log-detail', '--no-syslog',
    '--use-file', conf, '--pid', join(dir, 'keepalived.pid'), '--vrrp_pid', join(dir, 'vrrp.pid'),
  ];
  const proc = await lab.spawn(i, argv, { onLine: (text) => lines.push({ t: nowMs(), text }) });
  if (proc.pid === undefined) throw new Error(`keepalived ended at once on node${i}: ${lines.map((l) => l.text).join('\n')}`);
  return { node: i, proc, lines };
}

/** Host PIDs of node i's keepalived processes (the parent and its VRRP child). */
export function keepalivedPids(lab: Lab, i: number): Promise<number[]> {
  return lab.pids(i, 'keepalived');
}

/** kill -9 of every keepalived process of node i (the VIP stays where it was, as after a crash). */
export async function crashKeepalived(lab: Lab, i: number): Promise<{ pids: number[]; t: number }> {
  const pids = await keepalivedPids(lab, i);
  if (pids.length === 0) throw new Error(`no keepalived process on node${i}`);
  const t = nowMs();
  signalAll(pids, 'SIGKILL');
  return { pids, t };
}

/** The first line at or after index `from` matching re, waiting up to timeoutMs. */
export async function waitLine(k: KeepalivedNode, re: RegExp, opts: { from?: number; timeoutMs: number }): Promise<TimedLine> {
  const end = Date.now() + opts.timeoutMs;
  for (;;) {
    const hit = k.lines.slice(opts.from ?? 0).find((l) => re.test(l.text));
    if (hit !== undefined) return hit;
    if (Date.now() > end || !k.proc.running()) {
      const tail = k.lines.slice(-10).map((l) => l.text).join('\n');
      throw new Error(`keepalived node${k.node}: ${k.proc.running() ? `timed out after ${opts.timeoutMs} ms waiting for` : 'ended before'} ${re.source}; last lines:\n${tail}`);
    }
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** keepalived's log line for a VRRP instance becoming master. */
export const MASTER_RE = /\(LAB\) Entering MASTER STATE/;
