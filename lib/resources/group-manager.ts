/**
 * Resource groups from haresources, started left to right and stopped right
 * to left — heartbeat's ResourceManager (spec 10.2), in-process: the same
 * command lines, the same log lines, no chain of shell scripts in between.
 */
import type { Resource, ResourceGroup } from '../config/types.js';
import { sleep, type Clock } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import { type ResourceScripts, type ScriptResult, statusSaysRunning } from './script-runner.js';

export type StopFailureAction = 'reboot' | 'exit';

export interface GroupManagerOptions {
  groups: ResourceGroup[];
  myName: string;
  runner: ResourceScripts;
  /** Stop retries wait on this clock. */
  clock: Clock;
  /** Logger in the script layout, tagged `ResourceManager(default)`. */
  log: Logger;
  /** HA_STOPRETRYMAX: stop retries, one per second (default 10). */
  stopRetryMax: number;
  /** Called when a resource cannot be stopped and still runs (heartbeat reboots). */
  onUnstoppable: (resource: Resource) => void;
}

/** A monitor's status check: running, or why not. */
export interface StatusVerdict {
  running: boolean;
  reason: string;
}

export interface TakeResult {
  ok: boolean;
  /** The resource whose start failed, when ok is false. */
  failed?: Resource;
}

export class GroupManager {
  private queue: Promise<unknown> = Promise.resolve();
  private pending = 0;

  constructor(private readonly o: GroupManagerOptions) {}

  /** Group keys whose preferred owner is `node` (ResourceManager listkeys). */
  keysOf(node: string): string[] {
    return this.o.groups.filter((g) => g.node === node).map((g) => g.key);
  }
  ourKeys(): string[] {
    return this.keysOf(this.o.myName);
  }
  otherKeys(): string[] {
    return this.o.groups.filter((g) => g.node !== this.o.myName).map((g) => g.key);
  }
  allKeys(): string[] {
    return this.o.groups.map((g) => g.key);
  }
  group(key: string): ResourceGroup | undefined {
    return this.o.groups.find((g) => g.key === key);
  }
  /** True while any group operation is queued or running. */
  get busy(): boolean {
    return this.pending > 0;
  }

