/**
 * A small conversation helper for text protocols over TCP or TLS: connect,
 * send, wait for a pattern. Every wait is bound to the check's AbortSignal,
 * so a server that accepts and never answers costs only its own check.
 */
import { Socket, connect as netConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';

export class CheckFailure extends Error {}

export class SocketIO {
  private buf = '';
  private ended = false;
  private error: Error | undefined;
  private wake: (() => void) | undefined;
  private constructor(readonly socket: Socket, private readonly signal: AbortSignal) {
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => { this.buf += d; this.notify(); });
    socket.on('end', () => { this.ended = true; this.notify(); });
    socket.on('close', () => { this.ended = true; this.notify(); });
    socket.on('error', (e) => { this.error = e; this.notify(); });
    signal.addEventListener('abort', () => { socket.destroy(); this.notify(); }, { once: true });
  }

  static async open(host: string, port: number, signal: AbortSignal, tls = false, servername?: string): Promise<SocketIO> {
    if (signal.aborted) throw new CheckFailure('timed out before connecting');
    const socket: Socket = tls
      ? tlsConnect({ host, port, rejectUnauthorized: false, ...(servername && !/^\d+\.\d+\.\d+\.\d+$/.test(servername) ? { servername } : {}) })
      : netConnect({ host, port });
    await new Promise<void>((resolve, reject) => {
      const onAbort = (): void => { socket.destroy(); reject(new CheckFailure(`connect to ${host}:${port} timed out`)); };
      signal.addEventListener('abort', onAbort, { once: true });
      socket.once(tls ? 'secureConnect' : 'connect', () => { signal.removeEventListener('abort', onAbort); resolve(); });
      socket.once('error', (e) => { signal.removeEventListener('abort', onAbort); reject(new CheckFailure(`connect to ${host}:${port} failed: ${e.message}`)); });
    });
    return new SocketIO(socket, signal);
  }

  private notify(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  send(text: string): void {
    this.socket.write(text, 'latin1');
  }

  /** Half-closes our side (simpletcp sends its request then shuts down). */
  endWrite(): void {
    this.socket.end();
  }

  /**
   * Waits until the unread data matches `re` (or the peer closes), then
   * consumes and returns everything read so far.
   */
  async expect(re: RegExp, what: string, maxBytes = 1 << 20): Promise<string> {
    for (;;) {
      if (this.signal.aborted) throw new CheckFailure(`timed out waiting for ${what}`);
      if (re.test(this.buf)) return this.take();
      if (this.error) throw new CheckFailure(`${what}: ${this.error.message}`);
      if (this.ended) throw new CheckFailure(`connection closed before ${what}${this.buf ? ` (got ${JSON.stringify(this.buf.slice(0, 80))})` : ''}`);
      if (this.buf.length > maxBytes) throw new CheckFailure(`${what}: more than ${maxBytes} bytes without a match`);
      await new Promise<void>((r) => { this.wake = r; });
    }
  }

  /** Reads a complete reply line (up to CRLF/LF). */
  line(what: string): Promise<string> {
    return this.expect(/\n/, what);
  }

  /** Reads until the peer closes; returns everything. */
  async readToEnd(what: string, maxBytes = 1 << 20): Promise<string> {
    for (;;) {
      if (this.ended || this.buf.length > maxBytes) return this.take();
      if (this.signal.aborted) throw new CheckFailure(`timed out waiting for ${what}`);
      if (this.error) throw new CheckFailure(`${what}: ${this.error.message}`);
      await new Promise<void>((r) => { this.wake = r; });
    }
  }

  private take(): string {
    const s = this.buf;
    this.buf = '';
    return s;
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Runs `body` on an open connection and always closes it. */
export async function converse<T>(
  host: string, port: number, signal: AbortSignal, body: (io: SocketIO) => Promise<T>, tls = false, servername?: string,
): Promise<T> {
  const io = await SocketIO.open(host, port, signal, tls, servername);
  try {
    return await body(io);
  } finally {
    io.close();
  }
}
