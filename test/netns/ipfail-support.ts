/**
 * Shared by the ipfail netns tests (issue 4): a lab of two cluster nodes
 * and a third namespace, node3, that is the gateway both ping (its kernel
 * answers; nothing runs there). The group
 *
 *   node1 IPaddr::<vip>/24/eth0 httpd::/srv/www::80
 *
 * is served on the VIP; the client namespace asks who answers over HTTP.
 * Only node1's path to the gateway is cut: `partition [1] [3]` drops the
 * frames between node1 and node3 at the switch, and nothing else (node2
 * and the client are in no group, so they still reach everybody, and the
 * cluster link node1<->node2 stays up).
 */
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { FIXTURES, installRepoScripts, Member, type Kind } from './failover-cluster.js';
import { Failover } from './failover-scenario.js';
import { ExclusivityMonitor } from './failover-support.js';
import { authKeys, haCf, logSize, readLog, waitFor, waitForLog, writeHaConfig } from './harness/heartbeat.js';
import { Lab, REPO_ROOT } from './harness/lab.js';

export const PING_TARGET = 3;
/** Where Debian 12 installs heartbeat 3.0.6's C ipfail (the /usr/lib path does not exist there). */
export const IPFAIL_LIBEXEC = '/usr/libexec/heartbeat/ipfail';
/** heartbeat-ts's own ipfail, named explicitly in ha.cf (respawn runs what is configured). */
export const OUR_IPFAIL = `${REPO_ROOT}/bin/ipfail`;
export const PORT = 80;
export const DOCROOT = '/srv/www';
export const KEEPALIVE_S = 1;
export const DEADPING_S = 5;

/** A lab of node1, node2 (cluster) and node3 (the gateway), with the web service on both cluster nodes. */
export async function ipfailLab(kinds: readonly [Kind, Kind]): Promise<Lab> {
  const lab = await Lab.up({ nodes: 3, private: ['/srv:empty'], privateInitD: true });
  try {
    for (const i of [1, 2]) {
      lab.writeFile(i, `${DOCROOT}/host.txt`, `served by node${i}\n`);
      lab.writeFile(i, '/etc/init.d/httpd', '', 0o755);
      copyFileSync(join(FIXTURES, 'httpd-init.sh'), lab.path(i, '/etc/init.d/httpd'));
      // heartbeat-ts uses the repository's IPaddr; a real node keeps Debian's.
      if (kinds[i - 1] === 'ours') installRepoScripts(lab, i, ['IPaddr']);
    }
  } catch (err) {
    await lab.down();
    throw err;
  }
  return lab;
}

export const vipOf = (lab: Lab): string => `${lab.subnet}.100`;

/**
 * ha.cf / authkeys / haresources of both cluster nodes: ping node3, ipfail respawned, auto_failback on.
 * `ipfailPath`: one program for both nodes, or node1's and node2's.
 */
export function configure(lab: Lab, ipfailPath: string | readonly [string, string], extra: readonly string[] = []): void {
  for (const i of [1, 2]) {
    const ipfail = typeof ipfailPath === 'string' ? ipfailPath : ipfailPath[i - 1];
    writeHaConfig(lab, i, {
      hacf: haCf({
        media: 'bcast', nodes: ['node1', 'node2'], keepalive: KEEPALIVE_S, deadtime: 5, initdead: 10, autoFailback: true,
        extra: [
          `deadping ${DEADPING_S}`,
          `ping ${lab.ip(PING_TARGET)}`,
          `respawn hacluster ${ipfail}`,
          'apiauth ipfail gid=haclient uid=hacluster',
          ...extra,
        ],
      }),
      authkeys: authKeys('sha1'),
      haresources: `node1 IPaddr::${vipOf(lab)}/24/eth0 httpd::${DOCROOT}::${PORT}\n`,
    });
  }
}

export interface ProcInfo {
  pid: number;
  uid: number;
  argv: string[];
}

