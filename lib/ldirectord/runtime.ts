/**
 * Loading a configuration end to end (read, parse, resolve host names,
 * check what this build and the chosen data plane can do) and keeping a
 * running director in step with the file: reload on request, and on
 * change when autoreload=yes.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { lookup } from 'node:dns/promises';
import type { ConfigProblem } from '../config/types.js';
import { systemClock, type Clock, type TimerHandle } from '../util/clock.js';
import { describeError } from '../util/errors.js';
import type { Logger } from '../util/log.js';
import { UNIMPLEMENTED_SERVICES } from './checks/index.js';
import { run } from './exec.js';
import { isIPv4, type PortLookup } from './parse-values.js';
import { parseLdirectordConf } from './parse.js';
import { Director, type DirectorDeps } from './director.js';
import { IpvsPlane } from './ipvsadm.js';
import { NftPlane } from './nft-plane.js';
import type { DataPlane } from './plane.js';
import type { LdConfig } from './types.js';

export type Resolver = (host: string) => Promise<string | undefined>;

const defaultResolver: Resolver = async (host) => {
  try {
    return (await lookup(host, { family: 4 })).address;
  } catch {
    return undefined;
  }
};

/** Replaces host names by IPv4 addresses; unresolvable names are problems on their lines. */
export async function resolveHosts(cfg: LdConfig, resolve: Resolver = defaultResolver): Promise<ConfigProblem[]> {
  const problems: ConfigProblem[] = [];
  const fix = async (holder: { address: string; line: number } | { address?: string; line: number }, what: string): Promise<void> => {
    const a = holder.address;
    if (a === undefined || isIPv4(a)) return;
    const ip = await resolve(a);
    if (ip) holder.address = ip;
    else problems.push({ file: cfg.file, line: holder.line, severity: 'error', code: 'LDCF_UNRESOLVED', message: `could not resolve ${what} host "${a}"` });
  };
  if (cfg.fallback) await fix(cfg.fallback, 'fallback');
  for (const v of cfg.virtuals) {
    await fix(v, 'virtual server');
    if (v.fallback) await fix(v.fallback, 'fallback');
    for (const r of v.reals) await fix(r, 'real server');
  }
  return problems;
}

/** Things this implementation does not do, reported against their lines. */
export function validateSupport(cfg: LdConfig): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  for (const v of cfg.virtuals) {
    if ((v.checktype === 'negotiate' || v.checktype === 'combined') && UNIMPLEMENTED_SERVICES.includes(v.service)) {
      out.push({
        file: cfg.file, line: v.line, severity: 'error', code: 'LDCF_UNSUPPORTED_SERVICE',
        message: `service=${v.service} negotiate checks are not implemented by heartbeat-ts ldirectord; use checktype=connect or checktype=external`,
      });
    }
    if (v.service === 'http_proxy' && !/^[a-z]+:\/\//i.test(v.request) && v.checktype !== 'connect') {
      out.push({ file: cfg.file, line: v.line, severity: 'error', code: 'LDCF_BAD_VALUE', message: 'service=http_proxy needs an absolute request URL (request="http://host/path")' });
    }
  }
  if (cfg.execute.length > 0) {
    out.push({ file: cfg.file, line: 0, severity: 'warning', code: 'LDCF_IGNORED', message: 'execute= is ignored: start one ldirectord per configuration instead' });
  }
  return out;
}

export function ipvsAvailable(): boolean {
  return existsSync('/proc/net/ip_vs');
}

export function choosePlane(cfg: LdConfig, logger: Logger): DataPlane {
  const want = cfg.dataplane === 'auto' ? (ipvsAvailable() ? 'ipvs' : 'nftables') : cfg.dataplane;
  return want === 'ipvs' ? new IpvsPlane({ logger }) : new NftPlane({ logger });
}

export interface LoadResult {
  config: LdConfig | undefined;
  problems: ConfigProblem[];
  digest: string;
}

