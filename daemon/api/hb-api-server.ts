/**
 * Heartbeat's client API (libhbclient, hb_api.c) on `<runDir>/register`:
 * cluster-glue IPC frames (./ipc-framing.ts) carrying `ha_msg`s. The first
 * message is `t=hbapi-req reqtype=signon` with `from_id` (the client name,
 * or its pid for a casual client), `pid`, `uid`, `gid`; every later
 * `hbapi-req` is answered by `t=hbapi-resp reqtype=<same> result=OK|badreq|
 * ok/more [info=<reason>]`; any other message from a named client is sent to
 * the cluster with the client's id stamped on it (spec 4.4). Cluster events
 * reach the client as the messages heartbeat delivers: `t=status src st`,
 * `t=ifstat node ifname st`, `hbapi-clstat`, and other nodes' client
 * messages as they came off the wire. Request bodies: ./hb-api-requests.ts.
 */
import { stripControlFields, unsendableReason } from '../clustermsg.js';
import { API_BADREQ, API_OK, F, HaMsg, T } from './hb-api-wire.js';
import { answerRequest, type HbRequestDeps, type HbRequestSession } from './hb-api-requests.js';
import { decodeApiBody, encodeApiBody, ipcFrame, IpcFrameReader } from './ipc-framing.js';
import { admit, clip, writeBounded, type AdmitDeps, type Session } from './session.js';
import type { ApiEvent } from './types.js';

/** heartbeat's message treatments (hb_api_core.h); clients filter on them with `setfilter`. */
export const KEEPIT = 0x01;
/** Messages a client may have sent before its signon is decided; more is a flood. */
const MAX_EARLY_MESSAGES = 16;

export interface HbSession extends HbRequestSession {
  /** Messages received before the signon was decided. */
  early: number;
}

export type HbApiDeps = AdmitDeps & HbRequestDeps & {
  /** Logs a bad message (throttled) and counts it against the client's uid; past the limit it is disconnected. */
  badMessage: (s: Session, line: string) => void;
};

/** Heartbeat's representation of a cluster event, as its clients' callbacks read it. */
export function eventMessage(ev: ApiEvent, raw: HaMsg | undefined, me: string | undefined): HaMsg | undefined {
  switch (ev.event) {
    case 'nodestatus':
      // heartbeat reports status changes of other nodes only (its own comes as NOCHANGE).
      if (ev.node === me) return undefined;
      return new HaMsg().add(F.TYPE, T.STATUS).add(F.ORIG, ev.node).add(F.STATUS, ev.status);
    case 'ifstatus':
      return new HaMsg().add(F.TYPE, T.IFSTAT).add(F.NODE, ev.node).add(F.IFNAME, ev.link).add(F.STATUS, ev.status);
    case 'clientstatus':
    case 'message':
      return raw;
  }
}

export class HbApiProtocol {
  constructor(private readonly d: HbApiDeps) {}

  /** Takes over a freshly accepted connection on the register socket. */
  accept(base: Session): HbSession {
    const s = base as HbSession;
    // heartbeat's default filter (KEEPIT) and no signal; casual clients get events too.
    s.desiredTypes = KEEPIT;
    s.signal = 0;
    s.uid = -1;
    s.early = 0;
    s.deliver = (ev, raw) => this.deliver(s, ev, raw);
    const reader = new IpcFrameReader();
    s.sock.on('data', (chunk: Buffer) => {
      const r = reader.push(chunk);
      if (!r.ok) {
        this.d.log.error(`API client ${clip(s.clientId ?? '(not signed on)')}: ${r.reason}: disconnected`);
        s.sock.destroy();
        return;
      }
      for (const body of r.frames) this.received(s, body);
    });
    return s;
  }

  send(s: HbSession, msg: HaMsg): void {
    let body: Buffer;
    try {
      body = encodeApiBody(msg);
      writeBounded(s, ipcFrame(body), this.d.log);
    } catch (err) {
      this.d.log.error(`Cannot send a message to API client ${clip(s.clientId ?? '?')}: ${(err as Error).message}`);
      return;
    }
    if (s.signal > 0 && s.pid > 0) {
      try {
        process.kill(s.pid, s.signal);
      } catch {
        /* gone: the connection's close removes it */
      }
    }
  }

  private deliver(s: HbSession, ev: ApiEvent, raw: HaMsg | undefined): void {
    if (s.clientId === undefined || (s.desiredTypes & KEEPIT) === 0) return;
    const msg = eventMessage(ev, raw, this.d.cluster()?.me.name);
    if (msg) this.send(s, msg);
  }

