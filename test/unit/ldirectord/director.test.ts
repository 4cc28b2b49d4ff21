import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../lib/util/clock.js';
import { memoryLogger } from '../../../lib/util/log.js';
import type { CheckContext, CheckKind, CheckOutcome } from '../../../lib/ldirectord/checks/index.js';
import { Director } from '../../../lib/ldirectord/director.js';
import { parseLdirectordConf } from '../../../lib/ldirectord/parse.js';
import { describeTable, type DataPlane, type PlaneTable } from '../../../lib/ldirectord/plane.js';

const cfgOf = (text: string) => {
  const r = parseLdirectordConf(text, 'ld.cf', { portLookup: () => undefined });
  if (!r.value) throw new Error(JSON.stringify(r.problems));
  return r.value;
};

class RecordingPlane implements DataPlane {
  readonly name = 'nftables' as const;
  tables: PlaneTable[] = [];
  cleared = 0;
  validate() { return []; }
  async apply(t: PlaneTable) { this.tables.push(structuredClone(t)); return []; }
  async clear() { this.cleared++; }
  get last(): string[] { return describeTable(this.tables[this.tables.length - 1] ?? []); }
}

const settle = async (): Promise<void> => {
  for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
};

describe('director logic (manual clock, scripted checks)', () => {
  const CONF = `checkinterval=10
failurecount=2
fallback=127.0.0.1:8081 masq
virtual=10.0.0.1:80
	real=10.0.1.1:80 masq 2
	real=10.0.1.2:80 masq
	scheduler=wrr
	checktype=connect
virtual=10.0.0.1:81
	real=10.0.1.1:81 masq
	scheduler=rr
	checktype=connect
	quiescent=yes
`;
  function setup() {
    const clock = new ManualClock();
    const plane = new RecordingPlane();
    const log = memoryLogger();
    const healthy = new Map<string, boolean>([['10.0.1.1:80', true], ['10.0.1.2:80', true], ['10.0.1.1:81', true]]);
    const calls: string[] = [];
    const check = async (_k: CheckKind, c: CheckContext): Promise<CheckOutcome> => {
      calls.push(`${c.host}:${c.port}`);
      const up = healthy.get(`${c.host}:${c.port}`) === true;
      return { up, message: up ? 'fine' : 'connection refused' };
    };
    const d = new Director({ plane, logger: log, clock, check, hostname: 'dir1' });
    /** Moves the clock and lets the checks it started finish. */
    const tick = async (ms: number): Promise<void> => {
      clock.advance(ms);
      await settle();
    };
    /** The virtual services as the plane has them now, and lines the log holds among others. */
    const expectTables = (services: string[], logged: string[]): void => {
      expect(plane.last).toEqual(services);
      expect(log.lines).toEqual(expect.arrayContaining(logged));
    };
    return { clock, tick, expectTables, plane, log, healthy, calls, d };
  }

  it('starts on the fallback, adds servers as checks pass, soft-fails, deletes or quiesces, and falls back', async () => {
    const { tick, expectTables, plane, log, healthy, d } = setup();
    await d.start(cfgOf(CONF));
    expect(plane.last).toEqual([
      'tcp:10.0.0.1:80 wrr: 127.0.0.1:8081/masq/w1/fallback',
      'tcp:10.0.0.1:81 rr: 10.0.1.1:81/masq/w0 127.0.0.1:8081/masq/w1/fallback',
    ]);
    await tick(0);
    expectTables([
      'tcp:10.0.0.1:80 wrr: 10.0.1.1:80/masq/w2 10.0.1.2:80/masq/w1',
      'tcp:10.0.0.1:81 rr: 10.0.1.1:81/masq/w1',
    ], [
      'info: Added real server: 10.0.1.1:80 (10.0.0.1:80) (Weight set to 2)',
      'info: Deleted fallback server: 127.0.0.1:8081 (10.0.0.1:80)',
      'info: Restored real server: 10.0.1.1:81 (10.0.0.1:81) (Weight set to 1)',
    ]);

    healthy.set('10.0.1.1:80', false);
    healthy.set('10.0.1.1:81', false);
    await tick(10_000);
    // failurecount=2: the first failure is soft
    expect(log.lines).toContain('info: Soft failure real server: 10.0.1.1:80 (10.0.0.1:80) failure 1/2: connection refused');
    expect(plane.last[0]).toContain('10.0.1.1:80/masq/w2');
    await tick(10_000);
    expectTables([
      'tcp:10.0.0.1:80 wrr: 10.0.1.2:80/masq/w1',
      'tcp:10.0.0.1:81 rr: 10.0.1.1:81/masq/w0 127.0.0.1:8081/masq/w1/fallback',
    ], [
      'info: Deleted real server: 10.0.1.1:80 (10.0.0.1:80)',
      'info:   reason: connection refused',
      'info: Quiescent real server: 10.0.1.1:81 (10.0.0.1:81) (Weight set to 0)',
      'info: Added fallback server: 127.0.0.1:8081 (10.0.0.1:81) (Weight set to 1)',
    ]);

    healthy.set('10.0.1.1:80', true);
    await tick(10_000);
    expect(plane.last[0]).toBe('tcp:10.0.0.1:80 wrr: 10.0.1.1:80/masq/w2 10.0.1.2:80/masq/w1');
    expect(log.lines).toContain('info: Resetting soft failure count: 10.0.1.1:80 (10.0.0.1:80)');

    await d.stop();
    expect(plane.cleared).toBe(1);
    expect(log.lines).toContain('info: Purged virtual server (stop): 10.0.0.1:80');
  });

  it('keeps health across a reload and drops servers that left the configuration', async () => {
    const { tick, plane, d } = setup();
    await d.start(cfgOf(CONF));
    await tick(0);
    await d.reload(cfgOf(CONF.replace('\treal=10.0.1.2:80 masq\n', '')));
    expect(plane.last).toEqual([
      'tcp:10.0.0.1:80 wrr: 10.0.1.1:80/masq/w2',
      'tcp:10.0.0.1:81 rr: 10.0.1.1:81/masq/w1',
    ]);
    await d.stop();
  });

  it('checktype=on adds without checking; off activates nothing, not even the fallback', async () => {
    const { tick, plane, calls, d } = setup();
    await d.start(cfgOf('fallback=127.0.0.1:8081 masq\nvirtual=10.0.0.1:80\n  real=10.0.1.9:80 masq\n  checktype=on\nvirtual=10.0.0.1:81\n  real=10.0.1.9:81 masq\n  checktype=off\n'));
    await tick(30_000);
    expect(plane.last).toEqual(['tcp:10.0.0.1:80 wrr: 10.0.1.9:80/masq/w1', 'tcp:10.0.0.1:81 wrr: -']);
    expect(calls).toEqual([]);
    await d.stop();
  });

  it('runs a negotiate check every N connect checks with checktype=N', async () => {
    const clock = new ManualClock();
    const kinds: string[] = [];
    const d = new Director({
      plane: new RecordingPlane(), logger: memoryLogger(), clock, hostname: 'h',
      check: async (k) => { kinds.push(k); return { up: true, message: 'ok' }; },
    });
    await d.start(cfgOf('checkinterval=1\nvirtual=10.0.0.1:80\n  real=10.0.1.1:80 masq\n  checktype=2\n'));
    for (let i = 0; i < 6; i++) { clock.advance(i === 0 ? 0 : 1000); await settle(); }
    expect(kinds).toEqual(['negotiate', 'connect', 'connect', 'negotiate', 'connect', 'connect']);
    await d.stop();
  });
});

