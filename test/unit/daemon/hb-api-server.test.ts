/**
 * Heartbeat's client API on the register socket (daemon/api/hb-api-server.ts),
 * spoken by a raw client that frames ha_msgs as libhbclient does, against two
 * real membership cores: signon (kernel-checked pid/uid/gid, apiauth), the
 * query replies field for field, events as heartbeat delivers them, client
 * messages across nodes, and what happens to a client that breaks the rules.
 * (Debian's own C clients against the daemon: test/netns/capi-*.test.ts.)
 */
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeApiBody, encodeApiBody, ipcFrame, ipcHeader, IpcFrameReader } from '../../../daemon/api/ipc-framing.js';
import { apiSocketPath } from '../../../daemon/paths.js';
import { HaMsg } from '../../../lib/wire/index.js';
import { apiLab, HACF, type ApiLab } from './api-fixture.js';
import { until, UNTIL_MS } from '../until.js';

let lab: ApiLab | undefined;
const socks: Socket[] = [];
afterEach(async () => {
  for (const s of socks.splice(0)) s.destroy();
  await lab?.close();
  lab = undefined;
});

class RawClient {
  private readonly reader = new IpcFrameReader();
  readonly inbox: Record<string, string>[] = [];
  private waiters: (() => void)[] = [];
  closed = false;
  constructor(readonly sock: Socket) {
    sock.on('data', (d: Buffer) => {
      const r = this.reader.push(d);
      if (!r.ok) throw new Error(r.reason);
      for (const f of r.frames) {
        const m = decodeApiBody(f);
        if (m.ok) this.inbox.push(m.msg.toRecord());
      }
      for (const w of this.waiters.splice(0)) w();
    });
    sock.on('close', () => {
      this.closed = true;
      for (const w of this.waiters.splice(0)) w();
    });
  }

  static async open(l: ApiLab, i: number): Promise<RawClient> {
    const sock = connect(apiSocketPath(l.nodes[i]!.paths));
    socks.push(sock);
    await new Promise((r) => sock.once('connect', r));
    return new RawClient(sock);
  }

  send(fields: Record<string, string>): void {
    const m = new HaMsg();
    for (const [k, v] of Object.entries(fields)) m.add(k, v);
    this.sock.write(ipcFrame(encodeApiBody(m)));
  }

  /** The next message matching `pred`, removed from the inbox. */
  async next(pred: (m: Record<string, string>) => boolean = () => true, timeoutMs = UNTIL_MS): Promise<Record<string, string>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const at = this.inbox.findIndex(pred);
      if (at >= 0) return this.inbox.splice(at, 1)[0]!;
      if (this.closed || Date.now() > deadline) throw new Error(`no such message (closed=${this.closed}): ${JSON.stringify(this.inbox)}`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 50);
      });
    }
  }

  req(reqtype: string, extra: Record<string, string> = {}, id = String(process.pid)): void {
    this.send({ t: 'hbapi-req', reqtype, dest: 'node1', pid: String(process.pid), from_id: id, ...extra });
  }

  async ask(reqtype: string, extra: Record<string, string> = {}, id?: string): Promise<Record<string, string>> {
    this.req(reqtype, extra, id);
    return this.next((m) => m['t'] === 'hbapi-resp' && m['reqtype'] === reqtype);
  }

  async signon(name?: string, over: Record<string, string> = {}): Promise<Record<string, string>> {
    const id = name ?? String(process.pid);
    return this.ask('signon', { uid: String(process.geteuid?.() ?? 0), gid: String(process.getegid?.() ?? 0), ...over }, id);
  }

  async closedSoon(): Promise<boolean> {
    await until('the server to close the connection', () => this.closed).catch(() => undefined);
    return this.closed;
  }
}