export async function loadConfig(
  file: string, opts: { plane?: DataPlane; logger: Logger; resolve?: Resolver; portLookup?: PortLookup; hostname?: string },
): Promise<LoadResult> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    return { config: undefined, digest: '', problems: [{ file, line: 0, severity: 'error', code: 'LDCF_UNREADABLE', message: `can not open file ${file}: ${describeError(e)}` }] };
  }
  const digest = createHash('md5').update(text).digest('hex');
  const parsed = parseLdirectordConf(text, file, {
    ...(opts.portLookup ? { portLookup: opts.portLookup } : {}), ...(opts.hostname ? { hostname: opts.hostname } : {}),
  });
  const problems = [...parsed.problems];
  const cfg = parsed.value;
  if (!cfg) return { config: undefined, problems, digest };
  problems.push(...await resolveHosts(cfg, opts.resolve), ...validateSupport(cfg));
  const plane = opts.plane ?? choosePlane(cfg, opts.logger);
  problems.push(...plane.validate(cfg));
  const bad = problems.some((p) => p.severity === 'error');
  return { config: bad ? undefined : cfg, problems, digest };
}

export interface RuntimeOptions {
  file: string;
  logger: Logger;
  clock?: Clock;
  plane?: DataPlane;
  directorDeps?: Partial<DirectorDeps>;
  /** How often the file is looked at for autoreload (ms). */
  watchMs?: number;
}

/** A running ldirectord: director plus configuration file handling. */
export class LdRuntime {
  readonly director: Director;
  private digest = '';
  private mtimeMs = 0;
  private watch: TimerHandle | undefined;
  private reloading: Promise<void> | undefined;

  private constructor(private readonly opts: RuntimeOptions, private readonly plane: DataPlane, private cfg: LdConfig) {
    this.director = new Director({ plane, logger: opts.logger, ...(opts.clock ? { clock: opts.clock } : {}), ...opts.directorDeps });
  }

  static async start(opts: RuntimeOptions, loaded: LoadResult & { config: LdConfig }): Promise<LdRuntime> {
    const plane = opts.plane ?? choosePlane(loaded.config, opts.logger);
    const rt = new LdRuntime(opts, plane, loaded.config);
    rt.digest = loaded.digest;
    try { rt.mtimeMs = (await stat(opts.file)).mtimeMs; } catch { /* checked by the watcher */ }
    opts.logger.info(`Using the ${plane.name} data plane`);
    await rt.director.start(loaded.config);
    rt.watch = (opts.clock ?? systemClock).setRepeating(() => void rt.checkFile(), opts.watchMs ?? 1000);
    return rt;
  }

  get config(): LdConfig {
    return this.cfg;
  }

  /** Re-reads the file; on errors keeps the running configuration. */
  reload(reason: string): Promise<void> {
    this.reloading ??= (async () => {
      this.opts.logger.info(reason);
      const loaded = await loadConfig(this.opts.file, { plane: this.plane, logger: this.opts.logger });
      for (const p of loaded.problems) {
        this.opts.logger.log(p.severity === 'error' ? 'error' : 'warn', `${p.severity === 'error' ? 'Error' : 'Warning'} reading file ${p.file} at line ${p.line}: ${p.message}`);
      }
      this.digest = loaded.digest || this.digest;
      if (!loaded.config) {
        this.opts.logger.error('Configuration not reloaded: the running configuration stays in force');
        return;
      }
      this.cfg = loaded.config;
      await this.director.reload(loaded.config);
    })().finally(() => { this.reloading = undefined; });
    return this.reloading;
  }

  private async checkFile(): Promise<void> {
    if (this.reloading) return;
    let m: number;
    try {
      m = (await stat(this.opts.file)).mtimeMs;
    } catch {
      return;
    }
    if (m === this.mtimeMs) return;
    this.mtimeMs = m;
    let text: string;
    try { text = await readFile(this.opts.file, 'utf8'); } catch { return; }
    const digest = createHash('md5').update(text).digest('hex');
    if (digest === this.digest) return;
    this.opts.logger.info(`Configuration file '${this.opts.file}' has changed on disk`);
    if (this.cfg.autoreload) {
      await this.reload(' - reread new configuration');
    } else {
      this.digest = digest;
      this.opts.logger.info(' - ignore new configuration');
    }
    if (this.cfg.callback && existsSync(this.cfg.callback)) {
      void run(this.cfg.callback, [this.opts.file], { timeoutMs: 60_000 });
    }
  }

  async stop(): Promise<void> {
    this.watch?.cancel();
    await this.reloading;
    await this.director.stop();
  }
}
