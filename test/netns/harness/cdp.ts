/**
 * A headless Chromium driven over the DevTools protocol on a pipe
 * (`--remote-debugging-pipe`: commands in on fd 3, replies out on fd 4,
 * each a JSON text ended by NUL), so no WebSocket client is needed. Runs
 * inside a lab node (argv from `lab.enter`), as root, hence --no-sandbox.
 * Only what the page tests need: open a page, evaluate, set the viewport,
 * take a screenshot. Killed by PID.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';

interface Pending { resolve: (v: Record<string, unknown>) => void; reject: (e: Error) => void; method: string }

export class Browser {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private buffer = '';
  private sessionId: string | undefined;
  private readonly stderr: string[] = [];

  private constructor(private readonly child: ChildProcess, private readonly profile: string) {
    const out = child.stdio[4] as Readable;
    out.setEncoding('utf8');
    out.on('data', (chunk: string) => this.receive(chunk));
    (child.stderr as Readable).setEncoding('utf8').on('data', (t: string) => {
      this.stderr.push(t);
      if (this.stderr.length > 200) this.stderr.shift();
    });
    child.on('exit', () => {
      for (const p of this.pending.values()) p.reject(new Error(`chromium exited during ${p.method}: ${this.stderr.join('').slice(-2000)}`));
      this.pending.clear();
    });
  }

  /** Starts chromium with `enter(argv)` wrapping the command (a lab node's namespaces). */
  static async launch(enter: (argv: string[]) => string[], env: NodeJS.ProcessEnv): Promise<Browser> {
    const profile = mkdtempSync(join(tmpdir(), 'hbts-chromium-'));
    const argv = enter(['chromium', '--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run', '--no-default-browser-check',
      '--disable-dev-shm-usage', '--disable-extensions', '--disable-background-networking', '--disable-sync', '--remote-debugging-pipe',
      `--user-data-dir=${profile}`, 'about:blank']);
    const child = spawn(argv[0] as string, argv.slice(1), { env, stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] });
    const b = new Browser(child, profile);
    const { targetId } = await b.send('Target.createTarget', { url: 'about:blank' }) as { targetId: string };
    const { sessionId } = await b.send('Target.attachToTarget', { targetId, flatten: true }) as { sessionId: string };
    b.sessionId = sessionId;
    await b.send('Page.enable');
    await b.send('Runtime.enable');
    return b;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  send(method: string, params: Record<string, unknown> = {}, timeoutMs = 30_000): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    const msg = { id, method, params, ...(this.sessionId && !method.startsWith('Target.') ? { sessionId: this.sessionId } : {}) };
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`chromium: no answer to ${method} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        method,
        resolve: (v) => { clearTimeout(timer); resolve(v); },
        reject: (e) => { clearTimeout(timer); reject(e); },
      });
      (this.child.stdio[3] as Writable).write(`${JSON.stringify(msg)}\0`);
    });
  }

  async setViewport(width: number, height: number, mobile = false): Promise<void> {
    await this.send('Emulation.setDeviceMetricsOverride', { width, height, deviceScaleFactor: 1, mobile });
  }

  async goto(url: string): Promise<void> {
    const r = await this.send('Page.navigate', { url });
    if (typeof r['errorText'] === 'string') throw new Error(`chromium: ${url}: ${r['errorText']}`);
  }

  /** Value of a JavaScript expression in the page (awaited when it is a promise). */
  async evaluate<T>(expression: string): Promise<T> {
    const r = await this.send('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true }) as { result?: { value?: T }; exceptionDetails?: { text?: string } };
    if (r.exceptionDetails) throw new Error(`chromium: ${expression}: ${r.exceptionDetails.text ?? 'exception'}`);
    return r.result?.value as T;
  }

  async screenshot(): Promise<Buffer> {
    const r = await this.send('Page.captureScreenshot', { format: 'png', captureBeyondViewport: true }) as { data: string };
    return Buffer.from(r.data, 'base64');
  }

  async close(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const gone = new Promise((r) => this.child.once('exit', r));
      this.child.kill('SIGKILL');
      await gone;
    }
    rmSync(this.profile, { recursive: true, force: true });
  }

  private receive(chunk: string): void {
    this.buffer += chunk;
    let end: number;
    while ((end = this.buffer.indexOf('\0')) >= 0) {
      const text = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 1);
      let msg: { id?: number; result?: Record<string, unknown>; error?: { message?: string } };
      try {
        msg = JSON.parse(text) as typeof msg;
      } catch {
        continue;
      }
      if (msg.id === undefined) continue;
      const p = this.pending.get(msg.id);
      if (!p) continue;
      this.pending.delete(msg.id);
      if (msg.error) p.reject(new Error(`chromium: ${p.method}: ${msg.error.message ?? 'error'}`));
      else p.resolve(msg.result ?? {});
    }
  }
}
