/**
 * A Heartbeat cluster on a lab (demo and benchmarks): the /etc/ha.d files of every node, the
 * resource scripts, and starting, stopping and crashing the daemon of a node
 * — real Heartbeat 3.0.6 (Debian's init script) or heartbeat-ts (this
 * checkout's bin/heartbeat) — with the same configuration.
 */
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type Lab, REPO_ROOT } from './lab.js';
import { cmdlineOf, isRunning, nowMs, signalAll, sleep } from './proc.js';

export type Kind = 'ours' | 'real';

export const REAL_INIT = '/etc/init.d/heartbeat';
export const REAL_STANDBY = '/usr/share/heartbeat/hb_standby';
export const OURS_JS = join(REPO_ROOT, 'dist/daemon/heartbeat.js');
export const OURS_BIN = join(REPO_ROOT, 'bin');
export const OURS_INIT = join(REPO_ROOT, 'daemon/init.d/heartbeat');
export const DEMO_WEB = join(REPO_ROOT, 'demo/hb-demo-web');
export const WEB_NAME = 'hb-demo-web';
export const HA_LOG = '/var/log/ha-log';

export interface ClusterSpec {
  /** node names are node1..nodeN */
  nodes: number;
  keepaliveMs: number;
  deadtimeMs: number;
  warntimeMs?: number;
  initdeadMs: number;
  autoFailback: boolean;
  auth: 'crc' | 'md5' | 'sha1';
  /** haresources text (may be empty) */
  haresources: string;
  /** more ha.cf lines */
  extra?: readonly string[];
  /** /etc/ha.d/heartbeat-ts.cf (3.0.6 never reads it); absent: no file */
  hbtsCf?: string;
}

export function nodeNames(n: number): string[] {
  return Array.from({ length: n }, (_, k) => `node${k + 1}`);
}

/** ha.cf text, the same for both daemons. */
export function haCfText(s: ClusterSpec): string {
  const lines = [
    '# written by heartbeat-ts demo/bench',
    `logfile ${HA_LOG}`,
    'debugfile /var/log/ha-debug',
    'use_logd no',
    'crm no',
    `keepalive ${s.keepaliveMs}ms`,
    `deadtime ${s.deadtimeMs}ms`,
  ];
  if (s.warntimeMs !== undefined) lines.push(`warntime ${s.warntimeMs}ms`);
  lines.push(`initdead ${s.initdeadMs}ms`, 'bcast eth0', `auto_failback ${s.autoFailback ? 'on' : 'off'}`);
  for (const n of nodeNames(s.nodes)) lines.push(`node ${n}`);
  lines.push(...(s.extra ?? []));
  return `${lines.join('\n')}\n`;
}

export function authkeysText(method: ClusterSpec['auth']): string {
  return method === 'crc' ? 'auth 1\n1 crc\n' : `auth 1\n1 ${method} heartbeat-ts-demo-key\n`;
}

/** Writes ha.cf, authkeys (0600) and haresources into every node. */
export function writeClusterConfig(lab: Lab, s: ClusterSpec): void {
  for (const i of lab.ids()) {
    lab.writeFile(i, '/etc/ha.d/ha.cf', haCfText(s));
    lab.writeFile(i, '/etc/ha.d/authkeys', authkeysText(s.auth), 0o600);
    lab.writeFile(i, '/etc/ha.d/haresources', s.haresources);
    if (s.hbtsCf !== undefined) lab.writeFile(i, '/etc/ha.d/heartbeat-ts.cf', s.hbtsCf);
  }
}

/** A service script for the group: the demo's (a Node.js page) unless a caller brings its own. */
export interface WebService {
  name: string;
  file: string;
}

export const DEMO_WEB_SERVICE: WebService = { name: WEB_NAME, file: DEMO_WEB };

/**
 * Installs the web service into node i's resource.d and, for heartbeat-ts,
 * this checkout's resource scripts (replacing Debian's of the same name, as
 * installing heartbeat-ts does).
 */
export function installScripts(lab: Lab, i: number, kind: Kind, service: WebService = DEMO_WEB_SERVICE): void {
  const web = readFileSync(service.file, 'utf8').replace(
    /^NODE=\$\{HB_DEMO_NODE:-node\}$/m,
    `NODE=\${HB_DEMO_NODE:-${process.execPath}}`,
  );
  lab.writeFile(i, `/etc/ha.d/resource.d/${service.name}`, web, 0o755);
  if (kind !== 'ours') return;
  const dir = join(REPO_ROOT, 'resource.d');
  if (!existsSync(dir)) return;
  for (const f of readdirSync(dir)) {
    const src = join(dir, f);
    if (statSync(src).isFile()) copyFileSync(src, lab.path(i, `/etc/ha.d/resource.d/${f}`));
  }
}

