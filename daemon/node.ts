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

/** Interval of the rejected-packets summary (HA_REJECT_REPORT_SECONDS overrides, for tests and operators). */
const REJECT_REPORT_MS = Math.max(1, Number(process.env['HA_REJECT_REPORT_SECONDS'] ?? '60') || 60) * 1000;

export function readLoadavg(): string {
  try {
    return readFileSync('/proc/loadavg', 'latin1').trim();
  } catch {
    return 'n/a';
  }
}

/**
 * Prefixes a medium's open failure with the ha.cf line that configured it:
 * an interface that does not exist is only found at start, and the operator
 * should not have to guess which of several media lines is wrong.
 */
function withOrigin(medium: Medium, origin: string): Medium {
  const open = medium.open.bind(medium);
  medium.open = async (onPacket, onError) => {
    try {
      await open(onPacket, onError);
    } catch (err) {
      const code = err instanceof HbError ? err.code : 'MEDIA_OPEN';
      throw new HbError(code, `${origin}: ${(err as Error).message}`, { cause: err });
    }
  };
  return medium;
}

export class HeartbeatNode {
  readonly cluster: Cluster;
  readonly auth: Authenticator;
  readonly generation: number;
  readonly uuid: Buffer;
  private readonly media: Medium[];
  private hostCacheTimer: NodeJS.Timeout | null = null;
  private rejectTimer: NodeJS.Timeout | null = null;
  private lastRejects = { malformed: 0, 'unknown-key': 0, 'bad-digest': 0, replay: 0 };

  constructor(private readonly deps: NodeDeps) {
    const { config, keys, paths, log } = deps;
    const clock = deps.clock ?? systemClock;
    this.auth = new Authenticator(keys, { msgfmt: config.msgfmt });
    this.warnIfCrc();
    this.generation = nextGeneration(paths.stateDir, config.hbgenmethod, clock.wallMs(), log);
    this.uuid = config.uuidfrom === 'nodename' ? uuidFromNodename(deps.nodename) : loadOrCreateUuid(paths.stateDir, log);
    this.media = config.media
      .map((m) => withOrigin(createMedium(m, { udpport: config.udpport, signer: this.auth }), `${paths.haDir}/ha.cf:${m.line}`));
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

  private warnIfCrc(): void {
    if (this.auth.isCrc()) {
      this.deps.log.warn('Authentication method crc protects against accidents only: anyone on the network can forge packets. Use sha1.');
    }
  }

  /** New authkeys (reload): from now on only these keys sign and verify. */
  setKeys(keys: AuthKeys): void {
    this.auth.setKeys(keys);
    this.warnIfCrc();
  }

  /**
   * One summary line per interval while packets are being rejected, so an
   * attack or a key mismatch is visible without flooding the log.
   */
  private reportRejects(): void {
    const now = this.auth.snapshot();
    const delta = {
      malformed: now.malformed - this.lastRejects.malformed,
      'unknown-key': now['unknown-key'] - this.lastRejects['unknown-key'],
      'bad-digest': now['bad-digest'] - this.lastRejects['bad-digest'],
      replay: now.replay - this.lastRejects.replay,
    };
    this.lastRejects = { malformed: now.malformed, 'unknown-key': now['unknown-key'], 'bad-digest': now['bad-digest'], replay: now.replay };
    const total = delta.malformed + delta['unknown-key'] + delta['bad-digest'] + delta.replay;
    if (total === 0) return;
    this.deps.log.warn(
      `Rejected ${total} packet(s) in the last ${REJECT_REPORT_MS / 1000} s: malformed ${delta.malformed}, unknown-key ${delta['unknown-key']}, bad-digest ${delta['bad-digest']}, replay ${delta.replay} (totals: malformed ${now.malformed}, unknown-key ${now['unknown-key']}, bad-digest ${now['bad-digest']}, replay ${now.replay}, accepted ${now.ok})`,
    );
  }

  async start(): Promise<void> {
    this.rejectTimer = setInterval(() => this.reportRejects(), REJECT_REPORT_MS);
    this.rejectTimer.unref();
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
    if (this.rejectTimer) clearInterval(this.rejectTimer);
    await this.cluster.stop();
  }
}
