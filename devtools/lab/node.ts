/**
 * A lab node as the kernel sees it: its own network namespace (made by
 * `ip netns add`), and UTS + mount + PID namespaces made by `unshare`, whose
 * PID 1 (the node's init) keeps them alive. The `unshare` process stays on
 * the host as the node's "holder": with --kill-child its death SIGKILLs the
 * init, and the death of a PID namespace's init ends every process in it.
 *
 * The init is a two-line Perl loop (perl-base is Essential on Debian): it
 * reaps every orphan re-parented to it, so a daemon that double-forks never
 * leaves zombies whose PIDs pid files would still name. Before it starts, a
 * shell snippet inside the new namespaces sets the hostname, mounts the
 * node's own /sys and /proc and bind-mounts its private directories.
 */
import { spawn } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { childrenOf, commOf, isRunning, runCommand, sleep } from './proc.js';
import {
  CLEAN_PATH, hostnameOf, ipOf, type LabState, NETNS_DIR, type NodeId, nodeKey, nodeNs, stateDirOf, STATE_ROOT,
} from './state.js';

/** Per-node identity a copied /var/lib/heartbeat must not share, and host cluster config a node must not inherit. */
const NOT_INHERITED = [
  '/var/lib/heartbeat/hb_uuid', '/var/lib/heartbeat/hb_generation', '/var/lib/heartbeat/hostcache',
  '/var/lib/heartbeat/delhostcache', '/var/lib/heartbeat/fifo',
  '/etc/ha.d/ha.cf', '/etc/ha.d/authkeys', '/etc/ha.d/haresources', '/etc/ha.d/nodeinfo', '/etc/ha.d/heartbeat-ts.cf',
];

const SETUP = `set -e
hostname "$1"; ready=$2; title=$3; noipv6=$4; shift 4
for f in all default; do
  if [ "$noipv6" = 1 ] && [ -e /proc/sys/net/ipv6/conf/$f/disable_ipv6 ]; then echo 1 >/proc/sys/net/ipv6/conf/$f/disable_ipv6; fi
done
umount -l /sys 2>/dev/null || :
# the host's /run/netns holds every lab's namespaces: a copy here would keep them alive
umount -l /run/netns 2>/dev/null || :
mount -t sysfs -o nosuid,nodev,noexec sysfs /sys
mount -t proc -o nosuid,nodev,noexec proc /proc
while [ $# -ge 2 ]; do
  if [ -d "$1" ]; then mkdir -p "$2"; fi
  mount --bind "$1" "$2"
  shift 2
done
: >"$ready"
exec perl -e '$0 = shift; $SIG{$_} = "IGNORE" for qw(HUP INT TERM QUIT USR1 USR2 PIPE); while (1) { sleep 1 if wait == -1 }' "$title"
`;

/** Private per-node directories real heartbeat needs (compiled-in paths). */
export const HEARTBEAT_PRIVATE: readonly string[] = ['/etc/ha.d:copy', '/var/lib/heartbeat:copy', '/run:empty', '/var/log:empty'];
/** For resource-script tests that install or change /etc/init.d scripts per node. */
export const PRIVATE_INITD = '/etc/init.d:copy';

/** Host symlinks like /var/run -> /run: a node sees the same links, into its private dirs. */
export function hostAliases(): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const a of ['/var/run', '/var/lock']) {
    try {
      const real = realpathSync(a);
      if (real !== a) out.push([a, real]);
    } catch {
      // not present on this host
    }
  }
  return out;
}

/** The private directory entries of a lab: heartbeat's, the caller's extras, /etc/init.d on request. */
export function privateEntries(extra: readonly string[], privateInitD: boolean): string[] {
  const entries = [...HEARTBEAT_PRIVATE, ...extra];
  if (privateInitD) entries.push(PRIVATE_INITD);
  // /var/run/heartbeat lives in the private /run when /var/run links to it
  // (Debian); where it is a real directory it needs its own entry
  if (!hostAliases().some(([a]) => a === '/var/run')) entries.push('/var/run:empty');
  for (const e of entries) parsePrivate(e); // throws on a bad entry before anything is built
  return entries;
}

export interface PrivateEntry {
  path: string;
  mode: 'copy' | 'empty';
}

/** Parses `PATH[:copy|:empty]` (copy is the default); throws on a relative path or an unknown mode. */
export function parsePrivate(entry: string): PrivateEntry {
  const at = entry.lastIndexOf(':');
  const path = at > 0 ? entry.slice(0, at) : entry;
  const mode = at > 0 ? entry.slice(at + 1) : 'copy';
  if (!path.startsWith('/')) throw new Error(`private directory ${path} is not absolute`);
  if (mode !== 'copy' && mode !== 'empty') throw new Error(`private directory mode ${mode} unknown (copy or empty): ${entry}`);
  const clean = path.replace(/\/+$/, '') || '/';
  if (`${STATE_ROOT}/`.startsWith(`${clean}/`)) throw new Error(`private directory ${clean} would hide the lab's state (${STATE_ROOT})`);
  return { path: clean, mode };
}

export const nodeDir = (name: string, id: NodeId): string => join(stateDirOf(name), 'nodes', nodeKey(id));
export const nodeRoot = (name: string, id: NodeId): string => join(nodeDir(name, id), 'root');

