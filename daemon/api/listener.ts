/**
 * One listening unix socket of the API: created in the run directory once
 * communications are up, removed at shutdown; a socket left by an earlier
 * run is replaced, anything else at that path is refused.
 */
import { chmodSync, lstatSync, mkdirSync, unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { describeError } from '../../lib/util/errors.js';
import type { Logger } from '../../lib/util/log.js';

/** Access to both API sockets is decided by apiauth on the kernel's view of the peer, as with heartbeat's 0777 socket. */
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

  get isListening(): boolean {
    return this.listening;
  }

  /** Opens the socket; safe to call again. */
  open(): void {
    if (this.server) return;
    const path = this.path;
    try {
      mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
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

/** Removes a socket left by an earlier run; refuses to remove anything else. */
function removeStaleSocket(path: string): void {
  let st;
  try {
    st = lstatSync(path);
  } catch {
    return;
  }
  if (!st.isSocket()) throw new Error(`${path} exists and is not a socket`);
  unlinkSync(path);
}