/** Host PIDs of node i's daemon processes. */
export async function daemonPids(lab: Lab, i: number, kind: Kind): Promise<number[]> {
  if (kind === 'real') return lab.pids(i, 'heartbeat');
  const out: number[] = [];
  for (const p of await lab.pids(i)) {
    const argv = cmdlineOf(p);
    if (argv.some((a) => a.endsWith('dist/daemon/heartbeat.js')) && argv.includes('-f')) out.push(p);
  }
  return out;
}

/** Environment for heartbeat-ts tools run inside a node: this Node.js binary. */
const oursEnv = (): string[] => ['env', `HEARTBEAT_TS_NODE=${process.execPath}`];

/** Starts node i's daemon the way an administrator would; resolves once it runs. */
export async function startDaemon(lab: Lab, i: number, kind: Kind): Promise<void> {
  if (kind === 'real') {
    const r = await lab.exec(i, [REAL_INIT, 'start'], { timeoutMs: 60_000 });
    if (r.code !== 0 || !/Done\./.test(r.stdout)) {
      throw new Error(`Heartbeat did not start on node${i} (exit ${r.code}): ${r.stdout.trim()} ${r.stderr.trim()}\n${logTail(lab, i)}`);
    }
    return;
  }
  if (!existsSync(OURS_JS)) throw new Error(`${OURS_JS} is missing: run \`npm run build\` first`);
  const r = await lab.exec(i, [...oursEnv(), join(OURS_BIN, 'heartbeat')], { timeoutMs: 60_000 });
  if (r.code !== 0) {
    throw new Error(`heartbeat-ts did not start on node${i} (exit ${r.code}): ${r.stdout.trim()} ${r.stderr.trim()}\n${logTail(lab, i)}`);
  }
}

/** Graceful stop through the init script (heartbeat-ts: its own, else `heartbeat -k`). */
export async function stopDaemon(lab: Lab, i: number, kind: Kind, timeoutMs = 90_000): Promise<void> {
  let argv: string[];
  if (kind === 'real') argv = [REAL_INIT, 'stop'];
  else if (existsSync(OURS_INIT)) argv = [...oursEnv(), `HEARTBEAT_TS_DAEMON=${join(OURS_BIN, 'heartbeat')}`, OURS_INIT, 'stop'];
  else argv = [...oursEnv(), join(OURS_BIN, 'heartbeat'), '-k'];
  const r = await lab.exec(i, argv, { timeoutMs });
  if (r.code !== 0) throw new Error(`stopping ${kind} on node${i} failed (exit ${r.code}): ${r.stdout.trim()} ${r.stderr.trim()}`);
  await waitGone(await daemonPids(lab, i, kind), 20_000, `node${i}'s daemon to end`);
}

/** kill -9 of every daemon process of node i (a crash: resources stay as they are); returns when it was sent. */
export async function crashDaemon(lab: Lab, i: number, kind: Kind): Promise<{ pids: number[]; t: number }> {
  const pids = await daemonPids(lab, i, kind);
  if (pids.length === 0) throw new Error(`no ${kind === 'real' ? 'Heartbeat' : 'heartbeat-ts'} process on node${i}`);
  const t = nowMs();
  signalAll(pids, 'SIGKILL');
  return { pids, t };
}

export async function waitGone(pids: readonly number[], timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (pids.some(isRunning)) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

/** `hb_standby` on node i (each product's own tool; both write to the daemon's FIFO). */
export async function standby(lab: Lab, i: number, kind: Kind): Promise<void> {
  const argv = kind === 'real' ? [REAL_STANDBY] : [...oursEnv(), join(OURS_BIN, 'hb_standby')];
  const r = await lab.exec(i, argv, { timeoutMs: 20_000 });
  if (r.code !== 0) throw new Error(`hb_standby on node${i} failed (exit ${r.code}): ${r.stdout}${r.stderr}`);
}

/**
 * What a reboot of a crashed node would clear: its processes, the addresses
 * added to eth0 after boot, and /run (a tmpfs).
 */
export async function rebootClean(lab: Lab, i: number): Promise<void> {
  signalAll(await lab.pids(i), 'SIGKILL');
  await lab.sh(i, `ip -4 addr flush dev eth0 secondary; ip -4 addr flush dev eth0 label 'eth0:*'`);
  const run = lab.path(i, '/run');
  for (const f of readdirSync(run)) rmSync(join(run, f), { recursive: true, force: true });
  mkdirSync(join(run, 'lock'));
  chmodSync(join(run, 'lock'), 0o1777);
}

export function logTail(lab: Lab, i: number, lines = 12): string {
  return (lab.readFile(i, HA_LOG) ?? '').split('\n').slice(-lines - 1).join('\n');
}
