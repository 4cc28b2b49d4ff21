/**
 * The nftables data plane, pure part: what it can do (validateForNft) and
 * the ruleset text for a table (renderNft).
 *
 * masq: DNAT in a nat chain (prerouting and output) choosing the real
 *   server with `numgen inc` (rr, wrr) or `jhash` (sh, dh). NAT is decided
 *   on a connection's first packet and kept by conntrack, so a ruleset
 *   change never moves established connections. Replies must come back
 *   through the director (real servers route via it, as with IPVS NAT) so
 *   that conntrack can undo the DNAT; no SNAT is done, real servers see the
 *   client's address.
 * gate (direct routing): a netdev ingress chain on the interface holding
 *   the VIP forwards the unchanged IP packet to the real server's MAC
 *   (`fwd ip to <rip> device <dev>`). That hook has no connection tracking,
 *   so only stateless choices are consistent per connection: sh and dh.
 * persistent (masq): per-real dynamic sets of client addresses (masked by
 *   netmask) with the persistence timeout; a forward-chain rule refreshes
 *   the entry on every packet of a connection, and a lookup ahead of the
 *   scheduler sends a known client back to its server.
 */
import type { ConfigProblem } from '../config/types.js';
import type { PlaneService, PlaneTable } from './plane.js';
import { fnv1a, rrBuckets, weightedBuckets, wrrBuckets, type Bucket } from './sched.js';
import { fallbackFor, type LdConfig } from './types.js';

export const NFT_TABLE = 'ldirectord';
const NFT_SCHEDULERS = ['rr', 'wrr', 'sh', 'dh'];
const GATE_SCHEDULERS = ['sh', 'dh'];
const IPVS_ONLY_WHY: Record<string, string> = {
  lc: 'it needs per-server active connection counts, which nftables cannot consult per packet',
  wlc: 'it needs per-server active connection counts, which nftables cannot consult per packet',
  sed: 'it needs per-server active connection counts, which nftables cannot consult per packet',
  nq: 'it needs per-server active connection counts, which nftables cannot consult per packet',
  lblc: 'it needs per-destination locality tables with connection counts',
  lblcr: 'it needs per-destination locality tables with connection counts',
  fo: 'it needs per-server overload state from IPVS',
  ovf: 'it needs per-server active connection counts, which nftables cannot consult per packet',
  mh: 'Maglev hashing is not available in nftables',
  twos: 'it needs per-server active connection counts, which nftables cannot consult per packet',
};

export function isLoopback(addr: string): boolean {
  return addr.startsWith('127.');
}

/** Everything in `cfg` the nftables plane cannot do, as configuration errors. */
export function validateForNft(cfg: LdConfig): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  const err = (line: number, code: string, message: string, severity: 'error' | 'warning' = 'error'): void => {
    out.push({ file: cfg.file, line, severity, code, message });
  };
  for (const v of cfg.virtuals) {
    const label = v.protocol === 'fwm' ? `fwm:${v.fwmark ?? 0}` : `${v.address ?? ''}:${v.port}`;
    if (!NFT_SCHEDULERS.includes(v.scheduler)) {
      err(v.schedulerLine, 'LDCF_IPVS_ONLY',
        `scheduler=${v.scheduler} (virtual ${label}) is IPVS-only: ${IPVS_ONLY_WHY[v.scheduler] ?? 'nftables has no equivalent'}; ` +
        'the nftables data plane supports rr, wrr, sh and dh (set dataplane=ipvs on a kernel with IPVS)');
    }
    if (v.ops) err(v.line, 'LDCF_IPVS_ONLY', `ops=yes (virtual ${label}) is IPVS-only: one-packet scheduling has no nftables equivalent`);
    const targets = [...v.reals];
    const fb = fallbackFor(cfg, v);
    const forwards = new Set(targets.map((r) => r.forward));
    if (fb && !(fb.forward === 'gate' && isLoopback(fb.address))) forwards.add(fb.forward);
    for (const r of targets) {
      if (r.forward === 'ipip') {
        err(r.line, 'LDCF_IPVS_ONLY', `real ${r.address}: forward method ipip (LVS-TUN) is IPVS-only: nftables cannot encapsulate`);
      }
      if (r.forward === 'masq' && isLoopback(r.address)) {
        err(r.line, 'LDCF_NFT_LOOPBACK', `real ${r.address}: a loopback real server works with nftables only as fallback`);
      }
      if (r.forward === 'gate' && r.port !== 0 && v.protocol !== 'fwm' && r.port !== v.port) {
        err(r.line, 'LDCF_GATE_PORT', `real ${r.address}:${r.port} uses gate: direct routing cannot change the port, ${v.port} is used`, 'warning');
      }
    }
    if (fb?.forward === 'ipip') err(fb.line, 'LDCF_IPVS_ONLY', 'fallback with forward method ipip (LVS-TUN) is IPVS-only');
    if (forwards.has('gate') && forwards.has('masq')) {
      err(v.line, 'LDCF_NFT_MIXED', `virtual ${label} mixes gate and masq real servers: the nftables plane needs one forward method per virtual service`);
    }
    if (forwards.has('gate')) {
      if (v.protocol === 'fwm') {
        err(v.line, 'LDCF_IPVS_ONLY', `virtual ${label}: gate with a firewall mark is IPVS-only (marks are set after the netdev ingress hook that nftables direct routing uses)`);
      }
      if (NFT_SCHEDULERS.includes(v.scheduler) && !GATE_SCHEDULERS.includes(v.scheduler)) {
        err(v.schedulerLine, 'LDCF_IPVS_ONLY',
          `scheduler=${v.scheduler} with gate (direct routing) is IPVS-only: nftables direct routing runs in the netdev ingress hook, ` +
          'which has no connection tracking, so only the stateless sh and dh schedulers keep a connection on one real server');
      }
      if (v.persistent !== undefined && v.scheduler !== 'sh') {
        err(v.line, 'LDCF_IPVS_ONLY', `persistent with gate is IPVS-only unless scheduler=sh (source hashing already keeps a client on one server)`);
      } else if (v.persistent !== undefined) {
        err(v.line, 'LDCF_NFT_PERSIST_SH', 'persistent with gate and sh: clients stay on their server by source hashing, without a timeout', 'warning');
      }
    }
    if (v.protocol === 'fwm' && forwards.has('masq')) {
      const ports = new Set(targets.map((r) => r.port === 0));
      if (ports.size > 1) err(v.line, 'LDCF_NFT_FWM_PORTS', `virtual ${label}: give all real servers a port or none (nftables maps either addresses or address.port pairs)`);
    }
  }
  return out;
}

