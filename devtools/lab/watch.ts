/**
 * Observing a lab cluster from the host with timestamps: new lines of a
 * node's log file (inotify on its directory, plus a slow poll as a safety
 * net), and the client agent's view of who answers HTTP on the VIP and
 * when heartbeats were last heard.
 */
import { closeSync, openSync, readSync, statSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { REPO_ROOT, type Lab, type NodeProcess } from './lab.js';
import { nowMs, sleep } from './proc.js';

export interface TimedLine {
  /** wall-clock ms when the line was seen */
  t: number;
  text: string;
}

/** Lines appended to one host file, each stamped when it was read. */
export class LogWatch {
  readonly lines: TimedLine[] = [];
  private offset = 0;
  private partial = '';
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private listeners: Array<(l: TimedLine) => void> = [];

  /** Starts at the file's current end (only new lines are seen) unless fromStart. */
  constructor(readonly file: string, opts: { fromStart?: boolean; pollMs?: number } = {}) {
    if (opts.fromStart !== true) {
      try {
        this.offset = statSync(file).size;
      } catch {
        this.offset = 0;
      }
    }
    try {
      const name = basename(file);
      this.watcher = watch(dirname(file), (_ev, f) => {
        if (f === null || f === name) this.readNew();
      });
    } catch {
      // no inotify: the poll below does the work
    }
    this.timer = setInterval(() => this.readNew(), opts.pollMs ?? 200);
  }

  onLine(fn: (l: TimedLine) => void): void {
    this.listeners.push(fn);
  }

  private readNew(): void {
    let fd: number;
    try {
      fd = openSync(this.file, 'r');
    } catch {
      return;
    }
    const t = nowMs();
    try {
      const buf = Buffer.alloc(65536);
      for (;;) {
        const n = readSync(fd, buf, 0, buf.length, this.offset);
        if (n <= 0) break;
        this.offset += n;
        this.partial += buf.subarray(0, n).toString('utf8');
      }
    } finally {
      closeSync(fd);
    }
    let nl: number;
    while ((nl = this.partial.indexOf('\n')) >= 0) {
      const l = { t, text: this.partial.slice(0, nl) };
      this.partial = this.partial.slice(nl + 1);
      this.lines.push(l);
      for (const fn of this.listeners) fn(l);
    }
  }

  /** Index to pass as `from` to only consider lines after this moment. */
  mark(): number {
    this.readNew();
    return this.lines.length;
  }

  find(re: RegExp, from = 0): TimedLine | undefined {
    this.readNew();
    for (let k = from; k < this.lines.length; k++) {
      const l = this.lines[k];
      if (l !== undefined && re.test(l.text)) return l;
    }
    return undefined;
  }

  async wait(re: RegExp, opts: { from?: number; timeoutMs: number; what?: string }): Promise<TimedLine> {
    const end = Date.now() + opts.timeoutMs;
    for (;;) {
      const l = this.find(re, opts.from ?? 0);
      if (l !== undefined) return l;
      if (Date.now() > end) {
        const tail = this.lines.slice(-10).map((x) => x.text).join('\n');
        throw new Error(`timed out after ${opts.timeoutMs} ms waiting for ${opts.what ?? re.source} in ${this.file}; last lines:\n${tail}`);
      }
      await sleep(5);
    }
  }

  close(): void {
    this.watcher?.close();
    if (this.timer !== undefined) clearInterval(this.timer);
  }
}

export interface HttpEvent {
  t: number;
  /** node that answered, '' when the request failed */
  node: string;
  sent: number;
  /** why there was no answer: ECONNREFUSED (the address is up, nothing listens), TIMEOUT, … */
  err?: string;
}

/** The client agent (client-agent.js) running in the lab's client namespace. */
export class ClientProbe {
  readonly http: HttpEvent[] = [];
  /** time of the last datagram per source address */
  readonly lastUdp = new Map<string, number>();
  /** all datagram times per source (only with keepUdp) */
  readonly udp = new Map<string, number[]>();
  private listeners: Array<(e: HttpEvent) => void> = [];
  private constructor(private proc: NodeProcess | undefined, private readonly keepUdp: boolean) {}

  static async start(
    lab: Lab,
    o: { url?: string; intervalMs?: number; timeoutMs?: number; udpPort?: number; keepUdp?: boolean },
  ): Promise<ClientProbe> {
    const argv = [process.execPath, join(REPO_ROOT, 'dist/devtools/lab/client-agent.js')];
    if (o.url !== undefined) argv.push('--http', o.url, '--interval', String(o.intervalMs ?? 100), '--timeout', String(o.timeoutMs ?? 500));
    if (o.udpPort !== undefined) argv.push('--udp', String(o.udpPort));
    const probe = new ClientProbe(undefined, o.keepUdp === true);
    let ready = false;
    probe.proc = await lab.spawn('c', argv, {
      onLine: (line) => {
        let ev: { ev?: string; t?: number; node?: string; sent?: number; src?: string; err?: string };
        try {
          ev = JSON.parse(line) as typeof ev;
        } catch {
          return;
        }
        if (ev.ev === 'ready') ready = true;
        else if (ev.ev === 'http' && typeof ev.t === 'number') {
          const e: HttpEvent = { t: ev.t, node: ev.node ?? '', sent: ev.sent ?? ev.t, ...(ev.err !== undefined ? { err: ev.err } : {}) };
          probe.http.push(e);
          for (const fn of probe.listeners) fn(e);
        } else if (ev.ev === 'udp' && typeof ev.t === 'number' && typeof ev.src === 'string') {
          probe.lastUdp.set(ev.src, ev.t);
          if (probe.keepUdp) {
            const list = probe.udp.get(ev.src) ?? [];
            list.push(ev.t);
            probe.udp.set(ev.src, list);
          }
        }
      },
    });
    const end = Date.now() + 10_000;
    while (!ready) {
      if (!probe.proc.running() || Date.now() > end) throw new Error('the client probe did not start');
      await sleep(10);
    }
    return probe;
  }

  onHttp(fn: (e: HttpEvent) => void): void {
    this.listeners.push(fn);
  }

  /** Who answered last ('' = nobody). */
  current(): string {
    return this.http[this.http.length - 1]?.node ?? '';
  }

  /** First answer from `node` seen at or after time `after`. */
  firstAnswer(node: string, after: number): HttpEvent | undefined {
    return this.http.find((e) => e.t >= after && e.node === node);
  }

  /** First sign after `after` that the address answers at all: `node`'s page, or a refused connection. */
  firstReachable(node: string, after: number): HttpEvent | undefined {
    return this.http.find((e) => e.t >= after && (e.node === node || e.err === 'ECONNREFUSED'));
  }

  /** Last answer from `node` seen before time `before` (the end of that node's service). */
  lastAnswerBefore(node: string, before: number): HttpEvent | undefined {
    let found: HttpEvent | undefined;
    for (const e of this.http) if (e.t < before && e.node === node) found = e;
    return found;
  }

  async waitAnswer(node: string, opts: { after?: number; timeoutMs: number }): Promise<HttpEvent> {
    const end = Date.now() + opts.timeoutMs;
    for (;;) {
      const e = this.firstAnswer(node, opts.after ?? 0);
      if (e !== undefined) return e;
      if (Date.now() > end) {
        throw new Error(`timed out after ${opts.timeoutMs} ms waiting for ${node} to answer HTTP (last answer: ${this.current() || 'none'})`);
      }
      await sleep(5);
    }
  }

  stop(): void {
    this.proc?.kill('SIGKILL');
  }
}
