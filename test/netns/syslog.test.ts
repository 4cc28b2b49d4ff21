/**
 * Issue 12, syslog: with `logfacility local0`, heartbeat-ts sends every log
 * line to /dev/log as real Heartbeat 3.0.6 does. node1 runs 3.0.6 and node2
 * heartbeat-ts in one cluster; each node's /dev/log is a socket the test
 * listens on (syslog-support.ts), the same way for both. Compared:
 * the datagram layout byte for byte (`<PRI>Mmm dd hh:mm:ss heartbeat:
 * [pid]: info: text`, trailing NUL or not), the facility and severity of the
 * same events, and that every line of the log file also reached syslog.
 * Then `logfacility none` (nothing reaches syslog) and `use_logd yes` with
 * no logging daemon running (what 3.0.6 does then, heartbeat-ts does too).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { authKeys, HA_LOG, logSize, readLog, waitForLog, writeHaConfig } from './harness/heartbeat.js';
import { Lab } from './harness/lab.js';
import { diagnostics, oursSeesActive, realSeesActive, start, stop } from './interop-support.js';
import { crashPatiently, labsTornDownAfterAll } from './media6-support.js';
import { listenSyslog, parseSyslog, type SyslogLine, type SyslogListener } from './syslog-support.js';

const REAL = 1;
const OURS = 2;
const LOCAL0 = 16;
/** A resource script that starts at once (Debian's Delay sleeps in its status). */
const NOOP = 'Noop';
const NOOP_SCRIPT = '#!/bin/sh\nf=/var/run/noop-$1\ncase "$2" in\n  start) touch "$f";;\n  stop) rm -f "$f";;\n  status) if [ -e "$f" ]; then echo running; else echo stopped; fi;;\nesac\nexit 0\n';
const labs = labsTornDownAfterAll();
const listeners: SyslogListener[] = [];
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

afterAll(async () => {
  for (const l of listeners) await l.stop();
}, 30_000);

function hacf(lab: Lab, logging: readonly string[]): string {
  return [
    ...logging,
    'keepalive 1', 'deadtime 5', 'initdead 10', 'bcast eth0', 'auto_failback off',
    `node ${lab.name(1)}`, `node ${lab.name(2)}`, 'crm no', '',
  ].join('\n');
}

/** `[pid]: info: Link node1:eth0 up.` -> `info: Link PEER:eth0 up.` (names of node i's peer and itself made neutral). */
function neutral(body: string, self: string, peer: string): string {
  return body.replace(/^\[\d+\]: /, '').replaceAll(peer, 'PEER').replaceAll(self, 'SELF').replace(/\d+/g, 'N');
}

/** One full run (start both, both active, both stopped) with these logging lines; the datagrams of each node. */
async function run(lab: Lab, logging: readonly string[], ears: Map<number, SyslogListener>, haresources = ''): Promise<Map<number, Buffer[]>> {
  await crashPatiently(lab, REAL);
  await crashPatiently(lab, OURS);
  for (const i of [REAL, OURS]) {
    writeHaConfig(lab, i, { hacf: hacf(lab, logging), authkeys: authKeys('sha1'), haresources });
    lab.writeFile(i, `/etc/ha.d/resource.d/${NOOP}`, NOOP_SCRIPT, 0o755);
  }
  const logAt = new Map([REAL, OURS].map((i) => [i, logSize(lab, i)]));
  const before = new Map([...ears].map(([i, l]) => [i, l.datagrams().length]));
  await start(lab, REAL, 'real');
  await start(lab, OURS, 'ours');
  await realSeesActive(lab, REAL, 'node2');
  await oursSeesActive(lab, OURS, 'node1', 0, 40_000, '');
  // each node started its own resource group (ResourceManager's lines)
  if (haresources !== '') {
    for (const i of [REAL, OURS]) await waitForLog(lab, i, /ResourceManager\(default\)\[\d+\]:.*Running \/etc\/ha\.d\/resource\.d\/Noop \d start/, { timeoutMs: 60_000, after: logAt.get(i) ?? 0 });
  }
  await sleep(2000);
  await stop(lab, OURS);
  await stop(lab, REAL);
  await sleep(1000);
  return new Map([...ears].map(([i, l]) => [i, l.datagrams().slice(before.get(i) ?? 0)]));
}