  /** Serialises group operations: two transitions never interleave. */
  private enqueue<T>(work: () => Promise<T>): Promise<T> {
    this.pending++;
    const next = this.queue.then(work, work).finally(() => {
      this.pending--;
    });
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** we_own_resource: runs `status` and reads its stdout. */
  async isRunning(r: Resource): Promise<boolean> {
    const path = this.o.runner.locate(r.script);
    if (!path) return false;
    const res = await this.o.runner.run(path, r, 'status');
    if (res.timedOut) {
      this.o.log.error(`${path} status timed out after ${res.durationMs} ms (killed); treating ${r.spec} as not running`);
      return false;
    }
    return statusSaysRunning(res.stdout);
  }

  /**
   * A monitor's check (lib/resources/monitor.ts): the same `status` call and
   * "running" rule as at takeover, with the monitor's own deadline.
   */
  async checkStatus(r: Resource, timeoutMs: number): Promise<StatusVerdict> {
    const path = this.o.runner.locate(r.script);
    if (!path) return { running: false, reason: `cannot locate resource script ${r.script}` };
    const res = await this.o.runner.run(path, r, 'status', undefined, timeoutMs);
    if (res.timedOut) return { running: false, reason: `status timed out after ${res.durationMs} ms (killed)` };
    if (res.spawnError !== undefined) return { running: false, reason: `cannot run ${path}: ${res.spawnError}` };
    return statusSaysRunning(res.stdout) ? { running: true, reason: '' } : { running: false, reason: 'status says not running' };
  }

  /**
   * Restart in place: stops the resources of `key` from `index` on (right to
   * left), then starts them again (left to right), with a takeover's log
   * lines. False when a start failed (what started stays up; the caller moves
   * the group).
   */
  restartFrom(key: string, index: number): Promise<boolean> {
    return this.enqueue(async () => {
      const g = this.group(key);
      if (!g) return true;
      const tail = g.resources.slice(index);
      for (const r of [...tail].reverse()) if (!await this.stopOne(r)) return false;
      // Just stopped: started without the takeover's status check (a hung status would delay it).
      for (const r of tail) if (await this.runOp(r, 'start') !== 0) return false;
      return true;
    });
  }

  takeGroup(key: string): Promise<TakeResult> {
    return this.enqueue(() => this.acquire(key));
  }

  giveGroup(key: string): Promise<boolean> {
    return this.enqueue(() => this.release(key));
  }

  statGroup(key: string): Promise<'ALL' | 'SOME' | 'NONE'> {
    return this.enqueue(async () => {
      const g = this.group(key);
      if (!g) return 'NONE';
      let running = 0;
      for (const r of g.resources) if (await this.isRunning(r)) running++;
      if (running === 0) return 'NONE';
      return running === g.resources.length ? 'ALL' : 'SOME';
    });
  }

  /** How many resources of all groups are running (the init script's verifyallidle). */
  async countRunning(): Promise<number> {
    let n = 0;
    for (const g of this.o.groups) for (const r of g.resources) if (await this.isRunning(r)) n++;
    return n;
  }

  private line(g: ResourceGroup): string {
    return `${g.node} ${g.resources.map((r) => r.spec).join(' ')}`;
  }

  private async runOp(r: Resource, op: 'start' | 'stop'): Promise<number> {
    const path = this.o.runner.locate(r.script);
    if (!path) {
      this.o.log.error(`Cannot locate resource script ${r.script}`);
      return 1;
    }
    this.o.log.info(`Running ${this.o.runner.describe(path, r, op)}`);
    const res: ScriptResult = await this.o.runner.run(path, r, op);
    if (res.spawnError !== undefined) {
      this.o.log.error(`Cannot run ${path}: ${res.spawnError}`);
      return 1;
    }
    if (res.timedOut) {
      this.o.log.error(`${path} ${op} did not finish within ${res.durationMs} ms: killed`);
      return 1;
    }
    const rc = res.code ?? 1;
    if (rc !== 0) this.o.log.error(`Return code ${rc} from ${path}`);
    return rc;
  }

  private async acquire(key: string): Promise<TakeResult> {
    const g = this.group(key);
    if (!g) return { ok: true };
    this.o.log.info(`Acquiring resource group: ${this.line(g)}`);
    for (const r of g.resources) {
      if (await this.isRunning(r)) continue;
      const rc = await this.runOp(r, 'start');
      if (rc !== 0) {
        this.o.log.crit(`Giving up resources due to failure of ${r.spec}`);
        await this.release(key);
        return { ok: false, failed: r };
      }
    }
    return { ok: true };
  }

  private async release(key: string): Promise<boolean> {
    const g = this.group(key);
    if (!g) return true;
    this.o.log.info(`Releasing resource group: ${this.line(g)}`);
    let allStopped = true;
    for (const r of [...g.resources].reverse()) if (!await this.stopOne(r)) allStopped = false;
    return allStopped;
  }

  /** Stops one resource with heartbeat's retries; false when it still runs. */
  private async stopOne(r: Resource): Promise<boolean> {
    let rc = await this.runOp(r, 'stop');
    for (let retry = 0; rc !== 0 && (this.o.stopRetryMax <= 0 || retry < this.o.stopRetryMax); retry++) {
      await sleep(this.o.clock, 1000);
      this.o.log.info(`Retrying failed stop operation [${r.spec}]`);
      rc = await this.runOp(r, 'stop');
    }
    if (rc === 0) return true;
    if (await this.isRunning(r)) {
      this.o.log.crit('Resource STOP failure. Reboot required!');
      this.o.log.crit('Killing heartbeat ungracefully!');
      this.o.onUnstoppable(r);
      return false;
    }
    this.o.log.error(`Resource script for ${r.spec} probably not LSB-compliant.`);
    this.o.log.warn(`it (${r.spec}) MUST succeed on a stop when already stopped`);
    this.o.log.warn('Machine reboot narrowly avoided!');
    return true;
  }
}