/** Facts about the director the ruleset depends on. */
export interface NftEnv {
  /** Addresses configured on this host (a target here is served locally). */
  localAddresses: ReadonlySet<string>;
  /** Interface holding each gate VIP (ingress), and the route device towards each gate real server. */
  ingressDevice(vip: string): string | undefined;
  egressDevice(rip: string): string | undefined;
}

/** Persistence set entries carried over a table replacement. */
export type PersistState = Map<string, { addr: string; expiresS: number }[]>;

export function persistSetName(serviceId: string, address: string, port: number): string {
  return `p_${fnv1a(`${serviceId}|${address}:${port}`).toString(16).padStart(8, '0')}`;
}

function match(s: PlaneService): string {
  if (s.protocol === 'fwm') return `meta mark ${s.fwmark ?? 0}`;
  return `ip daddr ${s.address ?? '0.0.0.0'} ${s.protocol} dport ${s.port}`;
}

const effPort = (s: PlaneService, port: number): number => (port === 0 && s.protocol !== 'fwm' ? s.port : port);

function target(s: PlaneService, addr: string, port: number): string {
  const p = effPort(s, port);
  return p === 0 ? addr : `${addr} . ${p}`;
}

function mapText(buckets: Bucket[], values: string[]): string {
  return buckets.map((b) => `${b.from === b.to ? b.from : `${b.from}-${b.to}`} : ${values[b.index] ?? ''}`).join(', ');
}

export interface RenderResult { text: string; warnings: string[] }

