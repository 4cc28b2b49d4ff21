/**
 * The API's dealings with the cluster (spec 4.4): `query-cstatus` /
 * `respond-cstatus` for `clientstatus`, `hbapi-clstat` join/leave of named
 * clients, and the fan-out of membership events and cluster messages to the
 * clients that subscribed.
 */
import type { Cluster } from '../../lib/membership/cluster.js';
import type { LinkStatus, NodeStatus } from '../../lib/membership/nodes.js';
import type { Clock, TimerHandle } from '../../lib/util/clock.js';
import type { Logger } from '../../lib/util/log.js';
import { F, FieldType, HaMsg, T } from '../../lib/wire/index.js';
import { findNode } from './queries.js';
import type { ApiErrorCode, ApiEvent, StringFields } from './types.js';

/** What the cluster side needs to know about a client session. */
export interface ApiSessionView {
  clientId: string | undefined;
  named: boolean;
  subscribed: boolean;
  /** client_gen of this signon. */
  gen: number;
  pid: number;
}

export interface ClusterSideDeps {
  cluster: Cluster;
  log: Logger;
  /** Times the wait for another node's answer to a client status query. */
  clock: Clock;
  sessions: () => ApiSessionView[];
  /** `raw`: the cluster message behind the event, for clients that take messages as they are. */
  emit: (session: ApiSessionView, ev: ApiEvent, raw?: HaMsg) => void;
}

export type ClientStatusResult = { ok: true; status: string } | { ok: false; code: ApiErrorCode; error: string };

interface Pending {
  session: ApiSessionView;
  node: string;
  client: string;
  resolve: (r: ClientStatusResult) => void;
  timer: TimerHandle | null;
}

const NO_TIMELY_RESPONSE: ClientStatusResult = { ok: false, code: 'TIMEOUT', error: 'No timely response.' };

/** Message types the API consumes itself or reports as events instead. */
const NOT_FORWARDED: ReadonlySet<string> = new Set([T.STATUS, T.NS_STATUS, T.QCSTATUS, T.RCSTATUS, T.APICLSTAT]);

function stringFields(msg: HaMsg): StringFields {
  return msg.fields.filter((f) => f.type === FieldType.STRING).map((f) => [f.name, f.value as string]);
}

export class ClusterSide {
  private readonly pending = new Set<Pending>();
  private readonly onMessage = (msg: HaMsg, from: string, local: boolean): void => this.message(msg, from, local);
  private readonly onStatus = (node: string, status: NodeStatus, previous: NodeStatus): void =>
    this.broadcast({ event: 'nodestatus', node, status, previous });
  private readonly onLink = (node: string, link: string, status: LinkStatus): void =>
    this.broadcast({ event: 'ifstatus', node, link, status });

  constructor(private readonly d: ClusterSideDeps) {
    d.cluster.on('message', this.onMessage);
    d.cluster.on('nodeStatus', this.onStatus);
    d.cluster.on('link', this.onLink);
  }

  detach(): void {
    this.d.cluster.off('message', this.onMessage);
    this.d.cluster.off('nodeStatus', this.onStatus);
    this.d.cluster.off('link', this.onLink);
    for (const p of [...this.pending]) this.settle(p, NO_TIMELY_RESPONSE);
  }

  private broadcast(ev: ApiEvent): void {
    for (const s of this.d.sessions()) if (s.subscribed) this.d.emit(s, ev);
  }

  /** Is a client with this id signed on here? */
  isOnline(clientId: string): boolean {
    return this.d.sessions().some((s) => s.clientId === clientId);
  }

  // ---------------------------------------------------------------- client status

  /** Answers `clientstatus`: locally, or by asking the node (spec 4.4). */
  clientStatus(session: ApiSessionView, node: string, client: string, timeoutMs: number): Promise<ClientStatusResult> {
    // A zero timeout never waits for an answer (heartbeat's client polls for 0 ms).
    if (timeoutMs === 0) return Promise.resolve(NO_TIMELY_RESPONSE);
    const view = findNode(this.d.cluster, node);
    const me = this.d.cluster.me.name;
    if (view?.name === me) return Promise.resolve({ ok: true, status: this.isOnline(client) ? 'online' : 'offline' });
    if (view && view.status !== 'active') return Promise.resolve({ ok: true, status: 'offline' });
    return new Promise((resolve) => {
      const p: Pending = { session, node: view?.name ?? node, client, resolve, timer: null };
      this.pending.add(p);
      // heartbeat gives an unknown node no answer at all: the client times out.
      if (view) {
        this.d.cluster.send(new HaMsg()
          .add(F.TYPE, T.QCSTATUS).add(F.TO, view.name).add(F.CLIENTNAME, client).add(F.FROMID, session.clientId ?? ''));
      }
      // The answer may already have come (a synchronous segment in tests).
      if (timeoutMs > 0 && this.pending.has(p)) p.timer = this.d.clock.setTimer(() => this.settle(p, NO_TIMELY_RESPONSE), timeoutMs);
    });
  }

