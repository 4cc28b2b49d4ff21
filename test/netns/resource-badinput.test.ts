/**
 * Bad input to the resource manager (issue 3, "Must show"):
 *
 * - a haresources line naming a node that is not in ha.cf, or a resource
 *   script that exists in neither resource.d nor init.d, is a configuration
 *   error: `heartbeat -t` (and a daemon start) exits 6 naming the file and
 *   the line;
 * - a resource whose start hangs (node1's /etc/ha.d/resource.d/hangstart
 *   loops forever and even ignores SIGTERM) is killed after
 *   HA_START_TIMEOUT (3 s here, from the daemon's environment): SIGTERM
 *   first, SIGKILL after the grace period. The failure is handled as
 *   heartbeat handles a failed start: the whole group is released (VIP
 *   gone), and later the node asks to go standby for it, so node2 — whose
 *   hangstart works — takes the group over. All along, node1 keeps
 *   heartbeating: node2 never declares it dead.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installRepoScripts, OURS_CL_STATUS, oursDaemonPids, startOursEnv } from './failover-cluster.js';
import { keepLogsAndDown } from './failover-support.js';
import { authKeys, haCf, ipAddrs, OURS, readLog, waitFor, waitForLog, writeHaConfig } from './harness/heartbeat.js';
import { Lab, labUp } from './harness/lab.js';

const START_TIMEOUT_S = 3;
/** daemon/resources.ts: time between SIGTERM and SIGKILL of a timed-out script */
const KILL_GRACE_MS = 5000;

/** node1's copy: never finishes a start, notes the SIGTERM it gets and goes on. */
const HANGING = `#!/bin/sh
# hangstart - a resource whose start never returns (test fixture)
STATE=/run/hangstart.state
case $1 in
start)
	trap 'echo "SIGTERM received, ignored" >>/var/log/hangstart.log' TERM
	echo "start began" >>/var/log/hangstart.log
	while :; do sleep 1; done ;;
stop) rm -f $STATE ;;
status) if [ -e $STATE ]; then echo "hangstart is running"; else echo "hangstart is not running"; fi ;;
esac
exit 0
`;

/** node2's copy: a healthy resource with the same name. */
const WORKING = `#!/bin/sh
# hangstart - the healthy twin (test fixture)
STATE=/run/hangstart.state
case $1 in
start) touch $STATE ;;
stop) rm -f $STATE ;;
status) if [ -e $STATE ]; then echo "hangstart is running"; else echo "hangstart is not running"; fi ;;
esac
exit 0
`;

let lab: Lab | undefined;

const theLab = (): Lab => labUp(lab);

const hacf = (): string => haCf({ media: 'bcast', nodes: ['node1', 'node2'], keepalive: 1, deadtime: 5, initdead: 10, autoFailback: false });

async function check(l: Lab, i: number): Promise<{ code: number; out: string }> {
  const r = await l.exec(i, [process.execPath, OURS, '-t']);
  return { code: r.code, out: r.stdout + r.stderr };
}

beforeAll(async () => {
  lab = await Lab.up({ nodes: 2 });
  for (const i of lab.ids()) installRepoScripts(lab, i, ['IPaddr']);
}, 120_000);

afterAll(async () => {
  await keepLogsAndDown(lab, 'badinput');
}, 120_000);

describe('haresources errors are configuration errors with file and line', () => {
  it('a line naming a node that is not in ha.cf: heartbeat -t exits 6 and names /etc/ha.d/haresources and the line', async () => {
    const l = theLab();
    writeHaConfig(l, 1, {
      hacf: hacf(),
      authkeys: authKeys('sha1'),
      haresources: `# groups\nnode1 IPaddr::${l.subnet}.100/24/eth0\nnode3 IPaddr::${l.subnet}.101/24/eth0\n`,
    });
    const r = await check(l, 1);
    expect(r.code).toBe(6);
    expect(r.out).toMatch(/\/etc\/ha\.d\/haresources:3: error: Bad nodename in \/etc\/ha\.d\/haresources \[node3\]/);
    expect(r.out).not.toMatch(/haresources:2:/);
    // the daemon itself refuses to start the same way
    const d = await l.exec(1, [process.execPath, OURS, '-f'], { timeoutMs: 20_000 });
    expect(d.code).toBe(6);
    expect(d.stdout + d.stderr).toMatch(/haresources:3: error: Bad nodename/);
    expect(d.stdout + d.stderr).toMatch(/Configuration error, heartbeat not started\./);
  });

  it('a resource whose script exists nowhere: exit 6 with the file, the line and the script name', async () => {
    const l = theLab();
    writeHaConfig(l, 1, {
      hacf: hacf(),
      authkeys: authKeys('sha1'),
      haresources: `node1 IPaddr::${l.subnet}.100/24/eth0 \\\n  nosuchscript::x\nnode2 ${l.subnet}.101\n`,
    });
    const r = await check(l, 1);
    expect(r.code).toBe(6);
    expect(r.out).toMatch(/\/etc\/ha\.d\/haresources:1: error: Cannot locate resource script nosuchscript \(resource \[nosuchscript::x\]\)/);
    // the same file with the script present (an LSB script in /etc/init.d would do too) is valid
    l.writeFile(1, '/etc/ha.d/resource.d/nosuchscript', '#!/bin/sh\nexit 0\n', 0o755);
    const ok = await check(l, 1);
    expect(ok.out).not.toMatch(/error:/);
    expect(ok.code).toBe(0);
  });
});

