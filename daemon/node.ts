/**
 * One running heartbeat node: configuration, logging, persistent identity,
 * media, authentication and the membership core, assembled and torn down in
 * order. Upper layers (resources, API) attach through `cluster` events.
 */
import { readFileSync } from 'node:fs';
import { Authenticator } from '../lib/auth/index.js';
import type { AuthKeys, HaConfig, ResourceGroup } from '../lib/config/types.js';
import { createMedium } from '../lib/media/factory.js';
import type { Medium } from '../lib/media/medium.js';
import { Cluster } from '../lib/membership/cluster.js';
import { loadOrCreateUuid, nextGeneration, uuidFromNodename, writeHostCache } from '../lib/membership/state-files.js';
import { systemClock, type Clock } from '../lib/util/clock.js';
import { HbError } from '../lib/util/errors.js';
import type { Logger } from '../lib/util/log.js';
import type { Paths } from './paths.js';

export interface NodeDeps {
  config: HaConfig;
  keys: AuthKeys;
  groups: ResourceGroup[];
  nodename: string;
  paths: Paths;
  log: Logger;
  clock?: Clock;
}

export function readLoadavg(): string {
  try {
    return readFileSync('/proc/loadavg', 'latin1').trim();
  } catch {
    return 'n/a';
  }
}

export class HeartbeatNode {
  readonly cluster: Cluster;
  readonly auth: Authenticator;
  readonly generation: number;
  readonly uuid: Buffer;
  private readonly media: Medium[];
  private hostCacheTimer: NodeJS.Timeout | null = null;

  constructor(private readonly deps: NodeDeps) {
    const { config, keys, paths, log } = deps;
    const clock = deps.clock ?? systemClock;
    this.auth = new Authenticator(keys, { msgfmt: config.msgfmt });
    if (this.auth.isCrc()) {
      log.warn('Authentication method crc protects against accidents only: anyone on the network can forge packets. Use sha1.');
    }
    this.generation = nextGeneration(paths.stateDir, config.hbgenmethod, clock.wallMs(), log);
    this.uuid = config.uuidfrom === 'nodename' ? uuidFromNodename(deps.nodename) : loadOrCreateUuid(paths.stateDir, log);
    this.media = config.media.filter((m) => m.kind !== 'ping' && m.kind !== 'ping_group').map((m) => createMedium(m, { udpport: config.udpport }));
    this.cluster = new Cluster({
      config,
      myName: deps.nodename,
      uuid: this.uuid,
      generation: this.generation,
      signer: this.auth,
      media: this.media,
      clock,
      log,
      loadavg: readLoadavg,
    });
    // Keep the host cache current as peers' uuids become known, as heartbeat does.
    this.cluster.on('nodeStatus', () => this.scheduleHostCache());
  }

  async start(): Promise<void> {
    try {
      await this.cluster.start();
    } catch (err) {
      await this.cluster.stop();
      throw err instanceof HbError ? err : new HbError('MEDIA_OPEN', (err as Error).message);
    }
  }

  private scheduleHostCache(): void {
    if (this.hostCacheTimer) return;
    this.hostCacheTimer = setTimeout(() => {
      this.hostCacheTimer = null;
      writeHostCache(
        this.deps.paths.stateDir,
        this.cluster.allNodes().filter((n) => n.type === 'normal').map((n) => ({ name: n.name, uuid: n.uuid })),
        this.deps.log,
      );
    }, 1000);
  }

  async stop(): Promise<void> {
    if (this.hostCacheTimer) clearTimeout(this.hostCacheTimer);
    await this.cluster.stop();
  }
}
