/**
 * The one place a heartbeat node is put together from its parts. The daemon
 * gathers real parts (sockets, files, shell scripts, the system clock); the
 * tests and the simulator pass in-memory ones. Nothing here does I/O of its
 * own: every file, socket and process goes through a part.
 */
import type { MonitorSpec } from '../config/hbts-cf.js';
import type { AuthKeys, HaConfig, ResourceGroup } from '../config/types.js';
import type { Medium } from '../media/medium.js';
import type { Signer } from '../membership/reliability.js';
import type { StateStore } from '../membership/state-files.js';
import type { Fencer } from '../resources/fencing.js';
import type { QuorumMode } from '../resources/quorum.js';
import type { ResourceScripts } from '../resources/script-runner.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import { Messaging } from './messaging.js';
import { NodeResources } from './resources.js';

export interface NodeParts {
  config: HaConfig;
  keys: AuthKeys;
  groups: ResourceGroup[];
  nodename: string;
  media: (config: HaConfig, signer: Signer) => Medium[];
  clock: Clock;
  log: Logger;
  store: StateStore;
  /** Resource scripts; undefined: no v1 resource management (-M, or a crm cluster). */
  scripts: ResourceScripts | undefined;
  loadavg?: () => string;
  random?: () => number;
  /** Interval of the rejected-packets summary (default 60 s). */
  rejectReportMs?: number;
  /** HA_STOPRETRYMAX (default 10). */
  stopRetryMax?: number;
  /** A resource that will not stop (default: log it; the daemon reboots). */
  onUnstoppable?: (spec: string) => void;
  /** RQSTDELAY override (tests). */
  requestDelayMs?: number;
  /** STONITH devices; undefined: none configured (3.0.6's `No STONITH device configured.`). */
  fencer?: Fencer;
  /** heartbeat-ts.cf `monitor` lines. */
  monitors?: readonly MonitorSpec[];
  /** heartbeat-ts.cf `quorum` (absent or off: 3.0.6's behaviour). */
  quorum?: QuorumMode;
  /** heartbeat-ts.cf `fast_start` (absent: 3.0.6's RQSTDELAY). */
  fastStart?: boolean;
}

export interface AssembledNode {
  readonly messaging: Messaging;
  readonly resources: NodeResources | undefined;
}

const NO_LOAD = '0.00 0.00 0.00 1/1 1';

/** The messaging half alone (a reload of ha.cf rebuilds only this). */
export function assembleMessaging(p: NodeParts): Messaging {
  return new Messaging({
    config: p.config,
    keys: p.keys,
    nodename: p.nodename,
    media: p.media,
    clock: p.clock,
    log: p.log,
    store: p.store,
    loadavg: p.loadavg ?? (() => NO_LOAD),
    ...(p.random ? { random: p.random } : {}),
    rejectReportMs: p.rejectReportMs ?? 60_000,
  });
}

/** A whole node: messaging, and resources bound to it when scripts are given. */
export function assembleNode(p: NodeParts): AssembledNode {
  const messaging = assembleMessaging(p);
  const resources = p.scripts === undefined ? undefined : new NodeResources({
    config: p.config,
    groups: p.groups,
    nodename: p.nodename,
    clock: p.clock,
    log: p.log,
    scripts: p.scripts,
    stopRetryMax: p.stopRetryMax ?? 10,
    onUnstoppable: p.onUnstoppable ?? ((spec) => p.log.crit(`Resource ${spec} could not be stopped.`)),
    ...(p.requestDelayMs !== undefined ? { requestDelayMs: p.requestDelayMs } : {}),
    ...(p.fencer !== undefined ? { fencer: p.fencer } : {}),
    ...(p.monitors !== undefined ? { monitors: p.monitors } : {}),
    ...(p.quorum !== undefined ? { quorum: p.quorum } : {}),
    ...(p.fastStart !== undefined ? { fastStart: p.fastStart } : {}),
  });
  resources?.bind(messaging.cluster);
  return { messaging, resources };
}
