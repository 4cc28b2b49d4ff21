/**
 * The nftables data plane, effectful part: gathers the host facts the
 * ruleset needs, keeps persistence entries across replacements and loads
 * the whole table with one `nft -f -` (one kernel transaction: packets see
 * either the old or the new table, never a half-built one).
 */
import { networkInterfaces } from 'node:os';
import { readFile } from 'node:fs/promises';
import type { ConfigProblem } from '../config/types.js';
import type { Logger } from '../util/log.js';
import { HbError, LDIRECTORD_ERRORS } from '../util/errors.js';
import { run } from './exec.js';
import { NFT_TABLE, renderNft, validateForNft, type NftEnv, type PersistState } from './nft.js';
import type { DataPlane, PlaneTable } from './plane.js';
import type { LdConfig } from './types.js';

export interface NftPlaneOptions {
  nft?: string;
  logger: Logger;
  /** Seconds a single nft run may take. */
  timeoutMs?: number;
}

export class NftPlane implements DataPlane {
  readonly name = 'nftables' as const;
  private readonly nft: string;
  private retry = false;
  private warnedForward = false;
  constructor(private readonly opts: NftPlaneOptions) {
    this.nft = opts.nft ?? 'nft';
  }

  validate(cfg: LdConfig): ConfigProblem[] {
    return validateForNft(cfg);
  }

  /** true when the last apply left something out (VIP not yet on an interface). */
  needsRetry(): boolean {
    return this.retry;
  }

  async apply(table: PlaneTable): Promise<string[]> {
    const env = await this.environment(table);
    const persisted = await this.readPersisted();
    const { text, warnings } = renderNft(table, env, persisted);
    this.retry = warnings.length > 0;
    for (const w of warnings) this.opts.logger.warn(w);
    await this.checkForwarding(table);
    const res = await run(this.nft, ['-f', '-'], { input: text, timeoutMs: this.opts.timeoutMs ?? 15_000 });
    if (res.code !== 0) {
      throw new HbError(LDIRECTORD_ERRORS.NFT_FAILED,
        `nft -f - failed (${res.spawnError ?? (res.timedOut ? 'timed out' : `exit ${String(res.code)}`)}): ${res.stderr.trim()}; the previous ${NFT_TABLE} table stays in force`);
    }
    return text.split('\n').filter((l) => l !== '');
  }

  async clear(): Promise<void> {
    const text = `table ip ${NFT_TABLE}\ndelete table ip ${NFT_TABLE}\ntable netdev ${NFT_TABLE}\ndelete table netdev ${NFT_TABLE}\n`;
    const res = await run(this.nft, ['-f', '-'], { input: text, timeoutMs: this.opts.timeoutMs ?? 15_000 });
    if (res.code !== 0) throw new HbError(LDIRECTORD_ERRORS.NFT_FAILED, `removing the ${NFT_TABLE} tables failed: ${res.stderr.trim() || res.spawnError || 'unknown error'}`);
  }

  private async environment(table: PlaneTable): Promise<NftEnv> {
    const local = new Set<string>();
    const byAddr = new Map<string, string>();
    for (const [dev, addrs] of Object.entries(networkInterfaces())) {
      for (const a of addrs ?? []) {
        if (a.family !== 'IPv4') continue;
        local.add(a.address);
        if (!byAddr.has(a.address)) byAddr.set(a.address, dev.split(':')[0] ?? dev);
      }
    }
    const routes = new Map<string, string>();
    for (const s of table) {
      for (const r of s.reals) {
        if (r.forward !== 'gate' || local.has(r.address) || routes.has(r.address)) continue;
        const res = await run('ip', ['-j', 'route', 'get', r.address], { timeoutMs: 5000 });
        try {
          const j = JSON.parse(res.stdout) as { dev?: string }[];
          const dev = j[0]?.dev;
          if (dev) routes.set(r.address, dev);
        } catch { /* no route: reported by renderNft */ }
      }
    }
    return {
      localAddresses: local,
      ingressDevice: (vip) => byAddr.get(vip),
      egressDevice: (rip) => routes.get(rip),
    };
  }

  /** Client entries of the persistence sets, so a reload keeps clients on their servers. */
  private async readPersisted(): Promise<PersistState> {
    const out: PersistState = new Map();
    const res = await run(this.nft, ['-j', 'list', 'table', 'ip', NFT_TABLE], { timeoutMs: 10_000 });
    if (res.code !== 0) return out;
    try {
      const doc = JSON.parse(res.stdout) as { nftables?: { set?: { name: string; elem?: unknown[] } }[] };
      for (const item of doc.nftables ?? []) {
        const set = item.set;
        if (!set || !set.name.startsWith('p_')) continue;
        const elems: { addr: string; expiresS: number }[] = [];
        for (const e of set.elem ?? []) {
          const o = (e as { elem?: { val?: unknown; expires?: unknown } }).elem;
          if (o && typeof o.val === 'string') elems.push({ addr: o.val, expiresS: typeof o.expires === 'number' ? o.expires : 1 });
        }
        out.set(set.name, elems);
      }
    } catch { /* unreadable: start with empty sets */ }
    return out;
  }

  private async checkForwarding(table: PlaneTable): Promise<void> {
    if (this.warnedForward || !table.some((s) => s.reals.some((r) => r.forward === 'masq'))) return;
    try {
      const v = (await readFile('/proc/sys/net/ipv4/ip_forward', 'utf8')).trim();
      if (v !== '1') {
        this.warnedForward = true;
        this.opts.logger.warn('net.ipv4.ip_forward is 0: masq traffic to real servers will not be forwarded (set it to 1)');
      }
    } catch { /* no procfs: nothing to say */ }
  }
}