/** Fills every node's private trees on the host side: copies of the host's directories, or empty ones. */
export async function seedPrivateDirs(s: LabState, ids: readonly NodeId[]): Promise<void> {
  const copies: string[] = [];
  for (const id of ids) {
    for (const e of s.private.map(parsePrivate)) {
      const dst = nodeRoot(s.name, id) + e.path;
      mkdirSync(dst, { recursive: true });
      if (e.mode === 'empty') chmodSync(dst, 0o755);
      else if (existsSync(e.path)) copies.push(e.path, dst);
    }
    if (s.private.some((e) => parsePrivate(e).path === '/run')) {
      mkdirSync(join(nodeRoot(s.name, id), 'run/lock'), { recursive: true });
      chmodSync(join(nodeRoot(s.name, id), 'run/lock'), 0o1777);
    }
  }
  if (copies.length > 0) {
    // cp -a keeps owners, modes, links and special files; the directory itself keeps its owner and mode too
    const script = 'set -e; while [ $# -ge 2 ]; do cp -a "$1/." "$2/"; chown --reference="$1" "$2"; chmod --reference="$1" "$2"; shift 2; done';
    const r = await runCommand(['/bin/sh', '-c', script, 'seed', ...copies], { env: { PATH: CLEAN_PATH }, timeoutMs: 120_000 });
    if (r.code !== 0) throw new Error(`copying private directories failed: ${r.stderr.trim()}`);
  }
  for (const id of ids) for (const f of NOT_INHERITED) rmSync(nodeRoot(s.name, id) + f, { force: true });
}

/** /etc/hosts of every node: all lab members by name. */
export function writeHosts(s: LabState, ids: readonly NodeId[]): string {
  const file = join(stateDirOf(s.name), 'hosts');
  const lines = ['127.0.0.1 localhost', ...ids.map((id) => `${ipOf(s.subnet, id)} ${hostnameOf(id)}`)];
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

/** Starts node id's holder and init; resolves once the init runs with every mount in place. */
export async function startNodeInit(s: LabState, id: NodeId, hostsFile: string): Promise<void> {
  const dir = nodeDir(s.name, id);
  mkdirSync(dir, { recursive: true });
  const ready = join(dir, 'ready');
  rmSync(ready, { force: true });
  // parents before children, so a nested private dir is mounted over its parent's copy
  const binds = s.private.map(parsePrivate).map((e) => e.path).sort();
  const pairs = binds.flatMap((p) => [nodeRoot(s.name, id) + p, p]);
  pairs.push(hostsFile, '/etc/hosts');
  const log = openSync(join(dir, 'init.log'), 'w');
  const holder = spawn(
    'unshare',
    ['--uts', '--mount', '--pid', '--fork', '--kill-child', '--propagation', 'private',
      'nsenter', `--net=${join(NETNS_DIR, nodeNs(s.name, id))}`, '--',
      '/bin/sh', '-c', SETUP, 'lab-setup', hostnameOf(id), ready, `lab-init ${s.name} ${hostnameOf(id)}`, s.ipv6 ? '0' : '1', ...pairs],
    { detached: true, stdio: ['ignore', log, log], env: { PATH: CLEAN_PATH } },
  );
  closeSync(log);
  holder.unref();
  holder.on('error', () => undefined);
  if (holder.pid === undefined) throw new Error(`node ${id}: cannot run unshare`);
  writeFileSync(join(dir, 'holder.pid'), `${holder.pid}\n`);
  const end = Date.now() + 30_000;
  while (!existsSync(ready)) {
    if (!isRunning(holder.pid) || Date.now() > end) {
      const why = readFileSync(join(dir, 'init.log'), 'utf8').trim();
      throw new Error(`node ${id} init ${isRunning(holder.pid) ? 'timed out' : 'failed'}: ${why || '(no output)'}`);
    }
    await sleep(20);
  }
}

/** Host PID of node id's holder (the `unshare` process), if it still runs. */
export function holderPid(name: string, id: NodeId): number | undefined {
  try {
    const pid = Number(readFileSync(join(nodeDir(name, id), 'holder.pid'), 'utf8').trim());
    return pid > 0 && commOf(pid) === 'unshare' ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Host PID of node id's init (PID 1 inside the node). */
export function initPid(name: string, id: NodeId): number | undefined {
  const holder = holderPid(name, id);
  if (holder === undefined) return undefined;
  const init = childrenOf(holder)[0];
  return init !== undefined && isRunning(init) ? init : undefined;
}

/** Environment of a command run in a node: a clean PATH, the node's identity, then the caller's additions. */
export function nodeEnv(s: LabState, id: NodeId | 'sw', extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: CLEAN_PATH, HOME: process.env['HOME'] ?? '/root', LAB_NAME: s.name, LAB_NODE: String(id) };
  if (process.env['TZ'] !== undefined) env['TZ'] = process.env['TZ'];
  if (process.env['TERM'] !== undefined) env['TERM'] = process.env['TERM'];
  if (id !== 'sw') Object.assign(env, { LAB_NODE_NAME: hostnameOf(id), LAB_NODE_IP: ipOf(s.subnet, id), HOSTNAME: hostnameOf(id) });
  return { ...env, ...extra };
}

/**
 * argv that runs `argv` inside node id (all its namespaces; 'sw' = the
 * switch's network namespace only). nsenter forks once to enter the PID
 * namespace: the command is nsenter's child. The working directory is kept
 * when it exists inside the node.
 */
export function enterArgv(s: LabState, id: NodeId | 'sw', argv: readonly string[]): string[] {
  if (id === 'sw') return ['nsenter', `--net=${join(NETNS_DIR, `${s.name}-sw`)}`, '--', ...argv];
  const init = initPid(s.name, id);
  if (init === undefined) throw new Error(`lab ${s.name}: node ${id} has no init process (the lab is broken: down and up again)`);
  return [
    'nsenter', '-t', String(init), '--net', '--uts', '--mount', '--pid', '--',
    '/bin/sh', '-c', 'cd "$0" 2>/dev/null || cd /; exec "$@"', process.cwd(), ...argv,
  ];
}
