/**
 * Support for test/netns/ping.test.ts: a child process started under
 * `ip netns exec` that reports JSON events on stdout (the fixtures
 * ping-agent.mjs and icmp-responder.mjs).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface AgentEvent {
  ev: string;
  [k: string]: unknown;
}

export class JsonAgent {
  readonly events: AgentEvent[] = [];
  private readonly listeners = new Set<() => void>();
  private exited = false;

  private constructor(private readonly child: ChildProcess, readonly name: string) {
    const out = child.stdout;
    if (out === null) throw new Error('agent without stdout');
    createInterface({ input: out }).on('line', (line) => {
      try {
        this.events.push(JSON.parse(line) as AgentEvent);
      } catch {
        this.events.push({ ev: 'garbage', line });
      }
      for (const l of this.listeners) l();
    });
    child.stderr?.on('data', (d: Buffer) => this.events.push({ ev: 'stderr', text: d.toString() }));
    child.on('close', () => {
      this.exited = true;
      for (const l of this.listeners) l();
    });
  }

  /** `ip netns exec` execs node directly, so the child's PID is the agent's. */
  static async start(name: string, netns: string, script: string, args: readonly string[]): Promise<JsonAgent> {
    const child = spawn('ip', ['netns', 'exec', netns, process.execPath, script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const agent = new JsonAgent(child, name);
    await agent.waitFor((e) => e.ev === 'ready', 20_000, 'ready');
    return agent;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Resolves with the first event (old or new) matching pred. */
  waitFor(pred: (e: AgentEvent) => boolean, timeoutMs: number, what: string): Promise<AgentEvent> {
    return new Promise((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        this.listeners.delete(check);
      };
      const check = (): void => {
        const hit = this.events.find(pred);
        if (hit !== undefined) {
          done();
          resolve(hit);
        } else if (this.exited) {
          done();
          reject(new Error(`${this.name}: exited while waiting for ${what}; last events: ${this.tail()}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`${this.name}: timed out after ${timeoutMs} ms waiting for ${what}; last events: ${this.tail()}`));
      }, timeoutMs);
      this.listeners.add(check);
      check();
    });
  }

  /** Index to pass as `from` so that only later events are considered. */
  mark(): number {
    return this.events.length;
  }

  since(from: number): AgentEvent[] {
    return this.events.slice(from);
  }

  /** Waits for an event matching pred among those after index `from`. */
  waitAfter(from: number, pred: (e: AgentEvent) => boolean, timeoutMs: number, what: string): Promise<AgentEvent> {
    const seen = new Set(this.events.slice(0, from));
    return this.waitFor((e) => !seen.has(e) && pred(e), timeoutMs, what);
  }

  last(ev: string): AgentEvent | undefined {
    for (let i = this.events.length - 1; i >= 0; i--) if (this.events[i]?.ev === ev) return this.events[i];
    return undefined;
  }

  tail(n = 12): string {
    return JSON.stringify(this.events.filter((e) => e.ev !== 'counters').slice(-n));
  }

  signal(sig: NodeJS.Signals): void {
    if (!this.exited && this.child.pid !== undefined) process.kill(this.child.pid, sig);
  }

  /** SIGTERM by PID, SIGKILL after 5 s. */
  async stop(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((resolve) => this.child.once('close', () => resolve()));
    this.signal('SIGTERM');
    const timer = setTimeout(() => this.signal('SIGKILL'), 5_000);
    await gone;
    clearTimeout(timer);
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
