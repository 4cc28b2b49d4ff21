/**
 * One listening unix socket of the API: created in the run directory once
 * communications are up, removed at shutdown; a socket left by an earlier
 * run is replaced, anything else at that path is refused.
 */
import { chmodSync, unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { describeError } from '../../lib/util/errors.js';
import type { Logger } from '../../lib/util/log.js';
import { ensureDir, removeStaleSocket, RUN_DIR_SPEC } from '../fsmodes.js';

/** 0777 as heartbeat's socket: the 0750 hacluster:haclient run directory keeps other users out, apiauth decides the rest. */
export const API_SOCKET_MODE = 0o777;

export class UnixListener {
  private server: Server | null = null;
  private listening = false;

  constructor(
    readonly path: string,
    private readonly what: string,
    private readonly log: Logger,
    private readonly onConnection: (sock: Socket) => void,
  ) {}

  /** open() was called and close() not yet. */
  get isOpen(): boolean {
    return this.server !== null;
  }

  get isListening(): boolean {
    return this.listening;
  }

  /** Opens the socket; safe to call again. */
  open(): void {
    if (this.server) return;
    const path = this.path;
    try {
      ensureDir(dirname(path), RUN_DIR_SPEC);
      removeStaleSocket(path);
    } catch (err) {
      this.log.error(`Cannot open ${this.what} at ${path}: ${describeError(err)}`);
      return;
    }
    const server = createServer((sock) => this.onConnection(sock));
    this.server = server;
    server.on('error', (err) => this.log.error(`Cannot open ${this.what} at ${path}: ${describeError(err)}`));
    server.listen(path, () => {
      this.listening = true;
      try {
        chmodSync(path, API_SOCKET_MODE);
      } catch (err) {
        this.log.warn(`Cannot chmod ${path}: ${describeError(err)}`);
      }
      this.log.debug(`${this.what} open at ${path}`);
    });
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((r) => server.close(() => r()));
    if (this.listening) {
      this.listening = false;
      try {
        unlinkSync(this.path);
      } catch {
        /* already gone */
      }
    }
  }
}

/**
 * Resolves once every listener accepts connections. The kernel decides when,
 * so this polls in real time, not on the node's clock (which may be manual).
 */
export async function whenListening(listeners: UnixListener[], timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!listeners.every((l) => l.isListening)) {
    if (performance.now() > deadline) throw new Error(`${what} not listening after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
