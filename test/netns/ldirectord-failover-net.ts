/**
 * Network pieces of the two-director ldirectord failover test
 * (ldirectord-failover.test.ts), on a lab of four nodes and two LANs:
 *
 *   client c ──┐ LAN 0 (front)                 VIP 10.77.0.100 floats
 *   node1 eth0 ┤                               between the directors
 *   node2 eth0 ┘
 *   node1 eth1 ┐ LAN 1 (back)                  gateway 10.77.1.1 floats
 *   node2 eth1 ┤                               with the VIP (same group)
 *   node3/4 ───┘ real servers, default route via 10.77.1.1
 *
 * The client's back cable and the real servers' front cables are
 * unplugged inside those nodes, so the only way between them is a director.
 *
 * With masq the real servers' replies must pass the director whose
 * conntrack holds the DNAT binding; routing them through a gateway address
 * that moves with the VIP makes them follow whichever director is active.
 * Also: a prober (the client's repeated GETs) and a monitor of which
 * directors hold the ldirectord nft table.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ipOf } from '../../devtools/lab/state.js';
import type { Lab } from './harness/lab.js';
import { sh } from './ldirectord-net.js';

/** The lab's subnet (LAN 0); LAN 1 is 10.77.1. */
export const LAB_SUBNET = '10.77.0';
export const DIRECTORS = [1, 2] as const;
const REAL_SERVER_NODES = [3, 4] as const;
export const GATEWAY = '10.77.1.1';
export const REAL_SERVERS = [ipOf(LAB_SUBNET, REAL_SERVER_NODES[0], 1), ipOf(LAB_SUBNET, REAL_SERVER_NODES[1], 1)] as const;
/** A director's own (fixed) address on the back LAN. */
export const directorBack = (i: number): string => ipOf(LAB_SUBNET, i, 1);

/** Runs argv in a network namespace, asynchronously; never rejects. */
export function nsExec(ns: string, argv: string[], timeoutMs = 5000): Promise<{ code: number; out: string }> {
  return new Promise((res) => {
    execFile('ip', ['netns', 'exec', ns, ...argv], { timeout: timeoutMs, encoding: 'utf8' }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      res({ code, out: `${stdout}${stderr}` });
    });
  });
}

/** The back LAN's plumbing and the real servers' web pages. */
export class BackLan {
  readonly rs: readonly [string, string];
  private readonly dir = mkdtempSync(join(tmpdir(), 'ldfo-'));
  private readonly servers: ChildProcess[] = [];

  constructor(private readonly lab: Lab) {
    this.rs = [lab.netns(REAL_SERVER_NODES[0]), lab.netns(REAL_SERVER_NODES[1])];
  }

  private exec(ns: string, args: string[]): string {
    return sh(['ip', 'netns', 'exec', ns, ...args]);
  }

  /** Client on the front LAN only, real servers on the back LAN only, routed through the gateway. */
  create(): void {
    this.exec(this.lab.netns('c'), ['ip', 'link', 'set', 'eth1', 'down']);
    for (const ns of this.rs) {
      this.exec(ns, ['ip', 'link', 'set', 'eth0', 'down']);
      this.exec(ns, ['ip', 'route', 'add', 'default', 'via', GATEWAY]);
    }
  }

  /** Each real server serves `page-of-rs<k>` on port 80. */
  async startHttp(): Promise<void> {
    this.rs.forEach((ns, k) => {
      const root = join(this.dir, `www${k + 1}`);
      mkdirSync(root, { recursive: true });
      writeFileSync(join(root, 'index.html'), `page-of-rs${k + 1}\n`);
      this.servers.push(spawn('ip', ['netns', 'exec', ns, 'python3', '-m', 'http.server', '80', '--bind', '0.0.0.0', '--directory', root], {
        stdio: 'ignore',
      }));
    });
    for (const ns of this.rs) {
      const end = Date.now() + 15_000;
      while (!this.exec(ns, ['ss', '-ltnH', 'sport = :80']).trim()) {
        if (Date.now() > end) throw new Error(`nothing listens on ${ns}:80 after 15 s`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  /** Kills the web servers we started (by PID); the lab takes the namespaces down. */
  destroy(): void {
    for (const p of this.servers) {
      if (p.pid !== undefined) try { process.kill(p.pid, 'SIGKILL'); } catch { /* gone */ }
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface Probe {
  /** when the GET was sent and when it ended, ms since the prober started */
  sent: number;
  t: number;
  /** the page's text, or '' when no answer came */
  page: string;
}

/** The client's repeated GETs on the virtual service, one connection each, until stopped. */
export class Prober {
  readonly probes: Probe[] = [];
  private running = false;
  private loop: Promise<void> | undefined;
  readonly t0 = Date.now();

  constructor(private readonly clientNs: string, private readonly url: string) {}

  start(): void {
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        const sent = this.now();
        const r = await nsExec(this.clientNs, ['curl', '-s', '-m', '1', this.url], 4000);
        this.probes.push({ sent, t: this.now(), page: r.code === 0 ? r.out.trim() : '' });
        await new Promise((res) => setTimeout(res, 100));
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  now(): number {
    return Date.now() - this.t0;
  }

  /** Answered GETs sent at or after t. */
  answeredSince(t: number): Probe[] {
    return this.probes.filter((p) => p.sent >= t && p.page !== '');
  }

  /** The last answer to a GET sent before t. */
  lastAnswerBefore(t: number): Probe | undefined {
    return this.probes.filter((p) => p.sent < t && p.page !== '').at(-1);
  }
}

/**
 * Samples `nft list tables` in every director's namespace (both at once)
 * and records any moment more than one counted director holds the
 * ldirectord table. A crashed, cut-off director is excluded.
 */
export class NftMonitor {
  readonly samples: Array<{ t: number; holders: number[] }> = [];
  readonly violations: Array<{ t: number; holders: number[] }> = [];
  private readonly excluded = new Set<number>();
  private running = false;
  private loop: Promise<void> | undefined;
  private readonly t0 = Date.now();

  constructor(private readonly lab: Lab) {}

  start(): void {
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        await this.sample();
        await new Promise((r) => setTimeout(r, 150));
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  exclude(i: number): void {
    this.excluded.add(i);
  }

  async sample(): Promise<number[]> {
    const t = Date.now() - this.t0;
    const ids = [...DIRECTORS];
    const outs = await Promise.all(ids.map((i) => nsExec(this.lab.netns(i), ['nft', 'list', 'tables'])));
    const holders = ids.filter((_, k) => /^table ip ldirectord$/m.test(outs[k]?.out ?? ''));
    this.samples.push({ t, holders });
    const counted = holders.filter((i) => !this.excluded.has(i));
    if (counted.length > 1) this.violations.push({ t, holders: counted });
    return holders;
  }

  /** Changes of holders over time, for messages and the report. */
  timeline(): string {
    let prev = '';
    const out: string[] = [];
    for (const s of this.samples) {
      const cur = `[${s.holders.join(',')}]`;
      if (cur !== prev) out.push(`${(s.t / 1000).toFixed(1)} s: table on ${cur}`);
      prev = cur;
    }
    return out.join('; ');
  }
}
