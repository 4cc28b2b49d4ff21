/**
 * The daemon's observation state and HTTP endpoint, made once per process:
 * the script tap around the node's resource scripts, the state it feeds,
 * and the server (started only when heartbeat-ts.cf has `http_listen`).
 */
import type { HttpListen } from '../../lib/config/hbts-cf.js';
import type { ResourceGroup } from '../../lib/config/types.js';
import type { NodeParts } from '../../lib/node/assemble.js';
import type { NodeRuntime } from '../../lib/node/runtime.js';
import type { ResourceController } from '../../lib/resources/controller.js';
import { ScriptTap } from '../../lib/resources/script-tap.js';
import type { Logger } from '../../lib/util/log.js';
import { groupEntries, type EventLog } from '../overview.js';
import { observeScripts } from './feed.js';
import { ObservedState } from './observed.js';
import { StatusHttpServer } from './server.js';

export interface Observation {
  state: ObservedState;
  /** The parts with their scripts tapped. */
  parts: NodeParts;
}

/** Taps the scripts of `parts` and makes the state; `runtime` is read lazily (it is made after). */
export function observe(o: {
  parts: NodeParts; groups: ResourceGroup[]; events: EventLog; version: string; runtime: () => NodeRuntime | undefined;
}): Observation {
  const { parts } = o;
  const tap = parts.scripts ? new ScriptTap(parts.scripts) : undefined;
  const rsc = (): ResourceController | undefined => o.runtime()?.current?.resources?.controller;
  const state = new ObservedState({
    clock: parts.clock,
    nodename: parts.nodename,
    version: o.version,
    groups: o.groups,
    events: o.events,
    groupEntries: (cluster) => (tap ? groupEntries(o.groups, rsc(), cluster.allNodes(), parts.nodename) : []),
    rscstatus: () => rsc()?.rscstatus(),
    monitors: () => o.runtime()?.current?.resources?.monitors() ?? [],
    quorum: parts.quorum ?? 'off',
  });
  if (tap) observeScripts(tap, state, parts.clock);
  return { state, parts: tap ? { ...parts, scripts: tap } : parts };
}

/** The HTTP server, listening when `where` is set. */
export async function startHttp(state: ObservedState, where: HttpListen | undefined, log: Logger, names: string[]): Promise<StatusHttpServer> {
  const server = new StatusHttpServer({ state, log, clock: state.o.clock, names });
  await server.configure(where);
  return server;
}