  private received(s: HbSession, body: Buffer): void {
    if (s.clientId === undefined && ++s.early > MAX_EARLY_MESSAGES) {
      this.d.log.error('API client sent messages before its signon was answered: disconnected');
      s.sock.destroy();
      return;
    }
    const r = decodeApiBody(body);
    if (!r.ok) {
      this.d.badMessage(s, `api_process_request: undecodable message from client ${clip(s.clientId ?? '(not signed on)')}: ${r.reason}`);
      s.sock.destroy();
      return;
    }
    s.enqueue(() => this.handle(s, r.msg).catch((err: unknown) => {
      this.d.log.error(`API request from ${clip(s.clientId ?? '?')} failed: ${(err as Error).message}`);
    }));
  }

  private async handle(s: HbSession, msg: HaMsg): Promise<void> {
    if (s.closed) return;
    if (s.clientId === undefined) return this.signon(s, msg);
    const type = msg.get(F.TYPE);
    if (type === undefined) {
      this.d.badMessage(s, 'api_process_request: bad message type');
      return;
    }
    if (type !== T.APIREQ) return this.forward(s, msg);
    const reqtype = msg.get(F.APIREQ);
    const fromId = msg.get(F.FROMID);
    const pid = msg.get(F.PID);
    if ((fromId === undefined && pid === undefined) || reqtype === undefined) {
      this.d.badMessage(s, 'api_process_request: no fromid/pid/reqtype in message.');
      return;
    }
    // find_client(fromid, pid): the pid when given, else the id, must be this client's.
    if (pid !== undefined ? Number.parseInt(pid, 10) !== s.pid : fromId !== s.clientId) {
      this.d.badMessage(s, 'Client mismatch! (impersonation?)');
      return;
    }
    for (const reply of answerRequest(this.d, s, msg, reqtype)) this.send(s, reply);
    if (reqtype === 'signoff') {
      s.signoff = true;
      s.sock.end();
    }
  }

  private async signon(s: HbSession, msg: HaMsg): Promise<void> {
    const reqtype = msg.get(F.APIREQ);
    if (msg.get(F.TYPE) !== T.APIREQ || reqtype !== 'signon') {
      this.d.log.error('api_process_registration_msg: bad message');
      s.sock.destroy();
      return;
    }
    const fromId = msg.get(F.FROMID);
    const pidText = msg.get(F.PID);
    const reply = new HaMsg().add(F.TYPE, T.APIRESP).add(F.APIREQ, reqtype);
    const pid = pidText === undefined ? NaN : Number.parseInt(pidText, 10);
    const uid = parseId(msg.get(F.UID));
    const gid = parseId(msg.get(F.GID));
    let failure: string | undefined;
    if (fromId === undefined && pidText === undefined) {
      this.d.log.error('api_process_registration_msg: no fromid in msg');
      s.sock.destroy();
      return;
    } else if (!Number.isSafeInteger(pid) || pid <= 0) {
      this.d.log.warn(`api_add_client: bad pid [${clip(pidText ?? '')}]`);
      failure = 'bad pid';
    } else if (uid === undefined || gid === undefined) {
      this.d.log.error(`Client user/group id is incorrect [${clip(msg.get(F.UID) ?? '<null>')}] [${clip(msg.get(F.GID) ?? '<null>')}]`);
      failure = 'invalid id info';
    } else {
      // heartbeat: a client whose id reads as its own pid is casual.
      const casual = fromId === undefined || Number.parseInt(fromId, 10) === pid;
      const r = await admit(this.d, s, casual ? undefined : fromId, { pid, uid, gid });
      if (s.closed) return;
      if (!r.ok) failure = r.reason;
      else {
        s.uid = uid;
        s.subscribed = true;
      }
    }
    if (failure !== undefined) {
      this.d.log.error(`api_process_registration_msg: cannot add client(${clip(fromId ?? pidText ?? '')})`);
      reply.add(F.INFO, failure);
    }
    reply.add(F.RESULT, failure === undefined ? API_OK : API_BADREQ);
    for (const [k, v] of this.d.signonFields()) reply.add(k, v);
    this.send(s, reply);
  }

  /** A general message from a named client goes to the cluster (spec 4.4). */
  private forward(s: HbSession, msg: HaMsg): void {
    if (!s.named) {
      this.d.log.info('api_process_request: general message from casual client!');
      s.sock.destroy();
      return;
    }
    stripControlFields(msg);
    msg.mod(F.FROMID, s.clientId ?? '');
    msg.mod(F.TOID, s.clientId ?? '');
    msg.mod(F.CLIENT_GEN, String(s.gen));
    const why = unsendableReason(msg);
    if (why) {
      this.d.badMessage(s, `api_process_request: cannot forward message to cluster: ${why}`);
      return;
    }
    this.d.cluster()?.send(msg);
  }
}

function parseId(text: string | undefined): number | undefined {
  if (text === undefined || !/^-?\d{1,10}$/.test(text.trim())) return undefined;
  return Number(text.trim());
}
