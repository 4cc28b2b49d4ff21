/**
 * Checks the wording and the verdicts of lib/config against the real
 * heartbeat 3.0.6 binary. Heartbeat reads its files from the compiled-in
 * /etc/ha.d, so it runs in a one-node lab (devtools/lab): the node's private
 * /etc/ha.d, /run and /var/lib/heartbeat, its eth0 on the lab LAN. Every
 * configuration here is invalid, so heartbeat stops with exit 6 before it
 * would daemonise; the exec timeout and the lab's teardown end it if not.
 */
import { existsSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAuthKeys } from '../../lib/config/authkeys.js';
import { parseHaCf } from '../../lib/config/hacf.js';
import { parseHaResources } from '../../lib/config/haresources.js';
import type { ConfigProblem, Severity } from '../../lib/config/types.js';
import { Lab, labUp } from './harness/lab.js';

const HEARTBEAT = '/usr/libexec/heartbeat/heartbeat';
/** Heartbeat's compiled-in file names (HA_HBCONF_DIR ends with a slash). */
const HB_HACF = '/etc/ha.d//ha.cf';
const HB_KEYS = '/etc/ha.d//authkeys';
const HB_RES = '/etc/ha.d//haresources';
const KEYS_OK = 'auth 1\n1 sha1 oracle-secret\n';
const LOGS = 'logfile /dev/null\nuse_logd no\n';

interface Files { haCf: string; authkeys?: string; authMode?: number; haresources?: string }
interface Run { status: number | null; out: string }

let lab: Lab | undefined;
beforeAll(async () => {
  lab = await Lab.up({ nodes: 1 });
}, 120_000);
afterAll(async () => lab?.down(), 60_000);

/** Heartbeat 3.0.6 started in the foreground on the lab node with these files as /etc/ha.d. */
async function runReal(files: Files): Promise<Run> {
  if (!existsSync(HEARTBEAT)) throw new Error(`${HEARTBEAT} is missing: install Debian's heartbeat 3.0.6 package`);
  const l = labUp(lab);
  for (const f of ['authkeys', 'haresources']) rmSync(l.path(1, `/etc/ha.d/${f}`), { force: true });
  l.writeFile(1, '/etc/ha.d/nodeinfo', 'node1\n');
  l.writeFile(1, '/etc/ha.d/ha.cf', files.haCf);
  if (files.authkeys !== undefined) l.writeFile(1, '/etc/ha.d/authkeys', files.authkeys, files.authMode ?? 0o600);
  if (files.haresources !== undefined) l.writeFile(1, '/etc/ha.d/haresources', files.haresources);
  const r = await l.sh(1, `mkdir -p /var/lib/heartbeat/cores/root && exec ${HEARTBEAT} -f`, { timeoutMs: 30_000 });
  return { status: r.code, out: `${r.stdout}${r.stderr}` };
}

/** Our problems for the same files, named as heartbeat names them. */
function ours(files: Files): ConfigProblem[] {
  const cf = parseHaCf(files.haCf, { file: HB_HACF, nodename: 'node1' });
  const out = [...cf.problems];
  if (files.authkeys !== undefined) {
    out.push(...parseAuthKeys(files.authkeys, { file: HB_KEYS, mode: files.authMode ?? 0o600 }).problems);
  }
  if (files.haresources !== undefined && cf.value !== undefined) {
    out.push(...parseHaResources(files.haresources, { file: HB_RES, nodes: cf.value.nodes }).problems);
  }
  return out;
}

const LEVEL: Record<Severity, string> = { error: 'ERROR', warning: 'WARN', info: 'info' };

/** [heartbeat's text, our severity when heartbeat logs it at the matching level]. */
type Expectation = [string, Severity?];

async function check(files: Files, expected: Expectation[]): Promise<void> {
  const real = await runReal(files);
  expect(real.status, real.out).toBe(6);
  const mine = ours(files);
  expect(mine.some((p) => p.severity === 'error'), JSON.stringify(mine)).toBe(true);
  for (const [text, severity] of expected) {
    expect(real.out, `real heartbeat output should contain: ${text}`).toContain(text);
    const hit = mine.find((p) => p.message.includes(text));
    expect(hit, `our problems should contain: ${text}\n${JSON.stringify(mine, null, 1)}`).toBeDefined();
    if (severity !== undefined) {
      expect(hit?.severity).toBe(severity);
      expect(real.out).toContain(`${LEVEL[severity]}: ${text}`);
    }
  }
}

