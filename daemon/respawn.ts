/**
 * `respawn user command` clients (spec 8.2): started as that user once
 * communications are up, restarted when they die — except after exit code
 * 100 — and stopped with SIGTERM at shutdown. A client that keeps dying
 * right after start is throttled with a growing delay instead of being
 * restarted in a tight loop (heartbeat slept 1 s, then gave up for good
 * after ten quick deaths; we keep trying, at most once a minute).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, chownSync, constants } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { basename } from 'node:path';
import type { HaConfig, RespawnLine } from '../lib/config/types.js';
import type { Clock, TimerHandle } from '../lib/util/clock.js';
import type { Logger } from '../lib/util/log.js';
import type { HeartbeatNode } from './node.js';
import type { Attachment } from './run.js';

/** A death within this long after start counts as "quick". */
const QUICK_DEATH_MS = 30_000;
const MAX_BACKOFF_MS = 60_000;
const STOP_GRACE_MS = 5000;
/** The user heartbeat's own clients run as (HA_CCMUSER). */
const API_USER = 'hacluster';

interface Client {
  line: RespawnLine;
  argv: string[];
  display: string;
  uid: number;
  gid: number;
  child: ChildProcess | null;
  startedAt: number;
  quickDeaths: number;
  timer: TimerHandle | null;
}

/**
 * heartbeat exports every recorded ha.cf parameter as HA_<name> (HA_logfile,
 * HA_debugfile, HA_logfacility, HA_use_logd, …): its C clients find their
 * logging there (glue's cl_inherit_logging_environment), so ipfail and dopd
 * write to the daemon's log files.
 */
function recordedParameters(config: HaConfig): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(config.raw)) {
    if (/^[A-Za-z][A-Za-z0-9_]*$/.test(name) && !value.includes('\0')) env[`HA_${name}`] = value;
  }
  return env;
}

function lookupId(flag: '-u' | '-g', user: string): number | undefined {
  const r = spawnSync('id', [flag, user], { encoding: 'utf8' });
  const n = Number(r.stdout.trim());
  return r.status === 0 && Number.isInteger(n) ? n : undefined;
}

export class RespawnAttachment implements Attachment {
  readonly name = 'respawn';
  private readonly clients: Client[] = [];
  private stopping = false;
  private started = false;

  /**
   * `apiReady`: resolves once the API sockets accept connections — heartbeat
   * opens them before it starts its clients, which sign on at once.
   */
  constructor(
    private readonly config: HaConfig,
    private readonly log: Logger,
    private readonly env: Record<string, string>,
    private readonly clock: Clock,
    private readonly apiReady: () => Promise<void> = () => Promise.resolve(),
  ) {
    for (const line of config.respawn) {
      const uid = lookupId('-u', line.user);
      const gid = lookupId('-g', line.user);
      if (uid === undefined || gid === undefined) {
        log.error(`respawn: unknown user [${line.user}] for ${line.command} (ha.cf line ${line.line}); client not started`);
        continue;
      }
      // The program the administrator configured, Heartbeat's own C clients included (they speak
      // Heartbeat's API on the register socket); heartbeat-ts's ipfail is bin/ipfail.
      const argv = ['/bin/sh', '-c', `exec ${line.commandLine}`];
      try {
        accessSync(line.command, constants.X_OK);
      } catch {
        log.error(`Cannot exec ${line.command}: not an executable file (ha.cf line ${line.line})`);
        continue;
      }
      this.clients.push({ line, argv, display: line.command, uid, gid, child: null, startedAt: 0, quickDeaths: 0, timer: null });
    }
  }

  /**
   * heartbeat hands its log files to hacluster at start, so that its clients
   * (ipfail runs as hacluster) can append to them; so do we.
   */
  private shareLogFiles(): void {
    const uid = lookupId('-u', API_USER);
    const gid = lookupId('-g', API_USER);
    if (uid === undefined || gid === undefined) {
      this.log.error(`respawn: entry for user ${API_USER} not found: log files keep their owner`);
      return;
    }
    for (const f of [this.config.logfile, this.config.debugfile]) {
      if (f === undefined || f === '/dev/null') continue;
      try {
        chownSync(f, uid, gid);
      } catch (err) {
        this.log.warn(`respawn: failed to chown ${f}: ${(err as Error).message}`);
      }
    }
  }