/** ipfail processes of node i (ours: node …/dist/daemon/ipfail.js; real: …/heartbeat/ipfail), with their uid. */
export async function ipfailProcs(lab: Lab, i: number): Promise<ProcInfo[]> {
  const out: ProcInfo[] = [];
  for (const pid of await lab.pids(i)) {
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((a) => a !== '');
      if (!argv.some((a) => /\/ipfail(\.js)?$/.test(a))) continue;
      const uid = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      out.push({ pid, uid: Number(uid?.[1] ?? -1), argv });
    } catch {
      // ended meanwhile
    }
  }
  return out;
}

/** uid of a user in the host's (and so every node's) /etc/passwd. */
export function uidOf(user: string): number {
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith(`${user}:`));
  const uid = Number(line?.split(':')[2]);
  if (!Number.isInteger(uid)) throw new Error(`no user ${user} in /etc/passwd`);
  return uid;
}

/** Log lines of node i past byte `after` that match re. */
export function linesSince(lab: Lab, i: number, after: number, re: RegExp): string[] {
  return readLog(lab, i).slice(after).split('\n').filter((l) => re.test(l));
}

export const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** An ipfail log line as heartbeat's ipfail writes it to ha-log (syslog layout): `ipfail: [pid]: info: text`. */
export const IPF = (level: string, text: string): RegExp => new RegExp(`ipfail: \\[\\d+\\]: ${level}: ${esc(text)}$`, 'm');

/**
 * The scenario of issue 4, the same whoever runs which daemon: both start,
 * node1 serves; node1 loses the gateway -> the group moves to node2 within
 * deadping + the delayed giveup; the path heals -> counts balance and, with
 * auto_failback on, the group comes back to node1.
 */
export class IpfailScenario {
  readonly fo: Failover;
  readonly monitor: ExclusivityMonitor;
  readonly measurements: string[] = [];

  constructor(readonly lab: Lab, readonly kinds: readonly [Kind, Kind], readonly label: string) {
    this.monitor = new ExclusivityMonitor(lab, { vip: vipOf(lab) });
    const members = [new Member(lab, 1, kinds[0]), new Member(lab, 2, kinds[1])];
    this.fo = new Failover(lab, members, this.monitor, { vip: vipOf(lab), port: PORT });
  }

  note(text: string): void {
    this.measurements.push(text);
    console.log(`[${this.label}] ${text}`);
  }

  /** Both daemons start; node1 serves; an ipfail runs as hacluster on each node. */
  async start(): Promise<void> {
    this.monitor.start();
    const t0 = Date.now();
    await Promise.all(this.fo.members.map((m) => m.start()));
    await this.fo.waitServedBy(1, 90_000);
    this.note(`node1 serving ${(Date.now() - t0) / 1000} s after the start`);
    await this.fo.expectSoleHolder(1);
    const hacluster = uidOf('hacluster');
    for (const i of [1, 2]) {
      await waitFor(() => ipfailProcs(this.lab, i), {
        timeoutMs: 30_000, what: `an ipfail running as hacluster on node${i}`,
        until: (p) => p.length === 1 && p[0]?.uid === hacluster,
      });
    }
    // The second ipfail's join makes the first ask; the answer is a balance (one gateway each).
    await waitFor(() => [1, 2].some((i) => IPF('info', 'Ping node count is balanced.').test(readLog(this.lab, i))), {
      timeoutMs: 30_000, what: 'the two ipfails to compare counts at start',
    });
  }

  /**
   * Cuts node1 <-> node3 only; waits for the group on node2. Returns the log
   * sizes of both nodes before the cut, for the log checks.
   */
  async cutNode1FromGateway(): Promise<[number, number]> {
    const sizes: [number, number] = [logSize(this.lab, 1), logSize(this.lab, 2)];
    const t0 = Date.now();
    await this.lab.partition([[1], [PING_TARGET]]);
    // Cluster link up, gateway unreachable from node1 only. Bound: deadping + the delayed giveup
    // (2 x keepalive) + a generous allowance for the standby handshake and the resource scripts.
    await this.fo.waitServedBy(2, (DEADPING_S + 2 * KEEPALIVE_S + 40) * 1000);
    this.note(`gateway cut from node1 -> node2 serves after ${(Date.now() - t0) / 1000} s (deadping ${DEADPING_S} s + giveup ${2 * KEEPALIVE_S} s + standby)`);
    await this.fo.expectSoleHolder(2);
    return sizes;
  }

