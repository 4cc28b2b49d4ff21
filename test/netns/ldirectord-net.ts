/**
 * A small LVS lab of network namespaces for the ldirectord tests: a client,
 * a director (front interface with the VIP, back bridge), two real servers
 * routed through the director (LVS-NAT), each with its own HTTP page.
 * Every name carries a per-run suffix; `destroy()` kills what we started by
 * PID and deletes the namespaces (their nft tables and links go with them).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const VIP = '192.168.71.100';
export const CLIENT = '192.168.71.2';
export const DIRECTOR_FRONT = '192.168.71.1';
export const DIRECTOR_BACK = '192.168.72.1';
export const RS = ['192.168.72.11', '192.168.72.12'] as const;
/** Direct routing: everybody on one LAN. */
export const DR = { vip: '192.168.73.100', client: '192.168.73.2', director: '192.168.73.1', rs: ['192.168.73.11', '192.168.73.12'] } as const;

export function sh(args: string[], input?: string): string {
  return execFileSync(args[0] ?? 'true', args.slice(1), { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'] });
}

export class LvsLab {
  readonly id = `${process.pid.toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  readonly ns = { client: `ldc-${this.id}`, director: `ldd-${this.id}`, rs1: `ldr1-${this.id}`, rs2: `ldr2-${this.id}`, sw: `ldsw-${this.id}` };
  /** The VIP clients use: the NAT lab's or the direct-routing lab's. */
  vip = VIP;
  readonly dir = mkdtempSync(join(tmpdir(), 'ldlab-'));
  private readonly procs = new Map<string, ChildProcess>();
  private created: string[] = [];

  exec(ns: string, args: string[], input?: string): string {
    return sh(['ip', 'netns', 'exec', ns, ...args], input);
  }

  /**
   * Direct-routing lab: client, director and real servers plugged into one
   * bridge that lives in its own switch namespace.
   */
  createDr(): void {
    this.vip = DR.vip;
    for (const n of Object.values(this.ns)) {
      sh(['ip', 'netns', 'add', n]);
      this.created.push(n);
      this.exec(n, ['ip', 'link', 'set', 'lo', 'up']);
    }
    const { client, director, rs1, rs2, sw } = this.ns;
    this.exec(sw, ['ip', 'link', 'add', 'br0', 'type', 'bridge']);
    this.exec(sw, ['ip', 'link', 'set', 'br0', 'up']);
    const hosts: [string, string][] = [[client, DR.client], [director, DR.director], [rs1, DR.rs[0]], [rs2, DR.rs[1]]];
    hosts.forEach(([n, addr], i) => {
      sh(['ip', 'link', 'add', 'eth0', 'netns', n, 'type', 'veth', 'peer', 'name', `p${i}`, 'netns', sw]);
      this.exec(sw, ['ip', 'link', 'set', `p${i}`, 'master', 'br0', 'up']);
      this.exec(n, ['ip', 'addr', 'add', `${addr}/24`, 'dev', 'eth0']);
      this.exec(n, ['ip', 'link', 'set', 'eth0', 'up']);
    });
    this.exec(director, ['ip', 'addr', 'add', `${DR.vip}/24`, 'dev', 'eth0']);
  }

  create(): void {
    for (const n of Object.values(this.ns)) {
      if (n === this.ns.sw) continue;
      sh(['ip', 'netns', 'add', n]);
      this.created.push(n);
      this.exec(n, ['ip', 'link', 'set', 'lo', 'up']);
    }
    const { client, director, rs1, rs2 } = this.ns;
    // Links are created straight inside the namespaces: no name ever lives
    // in the host namespace, so parallel runs cannot collide.
    sh(['ip', 'link', 'add', 'eth0', 'netns', client, 'type', 'veth', 'peer', 'name', 'front', 'netns', director]);
    this.exec(director, ['ip', 'link', 'add', 'br0', 'type', 'bridge']);
    for (const [i, n] of [[1, rs1], [2, rs2]] as const) {
      sh(['ip', 'link', 'add', 'eth0', 'netns', n, 'type', 'veth', 'peer', 'name', `b${i}`, 'netns', director]);
      this.exec(director, ['ip', 'link', 'set', `b${i}`, 'master', 'br0', 'up']);
      this.exec(n, ['ip', 'addr', 'add', `${RS[i - 1]}/24`, 'dev', 'eth0']);
      this.exec(n, ['ip', 'link', 'set', 'eth0', 'up']);
      this.exec(n, ['ip', 'route', 'add', 'default', 'via', DIRECTOR_BACK]);
    }
    this.exec(client, ['ip', 'addr', 'add', `${CLIENT}/24`, 'dev', 'eth0']);
    this.exec(client, ['ip', 'link', 'set', 'eth0', 'up']);
    this.exec(director, ['ip', 'addr', 'add', `${DIRECTOR_FRONT}/24`, 'dev', 'front']);
    this.exec(director, ['ip', 'addr', 'add', `${VIP}/24`, 'dev', 'front']);
    this.exec(director, ['ip', 'link', 'set', 'front', 'up']);
    this.exec(director, ['ip', 'addr', 'add', `${DIRECTOR_BACK}/24`, 'dev', 'br0']);
    this.exec(director, ['ip', 'link', 'set', 'br0', 'up']);
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
    for (const n of this.created) {
      // Processes we did not track (a daemon that outlived its stop) are ours too.
      try {
        const pids = sh(['ip', 'netns', 'pids', n]).split('\n').filter(Boolean);
        for (const pid of pids) { try { process.kill(Number(pid), 'SIGKILL'); } catch { /* gone */ } }
      } catch { /* namespace gone */ }
      try { sh(['ip', 'netns', 'del', n]); } catch { /* already gone */ }
    }
    this.created = [];
    rmSync(this.dir, { recursive: true, force: true });
  }
}
