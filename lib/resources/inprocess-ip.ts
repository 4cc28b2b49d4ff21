/**
 * Moving a floating address without a fork: when a resource's script is
 * heartbeat-ts's own resource.d/IPaddr or IPaddr2 (byte for byte, with the
 * helpers it sources next to it), start/stop/status run in-process
 * (inprocess-ip-ops.ts over rtnetlink) and the gratuitous ARPs go out
 * through a packet socket, the first one at once. The script takes 50-150 ms
 * of shell, ip(8) and arping(8) before the address is up; this takes well
 * under one. Every other script, an edited copy of ours, an administrator's
 * own IPaddr, or anything the kernel refuses runs the script as before.
 */
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Resource } from '../config/types.js';
import type { Clock, TimerHandle } from '../util/clock.js';
import { describeError } from '../util/errors.js';
import type { Logger } from '../util/log.js';
import type { SyslogWriter } from '../util/syslog.js';
import { ipInstance, type IpMode } from './inprocess-ip-args.js';
import { scriptLineWriter } from './inprocess-ip-log.js';
import { type IpKernel, runIpOp } from './inprocess-ip-ops.js';
import type { Operation, ResourceScripts, ScriptResult } from './script-runner.js';

/**
 * SHA-256 of the files whose rules inprocess-ip-ops.ts reproduces. A change
 * to any of them must change the TypeScript too; a unit test checks that
 * these match resource.d/.
 */
export const OUR_SCRIPT_SHA256: Readonly<Record<string, string>> = Object.freeze({
  'IPaddr': '61107cd8d9b72a30fce37956042022cd0f7383e7e09251b26b72db312ab1f29f',
  'IPaddr2': '67d86cbfdcf9295d191e4b26b7004a5c31092bef9d395e091288b93a976808ec',
  'hb-ipaddr.sh': 'fc40bf983fe2dfe459522e7737b27824aace20d71b9628e1b42b0c59cf0b9dd4',
  'hb-functions.sh': '5d8223f82ac3db564581599dc256559d9c4cddfe84a340bd2d6190e2e68d8b57',
});

/** The kernel calls of the in-process path, gratuitous ARP included. */
export interface IpKernelWithArp extends IpKernel {
  /** One gratuitous ARP request (reply = false, as arping -U) or reply (arping -A); errors are ignored as the script's are. */
  garp(dev: string, ip: string, reply: boolean): void;
}

export interface InProcessIpOptions {
  clock: Clock;
  /** The scripts' environment (the runner's, before extraEnv). */
  env: Record<string, string>;
  /** Loads the kernel interface; throws when it cannot (addon not built). */
  kernel: () => IpKernelWithArp;
  /** Daemon log, for why the in-process path was not taken. */
  log: Logger;
  syslog: () => SyslogWriter;
  /** Where start/stop output goes, as ScriptRunner's outputFile. */
  outputFile?: string | undefined;
}

const sha256 = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');

/**
 * 'IPaddr'/'IPaddr2' when `path` is our script of that name and the helpers
 * it sources (from its own directory, as `${0%/*}` does) are ours too.
 */
export function ourIpScript(path: string): IpMode | undefined {
  const name = basename(path);
  if (name !== 'IPaddr' && name !== 'IPaddr2') return undefined;
  const dir = dirname(path);
  try {
    for (const [file, want] of [[path, OUR_SCRIPT_SHA256[name]], [join(dir, 'hb-ipaddr.sh'), OUR_SCRIPT_SHA256['hb-ipaddr.sh']],
      [join(dir, 'hb-functions.sh'), OUR_SCRIPT_SHA256['hb-functions.sh']]] as const) {
      if (sha256(file) !== want) return undefined;
    }
  } catch {
    return undefined;
  }
  return name;
}

/** hb_send_arp's HB_ARP_COUNT / HB_ARP_INTERVAL, with its warnings for bad values. */
function arpSettings(env: Record<string, string | undefined>, warn: (t: string) => void): { count: number; intervalMs: number } {
  let count = env['HB_ARP_COUNT'] ?? '5';
  let interval = env['HB_ARP_INTERVAL'] ?? '1';
  if (!/^[0-9]+$/.test(count)) {
    warn(`HB_ARP_COUNT=${count} is not a number; using 5`);
    count = '5';
  }
  if (!/^[1-9][0-9]*$/.test(interval)) {
    warn(`HB_ARP_INTERVAL=${interval} is not a whole number of seconds >= 1; using 1`);
    interval = '1';
  }
  return { count: Number(count), intervalMs: Number(interval) * 1000 };
}

export class InProcessIpScripts implements ResourceScripts {
  /** Running ARP bursts by address, so a stop (or a new start) cuts one short. */
  private readonly bursts = new Map<string, TimerHandle>();
  private readonly told = new Set<string>();
  private kernel: IpKernelWithArp | undefined;

