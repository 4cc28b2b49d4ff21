/**
 * Bad configuration (issue 8): every ha.cf directive of lib/config/directives.ts
 * with a bad value makes `heartbeat -t` exit 6 with a FILE:LINE error, and a
 * real start (`heartbeat -f`) stops at the same error before anything
 * happens (no pid file, no generation bump, no socket). Directives that
 * accept any text at parse time are listed with the reason, and proven to
 * be accepted. A medium whose interface does not exist fails at start,
 * naming it. A reload with a broken ha.cf keeps the running configuration.
 *
 * The table runs the CLI on the host with HA_DIR/HA_VARLIB/… pointing at a
 * scratch directory (no network is opened: every start here is refused);
 * the start and reload scenarios run in a lab.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIRECTIVES } from '../../../lib/config/directives.js';
import { OURS, runOursIn, waitFor } from '../harness/heartbeat.js';
import { FaultCluster } from './support.js';

const scratch = mkdtempSync(join(tmpdir(), 'hbts-faults-config-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));


/** A valid two-node ha.cf with `bad` inserted as its first lines. */
function haCfWith(bad: readonly string[]): string {
  return [...bad, 'logfile /dev/null', 'use_logd no', 'keepalive 1', 'deadtime 10', 'initdead 20',
    'bcast eth0', 'auto_failback off', 'node n1', 'node n2', ''].join('\n');
}

function makeDir(name: string, hacf: string): string {
  const dir = join(scratch, name);
  rmSync(dir, { recursive: true, force: true });
  for (const d of ['ha.d/resource.d', 'lib', 'run', 'init.d']) mkdirSync(join(dir, d), { recursive: true });
  writeFileSync(join(dir, 'ha.d/ha.cf'), hacf);
  writeFileSync(join(dir, 'ha.d/authkeys'), 'auth 1\n1 sha1 faults-config\n');
  chmodSync(join(dir, 'ha.d/authkeys'), 0o600);
  writeFileSync(join(dir, 'ha.d/haresources'), '');
  writeFileSync(join(dir, 'ha.d/nodeinfo'), 'n1\n');
  return dir;
}


type Case =
  | { lines: string[]; error: RegExp }
  /** accepted whatever the text: why, and one odd value that must pass `-t` */
  | { free: string; lines: string[] };

const tooManyNodes = Array.from({ length: 101 }, (_, k) => `node x${k}`);

