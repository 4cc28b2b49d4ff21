/**
 * Resource scripts for the simulator: each machine keeps the set of
 * resources running on it (it survives a heartbeat restart, not a reboot)
 * and a journal of start/stop calls. `status` answers as an LSB script does.
 */
import type { Resource } from '../../lib/config/types.js';
import type { Operation, ResourceScripts, ScriptResult } from '../../lib/resources/script-runner.js';

export class SimMachine {
  readonly running = new Set<string>();
  readonly journal: string[] = [];
  /** Resource specs whose start fails (exit 1). */
  readonly failStart = new Set<string>();

  constructor(readonly name: string) {}

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
  constructor(private readonly machine: SimMachine) {}

  locate(script: string): string | undefined {
    return `/sim/resource.d/${script}`;
  }

  describe(path: string, r: Resource, op: Operation): string {
    return `${path} ${r.args.join(' ')} ${op}`;
  }

  run(_path: string, r: Resource, op: Operation): Promise<ScriptResult> {
    const m = this.machine;
    if (op === 'status') return Promise.resolve(result(0, m.running.has(r.spec) ? 'running' : 'stopped'));
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
