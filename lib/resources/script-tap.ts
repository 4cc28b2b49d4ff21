/**
 * Lets observers see every resource script run (the daemon's /metrics and
 * failover timeline) without the resource layer knowing about them: a
 * ResourceScripts that passes each call through and reports its start and
 * its result. Observers must not throw; one that does is dropped from that
 * call only (a broken observer never fails a takeover).
 */
import type { Resource } from '../config/types.js';
import type { Operation, ResourceScripts, ScriptResult } from './script-runner.js';

export interface ScriptRunObserver {
  started?(resource: Resource, op: Operation): void;
  finished?(resource: Resource, op: Operation, result: ScriptResult): void;
}

export class ScriptTap implements ResourceScripts {
  private readonly observers = new Set<ScriptRunObserver>();

  constructor(private readonly inner: ResourceScripts) {}

  /** Adds an observer; the returned function removes it. */
  observe(o: ScriptRunObserver): () => void {
    this.observers.add(o);
    return () => { this.observers.delete(o); };
  }

  locate(script: string): string | undefined {
    return this.inner.locate(script);
  }

  describe(path: string, r: Resource, op: Operation): string {
    return this.inner.describe(path, r, op);
  }

  async run(path: string, r: Resource, op: Operation, extraEnv?: Record<string, string>, timeoutMs?: number): Promise<ScriptResult> {
    this.tell((o) => o.started?.(r, op));
    const result = await this.inner.run(path, r, op, extraEnv, timeoutMs);
    this.tell((o) => o.finished?.(r, op, result));
    return result;
  }

  private tell(call: (o: ScriptRunObserver) => void): void {
    for (const o of this.observers) {
      try {
        call(o);
      } catch {
        // an observer's bug must not reach resource management
      }
    }
  }
}
