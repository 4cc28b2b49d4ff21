/**
 * Driving cluster members for the failover netns tests: heartbeat-ts
 * daemons with a chosen environment, crash/stop by host PID, the repo's
 * resource scripts installed into a node's /etc/ha.d/resource.d, the
 * standby tools, and "who answers HTTP on the VIP" from the client.
 */
import { copyFileSync, existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  CL_STATUS, httpGet, logSize, OURS, OURS_OUT, readLog, startReal, stopReal, killReal, waitFor,
} from './harness/heartbeat.js';
import { type Lab, type NodeProcess, REPO_ROOT } from './harness/lab.js';
import { isRunning, signalAll } from './harness/proc.js';

export const REPO_RESOURCE_D = join(REPO_ROOT, 'resource.d');
export const FIXTURES = join(REPO_ROOT, 'test/netns/fixtures');
/** Debian's standby tools: they write to the FIFO /var/lib/heartbeat/fifo of whichever daemon runs. */
export const DEBIAN_HB_STANDBY = '/usr/share/heartbeat/hb_standby';
export const DEBIAN_HB_TAKEOVER = '/usr/share/heartbeat/hb_takeover';

export const OURS_HB_STANDBY = join(REPO_ROOT, 'bin/hb_standby');
export const OURS_HB_TAKEOVER = join(REPO_ROOT, 'bin/hb_takeover');
export const OURS_CL_STATUS = join(REPO_ROOT, 'bin/cl_status');

export type Kind = 'ours' | 'real';

/**
 * Copies the repository's resource scripts (and the helpers they source)
 * into node i's /etc/ha.d/resource.d, replacing Debian's of the same name.
 * `names` limits the executable scripts copied; helpers (*.sh) always go.
 */
export function installRepoScripts(lab: Lab, i: number, names?: readonly string[]): string[] {
  const copied: string[] = [];
  for (const f of readdirSync(REPO_RESOURCE_D)) {
    const src = join(REPO_RESOURCE_D, f);
    if (!statSync(src).isFile()) continue;
    const helper = f.endsWith('.sh');
    if (!helper && names !== undefined && !names.includes(f)) continue;
    const dst = lab.path(i, `/etc/ha.d/resource.d/${f}`);
    copyFileSync(src, dst);
    copied.push(f);
  }
  for (const n of names ?? []) {
    if (!copied.includes(n)) throw new Error(`resource script ${n} is not in ${REPO_RESOURCE_D}`);
  }
  return copied;
}

/** Writes an executable script into node i (path must be private to the node). */
export function installScript(lab: Lab, i: number, path: string, text: string): void {
  lab.writeFile(i, path, text, 0o755);
}

/**
 * Host PIDs of heartbeat-ts daemons in node i: Node.js processes running
 * dist/daemon/heartbeat.js (other Node.js programs, and the nsenter that
 * started it with the same words on its command line, are not it).
 */
export async function oursDaemonPids(lab: Lab, i: number): Promise<number[]> {
  const node = realpathSync(process.execPath);
  const out: number[] = [];
  for (const p of await lab.pids(i)) {
    try {
      const argv = readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0');
      if (realpathSync(`/proc/${p}/exe`) === node && argv[1] === OURS) out.push(p);
    } catch {
      // ended meanwhile
    }
  }
  return out;
}

/** Starts heartbeat-ts in the foreground in node i with extra environment (HA_START_TIMEOUT, …). */
export async function startOursEnv(lab: Lab, i: number, env: Record<string, string> = {}): Promise<NodeProcess> {
  if (!existsSync(OURS)) throw new Error(`${OURS} missing: run \`npx tsc -p .\` first`);
  return lab.spawn(i, [process.execPath, OURS, '-f'], { logFile: lab.path(i, OURS_OUT), env });
}

/** kill -9 of node i's heartbeat-ts: a crash, resources stay configured. */
export async function crashOurs(lab: Lab, i: number): Promise<void> {
  const pids = await oursDaemonPids(lab, i);
  if (pids.length === 0) throw new Error(`no heartbeat-ts running in node ${i}`);
  signalAll(pids, 'SIGKILL');
  await waitFor(() => pids.filter(isRunning), { timeoutMs: 5000, what: `node ${i}'s daemon to die`, until: (l) => l.length === 0 });
}