/** One case per directive of lib/config/directives.ts; the error is on the LAST of `lines`. */
const CASES: Record<string, Case> = {
  cluster: { free: 'a name only labels the cluster', lines: ['cluster odd-name_42'] },
  node: { lines: tooManyNodes, error: /Too many nodes: node x100 is beyond the limit of 100/ },
  hopfudge: { lines: ['hopfudge 256'], error: /\[256\].*0-255/ },
  keepalive: { lines: ['keepalive 0'], error: /keepalive must be a time greater than 0/ },
  deadtime: { lines: ['deadtime soon'], error: /\[soon\].*deadtime must be a time/ },
  deadping: { lines: ['deadping 1x'], error: /\[1x\].*deadping must be a time/ },
  initdead: { lines: ['initdead -5'], error: /\[-5\].*initdead must be a time/ },
  warntime: { lines: ['warntime 0'], error: /Warn time \[0\] is invalid/ },
  watchdog: { lines: ['watchdog /dev/watchdog', 'watchdog /dev/watchdog1'], error: /Watchdog device multiply specified/ },
  baud: { lines: ['baud 1234'], error: /invalid baudrate \[1234\]/ },
  udpport: { lines: ['udpport 0'], error: /invalid port \[0\]/ },
  logfacility: { lines: ['logfacility Daemon'], error: /Log facility\(Daemon\) not valid/ },
  logfile: { free: 'a path; an unwritable one is reported at run time and the daemon runs on (local-faults test)', lines: ['logfile /nonexistent/dir/x'] },
  debugfile: { free: 'a path, as logfile', lines: ['debugfile /nonexistent/dir/y'] },
  nice_failback: { lines: ['nice_failback maybe'], error: /nice_failback must be a boolean/ },
  auto_failback: { lines: ['auto_failback sometimes'], error: /\[sometimes\].*on, off/ },
  rtprio: { lines: ['rtprio 100'], error: /Illegal realtime priority \[100\]/ },
  hbgenmethod: { lines: ['hbgenmethod File'], error: /Illegal hb generation method \[File\]/ },
  realtime: { lines: ['realtime maybe'], error: /realtime must be a boolean/ },
  debug: { lines: ['debug 256'], error: /debug must be an integer 0-255/ },
  msgfmt: { lines: ['msgfmt xml'], error: /msgfmt must be one of classic, netstring/ },
  use_logd: { lines: ['use_logd perhaps'], error: /use_logd must be a boolean/ },
  conn_logd_time: { lines: ['conn_logd_time 0'], error: /conn_logd_time must be a time greater than 0/ },
  use_apphbd: { lines: ['use_apphbd x'], error: /use_apphbd must be a boolean/ },
  log_badpack: { lines: ['log_badpack x'], error: /log_badpack must be a boolean/ },
  syslogmsgfmt: { lines: ['syslogmsgfmt x'], error: /syslogmsgfmt must be a boolean/ },
  coredumps: { lines: ['coredumps x'], error: /coredumps must be a boolean/ },
  coreroot: { free: 'ignored by heartbeat-ts (no core dump management)', lines: ['coreroot /nonexistent'] },
  crm_daemon_dir: { lines: ['pacemaker off', 'crm_daemon_dir /usr/lib/pacemaker'], error: /must come before the pacemaker directive/ },
  crmd_spawns_pengine: { lines: ['crmd_spawns_pengine x'], error: /crmd_spawns_pengine must be a boolean/ },
  crm: { lines: ['crm sure'], error: /Illegal value \[sure\] for crm/ },
  pacemaker: { lines: ['pacemaker sure'], error: /\[sure\].*pacemaker must be a boolean/ },
  autojoin: { lines: ['autojoin all'], error: /Invalid autojoin directive \[all\]/ },
  uuidfrom: { lines: ['uuidfrom host'], error: /Invalid uuidfrom directive \[host\]/ },
  compression: { lines: ['compression gzip'], error: /compression must be one of zlib, bz2/ },
  compression_threshold: { lines: ['compression_threshold 0'], error: /compress_threshhold\(0\) invalid/ },
  traditional_compression: { lines: ['traditional_compression x'], error: /traditional_compression must be a boolean/ },
  env: { lines: ['env NOVALUE'], error: /invalid nvpair\(NOVALUE\)/ },
  max_rexmit_delay: { lines: ['max_rexmit_delay 0'], error: /Invalid max_rexmit_delay time\(0\)/ },
  record_config_changes: { lines: ['record_config_changes x'], error: /record_config_changes must be a boolean/ },
  record_pengine_inputs: { lines: ['record_pengine_inputs x'], error: /record_pengine_inputs must be a boolean/ },
  enable_config_writes: { lines: ['enable_config_writes x'], error: /enable_config_writes must be a boolean/ },
  memreserve: { lines: ['memreserve -1'], error: /memreserve must be an integer number of KiB greater than 0/ },
  quorum_server: { free: 'a host name; heartbeat-ts warns that it has no quorum server support', lines: ['quorum_server q.example'] },
  stonith: { lines: ['stonith'], error: /No Stonith type given/ },
  stonith_host: { lines: ['stonith_host'], error: /No Stonith hostname argument given/ },
  apiauth: { lines: ['apiauth ipfail uidd=hacluster'], error: /Invalid apiauth directive.*Missing uid or gid/ },
  respawn: { lines: ['respawn hacluster usr/lib/heartbeat/ipfail'], error: /is not full pathname/ },
  failfast: { lines: ['failfast hacluster'], error: /failfast needs an absolute program path/ },
  bcast: { free: 'any interface name; a missing interface fails at start, naming it (test below)', lines: ['bcast nosuch0'] },
  ucast: { lines: ['ucast eth0'], error: /ucast: \[eth0\] missing target IP address/ },
  mcast: { lines: ['mcast eth0 10.0.0.1 694 1 0'], error: /mcast \[eth0\] bad addr \[10\.0\.0\.1\]/ },
  serial: { lines: ['serial ttyS0'], error: /Serial port not full pathname \[ttyS0\]/ },
  ping: { free: 'any host name (ping nodes are resolved when used)', lines: ['ping 10.0.0.254'] },
  ping_group: { lines: ['ping_group lonely'], error: /ping_group needs a group name and at least one host/ },
  ucast6: { lines: ['ucast6 eth0'], error: /ucast6 \[eth0\] missing ucast6 address: use ucast6 <interface> <peer IPv6 address>/ },
  mcast6: { lines: ['mcast6 eth0 ff02::1'], error: /mcast6 \[eth0\] missing port: use mcast6 <interface> <group> <port>/ },
  ping6: { lines: ['ping6 not-an-address'], error: /ping6: bad address \[not-an-address\]: use ping6 <numeric IPv6 address>/ },
  hbaping: { free: 'not implemented: accepted with a warning, as any one-word value is well-formed', lines: ['hbaping fc0'] },
};