  private settle(p: Pending, r: ClientStatusResult): void {
    if (!this.pending.delete(p)) return;
    p.timer?.cancel();
    p.resolve(r);
  }

  private answerQuery(msg: HaMsg, from: string): void {
    const cn = msg.get(F.CLIENTNAME);
    const fromId = msg.get(F.FROMID);
    if (cn === undefined || fromId === undefined) {
      this.d.log.error(`HBDoMsg_T_QCSTATUS: query-cstatus from ${from} without cn or from_id`);
      return;
    }
    this.d.cluster.send(new HaMsg()
      .add(F.TYPE, T.RCSTATUS).add(F.TO, from).add(F.RESULT, 'OK').add(F.CLIENTNAME, cn).add(F.TOID, fromId)
      .add(F.CLIENTSTATUS, this.isOnline(cn) ? 'online' : 'offline'));
  }

  private takeAnswer(msg: HaMsg, from: string): void {
    const toId = msg.get(F.TOID);
    const cn = msg.get(F.CLIENTNAME);
    const cs = msg.get(F.CLIENTSTATUS);
    for (const p of this.pending) {
      if (p.session.clientId !== toId || p.client !== cn || p.node !== from) continue;
      this.settle(p, msg.get(F.RESULT) === 'OK' && cs !== undefined
        ? { ok: true, status: cs }
        : { ok: false, code: 'EINVAL', error: 'received wrong type of msg' });
      return;
    }
    // Not awaited here: a client that asked itself (Heartbeat's C library) reads the answer as a message.
    if (toId === undefined || cs === undefined) return;
    const ev: ApiEvent = { event: 'message', from, local: false, fields: stringFields(msg) };
    for (const s of this.d.sessions()) if (s.clientId === toId) this.d.emit(s, ev, msg);
  }

  // ---------------------------------------------------------------- join / leave

  private sendClientStatus(s: ApiSessionView, st: 'join' | 'leave', info: string): void {
    if (!s.named || s.clientId === undefined) return;
    this.d.cluster.send(new HaMsg()
      .add(F.TYPE, T.APICLSTAT).add(F.STATUS, st).add(F.FROMID, s.clientId).add(F.TOID, s.clientId)
      .add(F.ORIG, this.d.cluster.me.name).add(F.INFO, info).add(F.CLIENT_GEN, String(s.gen)));
  }

  joined(s: ApiSessionView): void {
    this.sendClientStatus(s, 'join', 'signon');
  }

  /** A session ended: its pending queries are dropped, a named client's leave is announced. */
  sessionGone(s: ApiSessionView, reason: string): void {
    for (const p of [...this.pending]) if (p.session === s) this.settle(p, NO_TIMELY_RESPONSE);
    if (s.clientId !== undefined) this.sendClientStatus(s, 'leave', reason);
  }

  // ---------------------------------------------------------------- delivery

  private message(msg: HaMsg, from: string, local: boolean): void {
    const type = msg.get(F.TYPE) ?? '';
    if (type === T.QCSTATUS) {
      if (!local) this.answerQuery(msg, from);
      return;
    }
    if (type === T.RCSTATUS) {
      this.takeAnswer(msg, from);
      return;
    }
    const toId = msg.get(F.TOID);
    const targets = this.d.sessions().filter((s) => (toId === undefined ? s.subscribed : s.clientId === toId));
    if (type === T.APICLSTAT) {
      const st = msg.get(F.STATUS);
      const client = msg.get(F.FROMID);
      if ((st !== 'join' && st !== 'leave') || client === undefined) return;
      const info = msg.get(F.INFO);
      const ev: ApiEvent = info === undefined
        ? { event: 'clientstatus', node: from, client, status: st }
        : { event: 'clientstatus', node: from, client, status: st, info };
      for (const s of targets) this.d.emit(s, ev, msg);
      return;
    }
    if (NOT_FORWARDED.has(type)) return;
    const ev: ApiEvent = { event: 'message', from, local, fields: stringFields(msg) };
    for (const s of targets) this.d.emit(s, ev, msg);
  }
}
