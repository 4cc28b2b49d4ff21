/**
 * A node's messaging half: authentication, persistent identity (through the
 * state store), media and the membership core, started and stopped in
 * order. Rebuilt on a reload of ha.cf and on a restart; the resource half
 * (./resources.ts) survives a reload.
 */
import { Authenticator } from '../auth/index.js';
import type { AuthKeys, HaConfig } from '../config/types.js';
import type { Medium } from '../media/medium.js';
import { Cluster } from '../membership/cluster.js';
import type { Signer } from '../membership/reliability.js';
import { uuidFromNodename, type StateStore } from '../membership/state-files.js';
import type { Clock, TimerHandle } from '../util/clock.js';
import { HbError, NODE_ERRORS } from '../util/errors.js';
import type { Logger } from '../util/log.js';

export interface MessagingParts {
  config: HaConfig;
  keys: AuthKeys;
  nodename: string;
  /** Builds the media of a configuration (sockets in the daemon, a simulated segment in tests). */
  media: (config: HaConfig, signer: Signer) => Medium[];
  clock: Clock;
  log: Logger;
  store: StateStore;
  /** Contents of /proc/loadavg (the `ld` field). */
  loadavg: () => string;
  random?: () => number;
  /** Interval of the rejected-packets summary. */
  rejectReportMs: number;
}

type RejectCounts = { malformed: number; 'unknown-key': number; 'bad-digest': number; replay: number };
const REJECT_KINDS = ['malformed', 'unknown-key', 'bad-digest', 'replay'] as const;

export class Messaging {
  readonly cluster: Cluster;
  readonly auth: Authenticator;
  readonly generation: number;
  readonly uuid: Buffer;
  private hostCacheTimer: TimerHandle | null = null;
  private rejectTimer: TimerHandle | null = null;
  private lastRejects: RejectCounts = { malformed: 0, 'unknown-key': 0, 'bad-digest': 0, replay: 0 };

  constructor(private readonly p: MessagingParts) {
    const { config, log, clock } = p;
    this.auth = new Authenticator(p.keys, { msgfmt: config.msgfmt });
    this.warnIfCrc();
    this.generation = p.store.nextGeneration(config.hbgenmethod, clock.wallMs(), log);
    this.uuid = config.uuidfrom === 'nodename' ? uuidFromNodename(p.nodename) : p.store.loadOrCreateUuid(log);
    this.cluster = new Cluster({
      config,
      myName: p.nodename,
      uuid: this.uuid,
      generation: this.generation,
      signer: this.auth,
      media: p.media(config, this.auth),
      clock,
      log,
      loadavg: p.loadavg,
      ...(p.random ? { random: p.random } : {}),
    });
    // Keep the host cache current as peers' uuids become known, as heartbeat does.
    this.cluster.on('nodeStatus', () => this.scheduleHostCache());
  }

  private warnIfCrc(): void {
    if (this.auth.isCrc()) {
      this.p.log.warn('Authentication method crc protects against accidents only: anyone on the network can forge packets. Use sha1.');
    }
  }

  /** New authkeys (reload): from now on only these keys sign and verify. */
  setKeys(keys: AuthKeys): void {
    this.auth.setKeys(keys);
    this.warnIfCrc();
  }

  async start(): Promise<void> {
    this.rejectTimer = this.p.clock.setRepeating(() => this.reportRejects(), this.p.rejectReportMs);
    try {
      await this.cluster.start();
    } catch (err) {
      await this.stop();
      throw err instanceof HbError ? err : new HbError(NODE_ERRORS.MEDIA_OPEN, (err as Error).message);
    }
  }

  async stop(): Promise<void> {
    this.hostCacheTimer?.cancel();
    this.hostCacheTimer = null;
    this.rejectTimer?.cancel();
    this.rejectTimer = null;
    await this.cluster.stop();
  }

  /**
   * One summary line per interval while packets are being rejected, so an
   * attack or a key mismatch is visible without flooding the log.
   */
  private reportRejects(): void {
    const now = this.auth.snapshot();
    const delta: RejectCounts = { malformed: 0, 'unknown-key': 0, 'bad-digest': 0, replay: 0 };
    for (const k of REJECT_KINDS) {
      delta[k] = now[k] - this.lastRejects[k];
      this.lastRejects[k] = now[k];
    }
    const total = delta.malformed + delta['unknown-key'] + delta['bad-digest'] + delta.replay;
    if (total === 0) return;
    this.p.log.warn(
      `Rejected ${total} packet(s) in the last ${this.p.rejectReportMs / 1000} s: malformed ${delta.malformed}, unknown-key ${delta['unknown-key']}, bad-digest ${delta['bad-digest']}, replay ${delta.replay} (totals: malformed ${now.malformed}, unknown-key ${now['unknown-key']}, bad-digest ${now['bad-digest']}, replay ${now.replay}, accepted ${now.ok})`,
    );
  }

  private scheduleHostCache(): void {
    if (this.hostCacheTimer) return;
    this.hostCacheTimer = this.p.clock.setTimer(() => {
      this.hostCacheTimer = null;
      this.p.store.writeHostCache(
        this.cluster.allNodes().filter((n) => n.type === 'normal').map((n) => ({ name: n.name, uuid: n.uuid })),
        this.p.log,
      );
    }, 1000);
  }
}
