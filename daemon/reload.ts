/**
 * SIGHUP (`heartbeat -r`): reread what changed, as 3.0.6 does. A changed
 * ha.cf restarts communications keeping the resources; a changed authkeys
 * alone is reread; otherwise `Configuration unchanged.`. A changed
 * haresources is not applied while heartbeat runs (3.0.6's ResourceManager
 * would read it piecemeal at its next operation and could leave a removed
 * group running, never to be stopped): the running groups are kept and the
 * log says so, with what changed; a restart applies it.
 */
import { statSync } from 'node:fs';
import { HBTS_CF_NAME, type HttpListen, type MonitorSpec } from '../lib/config/hbts-cf.js';
import { loadConfiguration } from '../lib/config/load.js';
import { formatProblem } from '../lib/config/problems.js';
import type { AuthKeys, HaConfig, ResourceGroup } from '../lib/config/types.js';
import { groupChanges } from '../lib/resources/group-diff.js';
import { describeError } from '../lib/util/errors.js';
import type { Logger } from '../lib/util/log.js';

export function mtime(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

/** What a reload acts on (the node runtime in the daemon). */
export interface Reloadable {
  readonly running: boolean;
  /** The groups the node was started with. */
  readonly groups: readonly ResourceGroup[];
  reloadMessaging(config: HaConfig, keys: AuthKeys): Promise<void>;
  setKeys(keys: AuthKeys): void;
  /** heartbeat-ts.cf `monitor` lines, applied at once. */
  setMonitors(specs: readonly MonitorSpec[]): void;
  /** heartbeat-ts.cf `quorum` now. */
  setQuorum(mode: 'off' | 'majority'): void;
  /** heartbeat-ts.cf `http_listen` now (undefined: none). */
  setHttpListen(where: HttpListen | undefined): void;
}

export interface ReloaderOptions {
  haDir: string;
  nodename: string;
  resourceDirs: string[];
  /** Whether this node manages resources (not with -M or crm). */
  manageResources: boolean;
  log: Logger;
  /** Log files reopened (logrotate), at every reload. */
  reopenLogs(): void;
  /** New log sinks for a new ha.cf. */
  reconfigureLogs(config: HaConfig): void;
}

export class Reloader {
  private hacfMtime: number;
  private authMtime: number;
  private haresMtime: number;
  private hbtsMtime: number;

  constructor(private readonly o: ReloaderOptions, private readonly target: Reloadable) {
    this.hacfMtime = mtime(`${o.haDir}/ha.cf`);
    this.authMtime = mtime(`${o.haDir}/authkeys`);
    this.haresMtime = mtime(`${o.haDir}/haresources`);
    this.hbtsMtime = mtime(`${o.haDir}/${HBTS_CF_NAME}`);
  }

  async reload(): Promise<void> {
    if (!this.target.running) return;
    const { haDir, log } = this.o;
    try {
      const hacfNow = mtime(`${haDir}/ha.cf`);
      const authNow = mtime(`${haDir}/authkeys`);
      const haresNow = mtime(`${haDir}/haresources`);
      const hbtsNow = mtime(`${haDir}/${HBTS_CF_NAME}`);
      this.o.reopenLogs();
      const haresChanged = haresNow !== this.haresMtime && this.o.manageResources;
      const hbtsChanged = hbtsNow !== this.hbtsMtime;
      if (hacfNow === this.hacfMtime && authNow === this.authMtime && !haresChanged && !hbtsChanged) {
        log.info('Configuration unchanged.');
        return;
      }
      const loaded = loadConfiguration({ haDir, nodename: this.o.nodename, resourceDirs: this.o.resourceDirs });
      if (!loaded.ok || !loaded.config || !loaded.keys) {
        for (const p of loaded.problems) log.error(`Reload: ${formatProblem(p)}`);
        log.error('Configuration error on reload: keeping the running configuration.');
        return;
      }
      this.haresMtime = haresNow;
      const refused = haresChanged && this.refuseGroups(loaded.groups ?? []);
      const applied = await this.apply(hacfNow, authNow, loaded.config, loaded.keys);
      if (hbtsChanged) {
        // A resource the running groups lack is logged and skipped (ResourceMonitor.configure).
        this.hbtsMtime = hbtsNow;
        log.info(`${haDir}/${HBTS_CF_NAME} changed: ${loaded.hbts.monitors.length} monitored resource(s) now.`);
        this.target.setMonitors(loaded.hbts.monitors);
        this.target.setQuorum(loaded.hbts.quorum);
        this.target.setHttpListen(loaded.hbts.httpListen);
      }
      if (!refused && !applied && !hbtsChanged) log.info('Configuration unchanged.');
    } catch (err) {
      log.error(`Reload failed: ${describeError(err)}; keeping the running configuration.`);
    }
  }

  /** True when the groups differ (and the refusal was logged). */
  private refuseGroups(groups: ResourceGroup[]): boolean {
    const changes = groupChanges(this.target.groups, groups);
    if (changes.length === 0) return false;
    const log = this.o.log;
    log.error(`Resource file ${this.o.haDir}/haresources changed: not applied while heartbeat runs; keeping the running resource groups. Restart heartbeat to apply it.`);
    for (const c of changes) log.warn(`haresources: ${c}`);
    return true;
  }

  /** Applies a new ha.cf or authkeys; false when neither changed. */
  private async apply(hacfNow: number, authNow: number, config: HaConfig, keys: AuthKeys): Promise<boolean> {
    const hacfChanged = hacfNow !== this.hacfMtime;
    const authChanged = authNow !== this.authMtime;
    this.hacfMtime = hacfNow;
    this.authMtime = authNow;
    if (hacfChanged) {
      this.o.log.info('Configuration file changed: restarting communications, keeping resources.');
      this.o.reconfigureLogs(config);
      await this.target.reloadMessaging(config, keys);
    } else if (authChanged) {
      this.o.log.info('Rereading authentication file.');
      this.target.setKeys(keys);
    }
    return hacfChanged || authChanged;
  }
}