describe('a resource start that hangs', () => {
  it('is killed after HA_START_TIMEOUT (TERM, then KILL), the group is released, and the daemon keeps heartbeating', async () => {
    const l = theLab();
    const vip = `${l.subnet}.100`;
    for (const i of l.ids()) {
      writeHaConfig(l, i, { hacf: hacf(), authkeys: authKeys('sha1'), haresources: `node1 IPaddr::${vip}/24/eth0 hangstart\n` });
      l.writeFile(i, '/etc/ha.d/resource.d/hangstart', i === 1 ? HANGING : WORKING, 0o755);
    }
    const env = { HA_START_TIMEOUT: String(START_TIMEOUT_S) };
    await startOursEnv(l, 1, env);
    await startOursEnv(l, 2, env);

    // node1 starts its group: the VIP comes up, then hangstart hangs
    await waitForLog(l, 1, /Running \/etc\/ha\.d\/resource\.d\/hangstart {2}start/, { timeoutMs: 60_000 });
    const killed = await waitForLog(l, 1, /resource\.d\/hangstart start did not finish within \d+ ms: killed/, {
      timeoutMs: (START_TIMEOUT_S * 1000 + KILL_GRACE_MS) * 3,
    });
    const ms = Number(/within (\d+) ms/.exec(killed)?.[1]);
    // it had to outlive the TERM: only the KILL after the grace period ended it
    expect(ms).toBeGreaterThanOrEqual(START_TIMEOUT_S * 1000 + KILL_GRACE_MS - 500);
    expect(readLog(l, 1, '/var/log/hangstart.log')).toMatch(/start began\n(.*\n)*SIGTERM received, ignored/);
    expect(await l.pids(1, 'sleep')).toEqual([]);
    expect((await l.sh(1, 'ps -eo args | grep -c "[h]angstart"')).stdout.trim()).toBe('0');

    // handled: the whole group is released, right to left
    await waitForLog(l, 1, /CRIT: Giving up resources due to failure of hangstart/, { timeoutMs: 5000 });
    await waitForLog(l, 1, /Running \/etc\/ha\.d\/resource\.d\/IPaddr \S+ stop/, { timeoutMs: 30_000 });
    await waitFor(async () => !(await ipAddrs(l, 1)).includes(`${vip}/24`), { timeoutMs: 30_000, what: 'VIP released on node1' });

    // then node1 asks to go standby for that group and node2 (healthy) takes it
    await waitForLog(l, 1, /Going standby \[local\]\./, { timeoutMs: 60_000 });
    await waitFor(async () => (await ipAddrs(l, 2)).includes(`${vip}/24`), { timeoutMs: 60_000, what: 'VIP on node2' });
    await waitFor(() => l.exec(2, ['/etc/ha.d/resource.d/hangstart', 'status']), {
      timeoutMs: 30_000,
      what: 'hangstart running on node2',
      until: (r) => r.stdout.includes('is running'),
    });
    expect((await ipAddrs(l, 1)).includes(`${vip}/24`)).toBe(false);

    // all along node1 heartbeated: node2 never saw it die, and still sees it active
    expect(readLog(l, 2)).not.toMatch(/node node1: is dead|Late heartbeat/);
    expect(readLog(l, 1)).not.toMatch(/Late heartbeat|node node2: is dead/);
    // (heartbeat-ts's own cl_status: its API socket does not speak the C library's IPC)
    const st = await l.exec(2, [OURS_CL_STATUS, 'nodestatus', 'node1'], { env: { HEARTBEAT_TS_NODE: process.execPath } });
    expect(`${st.code} ${st.stdout.trim()} ${st.stderr.trim()}`).toBe('0 active ');
    expect((await oursDaemonPids(l, 1)).length).toBe(1);
  }, 170_000);
});