describe('syslog: heartbeat-ts sends what 3.0.6 sends', () => {
  it('logfacility local0 with logfile and debugfile; logfacility none; use_logd yes without a logd', async () => {
    const lab = await Lab.up({ nodes: 2, private: ['/dev:copy'] });
    labs.push(lab);
    const ears = new Map<number, SyslogListener>();
    for (const i of [REAL, OURS]) {
      const l = await listenSyslog(lab, i);
      listeners.push(l);
      ears.set(i, l);
    }
    try {
      // 1. logfacility local0 next to logfile and debugfile
      // ipfail (respawned, with a ping node) logs through cl_log too
      const ipfail = [`ping ${lab.ip('c')}`, 'respawn hacluster /usr/libexec/heartbeat/ipfail'];
      const got = await run(lab, ['logfacility local0', 'logfile /var/log/ha-log', 'debugfile /var/log/ha-debug', 'use_logd no', ...ipfail], ears,
        `${lab.name(REAL)} ${NOOP}::1\n${lab.name(OURS)} ${NOOP}::2\n`);
      const parsed = (i: number): SyslogLine[] => (got.get(i) ?? []).map((d) => {
        const p = parseSyslog(d);
        expect(p, `node ${i} datagram in syslog(3) layout: ${JSON.stringify(d.toString('latin1'))}`).toBeDefined();
        return p as SyslogLine;
      });
      const real = parsed(REAL);
      const ours = parsed(OURS);
      console.log(`[syslog] 3.0.6 sent ${real.length} datagrams, heartbeat-ts ${ours.length}; first of each:\n  ${JSON.stringify(real[0]?.raw.toString('latin1'))}\n  ${JSON.stringify(ours[0]?.raw.toString('latin1'))}`);
      expect(real.length).toBeGreaterThan(5);
      expect(ours.length).toBeGreaterThan(5);
      for (const [who, lines] of [['3.0.6', real], ['heartbeat-ts', ours]] as const) {
        expect(new Set(lines.map((l) => l.facility)), who).toEqual(new Set([LOCAL0]));
        const daemon = lines.filter((l) => l.ident === 'heartbeat' || l.ident === 'ipfail');
        // cl_log's lines end with a NUL byte (3.0.6: `syslog(pri, "...%c", ..., 0)`)
        expect(new Set(daemon.map((l) => l.nul)), `${who}: trailing NUL`).toEqual(new Set([true]));
        expect(daemon.length, who).toBeGreaterThan(5);
        for (const l of daemon) expect(l.body, who).toMatch(/^\[\d+\]: (EMERG|ALERT|CRIT|ERROR|WARN|notice|info|debug): /);
        // the stamp is local time with a space-padded day, as syslog(3) writes it
        for (const l of lines) expect(l.stamp, who).toMatch(/^[A-Z][a-z]{2} [ 123]\d \d\d:\d\d:\d\d$/);
      }
      // ipfail: ident ipfail, the cluster's facility (from HA_LOGFACILITY, then from heartbeat), cl_log's layout
      for (const [who, lines] of [['3.0.6', real], ['heartbeat-ts', ours]] as const) {
        const ipf = lines.filter((l) => l.ident === 'ipfail');
        expect(ipf.length, `${who}: ipfail lines`).toBeGreaterThan(0);
        for (const l of ipf) {
          expect(l.facility, `${who}: ${l.body}`).toBe(LOCAL0);
          expect(l.nul, `${who}: ${l.body}`).toBe(true);
          expect(l.body, who).toMatch(/^\[\d+\]: (EMERG|ALERT|CRIT|ERROR|WARN|notice|info|debug): /);
        }
      }
      // Lines of other programs (resource scripts through logger(1)): the same layout on both sides.
      const others = (lines: SyslogLine[]): Map<string, boolean> => new Map(lines.filter((l) => l.ident !== 'heartbeat').map((l) => [l.ident.replace(/\[\d+\]$/, '[N]'), l.nul]));
      console.log(`[syslog] other idents: 3.0.6 ${JSON.stringify([...others(real)])}, heartbeat-ts ${JSON.stringify([...others(ours)])}`);
      for (const [ident, nul] of others(ours)) if (others(real).has(ident)) expect(nul, ident).toBe(others(real).get(ident));
      // a resource script line: ha_log's logger(1) call, ident Tag[pid], severity guessed from the text (notice)
      const running = (lines: SyslogLine[]): SyslogLine | undefined => lines.find((l) => /^ResourceManager\(default\)\[\d+\]$/.test(l.ident) && /Running \/etc\/ha\.d\/resource\.d\/Noop . start$/.test(l.body));
      const rmReal = running(real);
      const rmOurs = running(ours);
      expect(rmReal, '3.0.6 ResourceManager line').toBeDefined();
      expect(rmOurs, 'heartbeat-ts ResourceManager line').toBeDefined();
      expect({ sev: rmOurs?.severity, fac: rmOurs?.facility, nul: rmOurs?.nul, body: rmOurs?.body.replace('Noop 2', 'Noop 1') })
        .toEqual({ sev: rmReal?.severity, fac: rmReal?.facility, nul: rmReal?.nul, body: rmReal?.body });
      // The same events with the same severity on both sides.
      const realEvents = new Map(real.map((l) => [neutral(l.body, 'node1', 'node2'), l.severity]));
      const oursEvents = new Map(ours.map((l) => [neutral(l.body, 'node2', 'node1'), l.severity]));
      const shared = [...oursEvents.keys()].filter((k) => realEvents.has(k));
      console.log(`[syslog] events seen on both sides (${shared.length}):\n  ${shared.join('\n  ')}`);
      for (const k of shared) expect(oursEvents.get(k), k).toBe(realEvents.get(k));
      for (const key of [
        'info: Link PEER:ethN up.',
        'info: Status update for node PEER: status active',
        'info: Comm_now_up(): updating status to active',
      ]) {
        expect(realEvents.get(key), `3.0.6: ${key}`).toBe(6);
        expect(oursEvents.get(key), `heartbeat-ts: ${key}`).toBe(6);
      }
      // Every line of heartbeat-ts's log file reached syslog too (as text after the level).
      const fileTexts = readLog(lab, OURS, HA_LOG).split('\n').filter((l) => /heartbeat: \[\d+\]: /.test(l)).map((l) => l.replace(/^.*?heartbeat: \[\d+\]: /, ''));
      const sysTexts = new Set(ours.filter((l) => l.ident === 'heartbeat').map((l) => l.body.replace(/^\[\d+\]: /, '')));
      expect(fileTexts.filter((t) => !sysTexts.has(t))).toEqual([]);

      // 2. logfacility none: nothing reaches syslog, from either daemon
      const none = await run(lab, ['logfacility none', 'logfile /var/log/ha-log', 'use_logd no'], ears);
      expect(none.get(REAL)?.length).toBe(0);
      expect(none.get(OURS)?.length).toBe(0);

      // 3. use_logd yes, no logging daemon running: heartbeat-ts does what 3.0.6 does
      const logd = await run(lab, ['logfacility local0', 'use_logd yes'], ears);
      const realN = logd.get(REAL)?.length ?? 0;
      const oursN = logd.get(OURS)?.length ?? 0;
      console.log(`[syslog] use_logd yes: 3.0.6 sent ${realN} datagrams, heartbeat-ts ${oursN}`);
      expect(oursN > 0).toBe(realN > 0);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${diagnostics(lab, 30)}`, { cause: err });
    }
  }, 400_000);
});