  constructor(private readonly inner: ResourceScripts, private readonly o: InProcessIpOptions) {}

  locate(script: string): string | undefined {
    return this.inner.locate(script);
  }

  describe(path: string, r: Resource, op: Operation): string {
    return this.inner.describe(path, r, op);
  }

  async run(path: string, r: Resource, op: Operation, extraEnv: Record<string, string> = {}, timeoutMs?: number): Promise<ScriptResult> {
    const spec = r.args.length === 1 ? r.args[0]! : undefined;
    const mode = spec !== undefined ? ourIpScript(path) : undefined;
    if (mode === undefined || spec === undefined) return this.inner.run(path, r, op, extraEnv, timeoutMs);
    const ip = spec.split('/')[0]!;
    if (op === 'stop') this.cancelBurst(ip);
    const env = { ...process.env, ...this.o.env, ...extraEnv };
    const why = this.cannotRun(env, ip);
    if (why !== undefined) return this.fallBack(why, path, r, op, extraEnv, timeoutMs);
    try {
      return this.runHere(mode, spec, op, env, this.kernel!);
    } catch (err) {
      return this.fallBack(`${mode} ${spec} ${op}: ${describeError(err)}`, path, r, op, extraEnv, timeoutMs);
    }
  }

  /** Stops every ARP burst (daemon shutdown). */
  close(): void {
    for (const t of this.bursts.values()) t.cancel();
    this.bursts.clear();
  }

  /** Why the script must run instead, or undefined. */
  private cannotRun(env: Record<string, string | undefined>, ip: string): string | undefined {
    // Foreground bursts block the script for their whole length; only the script does that.
    if ((env['HB_ARP_BACKGROUND'] ?? 'yes') !== 'yes') return 'HB_ARP_BACKGROUND is not yes';
    // A burst the script started: the script knows how to stop it.
    if (existsSync(join(env['HA_RSCTMP'] ?? '/var/run/heartbeat/rsctmp', `send_arp-${ip}`))) return `a send_arp-${ip} burst of the script runs`;
    if (this.kernel === undefined) {
      try {
        this.kernel = this.o.kernel();
      } catch (err) {
        return describeError(err);
      }
    }
    return undefined;
  }

  private fallBack(why: string, path: string, r: Resource, op: Operation, extraEnv: Record<string, string>, timeoutMs?: number): Promise<ScriptResult> {
    if (!this.told.has(why)) {
      this.told.add(why);
      this.o.log.info(`in-process IPaddr not used (${why}); running ${basename(path)} as a script`);
    }
    return this.inner.run(path, r, op, extraEnv, timeoutMs);
  }

  private runHere(mode: IpMode, spec: string, op: Operation, env: Record<string, string | undefined>, kernel: IpKernelWithArp): ScriptResult {
    const started = this.o.clock.nowMs();
    const stderr: string[] = [];
    const log = scriptLineWriter({ env, syslog: this.o.syslog, now: () => new Date(this.o.clock.wallMs()) }, `${mode}(${ipInstance(mode, spec)})[${process.pid}]`, stderr);
    const sendArp = (dev: string, ip: string): void => {
      this.cancelBurst(ip);
      const { count, intervalMs } = arpSettings(env, (t) => log('warn', t));
      if (count === 0) return;
      log('info', `Sending ${count} gratuitous ARPs (request and reply) for ${ip} on ${dev}`);
      this.burst(kernel, dev, ip, count, intervalMs);
    };
    const res = runIpOp({ mode, kernel, log, sendArp }, op, spec);
    const err = stderr.join('');
    if (op !== 'status' && this.o.outputFile) {
      try { appendFileSync(this.o.outputFile, res.stdout + err, { mode: 0o644 }); } catch { /* as ScriptRunner: no output file */ }
    }
    return {
      code: res.code, stdout: op === 'status' ? res.stdout : '', stderr: op === 'status' ? err : '',
      timedOut: false, spawnError: undefined, durationMs: Math.round(this.o.clock.nowMs() - started),
    };
  }

  /**
   * arping -U -c N -i S, then arping -A -c N -i S: N requests S apart, then
   * N replies S apart; the first request now, before the caller goes on.
   */
  private burst(kernel: IpKernelWithArp, dev: string, ip: string, count: number, intervalMs: number): void {
    let sent = 0;
    const next = (): void => {
      kernel.garp(dev, ip, sent >= count);
      sent++;
      if (sent < 2 * count) this.bursts.set(ip, this.o.clock.setTimer(next, intervalMs));
      else this.bursts.delete(ip);
    };
    next();
  }

  private cancelBurst(ip: string): void {
    this.bursts.get(ip)?.cancel();
    this.bursts.delete(ip);
  }
}