  start(node: HeartbeatNode): void {
    // Clients start when communications are up, as heartbeat starts them in comm_now_up.
    const go = (): void => {
      if (this.started) return;
      this.started = true;
      if (this.clients.length > 0) this.shareLogFiles();
      void this.apiReady().then(() => {
        for (const c of this.clients) this.launch(c);
      });
    };
    if (node.cluster.isCommUp) go();
    else node.cluster.once('commUp', go);
  }

  rebind(node: HeartbeatNode): void {
    this.start(node);
  }

  private launch(c: Client): void {
    if (this.stopping) return;
    c.timer = null;
    this.log.info(`Starting child client "${c.display}" (${c.uid},${c.gid})`);
    const child = spawn(c.argv[0] ?? '/bin/sh', c.argv.slice(1), {
      uid: c.uid,
      gid: c.gid,
      // bin/ipfail (heartbeat-ts's) runs on the daemon's own node binary.
      env: { HEARTBEAT_TS_NODE: process.execPath, ...process.env, ...recordedParameters(this.config), ...this.env },
      stdio: 'ignore',
      detached: true,
    });
    c.child = child;
    c.startedAt = this.clock.nowMs();
    this.log.info(`Starting "${c.display}" as uid ${c.uid}  gid ${c.gid} (pid ${child.pid ?? '?'})`);
    child.on('error', (err) => this.log.error(`Cannot exec ${c.display}: ${err.message}`));
    const pid = child.pid ?? 0;
    child.on('exit', (code, signal) => this.died(c, pid, code, signal));
  }

  private died(c: Client, pid: number, code: number | null, signal: NodeJS.Signals | null): void {
    c.child = null;
    if (this.stopping) return;
    if (code !== null && code !== 0) this.log.error(`Client ${c.display} exited with return code ${code}.`);
    if (signal !== null) this.log.error(`Client ${c.display} (pid=${pid}) killed by signal ${osConstants.signals[signal] ?? signal}.`);
    if (code === 100) {
      this.log.info(`Client ${c.display} exited with 100: not respawning it.`);
      return;
    }
    const quick = this.clock.nowMs() - c.startedAt < QUICK_DEATH_MS;
    c.quickDeaths = quick ? c.quickDeaths + 1 : 0;
    const delay = c.quickDeaths === 0 ? 0 : Math.min(MAX_BACKOFF_MS, 1000 * 2 ** (c.quickDeaths - 1));
    if (delay >= 4000) {
      this.log.error(`Client ${c.display} "respawning too fast": next start in ${delay / 1000} s (${c.quickDeaths} quick deaths in a row)`);
    } else {
      this.log.error(`Respawning client "${c.display}":`);
    }
    c.timer = this.clock.setTimer(() => this.launch(c), delay);
  }

  async shutdown(): Promise<void> {
    this.stopping = true;
    const waits: Promise<void>[] = [];
    for (const c of this.clients) {
      c.timer?.cancel();
      c.timer = null;
      const child = c.child;
      if (!child?.pid) continue;
      const pid = child.pid;
      // Clients run in their own process group (detached): signal all of it, as heartbeat does.
      const signal = (sig: NodeJS.Signals): void => {
        try {
          process.kill(-pid, sig);
        } catch {
          try { child.kill(sig); } catch { /* gone */ }
        }
      };
      waits.push(new Promise<void>((resolve) => {
        const kill = this.clock.setTimer(() => signal('SIGKILL'), STOP_GRACE_MS);
        child.once('exit', () => { kill.cancel(); resolve(); });
        this.log.info(`killing ${c.display} process group ${pid} with signal 15`);
        signal('SIGTERM');
      }));
    }
    await Promise.all(waits);
  }

  /** For the API: is a client with this command basename running? */
  running(name: string): boolean {
    return this.clients.some((c) => c.child !== null && basename(c.display) === name);
  }
}
