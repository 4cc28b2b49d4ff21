/**
 * Resource scripts for the simulator: each machine keeps the set of
 * resources running on it (it survives a heartbeat restart, not a reboot)
 * and a journal of start/stop calls. `status` answers as an LSB script does.
 */
import type { Resource } from '../../lib/config/types.js';
import { DEFAULT_TIMEOUTS, type Operation, type ResourceScripts, type ScriptResult } from '../../lib/resources/script-runner.js';
import type { Clock } from '../../lib/util/clock.js';

export class SimMachine {
  readonly running = new Set<string>();
  readonly journal: string[] = [];
  /** Resource specs whose start fails (exit 1). */
  readonly failStart = new Set<string>();
  /** Resource specs whose `status` hangs until its deadline kills it. */
  readonly hangStatus = new Set<string>();
  /** `status` calls per resource spec. */
  readonly statusCalls = new Map<string, number>();

  constructor(readonly name: string) {}

  /** The service dies on its own (killed, crashed), the node stays up. */
  kill(spec: string): void {
    this.running.delete(spec);
  }

  /** A reboot: nothing runs any more. */
  reboot(): void {
    this.running.clear();
  }

  holds(spec: string): boolean {
    return this.running.has(spec);
  }
}

const result = (code: number, stdout = ''): ScriptResult => ({ code, stdout, stderr: '', timedOut: false, spawnError: undefined, durationMs: 0 });

export class SimScripts implements ResourceScripts {
  /** `clock`: where a hung status waits for its deadline (without one it answers at once). */
  constructor(private readonly machine: SimMachine, private readonly clock?: Clock) {}

  locate(script: string): string | undefined {
    return `/sim/resource.d/${script}`;
  }

  describe(path: string, r: Resource, op: Operation): string {
    return `${path} ${r.args.join(' ')} ${op}`;
  }

  run(_path: string, r: Resource, op: Operation, _env?: Record<string, string>, timeoutMs?: number): Promise<ScriptResult> {
    const m = this.machine;
    if (op === 'status') {
      m.statusCalls.set(r.spec, (m.statusCalls.get(r.spec) ?? 0) + 1);
      const deadline = timeoutMs ?? DEFAULT_TIMEOUTS.status;
      if (m.hangStatus.has(r.spec) && this.clock) {
        const clock = this.clock;
        return new Promise((resolve) => clock.setTimer(() => resolve({ ...result(0), code: null, timedOut: true, durationMs: deadline }), deadline));
      }
      return Promise.resolve(result(0, m.running.has(r.spec) ? 'running' : 'stopped'));
    }
    m.journal.push(`${op} ${r.spec}`);
    if (op === 'start') {
      if (m.failStart.has(r.spec)) return Promise.resolve(result(1));
      m.running.add(r.spec);
    } else {
      m.running.delete(r.spec);
    }
    return Promise.resolve(result(0));
  }
}
