/**
 * Support for test/netns/media.test.ts: an agent process per lab node that
 * runs media from dist/ (fixtures/media-agent.mjs) and reports what it hears.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Lab, NodeId } from './harness/lab.js';

export interface AgentEvent {
  ev: string;
  id?: string;
  data?: string;
  from?: string;
  code?: string;
  message?: string;
  description?: string;
  linkName?: string;
  pid?: number;
}

export class MediaAgent {
  readonly events: AgentEvent[] = [];
  private readonly listeners = new Set<() => void>();
  private exited = false;

  private constructor(
    private readonly child: ChildProcess,
    readonly name: string,
  ) {
    const out = this.child.stdout;
    if (out === null) throw new Error('agent without stdout');
    createInterface({ input: out }).on('line', (line) => {
      try {
        this.events.push(JSON.parse(line) as AgentEvent);
      } catch {
        this.events.push({ ev: 'garbage', message: line });
      }
      for (const l of this.listeners) l();
    });
    this.child.stderr?.on('data', (d: Buffer) => this.events.push({ ev: 'stderr', message: d.toString() }));
    this.child.on('exit', () => {
      this.exited = true;
      for (const l of this.listeners) l();
    });
  }

  /** The agent's PID as its node sees it (from its 'ready' event). */
  get pid(): number {
    return this.events.find((e) => e.ev === 'ready')?.pid ?? -1;
  }

  /** Starts the agent in lab node `id` (its PID, network and mount namespaces). */
  static async start(lab: Lab, id: NodeId, distRoot: string, fixture: string): Promise<MediaAgent> {
    const argv = lab.enter(id, [process.execPath, fixture, distRoot]);
    const child = spawn(argv[0] ?? 'nsenter', argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'], env: lab.envFor(id) });
    const agent = new MediaAgent(child, lab.name(id));
    await agent.waitFor((e) => e.ev === 'ready', 15_000, 'agent ready');
    return agent;
  }

  private command(cmd: object): void {
    this.child.stdin?.write(`${JSON.stringify(cmd)}\n`);
  }

  /** Resolves with the first event (old or new) matching pred. */
  waitFor(pred: (e: AgentEvent) => boolean, timeoutMs: number, what: string): Promise<AgentEvent> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const hit = this.events.find(pred);
        if (hit !== undefined) {
          done();
          resolve(hit);
          return true;
        }
        if (this.exited) {
          done();
          reject(new Error(`${this.name}: agent exited while waiting for ${what}; events: ${JSON.stringify(this.events.slice(-10))}`));
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`${this.name}: timed out waiting for ${what}; last events: ${JSON.stringify(this.events.slice(-10))}`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.listeners.delete(listener);
      };
      const listener = (): void => void check();
      this.listeners.add(listener);
      check();
    });
  }

  async open(id: string, line: object): Promise<AgentEvent> {
    this.command({ op: 'open', id, line });
    return this.waitFor((e) => e.id === id && (e.ev === 'opened' || e.ev === 'openFailed'), 15_000, `open ${id}`);
  }

  async mustOpen(id: string, line: object): Promise<AgentEvent> {
    const ev = await this.open(id, line);
    if (ev.ev !== 'opened') throw new Error(`${this.name}: open ${id} failed: ${ev.code} ${ev.message}`);
    return ev;
  }

  send(id: string, payload: string | Buffer): void {
    const data = typeof payload === 'string' ? Buffer.from(payload) : payload;
    this.command({ op: 'send', id, data: data.toString('base64') });
  }

  async close(id: string): Promise<void> {
    this.command({ op: 'close', id });
    await this.waitFor((e) => e.id === id && e.ev === 'closed', 15_000, `close ${id}`);
  }

  /** Payloads (as text) and sources the medium `id` has delivered so far. */
  packets(id: string): { text: string; from: string }[] {
    return this.events
      .filter((e) => e.ev === 'packet' && e.id === id)
      .map((e) => ({ text: Buffer.from(e.data ?? '', 'base64').toString(), from: e.from ?? '' }));
  }

  errors(id: string): AgentEvent[] {
    return this.events.filter((e) => e.ev === 'error' && e.id === id);
  }

  waitPacket(id: string, text: string, timeoutMs = 10_000): Promise<AgentEvent> {
    return this.waitFor(
      (e) => e.ev === 'packet' && e.id === id && Buffer.from(e.data ?? '', 'base64').toString() === text,
      timeoutMs,
      `packet "${text}" on ${id}`,
    );
  }

  /** Closes stdin (the agent closes its media and exits); SIGKILL by PID after 5 s. */
  async stop(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.stdin?.end();
    const timer = setTimeout(() => {
      if (!this.exited && this.child.pid !== undefined) process.kill(this.child.pid, 'SIGKILL');
    }, 5_000);
    await gone;
    clearTimeout(timer);
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
