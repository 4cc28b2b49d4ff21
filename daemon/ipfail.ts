#!/usr/bin/env node
/**
 * heartbeat-ts's ipfail: the API client that `respawn hacluster
 * <heartbeat-ts>/bin/ipfail` starts on a heartbeat-ts node (heartbeat's own C
 * ipfail works too: respawn runs what ha.cf names). It talks to the daemon's
 * JSON tool socket. It signs on as the named client `ipfail`,
 * sets up in the order of heartbeat's ipfail (resources check, node name,
 * auto_failback, filter mode, node walk, signals), then feeds the decision
 * logic of lib/ipfail with the API's events and carries out what it asks:
 * node messages to the partner's ipfail and the standby request.
 *
 * The decision logic asks synchronous questions (which nodes are `ping`
 * now, are our resources in transition). The API answers asynchronously,
 * so every event and every timer of the logic runs in one queue, after the
 * node list and resource state were fetched afresh: the logic sees the
 * daemon's state at that moment, as the C program's blocking calls do.
 *
 * Logs: entity `ipfail`, into the daemon's log files (the API parameters
 * logfile, debugfile, syslogmsgfmt; before sign-on the HA_LOGFILE /
 * HA_DEBUGLOG the daemon exports). Debug lines always reach the debug file,
 * as cl_log writes them whatever the debug level; stderr only during
 * start-up, as the C program does.
 *
 * Exit codes: 0 after SIGTERM/SIGINT (signed off), 1 when heartbeat cannot
 * be reached or goes away, 100 when there is nothing to do (no managed
 * resources, auto_failback legacy): respawn restarts it unless 100.
 */
import { pathToFileURL } from 'node:url';
import { startIpfail, type Ipfail, type IpfailOutbound, type ResourceState } from '../lib/ipfail/logic.js';
import { IPFAIL_CLIENT, IPFAIL_T, clStrToBoolean } from '../lib/ipfail/messages.js';
import { systemClock, type Clock } from '../lib/util/clock.js';
import { describeError } from '../lib/util/errors.js';
import { createLogRoot, SYSLOG_FACILITIES, type LogRoot, type LogSinkConfig, type Logger } from '../lib/util/log.js';
import { F, HaMsg, T } from '../lib/wire/index.js';
import { HbApiClient } from './api/client.js';
import type { ApiEvent, StringFields } from './api/types.js';
import { resolvePaths, toolSocketPath } from './paths.js';

/** Message types ipfail registers callbacks for (hbapi-clstat arrives as a clientstatus event). */
const HANDLED: ReadonlySet<string> = new Set([T.RESOURCE, IPFAIL_T.NUM_PING_NODES, IPFAIL_T.ABORT_GIVEUP, IPFAIL_T.YOU_ARE_DEAD]);

export interface IpfailClientOptions {
  socketPath: string;
  logRoot: LogRoot;
  /** Take the log sinks from the daemon's parameters after sign-on (default true). */
  configureLogs?: boolean;
  /** Start-up lines to stderr as well (default true, as heartbeat's ipfail). */
  startupStderr?: boolean;
  clock?: Clock;
}

export type IpfailClientStart = { ok: true; client: IpfailClient } | { ok: false; exitCode: number };

/** Log sinks from the environment heartbeat gives its children (before the API can be asked). */
export function envSinkConfig(env: NodeJS.ProcessEnv): LogSinkConfig {
  const file = (v: string | undefined): string | undefined => (v === undefined || v === '' || v === '/dev/null' ? undefined : v);
  // 3.0.6's ipfail logs to syslog from the start: with the HA_LOGFACILITY heartbeat gives its
  // children (cl_log inherits it), LOG_DAEMON without one, until heartbeat names its facility.
  const fromEnv = env['HA_LOGFACILITY'];
  const logfacility = fromEnv !== undefined && fromEnv !== 'none' && SYSLOG_FACILITIES[fromEnv] !== undefined ? fromEnv : 'daemon';
  return { logfile: file(env['HA_LOGFILE']), debugfile: file(env['HA_DEBUGLOG']), logfacility, syslogmsgfmt: true, stderr: true, debugLevel: 1 };
}

