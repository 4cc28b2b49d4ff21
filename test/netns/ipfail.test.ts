import { join } from 'node:path';
import { existsSync } from 'node:fs';
/**
 * ipfail between two heartbeat-ts nodes (issue 4, "Must show"), on real
 * links: node3 is the gateway both nodes ping; only node1's path to it is
 * cut (partition [1] [3]; the cluster link stays up). ha.cf names
 * heartbeat-ts's ipfail (`respawn hacluster <repo>/bin/ipfail`), run as
 * hacluster, allowed by
 * `apiauth ipfail gid=haclient uid=hacluster`.
 *
 * Then the bad input of issue 4 that needs a running daemon: a client name
 * without an apiauth entry (and a user the ipfail entry does not list) is
 * refused; a respawned client that crashes in a loop is throttled and
 * logged. (A ping reply whose payload does not authenticate is covered by
 * ping.test.ts: the tampering responder's replies never count.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keepLogsAndDown } from './failover-support.js';
import { authKeys, haCf, logSize, OURS, OURS_OUT, readLog, waitForLog, writeHaConfig } from './harness/heartbeat.js';
import { REPO_ROOT, type Lab } from './harness/lab.js';
import { stopOurs } from './failover-cluster.js';
import {
  OUR_IPFAIL, IpfailScenario, PING_TARGET, configure, esc, ipfailLab, ipfailProcs, linesSince,
} from './ipfail-support.js';

let lab: Lab | undefined;
let sc: IpfailScenario | undefined;
const S = (): IpfailScenario => {
  if (sc === undefined) throw new Error('lab not up');
  return sc;
};

beforeAll(async () => {
  // The daemon and its ipfail run from dist/, built once by `npm test` (a rebuild here
  // would rewrite files under the feet of tests running in parallel).
  if (!existsSync(join(REPO_ROOT, 'dist', 'daemon', 'ipfail.js'))) throw new Error('dist/daemon/ipfail.js missing: run `npm run build` first');
  lab = await ipfailLab(['ours', 'ours']);
  // `probe`: a named client only hacluster may be, for the apiauth test.
  configure(lab, OUR_IPFAIL, ['apiauth probe uid=hacluster']);
  sc = new IpfailScenario(lab, ['ours', 'ours'], 'ipfail');
}, 300_000);

afterAll(async () => {
  sc?.monitor.stop();
  if (sc !== undefined) console.log(`[ipfail] measured:\n  ${sc.measurements.join('\n  ')}`);
  await keepLogsAndDown(lab, 'ipfail');
}, 120_000);

describe('ipfail on two heartbeat-ts nodes', () => {
  it('both start; node1 serves; each runs our ipfail as configured, as hacluster', async () => {
    const s = S();
    await s.start();
    for (const i of [1, 2]) {
      const [p] = await ipfailProcs(s.lab, i);
      expect(p?.argv.slice(1)).toEqual([`${REPO_ROOT}/dist/daemon/ipfail.js`]);
      expect(readLog(s.lab, i)).toMatch(new RegExp(`heartbeat: \\[\\d+\\]: info: Starting "${esc(OUR_IPFAIL)}" as uid ${p?.uid ?? -1}  gid \\d+ \\(pid \\d+\\)`));
    }
    // Each one has signed on and walked the nodes (debug lines reach ha-debug, as heartbeat's ipfail writes them).
    for (const i of [1, 2]) {
      await waitForLog(s.lab, i, /ipfail: \[\d+\]: debug: Waiting for messages\.\.\./, { timeoutMs: 10_000, file: '/var/log/ha-debug' });
      expect(readLog(s.lab, i, '/var/log/ha-debug')).toMatch(new RegExp(`ipfail: \\[\\d+\\]: debug: Cluster node: ${esc(s.lab.ip(PING_TARGET))}: status: ping`));
    }
  });

  it('node1 loses the gateway: the group moves to node2 within deadping + the delayed giveup; the client reaches the VIP there', async () => {
    const s = S();
    await s.expectCutLogs(await s.cutNode1FromGateway());
    // Nothing moves back while node1 stays cut off.
    await s.fo.keepsServing(2, 6000);
    s.fo.expectNoDoubleHolding();
  });

  it('the path heals: counts balance, and auto_failback hands the group back to node1', async () => {
    const s = S();
    await s.expectHealLogs(await s.healGateway());
    await s.fo.keepsServing(1, 4000);
    s.fo.expectNoDoubleHolding();
  });

  it('apiauth: a client name without an entry is refused, and so is a user its entry does not list', async () => {
    const s = S();
    const size = logSize(s.lab, 1);
    const client = `${REPO_ROOT}/dist/daemon/api/client.js`;
    const script = `const { HbApiClient } = await import(${JSON.stringify(client)});
      const out = {};
      for (const name of ['nosuchclient', 'probe']) {
        const c = await HbApiClient.connect('/var/run/heartbeat/heartbeat-ts.sock');
        const r = await c.signon(name);
        out[name] = r.ok ? 'ok' : r.code;
        c.close();
      }
      console.log(JSON.stringify(out));`;
    // In haclient: users outside it do not even reach the socket (0750 run directory, EACCES).
    const as = async (user: string, group: string): Promise<unknown> => {
      const r = await s.lab.exec(1, ['setpriv', `--reuid=${user}`, `--regid=${group}`, '--groups=haclient', process.execPath, '--input-type=module', '-e', script]);
      if (r.code !== 0 || r.stderr !== '') throw new Error(`API client as ${user} failed (${r.code}): ${r.stderr}`);
      return JSON.parse(r.stdout);
    };
    expect(await as('nobody', 'nogroup')).toEqual({ nosuchclient: 'API_AUTH', probe: 'API_AUTH' });
    // The same request from the user the entry lists passes: the refusal was about who asked.
    expect(await as('hacluster', 'haclient')).toEqual({ nosuchclient: 'API_AUTH', probe: 'ok' });
    const refused = linesSince(s.lab, 1, size, /failed authorization/);
    expect(refused).toHaveLength(3);
    expect(refused.filter((l) => /WARN: Client \[nosuchclient\] pid \d+ failed authorization \[no default client auth\]/.test(l))).toHaveLength(2);
    expect(refused.filter((l) => /WARN: Client \[probe\] pid \d+ failed authorization \[client failed authorization\]/.test(l))).toHaveLength(1);
    // The running ipfail keeps its session.
    expect((await ipfailProcs(s.lab, 1)).length).toBe(1);
  });

  it('a graceful stop ends both ipfails cleanly (SIGTERM, no respawn)', async () => {
    const s = S();
    const sizes = [logSize(s.lab, 1), logSize(s.lab, 2)];
    await s.stop();
    for (const i of [1, 2]) {
      expect(linesSince(s.lab, i, sizes[i - 1] ?? 0, new RegExp(`killing ${esc(OUR_IPFAIL)} process group \\d+ with signal 15`))).toHaveLength(1);
      expect(linesSince(s.lab, i, sizes[i - 1] ?? 0, /Respawning client|exited with return code|killed by signal/)).toEqual([]);
    }
    s.fo.expectNoDoubleHolding();
  });
});

describe('respawn: a client that crashes in a loop', () => {
  it('is throttled and logged, not restarted many times a second', async () => {
    const l = lab;
    if (l === undefined) throw new Error('lab not up');
    const script = '/etc/ha.d/crasher.sh';
    l.writeFile(1, script, '#!/bin/sh\necho started >> /var/log/crasher.count\nexit 1\n', 0o755);
    writeHaConfig(l, 1, {
      hacf: haCf({ media: 'bcast', nodes: ['node1'], keepalive: 1, deadtime: 5, initdead: 10, extra: [`respawn root ${script}`] }),
      authkeys: authKeys('sha1'),
    });
    const size = logSize(l, 1);
    // -M (no resource management): a one-node v1 cluster never finishes its resource start-up and
    // then cannot stop, real heartbeat 3.0.6 included; this test is about respawn only.
    await l.spawn(1, [process.execPath, OURS, '-f', '-M'], { logFile: l.path(1, OURS_OUT) });
    try {
      await waitForLog(l, 1, new RegExp(`Starting "${esc(script)}" as uid 0  gid 0`), { timeoutMs: 30_000, after: size });
      const t0 = Date.now();
      await new Promise((r) => setTimeout(r, 20_000));
      const starts = (l.readFile(1, '/var/log/crasher.count') ?? '').split('\n').filter((x) => x === 'started').length;
      const log = readLog(l, 1).slice(size);
      console.log(`[ipfail] crash loop: ${starts} starts in ${(Date.now() - t0) / 1000} s`);
      // Backoff 1, 2, 4, 8 s...: about 5 starts in 20 s; unthrottled it would be thousands.
      expect(starts).toBeGreaterThanOrEqual(3);
      expect(starts).toBeLessThanOrEqual(8);
      expect(log).toMatch(new RegExp(`ERROR: Client ${esc(script)} exited with return code 1\\.`));
      expect(log).toMatch(new RegExp(`ERROR: Client ${esc(script)} "respawning too fast"`));
      expect(log.split('\n').filter((x) => x.includes(`Starting "${script}"`)).length).toBe(starts);
    } finally {
      await stopOurs(l, 1);
    }
    expect(readLog(l, 1, OURS_OUT)).not.toMatch(/Error|TypeError/);
  });
});
