/**
 * What runs on top of the node in the daemon: rc.d hooks, the FIFO, the
 * client API and respawned clients. The node itself (membership and
 * resources) is assembled in lib/node/assemble.ts.
 */
import type { Cluster } from '../lib/membership/cluster.js';
import { ApiServer } from './api/server.js';
import { FifoReader } from './fifo.js';
import { RespawnAttachment } from './respawn.js';
import { RcHooks, scriptEnvironment } from './resources.js';
import { VERSION, type Attachment, type RunContext } from './run.js';
import { SystemdStatus } from './systemd.js';
import { WatchdogAttachment } from './watchdog.js';
import { EventRecorder, groupEntries, type GroupEntry } from './overview.js';
import { ObservedFeed } from './http/feed.js';

/** What the API reports as the version (heartbeat reports `3.0.6 (node: <hg id>)`). */
export const API_VERSION = `${VERSION} (heartbeat-ts 0.1.0)`;

export const makeAttachments: RunContext['makeAttachments'] = (ctx) => {
  const list: Attachment[] = [];
  const resources = ctx.resources;
  const manageResources = resources !== undefined;
  // First: fed by the node's own statuses from the start, closed after its last one.
  if (ctx.config.watchdog !== undefined) list.push(new WatchdogAttachment(ctx.config.watchdog, ctx.log));
  if (manageResources) list.push(new RcHooks({ config: ctx.config, groups: ctx.groups, paths: ctx.paths, nodename: ctx.nodename, log: ctx.log }, ctx.clock));
  // Scripts (hb_standby, hb_takeover, rc.d) reach the cluster through the FIFO.
  list.push(new FifoReader({ log: ctx.log, paths: ctx.paths, clock: ctx.clock }));
  // cl_status and API clients; `rscstatus` reports the controller's holdings.
  // hb_status: group holders (when resources are managed here) and the recent events.
  const groups = (cluster: Cluster): GroupEntry[] => (manageResources ? groupEntries(ctx.groups, resources, cluster.allNodes(), ctx.nodename) : []);
  // Holders are polled; the groups a reader is shown are noted first, so the events never lag them.
  const recorder = new EventRecorder({ log: ctx.events, clock: ctx.clock, groups });
  const api = new ApiServer({
    log: ctx.log, config: ctx.config, paths: ctx.paths, manageResources, version: API_VERSION, clock: ctx.clock,
    ...(resources ? { resources: { rscstatus: () => resources.rscstatus(), monitors: ctx.monitors } } : {}),
    overview: (cluster) => {
      const shown = groups(cluster);
      recorder.noteHolders(shown);
      return { groups: shown, events: ctx.events.recent() };
    },
  });
  list.push(api);
  list.push(recorder);
  list.push(new ObservedFeed(ctx.observed));
  // Last, so that respawned clients (ipfail) stop before the API closes.
  const env = scriptEnvironment({ config: ctx.config, groups: ctx.groups, paths: ctx.paths, nodename: ctx.nodename, log: ctx.log });
  // Clients sign on as soon as they start: they start once the API sockets listen.
  const apiReady = (): Promise<void> => api.ready(10_000).catch((err: unknown) => ctx.log.error(`respawn: ${(err as Error).message}`));
  if (ctx.config.respawn.length > 0) list.push(new RespawnAttachment(ctx.config, ctx.log, env, ctx.clock, apiReady));
  // Last: READY=1 once everything else started; stopped first, so STOPPING=1 comes before resources go.
  if (ctx.systemd) {
    list.push(new SystemdStatus({
      notifier: ctx.systemd, clock: ctx.clock, myName: ctx.nodename, stopping: ctx.stopping, rscstatus: () => resources?.rscstatus(),
    }));
  }
  return list;
};
