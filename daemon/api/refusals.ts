/**
 * Connections over the limits of ./limits.ts, on the JSON tool socket: each
 * gets a `BUSY` answer to its first request, so `cl_status hbstatus` says
 * heartbeat refuses it rather than that heartbeat is stopped, and is then
 * closed. Only a few wait at a time (and only two per uid, so one user's
 * idle connections cannot use up the answers others are owed), each for a
 * short while; past that they are closed at once.
 */
import type { Socket } from 'node:net';
import type { Clock } from '../../lib/util/clock.js';
import { parseRequest } from './types.js';

/** A refused connection gets this long to send the request its refusal answers. */
const REFUSAL_WAIT_MS = 2000;
/** Refused connections waiting for that request; past this they are closed at once. */
const MAX_REFUSALS_PENDING = 16;
const MAX_REFUSALS_PENDING_PER_UID = 2;

export class Refusals {
  private pending = 0;
  private readonly perUid = new Map<number, number>();

  constructor(private readonly maxRequestBytes: number, private readonly clock: Clock) {}

  /** Answers `sock`'s first request with BUSY (`reason` and `extra` in the reply), then closes it. */
  refuse(sock: Socket, uid: number, reason: string, extra: Record<string, number>): void {
    const mine = this.perUid.get(uid) ?? 0;
    if (this.pending >= MAX_REFUSALS_PENDING || mine >= MAX_REFUSALS_PENDING_PER_UID) {
      sock.destroy();
      return;
    }
    this.pending++;
    this.perUid.set(uid, mine + 1);
    const timer = this.clock.setTimer(() => sock.destroy(), REFUSAL_WAIT_MS);
    let buf = '';
    sock.setEncoding('utf8');
    sock.on('data', (chunk: string) => {
      buf += chunk;
      const nl = buf.indexOf('\n');
      if (nl < 0 && buf.length < this.maxRequestBytes) return;
      const parsed = parseRequest(buf.slice(0, Math.max(nl, 0)));
      const id = parsed.ok ? parsed.req.id : parsed.id;
      sock.removeAllListeners('data');
      if (id === undefined) sock.destroy();
      else sock.end(`${JSON.stringify({ id, ok: false, code: 'BUSY', error: reason, ...extra })}\n`);
    });
    sock.on('close', () => {
      timer.cancel();
      this.pending--;
      const left = (this.perUid.get(uid) ?? 1) - 1;
      if (left > 0) this.perUid.set(uid, left);
      else this.perUid.delete(uid);
    });
  }
}
