/**
 * STONITH before takeover (spec 6.5), as Heartbeat 3.0.6 does it: a peer
 * that held resources and was declared dead is reset first
 * (`Resetting node X with [DEV]`), the outcome goes to the cluster as
 * `t=stonith node=X result=OK|badhost|bad`, and its groups are taken only
 * after a confirmed reset (`node X now reset.`). A failed reset is retried
 * every 5 s (`STONITH of X failed.  Retrying...`) for as long as the node
 * stays dead: never a takeover of an unfenced node. The devices themselves
 * are cluster-glue's plugins, reached through a Fencer (daemon/stonith.ts).
 */
import type { Clock, TimerHandle } from '../util/clock.js';
import type { Logger } from '../util/log.js';

/** What a reset came to: `OK` (the node is off or reset), `badhost` (no device controls it), `bad` (the device failed). */
export type FenceResult = 'OK' | 'badhost' | 'bad';

export interface Fencer {
  /** How the devices are named in `Resetting node X with [...]`. */
  readonly description: string;
  reset(node: string): Promise<FenceResult>;
}

export const FENCE_RETRY_MS = 5000;

export interface FencingOptions {
  fencer: Fencer;
  clock: Clock;
  log: Logger;
  /** Sends `t=stonith node=X result=R`. */
  report: (node: string, result: FenceResult) => void;
  /** Whether node is still dead (a node that came back is no longer fenced). */
  stillDead: (node: string) => boolean;
  /** The takeover, once the node is confirmed reset. */
  takeover: (node: string) => void;
}

/** The controller's fencing, when devices are configured (none: 3.0.6's unfenced takeover). */
export function fencingFor(
  o: { fencer?: Fencer; clock: Clock; log: Logger; cluster: { normalNodes(): Array<{ name: string; status: string }> } },
  report: FencingOptions['report'], takeover: FencingOptions['takeover'],
): Fencing | undefined {
  if (o.fencer === undefined) return undefined;
  const stillDead = (node: string): boolean => o.cluster.normalNodes().find((n) => n.name === node)?.status === 'dead';
  return new Fencing({ fencer: o.fencer, clock: o.clock, log: o.log, report, stillDead, takeover });
}

export class Fencing {
  /** Nodes being fenced, with their retry timer. */
  private readonly pending = new Map<string, TimerHandle | undefined>();

  constructor(private readonly o: FencingOptions) {}

  /** Fences node, then takes its groups over; a second call for the same node while one runs is ignored. */
  fenceThenTakeover(node: string): void {
    if (this.pending.has(node)) return;
    this.pending.set(node, undefined);
    this.o.log.info(`Resetting node ${node} with [${this.o.fencer.description}]`);
    void this.attempt(node);
  }

  /** Whether a fencing of node is under way (its groups are not ours yet). */
  fencing(node: string): boolean {
    return this.pending.has(node);
  }

  stop(): void {
    for (const t of this.pending.values()) t?.cancel();
    this.pending.clear();
  }

  private async attempt(node: string): Promise<void> {
    let result: FenceResult;
    try {
      result = await this.o.fencer.reset(node);
    } catch {
      result = 'bad';
    }
    if (!this.pending.has(node)) return; // stopped meanwhile
    this.o.report(node, result);
    if (result === 'OK') {
      this.pending.delete(node);
      this.o.log.info(`node ${node} now reset.`);
      this.o.takeover(node);
      return;
    }
    this.o.log.error(`STONITH of ${node} failed.  Retrying...`);
    this.pending.set(node, this.o.clock.setTimer(() => {
      if (!this.o.stillDead(node)) {
        this.pending.delete(node);
        this.o.log.info(`Node ${node} is back: not fencing it.`);
        return;
      }
      void this.attempt(node);
    }, FENCE_RETRY_MS));
  }
}
