/**
 * Support for test/netns/media.test.ts: two private network namespaces
 * joined by two veth links, and an agent process per namespace that runs
 * media from dist/ (fixtures/media-agent.mjs) and reports what it hears.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function run(cmd: string, args: string[], input?: string, timeoutMs = 60_000): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => {
      if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
    }, timeoutMs);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ code: -1, stdout, stderr: stderr + String(err) });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : -1), stdout, stderr });
    });
    child.stdin.on('error', () => undefined); // EPIPE when the command does not read stdin
    child.stdin.end(input ?? '');
  });
}

export async function must(cmd: string, args: string[]): Promise<string> {
  const r = await run(cmd, args);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.code}): ${r.stderr.trim()}`);
  return r.stdout;
}

/**
 * Namespaces A and B; link eth0 = 10.231.1.0/24 (A .1, B .2), link eth1 =
 * 10.231.2.0/24 (A .1, B .2). The addresses only exist inside the two
 * namespaces, so parallel runs cannot collide; the namespace names carry
 * the suffix.
 */
export class TwoNodeLab {
  readonly nsA: string;
  readonly nsB: string;
  constructor(suffix: string) {
    this.nsA = `hbts-media-a-${suffix}`;
    this.nsB = `hbts-media-b-${suffix}`;
  }

  async up(): Promise<void> {
    const { nsA, nsB } = this;
    await must('ip', ['netns', 'add', nsA]);
    await must('ip', ['netns', 'add', nsB]);
    for (const [i, dev] of ['eth0', 'eth1'].entries()) {
      await must('ip', ['-n', nsA, 'link', 'add', dev, 'type', 'veth', 'peer', 'name', dev, 'netns', nsB]);
      await must('ip', ['-n', nsA, 'addr', 'add', `10.231.${i + 1}.1/24`, 'brd', '+', 'dev', dev]);
      await must('ip', ['-n', nsB, 'addr', 'add', `10.231.${i + 1}.2/24`, 'brd', '+', 'dev', dev]);
      await must('ip', ['-n', nsA, 'link', 'set', dev, 'up']);
      await must('ip', ['-n', nsB, 'link', 'set', dev, 'up']);
    }
    await must('ip', ['-n', nsA, 'link', 'set', 'lo', 'up']);
    await must('ip', ['-n', nsB, 'link', 'set', 'lo', 'up']);
    // Wait for carrier on all four ends, so the first datagrams are not lost.
    for (let i = 0; i < 100; i++) {
      const a = await must('ip', ['-n', nsA, '-o', 'link', 'show', 'up']);
      const b = await must('ip', ['-n', nsB, '-o', 'link', 'show', 'up']);
      if ((a + b).split('\n').filter((l) => /eth\d.*LOWER_UP/.test(l)).length === 4) return;
      await sleep(100);
    }
    throw new Error('veth links did not come up');
  }

  /** Deleting a namespace removes its veth ends too. Errors are collected, not thrown early. */
  async down(): Promise<string[]> {
    const problems: string[] = [];
    for (const ns of [this.nsA, this.nsB]) {
      const r = await run('ip', ['netns', 'del', ns]);
      if (r.code !== 0 && !/No such file/.test(r.stderr)) problems.push(`ip netns del ${ns}: ${r.stderr.trim()}`);
    }
    return problems;
  }

  exec(ns: string, cmd: string, args: string[], input?: string): Promise<RunResult> {
    return run('ip', ['netns', 'exec', ns, cmd, ...args], input);
  }
}

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

  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** `ip netns exec` execs node directly, so the child's PID is the agent's. */
  static async start(ns: string, distRoot: string, fixture: string): Promise<MediaAgent> {
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, fixture, distRoot], { stdio: ['pipe', 'pipe', 'pipe'] });
    const agent = new MediaAgent(child, ns);
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