describe('every ha.cf directive with a bad value', () => {
  it('the table covers exactly the directives of lib/config/directives.ts', () => {
    expect(Object.keys(CASES).sort()).toEqual(DIRECTIVES.map((d) => d.name).sort());
  });

  const errorCases = Object.entries(CASES).filter((e): e is [string, Extract<Case, { error: RegExp }>] => 'error' in e[1]);

  it.each(errorCases)('%s: `heartbeat -t` exits 6 with ha.cf:LINE, and a start stops there', async (name, c) => {
    const dir = makeDir(name, haCfWith(c.lines));
    const line = c.lines.length;
    const check = await runOursIn(dir, ['-t']);
    expect(check.code, check.stderr).toBe(6);
    const at = check.stderr.split('\n').find((l) => l.startsWith(`${join(dir, 'ha.d/ha.cf')}:${line}: error: `));
    expect(at, check.stderr).toBeDefined();
    expect(at).toMatch(c.error);
    // a real start: same verdict, and nothing was touched
    const start = await runOursIn(dir, ['-f']);
    expect(start.code, start.stderr).toBe(6);
    expect(start.stderr).toContain(`ha.cf:${line}: error: `);
    expect(start.stderr).toMatch(/Configuration error, heartbeat not started\./);
    expect(existsSync(join(dir, 'run.pid'))).toBe(false);
    expect(existsSync(join(dir, 'lib/hb_generation'))).toBe(false);
  });

  const freeCases = Object.entries(CASES).filter((e): e is [string, Extract<Case, { free: string }>] => 'free' in e[1]);
  it.each(freeCases)('%s accepts any text at parse time', async (name, c) => {
    const dir = makeDir(name, haCfWith(c.lines));
    const check = await runOursIn(dir, ['-t']);
    expect(check.code, check.stderr).toBe(0);
    expect(check.stderr).not.toMatch(/: error: /);
  });
});

describe('configuration faults in a running lab', () => {
  let c: FaultCluster | undefined;
  const cl = (): FaultCluster => {
    if (c === undefined) throw new Error('no cluster');
    return c;
  };
  beforeAll(async () => {
    c = await FaultCluster.create({ impl: 'ours', nodes: 2, hacf: { deadtime: 5, initdead: 10 } });
  }, 120_000);
  afterAll(async () => {
    const problems = (await c?.teardown()) ?? [];
    if (problems.length > 0) throw new Error(problems.join('; '));
  }, 120_000);

  it('a bcast interface that does not exist: the start fails naming it and its ha.cf line', async () => {
    const l = cl().lab;
    const good = l.readFile(1, '/etc/ha.d/ha.cf') ?? '';
    l.writeFile(1, '/etc/ha.d/ha.cf', good.replace('bcast eth0', 'bcast nosuch0'));
    try {
      const r = await l.exec(1, [process.execPath, OURS, '-f'], { timeoutMs: 30_000 });
      expect(r.code).not.toBe(0);
      const text = `${r.stdout}${r.stderr}${cl().log(1)}`;
      const line = good.split('\n').findIndex((x) => x.startsWith('bcast ')) + 1;
      expect(text).toMatch(new RegExp(`Heartbeat not started: /etc/ha\\.d/ha\\.cf:${line}: bcast: interface nosuch0 not found`));
      expect(l.readFile(1, '/run/heartbeat.pid')).toBeUndefined();
    } finally {
      l.writeFile(1, '/etc/ha.d/ha.cf', good);
    }
  });

  it('a reload with a broken ha.cf keeps the running configuration and says so; a fixed one is applied', async () => {
    const k = cl();
    const l = k.lab;
    await k.startAll();
    await Promise.all([k.waitActive(1), k.waitActive(2)]);
    const good = l.readFile(1, '/etc/ha.d/ha.cf') ?? '';
    l.writeFile(1, '/etc/ha.d/ha.cf', `${good}deadtime soon\n`);
    // `heartbeat -r` checks first and refuses to signal the daemon
    const r = await l.exec(1, [process.execPath, OURS, '-r']);
    expect(r.code).toBe(6);
    expect(r.stderr).toMatch(/ha\.cf:\d+: error: .*deadtime must be a time/);
    // a SIGHUP sent anyway (kill -HUP, logrotate) reaches the daemon, which keeps its configuration
    const at = k.logSize(1);
    await k.signal(1, 'SIGHUP');
    await k.waitLog(1, /Configuration error on reload: keeping the running configuration\./, 10_000, at);
    expect(k.log(1).slice(at)).toMatch(/Reload: .*ha\.cf:\d+: error: .*deadtime/);
    // still in the cluster with the old settings: node2 never saw it go
    await new Promise((res) => setTimeout(res, 7000));
    expect(k.log(2)).not.toMatch(/node node1: is dead/);
    expect(await k.running(1)).toBe(true);
    // a valid change is picked up by the next reload
    l.writeFile(1, '/etc/ha.d/ha.cf', good.replace('deadtime 5', 'deadtime 6'));
    const at2 = k.logSize(1);
    const r2 = await l.exec(1, [process.execPath, OURS, '-r']);
    expect(r2.code, r2.stderr).toBe(0);
    await k.waitLog(1, /Configuration file changed: restarting communications, keeping resources\./, 10_000, at2);
    await waitFor(() => k.count(1, /Comm_now_up|Link node2:eth0 up/, at2) > 0 || k.count(1, /Status update for node node2/, at2) > 0,
      { timeoutMs: 20_000, what: 'node1 hearing node2 after the reload' }).catch(() => undefined);
    await new Promise((res) => setTimeout(res, 3000));
    expect(k.log(2)).not.toMatch(/node node1: is dead/);
  }, 120_000);
});