  /** Heals the path; waits for the group back on node1. Returns the log sizes before the heal. */
  async healGateway(): Promise<[number, number]> {
    const sizes: [number, number] = [logSize(this.lab, 1), logSize(this.lab, 2)];
    const t0 = Date.now();
    await this.lab.heal();
    await this.fo.waitServedBy(1, 90_000);
    this.note(`path healed -> node1 serves again after ${(Date.now() - t0) / 1000} s`);
    await this.fo.expectSoleHolder(1);
    return sizes;
  }

  /** Waits for each regular expression in node i's log past `after`. */
  async expectLog(i: number, after: number, res: readonly RegExp[], timeoutMs = 15_000): Promise<void> {
    for (const re of res) await waitForLog(this.lab, i, re, { timeoutMs, after });
  }

  /** What both implementations write when node1 lost the gateway (sizes: the logs before the cut). */
  async expectCutLogs([l1, l2]: [number, number]): Promise<void> {
    const gw = esc(this.lab.ip(PING_TARGET));
    await this.expectLog(1, l1, [
      new RegExp(`heartbeat: \\[\\d+\\]: WARN: node ${gw}: is dead`),
      new RegExp(`heartbeat: \\[\\d+\\]: info: Link ${gw}:${gw} dead\\.`),
      IPF('info', `Status update: Node ${this.lab.ip(PING_TARGET)} now has status dead`),
      IPF('info', 'NS: We are dead. :<'),
      IPF('info', `Link Status update: Link ${this.lab.ip(PING_TARGET)}/${this.lab.ip(PING_TARGET)} now has status dead`),
      IPF('info', 'We are dead. :<'),
      IPF('info', 'Asking other side for ping node count.'),
      IPF('info', 'Giving up because we were told that we have less ping nodes.'),
      IPF('info', `Delayed giveup in ${2 * KEEPALIVE_S} seconds.`),
      IPF('info', 'giveup() called (timeout worked)'),
      /heartbeat: \[\d+\]: info: node1 wants to go standby \[all\]/,
    ]);
    await this.expectLog(2, l2, [
      IPF('info', 'Telling other node that we have more visible ping nodes.'),
      /heartbeat: \[\d+\]: info: node1 wants to go standby \[all\]/,
    ]);
    // node2 still sees the gateway: it never counted it dead.
    expect(linesSince(this.lab, 2, l2, new RegExp(`${gw}.*dead`))).toEqual([]);
  }

  /** What both implementations write when node1's path healed (sizes: the logs before the heal). */
  async expectHealLogs([l1, l2]: [number, number]): Promise<void> {
    await this.expectLog(1, l1, [
      new RegExp(`heartbeat: \\[\\d+\\]: info: Status update for node ${esc(this.lab.ip(PING_TARGET))}: status ping`),
      IPF('info', 'A ping node just came up.'),
      IPF('info', 'Asking other side for ping node count.'),
      IPF('info', 'No giveup timer to abort.'),
      /heartbeat: \[\d+\]: info: node2 wants to go standby \[foreign\]/,
    ]);
    await this.expectLog(2, l2, [
      IPF('info', 'Ping node count is balanced.'),
      IPF('info', 'Giving up foreign resources (auto_failback).'),
      IPF('info', 'giveup() called (timeout worked)'),
      /heartbeat: \[\d+\]: info: node2 wants to go standby \[foreign\]/,
    ]);
  }

  async stop(): Promise<void> {
    await this.fo.stopAll();
    for (const i of [1, 2]) {
      await waitFor(() => ipfailProcs(this.lab, i), { timeoutMs: 20_000, what: `node${i}'s ipfail to end`, until: (p) => p.length === 0 });
    }
    this.monitor.stop();
  }
}