/** Graceful stop (SIGTERM: gives everything up), waiting until the daemon is gone. */
export async function stopOurs(lab: Lab, i: number, timeoutMs = 60_000): Promise<void> {
  const pids = await oursDaemonPids(lab, i);
  signalAll(pids, 'SIGTERM');
  await waitFor(() => pids.filter(isRunning), { timeoutMs, what: `node ${i}'s daemon to stop`, until: (l) => l.length === 0 });
}

/** A member of the cluster under test: real heartbeat 3.0.6 or heartbeat-ts. */
export class Member {
  constructor(readonly lab: Lab, readonly id: number, public kind: Kind, public env: Record<string, string> = {}) {}

  async start(): Promise<void> {
    if (this.kind === 'real') await startReal(this.lab, this.id);
    else await startOursEnv(this.lab, this.id, this.env);
  }

  async crash(): Promise<void> {
    if (this.kind === 'real') {
      const pids = await killReal(this.lab, this.id, 'SIGKILL');
      if (pids.length === 0) throw new Error(`no real heartbeat running in node ${this.id}`);
      await waitFor(() => pids.filter(isRunning), { timeoutMs: 5000, what: `node ${this.id}'s heartbeat to die`, until: (l) => l.length === 0 });
    } else {
      await crashOurs(this.lab, this.id);
    }
  }

  async stop(): Promise<void> {
    if (this.kind === 'real') {
      if ((await this.lab.pids(this.id, 'heartbeat')).length > 0) await stopReal(this.lab, this.id);
    } else if ((await oursDaemonPids(this.lab, this.id)).length > 0) {
      await stopOurs(this.lab, this.id);
    }
  }

  async running(): Promise<boolean> {
    return this.kind === 'real'
      ? (await this.lab.pids(this.id, 'heartbeat')).length > 0
      : (await oursDaemonPids(this.lab, this.id)).length > 0;
  }

  log(): string {
    return readLog(this.lab, this.id);
  }

  logSize(): number {
    return logSize(this.lab, this.id);
  }

  /**
   * `cl_status rscstatus` on this node (each daemon with its own suite's
   * cl_status): local/foreign/all/none once stable, `transition` while a
   * resource change is under way on either side.
   */
  async rscstatus(): Promise<string> {
    const argv = this.kind === 'ours' ? [OURS_CL_STATUS, 'rscstatus'] : [CL_STATUS, 'rscstatus'];
    const r = await this.lab.exec(this.id, argv, { timeoutMs: 20_000, env: { HEARTBEAT_TS_NODE: process.execPath } });
    return r.code === 0 ? r.stdout.trim() : `exit ${r.code}: ${r.stdout.trim()} ${r.stderr.trim()}`;
  }

  /**
   * `hb_standby [set]` run on this node: heartbeat-ts's bin/hb_standby for
   * our daemon, Debian's for real heartbeat (both write to the FIFO).
   */
  standby(set = 'all'): Promise<void> {
    return this.tool(this.kind === 'ours' ? OURS_HB_STANDBY : DEBIAN_HB_STANDBY, set);
  }

  /** `hb_takeover [set]` run on this node. */
  takeover(set = 'all'): Promise<void> {
    return this.tool(this.kind === 'ours' ? OURS_HB_TAKEOVER : DEBIAN_HB_TAKEOVER, set);
  }

  private async tool(path: string, set: string): Promise<void> {
    // Debian's FIFO write blocks when no daemon reads it: the timeout says so
    const r = await this.lab.exec(this.id, [path, set], { timeoutMs: 15_000, env: { HEARTBEAT_TS_NODE: process.execPath } });
    if (r.code !== 0) throw new Error(`${path} ${set} on node ${this.id} failed (${r.code}): ${r.stdout}${r.stderr}`);
  }
}

/** What a client sees on http://vip:port/host.txt: the node name in the answer ('' when nobody answers). */
export async function whoServes(lab: Lab, vip: string, port: number, timeoutMs = 2000): Promise<{ node: string; body: string }> {
  const r = await httpGet(lab, 'c', `http://${vip}:${port}/host.txt`, timeoutMs);
  if (r.code !== 0 || r.status !== 200) return { node: '', body: `curl ${r.code} HTTP ${r.status} ${r.stderr.trim()}` };
  const m = /^served by (node\d+)$/m.exec(r.body);
  return { node: m?.[1] ?? '', body: r.body };
}