describe("Heartbeat's API on register", () => {
  it('signs a casual client on with the fields libhbclient reads, and answers every query as hb_api.c does', async () => {
    lab = await apiLab({ resources: { rscstatus: () => 'local' } });
    const c = await RawClient.open(lab, 0);
    expect(await c.signon()).toEqual({
      t: 'hbapi-resp', reqtype: 'signon', result: 'OK', deadtime: '1388', keepalive: '3e8', node: 'node1',
      hbversion: '3.0.6 (test)', pacemaker: 'no', logfacility: '-1',
    });
    c.req('nodelist');
    expect([await c.next(), await c.next()]).toEqual([
      { t: 'hbapi-resp', reqtype: 'nodelist', node: 'node1', nodetype: 'normal', st: 'active', result: 'ok/more' },
      { t: 'hbapi-resp', reqtype: 'nodelist', node: 'node2', nodetype: 'normal', st: 'active', result: 'OK' },
    ]);
    expect(await c.ask('nodestatus', { node: 'NODE2' })).toMatchObject({ st: 'active', result: 'OK' });
    expect(await c.ask('nodestatus', { node: 'bogus' })).toEqual({ t: 'hbapi-resp', reqtype: 'nodestatus', result: 'badreq', info: 'EINVAL' });
    expect(await c.ask('nodetype', { node: 'node2' })).toMatchObject({ nodetype: 'normal', result: 'OK' });
    expect(await c.ask('nodeweight', { node: 'node2' })).toMatchObject({ weight: '100', result: 'OK' });
    expect(await c.ask('nodesite', { node: 'node2' })).toMatchObject({ site: '', result: 'OK' });
    expect(await c.ask('numnodes')).toMatchObject({ numnodes: '2', result: 'OK' });
    expect(await c.ask('iflist', { node: 'node2' })).toMatchObject({ ifname: 'eth0', st: 'up', result: 'OK' });
    expect(await c.ask('ifstatus', { node: 'node2', ifname: 'eth0' })).toMatchObject({ st: 'up', result: 'OK' });
    expect(await c.ask('ifstatus', { node: 'node2', ifname: 'eth9' })).toMatchObject({ result: 'badreq', info: 'EINVAL' });
    expect(await c.ask('getparm', { pname: 'deadtime' })).toMatchObject({ pvalue: '5', result: 'OK' });
    expect(await c.ask('getparm', { pname: 'nosuch' })).toEqual({ t: 'hbapi-resp', reqtype: 'getparm', result: 'OK' });
    expect(await c.ask('getrsc')).toMatchObject({ rsc_hold: 'local', result: 'OK' });
    expect(await c.ask('clientstatus', { node: 'node1', cn: 'nobody' })).toMatchObject({ subt: 'respond-cstatus', cs: 'offline', result: 'OK' });
    expect(await c.ask('setfilter', { fmask: '0' })).toMatchObject({ result: 'badreq', info: 'EINVAL' });
    expect(await c.ask('setfilter', { fmask: '1' })).toMatchObject({ result: 'OK' });
    expect(await c.ask('setsignal', { signal: '9' })).toMatchObject({ result: 'badreq', info: 'EINVAL' });
    expect(await c.ask('setsignal', { signal: '0' })).toMatchObject({ result: 'OK' });
    expect(await c.ask('frobnicate')).toEqual({ t: 'hbapi-resp', reqtype: 'frobnicate', result: 'badreq' });
    // A casual client may not talk to the cluster: heartbeat drops it.
    c.send({ t: 'hello' });
    expect(await c.closedSoon()).toBe(true);
  });

  it('checks the stated pid/uid/gid against the kernel and apiauth, and refuses duplicates', async () => {
    lab = await apiLab();
    const liar = await RawClient.open(lab, 0);
    expect(await liar.signon('testclient', { pid: '1' })).toMatchObject({ result: 'badreq', info: 'pid mismatch', deadtime: '1388' });
    const wrongUid = await RawClient.open(lab, 0);
    expect(await wrongUid.signon('testclient', { uid: '4242' })).toMatchObject({ result: 'badreq', info: 'incorrect/false credentials' });
    const unlisted = await RawClient.open(lab, 0);
    expect(await unlisted.signon('unlisted')).toMatchObject({ result: 'badreq', info: 'no default client auth' });
    const a = await RawClient.open(lab, 0);
    expect(await a.signon('testclient')).toMatchObject({ result: 'OK' });
    const b = await RawClient.open(lab, 0);
    expect(await b.signon('testclient')).toMatchObject({ result: 'badreq', info: 'duplicate add request' });
    // Requests claiming another client's identity are ignored (heartbeat: "Client mismatch! (impersonation?)").
    a.req('numnodes', { pid: '1' });
    a.req('numnodes');
    expect(await a.next((m) => m['t'] === 'hbapi-resp')).toMatchObject({ reqtype: 'numnodes', numnodes: '2' });
    expect(a.inbox.filter((m) => m['t'] === 'hbapi-resp')).toEqual([]);
    expect(lab.nodes[0]!.lines).toContain('ERROR: Client mismatch! (impersonation?)');
  });

  it('delivers client messages between nodes, join/leave, link and node events, and remote clientstatus', async () => {
    lab = await apiLab({ text: `${HACF}apiauth peerapp uid=root\n` });
    const one = await RawClient.open(lab, 0);
    const two = await RawClient.open(lab, 1);
    expect(await one.signon('peerapp')).toMatchObject({ result: 'OK' });
    expect(await two.signon('peerapp')).toMatchObject({ result: 'OK' });
    lab.clock.advance(1000);
    // node1's client learns of node2's client through hbapi-clstat, as its callbacks read it.
    expect(await one.next((m) => m['t'] === 'hbapi-clstat' && m['src'] === 'node2')).toMatchObject({ st: 'join', from_id: 'peerapp', info: 'signon' });
    // A message to the other node's client of the same name; the daemon stamps the ids.
    one.send({ t: 'num_ping_nodes', num_ping: '1', dest: 'node2' });
    lab.clock.advance(1000);
    expect(await two.next((m) => m['t'] === 'num_ping_nodes')).toMatchObject({ src: 'node1', from_id: 'peerapp', to_id: 'peerapp', num_ping: '1', client_gen: expect.any(String) });
    // clientstatus of a client on the other node: the answer comes from there.
    one.req('clientstatus', { node: 'node2', cn: 'peerapp' }, 'peerapp');
    lab.clock.advance(1000);
    expect(await one.next((m) => m['t'] === 'respond-cstatus')).toMatchObject({ cs: 'online', result: 'OK', cn: 'peerapp' });
    // node2 goes silent: a link event, then a node status event (t=status src st).
    lab.hub.dropFilter = (_d, from, to) => from === 'node2' && to !== 'node2';
    for (let t = 0; t < 8; t++) lab.clock.advance(1000);
    expect(await one.next((m) => m['t'] === 'ifstat')).toEqual({ t: 'ifstat', node: 'node2', ifname: 'eth0', st: 'dead' });
    expect(await one.next((m) => m['t'] === 'status')).toEqual({ t: 'status', src: 'node2', st: 'dead' });
    // signoff: no reply, the connection ends.
    one.req('signoff', {}, 'peerapp');
    expect(await one.closedSoon()).toBe(true);
  });

  it('drops a client that sends garbage, an oversized frame, or an undecodable body', async () => {
    lab = await apiLab();
    const garbage = await RawClient.open(lab, 0);
    garbage.sock.write('GET / HTTP/1.0\r\n\r\n');
    expect(await garbage.closedSoon()).toBe(true);
    const big = await RawClient.open(lab, 0);
    big.sock.write(ipcHeader(1 << 30));
    expect(await big.closedSoon()).toBe(true);
    const junk = await RawClient.open(lab, 0);
    junk.sock.write(ipcFrame(Buffer.from('not an ha_msg')));
    expect(await junk.closedSoon()).toBe(true);
    const wrongFirst = await RawClient.open(lab, 0);
    wrongFirst.req('nodelist');
    expect(await wrongFirst.closedSoon()).toBe(true);
    const lines = lab.nodes[0]!.lines.join('\n');
    expect(lines).toMatch(/bad IPC header magic/);
    expect(lines).toMatch(/IPC message length 1073741824 out of range/);
    expect(lines).toMatch(/api_process_registration_msg: bad message/);
  });
});