export function renderNft(table: PlaneTable, env: NftEnv, persisted: PersistState = new Map()): RenderResult {
  const warnings: string[] = [];
  const sets: string[] = [];
  const svcRules: string[] = [];
  const persistRules: string[] = [];
  const ingress = new Map<string, string[]>();
  for (const s of table) {
    const active = s.reals.filter((r) => r.weight > 0);
    const m = match(s);
    const isGate = s.reals.some((r) => r.forward === 'gate');
    svcRules.push(`\t\t# ${s.id} ${s.scheduler}${s.persistent !== undefined ? ` persistent ${s.persistent}` : ''}`);
    if (isGate) {
      renderGate(s, active, env, ingress, warnings);
      continue;
    }
    const saddr = s.netmask && s.netmask !== '255.255.255.255' ? `ip saddr and ${s.netmask}` : 'ip saddr';
    if (s.persistent !== undefined) {
      for (const r of s.reals) {
        if (r.fallback || env.localAddresses.has(r.address) || isLoopback(r.address)) continue;
        const name = persistSetName(s.id, r.address, r.port);
        const kept = persisted.get(name) ?? [];
        const elems = kept.length
          ? ` elements = { ${kept.map((e) => `${e.addr} timeout ${s.persistent}s expires ${Math.max(1, e.expiresS)}s`).join(', ')} }` : '';
        sets.push(`\tset ${name} {\n\t\ttype ipv4_addr; flags dynamic,timeout; timeout ${Math.max(1, s.persistent)}s;${elems}\n\t}`);
        svcRules.push(`\t\t${m} ${saddr} @${name} dnat ip to ${target(s, r.address, r.port).replace(' . ', ':')}`);
        const orig = s.protocol === 'fwm'
          ? `meta mark ${s.fwmark ?? 0} ct status dnat`
          : `meta l4proto ${s.protocol} ct status dnat ct original ip daddr ${s.address ?? ''} ct original proto-dst ${s.port}`;
        const dport = effPort(s, r.port) === 0 ? '' : ` th dport ${effPort(s, r.port)}`;
        persistRules.push(`\t\t${orig} ip daddr ${r.address}${dport} update @${name} { ${saddr} timeout ${Math.max(1, s.persistent)}s }`);
      }
    }
    if (active.length === 0) continue;
    const local = active.filter((r) => env.localAddresses.has(r.address) || isLoopback(r.address));
    if (active.length === 1 && local.length === 1) {
      // A local target (typically the fallback on 127.0.0.1) is reached by
      // redirecting to this host, which also works for loopback addresses.
      const r = active[0];
      if (r) svcRules.push(`\t\t${m} redirect to :${effPort(s, r.port) || s.port}`);
      continue;
    }
    if (active.length === 1) {
      const r = active[0];
      if (r) svcRules.push(`\t\t${m} dnat ip to ${target(s, r.address, r.port).replace(' . ', ':')}`);
      continue;
    }
    const values = active.map((r) => target(s, r.address, r.port));
    const weights = active.map((r) => r.weight);
    const { expr, modulus, buckets } = selector(s, weights);
    svcRules.push(`\t\t${m} dnat ip to ${expr} mod ${modulus}${seedFor(s, expr)} map { ${mapText(buckets, values)} }`);
  }
  const lines: string[] = [];
  lines.push(`table ip ${NFT_TABLE}`, `delete table ip ${NFT_TABLE}`, `table netdev ${NFT_TABLE}`, `delete table netdev ${NFT_TABLE}`);
  lines.push(`table ip ${NFT_TABLE} {`);
  lines.push(...sets);
  lines.push('\tchain services {', ...svcRules, '\t}');
  lines.push('\tchain prerouting {', '\t\ttype nat hook prerouting priority dstnat; policy accept;', '\t\tjump services', '\t}');
  lines.push('\tchain output {', '\t\ttype nat hook output priority -100; policy accept;', '\t\tjump services', '\t}');
  lines.push('\tchain persist {', '\t\ttype filter hook forward priority filter; policy accept;', ...persistRules, '\t}');
  lines.push('}');
  if (ingress.size > 0) {
    lines.push(`table netdev ${NFT_TABLE} {`);
    for (const [dev, rules] of ingress) {
      lines.push(`\tchain ingress_${dev.replace(/[^A-Za-z0-9_]/g, '_')} {`,
        `\t\ttype filter hook ingress device "${dev}" priority -500; policy accept;`, ...rules, '\t}');
    }
    lines.push('}');
  }
  return { text: `${lines.join('\n')}\n`, warnings };
}

function seedFor(s: PlaneService, expr: string): string {
  // A fixed seed per service keeps sh/dh choices stable across reloads.
  return expr.startsWith('jhash') ? ` seed 0x${fnv1a(s.id).toString(16)}` : '';
}

function selector(s: PlaneService, weights: number[]): { expr: string; modulus: number; buckets: Bucket[] } {
  switch (s.scheduler) {
    case 'rr': return { expr: 'numgen inc', ...rrBuckets(weights.length) };
    case 'sh': return { expr: 'jhash ip saddr', ...weightedBuckets(weights) };
    case 'dh': return { expr: 'jhash ip daddr', ...weightedBuckets(weights) };
    default: return { expr: 'numgen inc', ...wrrBuckets(weights) };
  }
}

function renderGate(
  s: PlaneService, active: PlaneService['reals'], env: NftEnv, ingress: Map<string, string[]>, warnings: string[],
): void {
  const remote = active.filter((r) => !(env.localAddresses.has(r.address) || isLoopback(r.address)));
  // A local gate target (fallback on this host) needs no rule: the packet
  // is for a local address and the stack delivers it.
  if (remote.length === 0) return;
  const inDev = env.ingressDevice(s.address ?? '');
  if (!inDev) {
    warnings.push(`${s.id}: VIP ${s.address ?? ''} is not configured on any interface yet; direct routing rules not installed`);
    return;
  }
  const outDevs = new Set(remote.map((r) => env.egressDevice(r.address)));
  const outDev = [...outDevs][0];
  if (outDevs.size !== 1 || !outDev) {
    warnings.push(`${s.id}: gate real servers must all be reachable through one interface (found ${[...outDevs].map(String).join(', ')})`);
    return;
  }
  const m = match(s);
  const rules = ingress.get(inDev) ?? [];
  if (remote.length === 1) {
    rules.push(`\t\t${m} fwd ip to ${remote[0]?.address ?? ''} device "${outDev}"`);
  } else {
    const { expr, modulus, buckets } = selector(s, remote.map((r) => r.weight));
    rules.push(`\t\t${m} fwd ip to ${expr} mod ${modulus}${seedFor(s, expr)} map { ${mapText(buckets, remote.map((r) => r.address))} } device "${outDev}"`);
  }
  ingress.set(inDev, rules);
}
