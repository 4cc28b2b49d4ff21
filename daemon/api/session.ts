/**
 * What both API protocols share about a connected client: its session
 * record, the bounded writer, and admission at signon (name rules, the
 * kernel's view of the peer, duplicates, `apiauth`) — so heartbeat-ts's JSON
 * tools and Heartbeat's C clients are judged by the same rules and see each
 * other (one name is signed on once, whichever protocol it speaks).
 */
import type { Socket } from 'node:net';
import type { HaConfig } from '../../lib/config/types.js';
import type { TimerHandle } from '../../lib/util/clock.js';
import type { Logger } from '../../lib/util/log.js';
import type { HaMsg } from '../../lib/wire/index.js';
import { authorize, readIdTables, type IdTables } from './auth.js';
import type { ApiSessionView, ClusterSide } from './cluster-side.js';
import type { PeerCred } from './peercred.js';
import { clientText } from './limits.js';
import { MAX_CLIENT_NAME, type ApiErrorCode, type ApiEvent } from './types.js';

/** A client that does not read its messages is dropped past this much queued output. */
export const MAX_PENDING_OUTPUT = 1024 * 1024;

export interface Session extends ApiSessionView {
  sock: Socket;
  /** The kernel's record of who called connect(), read at accept. */
  cred: PeerCred;
  /** Requests of this client run one after the other. */
  queue: Promise<void>;
  /** Requests waiting in `queue`; past the limit the socket is not read. */
  queued: number;
  /** Disconnects a client that does not sign on in time; cleared at signon. */
  signonTimer: TimerHandle | null;
  /** Gives the connection's place back to the shared gate. */
  release: () => void;
  /** Queues a request behind the client's earlier ones (bounded). */
  enqueue: (task: () => Promise<void>) => void;
  signoff: boolean;
  closed: boolean;
  /** Hands an event (and, where there is one, the cluster message behind it) to the client. */
  deliver: (ev: ApiEvent, raw?: HaMsg) => void;
}

/** Text from a client, shortened and made printable before it reaches a log line. */
export function clip(text: string, max = 64): string {
  return clientText(text, max);
}

/** Writes to a client unless it has stopped reading (then it is disconnected). */
export function writeBounded(s: Session, data: string | Buffer, log: Logger): void {
  if (s.closed || s.sock.destroyed) return;
  if (s.sock.writableLength > MAX_PENDING_OUTPUT) {
    log.warn(`API client ${clip(s.clientId ?? '?')} does not read its messages: disconnected`);
    s.sock.destroy();
    return;
  }
  s.sock.write(data);
}

export interface AdmitDeps {
  log: Logger;
  config: () => HaConfig;
  idTables?: (() => IdTables) | undefined;
  sessions: () => Iterable<Session>;
  nextGen: () => number;
  side: () => ClusterSide | null;
}

/** What a C client states about itself at signon (checked against the kernel). */
export interface Claimed {
  pid: number;
  uid: number;
  gid: number;
}

export type AdmitResult = { ok: true } | { ok: false; code: ApiErrorCode; reason: string };

const refuse = (code: ApiErrorCode, reason: string): AdmitResult => ({ ok: false, code, reason });

/**
 * Signs a session on as `name` (undefined = casual client, whose id is its
 * pid). Credentials come from the kernel; a C client's stated pid/uid/gid
 * must match them, as heartbeat's channel checks do.
 */
export async function admit(d: AdmitDeps, s: Session, name: string | undefined, claimed?: Claimed): Promise<AdmitResult> {
  if (name !== undefined && (name.length === 0 || name.length > MAX_CLIENT_NAME || !/^[\x21-\x7e]+$/.test(name))) {
    return refuse('EINVAL', `bad client name (1 to ${MAX_CLIENT_NAME} printable characters without spaces)`);
  }
  const gen = d.nextGen();
  if (s.closed) return refuse('INTERNAL', 'client gone');
  const peer = { creds: [s.cred] };
  const pid = claimed?.pid ?? peer.creds[0]?.pid ?? 0;
  if (claimed) {
    if (!peer.creds.some((c) => c.pid === claimed.pid)) {
      d.log.info(`PID mismatch: ${claimed.pid} vs farside_pid: ${peer.creds.map((c) => c.pid).join(',')}`);
      return refuse('API_AUTH', 'pid mismatch');
    }
    if (!peer.creds.every((c) => c.uid === claimed.uid && c.gid === claimed.gid)) {
      return refuse('API_AUTH', 'incorrect/false credentials');
    }
  }
  const id = name ?? String(pid);
  for (const o of d.sessions()) {
    if (o !== s && !o.closed && o.clientId === id) {
      d.log.warn(`duplicate client add request [${clip(id)}] [${pid}]`);
      return refuse('API_DUPLICATE', 'duplicate add request');
    }
  }
  const decision = authorize(d.config().apiauth, name, peer.creds, (d.idTables ?? readIdTables)());
  if (!decision.ok) {
    d.log.warn(`Client [${clip(id)}] pid ${pid} failed authorization [${decision.reason}]`);
    return refuse('API_AUTH', decision.reason);
  }
  s.clientId = id;
  s.named = name !== undefined;
  s.subscribed = s.named;
  s.gen = gen;
  s.pid = pid;
  s.signonTimer?.cancel();
  s.signonTimer = null;
  d.log.debug(`Signing on API client ${pid} (${s.named ? clip(id) : "'casual'"})`);
  if (s.named) d.side()?.joined(s);
  return { ok: true };
}