describe('lib/config against the real heartbeat 3.0.6', () => {
  it('ha.cf value and directive errors', async () => {
    await check({
      haCf: `${LOGS}node node1 node2\nbcast eth0\nauto_failback on\nfoo bar\nwarntime 0\nbaud 1234\nudpport 0\n`
        + 'logfacility foo\nhbgenmethod x\nrtprio 100\nautojoin x\nuuidfrom x\nmax_rexmit_delay 0\n'
        + 'mcast eth0 10.0.0.1 694 1 0\nmcast eth0 225.0.0.1 694 5 0\nserial ttyS0\nucast eth0\n'
        + 'respawn root ipfail\napiauth foo uid=root\napiauth foo gid=root\n',
      authkeys: KEYS_OK,
    }, [
      [`Illegal directive [foo] in ${HB_HACF}`, 'error'],
      ['Warn time [0] is invalid.'],
      ['invalid baudrate [1234] specified.'],
      ['invalid port [0] specified.'],
      ['Log facility(foo) not valid', 'error'],
      ['Illegal hb generation method [x]', 'error'],
      ['Illegal realtime priority [100]', 'error'],
      ['Invalid autojoin directive [x]', 'error'],
      ['Invalid uuidfrom directive [x]', 'error'],
      ['Invalid max_rexmit_delay time(0)', 'error'],
      ['mcast [eth0] bad addr [10.0.0.1]'],
      ['mcast [eth0] bad ttl [5]'],
      ['Serial port not full pathname [ttyS0] in config file'],
      ['ucast: [eth0] missing target IP address/hostname'],
      ['Client child command [ipfail] is not full pathname', 'error'],
      ['Duplicate apiauth directive for API client foo'],
    ]);
  });

  it('timing, node and media checks after parsing', async () => {
    await check({ haCf: `${LOGS}node node2\nbcast eth0\nauto_failback on\nkeepalive 2\ndeadtime 4\ninitdead 3\ndeadping 4\n`, authkeys: KEYS_OK }, [
      ['Current node [node1] not in configuration!', 'error'],
      ['Dead time [4000] is too small compared to keeplive [2000]', 'error'],
      ['Initial dead time [3000] is smaller than deadtime [4000]', 'error'],
      ['Ping dead time [4000] is too small compared to keeplive [2000]', 'error'],
    ]);
    await check({ haCf: `${LOGS}auto_failback on\n`, authkeys: KEYS_OK }, [
      ['No heartbeat media defined', 'error'],
      ['no nodes defined', 'error'],
    ]);
  });

  it('warnings: short initdead, legacy failback, nice_failback, logd, autojoin', async () => {
    await check({ haCf: `node node2\nbcast eth0\ndeadtime 5\ninitdead 8\nlogfile /dev/null\nnice_failback on\nautojoin other\n`, authkeys: KEYS_OK }, [
      ['Initial dead time [8000 ms] may be too small!', 'warning'],
      ["Deprecated 'legacy' auto_failback option selected.", 'warning'],
      ["nice_failback on has been strictly interpreted as 'auto_failback legacy'"],
      ['Logging daemon is disabled --enabling logging daemon is recommended', 'warning'],
      ['R1 style resource management conflicts with  autojoin set', 'error'],
    ]);
    await check({ haCf: 'node node2\nbcast eth0\nauto_failback on\nnice_failback off\nuse_logd off\n', authkeys: KEYS_OK }, [
      ["'nice_failback off' has been changed to 'auto_failback off'"],
      ['No log entry found in ha.cf and use_logd is set to off', 'error'],
    ]);
  });

  it('authkeys errors', async () => {
    const haCf = `${LOGS}node node1\nbcast eth0\nauto_failback on\n`;
    await check({ haCf, authkeys: KEYS_OK, authMode: 0o644 }, [[`Bad permissions on keyfile [${HB_KEYS}], 600 recommended.`, 'error']]);
    await check({ haCf, authkeys: '3 sha1 k\nauth 3\n' }, [[`Auth Key [3] not found in keyfile [${HB_KEYS}]`, 'error']]);
    await check({ haCf, authkeys: '1 crc\n' }, [[`Missing auth directive in keyfile [${HB_KEYS}]`, 'error']]);
    await check({ haCf, authkeys: 'auth 1\n1 crc\n16 crc\n2 sha256 k\n3 crc k\n4 md5\n' }, [
      [`Invalid authnum [16] in ${HB_KEYS}`, 'error'],
      ['Invalid authtype [sha256]', 'error'],
      ["Auth method [crc] doesn't use a key"],
      ['Auth method [md5] requires a key', 'error'],
    ]);
  });

  it('haresources: unknown node, and a missing file in v1 mode is a configuration error', async () => {
    const haCf = `${LOGS}node node1 node2\nbcast eth0\nauto_failback on\n`;
    await check({ haCf, authkeys: KEYS_OK, haresources: 'node3 10.77.0.100\n' }, [[`Bad nodename in ${HB_RES} [node3]`, 'error']]);
    const real = await runReal({ haCf, authkeys: KEYS_OK });
    expect(real.status, real.out).toBe(6);
    expect(real.out).toContain(`ERROR: Cannot open resources file [${HB_RES}]`);
  });
});