/** The facility name of heartbeat's answer at sign-on (LOG_LOCAL0 = 128); none or unknown: daemon, as 3.0.6's ipfail. */
export function ipfailFacility(logfacility: number): string {
  const byCode = Object.entries(SYSLOG_FACILITIES).find(([, code]) => code * 8 === logfacility);
  return logfacility > 0 && byCode !== undefined ? byCode[0] : 'daemon';
}

function toMsg(fields: StringFields): HaMsg {
  const m = new HaMsg();
  for (const [k, v] of fields) m.add(k, v);
  return m;
}

export class IpfailClient {
  private ipfail: Ipfail | undefined;
  private queue: Promise<void> = Promise.resolve();
  private pings: string[] = [];
  private resources: ResourceState = undefined;
  private stopping = false;
  private finish: (code: number) => void = () => undefined;
  /** Resolves with the exit code once the client is done (heartbeat gone, or stopped). */
  readonly done: Promise<number>;

  private constructor(private readonly api: HbApiClient, private readonly log: Logger) {
    this.done = new Promise((resolve) => {
      this.finish = resolve;
    });
  }

  /** Signs on and sets up; a failure says which exit code ipfail ends with. */
  static async start(o: IpfailClientOptions): Promise<IpfailClientStart> {
    const root = o.logRoot;
    const log = root.logger;
    log.debug(`PID=${process.pid}`);
    log.debug('Signing in with heartbeat');
    let api: HbApiClient;
    try {
      api = await HbApiClient.connect(o.socketPath);
    } catch (err) {
      log.error('Cannot sign on with heartbeat');
      log.error(`REASON: ${describeError(err)}`);
      return { ok: false, exitCode: 1 };
    }
    const client = new IpfailClient(api, log);
    // Events from sign-on on (the partner's join may come at once) wait in
    // the queue until the logic exists, as they wait in heartbeat's IPC channel.
    let ready: () => void = () => undefined;
    client.queue = new Promise((r) => {
      ready = r;
    });
    api.on('event', (ev) => client.enqueue(() => client.onEvent(ev)));
    const signon = await api.signon(IPFAIL_CLIENT);
    if (!signon.ok) {
      log.error('Cannot sign on with heartbeat');
      log.error(`REASON: ${signon.error}`);
      api.close();
      return { ok: false, exitCode: 1 };
    }
    api.on('close', () => client.lost());
    const me = signon.info.node;
    const sinks = o.configureLogs === false ? undefined : await configureLogs(api, root, o.startupStderr ?? true, ipfailFacility(signon.info.logfacility));

    await client.refresh();
    const afb = await api.parameter('auto_failback');
    const nodes = await api.nodeList();
    if (!nodes.ok) {
      log.error('Cannot start node walk');
      log.error(`REASON: ${nodes.error}`);
      client.stopping = true;
      api.close();
      return { ok: false, exitCode: 9 };
    }
    const started = startIpfail(
      { myName: me, autoFailback: afb.ok ? afb.value : undefined, nodes: nodes.value },
      {
        clock: client.serialClock(o.clock ?? systemClock),
        log,
        keepaliveMs: signon.info.keepaliveMs,
        pingNodes: () => client.pings,
        resources: () => client.resources,
        send: (out) => client.send(out),
      },
    );
    if (!started.ok) {
      client.stopping = true;
      await api.signoff();
      return { ok: false, exitCode: started.exitCode };
    }
    client.ipfail = started.ipfail;
    log.debug('Setting message signal');
    log.debug('Waiting for messages...');
    // Start-up is over: the log files only from now on (cl_log_enable_stderr(FALSE)).
    if (sinks !== undefined) root.reconfigure({ ...sinks, stderr: false });
    ready();
    return { ok: true, client };
  }

  /** SIGTERM: stop deciding, sign off; `done` resolves with 0. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.ipfail?.stop();
    await this.api.signoff();
    this.finish(0);
  }

  private lost(): void {
    this.ipfail?.stop();
    if (this.stopping) return;
    this.stopping = true;
    this.log.error('Connection to heartbeat lost: exiting');
    this.finish(1);
  }

  private enqueue(job: () => Promise<void> | void): void {
    this.queue = this.queue.then(job).catch((err: unknown) => this.log.error(`ipfail: ${describeError(err)}`));
  }

  /** Fetches what the logic's queries answer: the nodes now `ping`, the resource state. */
  private async refresh(): Promise<void> {
    const [nodes, rsc] = await Promise.all([this.api.nodeList(), this.api.rscStatus()]);
    if (nodes.ok) this.pings = nodes.value.filter((n) => n.status === 'ping').map((n) => n.name);
    // The daemon refuses rscstatus when it manages no resources: the C client's NULL.
    if (rsc.ok) this.resources = rsc.value;
    else if (rsc.code === 'NO_RESOURCES') this.resources = undefined;
  }