describe('director with real checks on loopback', () => {
  const servers: (Server | HttpServer)[] = [];
  const sockets: Socket[] = [];
  afterEach(async () => {
    for (const s of sockets) s.destroy();
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    servers.length = 0;
  });
  const listen = async (s: Server | HttpServer): Promise<number> => {
    servers.push(s);
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    return (s.address() as AddressInfo).port;
  };

  it('a real server that accepts and never answers does not stall the other checks', async () => {
    let hits = 0;
    const okPort = await listen(createHttpServer((_q, res) => { hits++; res.end('alive\n'); }));
    // accepts the connection (the kernel completes the handshake) and never writes
    const hangPort = await listen(createServer((s) => { sockets.push(s); }));
    const plane = new RecordingPlane();
    const log = memoryLogger();
    const d = new Director({ plane, logger: log, hostname: 'h' });
    await d.start(cfgOf(`checkinterval=1
virtual=10.0.0.1:80
	real=127.0.0.1:${hangPort} masq
	service=http
	negotiatetimeout=60
virtual=10.0.0.1:81
	real=127.0.0.1:${okPort} masq
	service=http
	negotiatetimeout=2
	receive="alive"
`));
    const t0 = Date.now();
    // several check rounds of the healthy server finish while the hanging check is still waiting
    while (hits < 3 && Date.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 50));
    const elapsed = Date.now() - t0;
    expect(hits).toBeGreaterThanOrEqual(3);
    // the hanging server's check did connect and is still waiting
    expect(sockets.length).toBe(1);
    expect(sockets[0]?.destroyed).toBe(false);
    expect(elapsed).toBeLessThan(10_000);
    expect(describeTable(d.table)).toEqual([
      'tcp:10.0.0.1:80 wrr: -',
      `tcp:10.0.0.1:81 wrr: 127.0.0.1:${okPort}/masq/w1`,
    ]);
    await d.stop();
  }, 30_000);
});
