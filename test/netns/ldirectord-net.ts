/**
 * The LVS labs of the ldirectord tests, built on the project's lab
 * (devtools/lab): node1 is the director, nodes 2 and 3 the real servers, the
 * lab's client the client.
 * - LVS-NAT (`create`): two LANs. The client sits on LAN 0 only, the real
 *   servers on LAN 1 only (their other cable is unplugged inside the node),
 *   the director on both, with the VIP on its front and forwarding on; the
 *   real servers route through the director's back address.
 * - Direct routing (`createDr`): everybody on one LAN.
 * `destroy()` kills what we started and takes the lab down (every namespace
 * and process with it).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ipOf } from '../../devtools/lab/state.js';
import { Lab } from './harness/lab.js';

const NAT_SUBNET = '192.168.71';
const DR_SUBNET = '192.168.73';
const DIRECTOR = 1;
const REAL_SERVERS = [2, 3] as const;

export const VIP = `${NAT_SUBNET}.100`;
export const CLIENT = ipOf(NAT_SUBNET, 'c');
export const DIRECTOR_FRONT = ipOf(NAT_SUBNET, DIRECTOR, 0);
export const DIRECTOR_BACK = ipOf(NAT_SUBNET, DIRECTOR, 1);
export const RS = [ipOf(NAT_SUBNET, REAL_SERVERS[0], 1), ipOf(NAT_SUBNET, REAL_SERVERS[1], 1)] as const;
/** Direct routing: everybody on one LAN. */
export const DR = {
  vip: `${DR_SUBNET}.100`, client: ipOf(DR_SUBNET, 'c'), director: ipOf(DR_SUBNET, DIRECTOR),
  rs: [ipOf(DR_SUBNET, REAL_SERVERS[0]), ipOf(DR_SUBNET, REAL_SERVERS[1])],
} as const;

export function sh(args: string[], input?: string): string {
  return execFileSync(args[0] ?? 'true', args.slice(1), { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'] });
}

export class LvsLab {
  readonly id = `${process.pid.toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  /** Network namespace names (`ip netns exec`), set by create/createDr. */
  readonly ns = { client: '', director: '', rs1: '', rs2: '' };
  /** The VIP clients use: the NAT lab's or the direct-routing lab's. */
  vip = VIP;
  readonly dir = mkdtempSync(join(tmpdir(), 'ldlab-'));
  private readonly procs = new Map<string, ChildProcess>();
  private lab: Lab | undefined;

  exec(ns: string, args: string[], input?: string): string {
    return sh(['ip', 'netns', 'exec', ns, ...args], input);
  }

  private async up(subnet: string, lans: number): Promise<Lab> {
    const lab = await Lab.up({ nodes: 3, lans, subnet, purpose: 'ldirectord' });
    this.lab = lab;
    Object.assign(this.ns, {
      client: lab.netns('c'), director: lab.netns(DIRECTOR), rs1: lab.netns(REAL_SERVERS[0]), rs2: lab.netns(REAL_SERVERS[1]),
    });
    return lab;
  }

  /** Direct-routing lab: client, director and real servers on one LAN; the VIP on the director. */
  async createDr(): Promise<void> {
    this.vip = DR.vip;
    await this.up(DR_SUBNET, 1);
    this.exec(this.ns.director, ['ip', 'addr', 'add', `${DR.vip}/24`, 'dev', 'eth0']);
  }

  /** LVS-NAT lab: client | director | real servers, the director routing between the two LANs. */
  async create(): Promise<void> {
    await this.up(NAT_SUBNET, 2);
    const { client, director } = this.ns;
    this.exec(client, ['ip', 'link', 'set', 'eth1', 'down']);
    for (const n of [this.ns.rs1, this.ns.rs2]) {
      this.exec(n, ['ip', 'link', 'set', 'eth0', 'down']);
      this.exec(n, ['ip', 'route', 'add', 'default', 'via', DIRECTOR_BACK]);
    }
    this.exec(director, ['ip', 'addr', 'add', `${VIP}/24`, 'dev', 'eth0']);
    this.exec(director, ['sysctl', '-qw', 'net.ipv4.ip_forward=1']);
  }

  /** Adds client source addresses (for source-hash tests). */
  addClientAddresses(addrs: string[]): void {
    for (const a of addrs) this.exec(this.ns.client, ['ip', 'addr', 'add', `${a}/24`, 'dev', 'eth0']);
  }

  /** python3 -m http.server serving a one-line page in `ns` on `port`. */
  startHttp(name: string, ns: string, port: number, page: string): void {
    const root = join(this.dir, `www-${name}`);
    mkdirSync(root, { recursive: true });
    writeFileSync(join(root, 'index.html'), `${page}\n`);
    const p = spawn('ip', ['netns', 'exec', ns, 'python3', '-m', 'http.server', String(port), '--bind', '0.0.0.0', '--directory', root], {
      stdio: 'ignore',
    });
    this.procs.set(name, p);
  }

  /** A TCP server that completes the handshake and then never says a word. */
  startHanging(name: string, ns: string, port: number): void {
    const code = `import socket,time\ns=socket.socket()\ns.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\n` +
      `s.bind(('0.0.0.0',${port}))\ns.listen(64)\nconns=[]\nwhile True:\n  c,_=s.accept()\n  conns.append(c)\n`;
    const p = spawn('ip', ['netns', 'exec', ns, 'python3', '-c', code], { stdio: 'ignore' });
    this.procs.set(name, p);
  }

  stop(name: string): void {
    const p = this.procs.get(name);
    if (p?.pid !== undefined) {
      try { process.kill(p.pid, 'SIGKILL'); } catch { /* gone */ }
    }
    this.procs.delete(name);
  }

  /** Waits until `port` listens in `ns`. */
  async waitListening(ns: string, port: number, timeoutMs = 15_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      const out = this.exec(ns, ['ss', '-ltnH', `sport = :${port}`]);
      if (out.trim()) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`nothing listens on ${ns}:${port} after ${timeoutMs} ms`);
  }

  /** `count` GETs from the client (optionally from `source`), one connection each; the pages' texts. */
  get(port: number, count: number, source?: string): string[] {
    const iface = source ? ` --interface ${source}` : '';
    const script = `for i in $(seq ${count}); do curl -s -m 4${iface} http://${this.vip}:${port}/ || echo FAILED; done`;
    return this.exec(this.ns.client, ['sh', '-c', script]).split('\n').filter(Boolean);
  }

  destroy(): void {
    for (const name of [...this.procs.keys()]) this.stop(name);
    try {
      const left = this.lab?.downSync() ?? [];
      if (left.length > 0) throw new Error(`LVS lab down left traces: ${left.join('; ')}`);
    } finally {
      rmSync(this.dir, { recursive: true, force: true });
    }
  }
}