  /** A clock whose timers fire in the event queue, after a refresh. */
  private serialClock(base: Clock): Clock {
    return {
      nowMs: () => base.nowMs(),
      wallMs: () => base.wallMs(),
      setRepeating: (fn, ms) => base.setRepeating(fn, ms),
      defer: (fn) => base.defer(fn),
      setTimer: (fn, ms) => {
        let cancelled = false;
        const h = base.setTimer(() => this.enqueue(async () => {
          if (cancelled) return;
          await this.refresh();
          if (!cancelled) fn();
        }), ms);
        return { cancel: () => { cancelled = true; h.cancel(); } };
      },
    };
  }

  private async onEvent(ev: ApiEvent): Promise<void> {
    const ipfail = this.ipfail;
    if (ipfail === undefined || this.stopping) return;
    switch (ev.event) {
      case 'nodestatus':
        await this.refresh();
        ipfail.nodeStatus(ev.node, ev.status);
        return;
      case 'ifstatus':
        await this.refresh();
        ipfail.linkStatus(ev.node, ev.link, ev.status);
        return;
      case 'clientstatus': {
        // What heartbeat's hbapi-clstat carries, for the logic's join check.
        const m = new HaMsg().add(F.TYPE, T.APICLSTAT).add(F.STATUS, ev.status).add(F.FROMID, ev.client).add(F.ORIG, ev.node);
        await this.refresh();
        ipfail.message(m);
        return;
      }
      case 'message': {
        const msg = toMsg(ev.fields);
        if (!HANDLED.has(msg.get(F.TYPE) ?? '')) return;
        await this.refresh();
        ipfail.message(msg);
        return;
      }
    }
  }

  private send(out: IpfailOutbound): void {
    if (this.stopping) return;
    const fields: StringFields = out.msg.fields.map((f) => [f.name, String(f.value)]);
    const what = out.msg.get(F.TYPE) ?? '?';
    void (out.kind === 'node' ? this.api.send(fields, out.to) : this.api.send(fields)).then((r) => {
      if (!r.ok && !this.stopping) this.log.error(`Cannot send ${what} message: ${r.error}`);
    });
  }
}

/** Points the log sinks at the daemon's files, as ha.cf names them. */
async function configureLogs(api: HbApiClient, root: LogRoot, stderr: boolean, logfacility: string): Promise<LogSinkConfig> {
  const param = async (name: string): Promise<string | undefined> => {
    const r = await api.parameter(name);
    return r.ok ? r.value : undefined;
  };
  const file = (v: string | undefined): string | undefined => (v === undefined || v === '' || v === '/dev/null' ? undefined : v);
  const fmt = await param('syslogmsgfmt');
  const cfg: LogSinkConfig = {
    logfile: file(await param('logfile')),
    debugfile: file(await param('debugfile')),
    logfacility,
    syslogmsgfmt: fmt === undefined ? true : clStrToBoolean(fmt) ?? true,
    stderr,
    debugLevel: 1,
  };
  root.reconfigure(cfg);
  return cfg;
}

async function main(): Promise<number> {
  const env = process.env;
  const root = createLogRoot('ipfail', envSinkConfig(env));
  let client: IpfailClient | undefined;
  let quit = false;
  const onSignal = (): void => {
    quit = true;
    void client?.stop();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  const r = await IpfailClient.start({ socketPath: toolSocketPath(resolvePaths(env)), logRoot: root });
  if (!r.ok) {
    root.close();
    return r.exitCode;
  }
  client = r.client;
  if (quit) await client.stop();
  const code = await client.done;
  root.close();
  return code;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().then((code) => {
    process.exitCode = code;
    // Let the sign-off and log writes finish, then leave even if a handle lingers.
    setTimeout(() => process.exit(code), 50).unref();
  }, (err: unknown) => {
    process.stderr.write(`ipfail: ${describeError(err)}\n`);
    process.exit(1);
  });
}
