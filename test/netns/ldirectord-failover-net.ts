/**
 * Network pieces of the two-director ldirectord failover test
 * (ldirectord-failover.test.ts), added to a harness Lab of two nodes:
 *
 *   client c ──┐ front LAN (the Lab's bridge)  VIP 10.77.0.100 floats
 *   node1 eth0 ┤                               between the directors
 *   node2 eth0 ┘
 *   node1 eth1 ┐ back LAN (BackLan's bridge)   gateway 10.77.1.1 floats
 *   node2 eth1 ┤                               with the VIP (same group)
 *   rs1 / rs2 ─┘ default route via 10.77.1.1
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
import type { Lab } from './harness/lab.js';
import { sh } from './ldirectord-net.js';

export const BACK_NET = '10.77.1';
export const GATEWAY = `${BACK_NET}.1`;
export const REAL_SERVERS = [`${BACK_NET}.21`, `${BACK_NET}.22`] as const;
/** A director's own (fixed) address on the back LAN. */
export const directorBack = (i: number): string => `${BACK_NET}.${10 + i}`;

/** Runs argv in a network namespace, asynchronously; never rejects. */
export function nsExec(ns: string, argv: string[], timeoutMs = 5000): Promise<{ code: number; out: string }> {
  return new Promise((res) => {
    execFile('ip', ['netns', 'exec', ns, ...argv], { timeout: timeoutMs, encoding: 'utf8' }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      res({ code, out: `${stdout}${stderr}` });
    });
  });
}

/**
 * The back LAN: a bridge in its own switch namespace, an eth1 into each
 * director's namespace and two real-server namespaces serving HTTP.
 */
export class BackLan {
  readonly id = `${process.pid.toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  readonly sw = `ldfsw-${this.id}`;
  readonly rs = [`ldfr1-${this.id}`, `ldfr2-${this.id}`] as const;
  private readonly dir = mkdtempSync(join(tmpdir(), 'ldfo-'));
  private readonly servers: ChildProcess[] = [];
  private created: string[] = [];

  constructor(private readonly lab: Lab) {}

  private exec(ns: string, args: string[]): string {
    return sh(['ip', 'netns', 'exec', ns, ...args]);
  }

  create(): void {
    for (const n of [this.sw, ...this.rs]) {
      sh(['ip', 'netns', 'add', n]);
      this.created.push(n);
      this.exec(n, ['ip', 'link', 'set', 'lo', 'up']);
    }
    this.exec(this.sw, ['ip', 'link', 'add', 'br0', 'type', 'bridge']);
    this.exec(this.sw, ['ip', 'link', 'set', 'br0', 'up']);
    // Links are created straight inside the namespaces, never in the host's.
    for (const i of this.lab.ids()) {
      const node = this.lab.netns(i);
      sh(['ip', 'link', 'add', 'eth1', 'netns', node, 'type', 'veth', 'peer', 'name', `d${i}`, 'netns', this.sw]);
      this.exec(this.sw, ['ip', 'link', 'set', `d${i}`, 'master', 'br0', 'up']);
      this.exec(node, ['ip', 'addr', 'add', `${directorBack(i)}/24`, 'dev', 'eth1']);
      this.exec(node, ['ip', 'link', 'set', 'eth1', 'up']);
    }
    this.rs.forEach((ns, k) => {
      sh(['ip', 'link', 'add', 'eth0', 'netns', ns, 'type', 'veth', 'peer', 'name', `r${k + 1}`, 'netns', this.sw]);
      this.exec(this.sw, ['ip', 'link', 'set', `r${k + 1}`, 'master', 'br0', 'up']);
      this.exec(ns, ['ip', 'addr', 'add', `${REAL_SERVERS[k]}/24`, 'dev', 'eth0']);
      this.exec(ns, ['ip', 'link', 'set', 'eth0', 'up']);
      this.exec(ns, ['ip', 'route', 'add', 'default', 'via', GATEWAY]);
    });
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

  /** Pulls director i's back cable (its switch port goes down). */
  cut(i: number): void {
    this.exec(this.sw, ['ip', 'link', 'set', `d${i}`, 'down']);
  }

  /** Kills what we started (by PID) and deletes our namespaces; the directors' eth1 go with the switch. */
  destroy(): void {
    for (const p of this.servers) {
      if (p.pid !== undefined) try { process.kill(p.pid, 'SIGKILL'); } catch { /* gone */ }
    }
    for (const n of this.created) {
      try {
        for (const pid of sh(['ip', 'netns', 'pids', n]).split('\n').filter(Boolean)) {
          try { process.kill(Number(pid), 'SIGKILL'); } catch { /* gone */ }
        }
      } catch { /* namespace gone */ }
      try { sh(['ip', 'netns', 'del', n]); } catch { /* already gone */ }
    }
    this.created = [];
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
    const ids = this.lab.ids();
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
