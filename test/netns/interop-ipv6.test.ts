/**
 * Issue 12, IPv6 media against real Heartbeat 3.0.6: node1 runs 3.0.6,
 * node2 heartbeat-ts, over ucast6 (ULA peers, then link-local peers with
 * %scope) and over mcast6, with md5 and with sha1. In every round:
 *
 *  1. each side sees the other active with link eth0 up (3.0.6 through
 *     Debian's cl_status, ours through its log and its cl_status);
 *  2. kill -9 of heartbeat-ts: 3.0.6 declares node2 dead; restarted, it is
 *     a `Heartbeat restart`, never a partition heal;
 *  3. kill -9 of 3.0.6: heartbeat-ts declares node1 dead; 3.0.6 restarted,
 *     both active again, no partition heal on either side.
 */
import { describe, expect, it } from 'vitest';
import { oursPids, realPids, waitForLog, type AuthMethod } from './harness/heartbeat.js';
import { Lab } from './harness/lab.js';
import { signalAll } from './harness/proc.js';
import {
  diagnostics, grep, logSince, logSize, oursSeesActive, realNodeStatus, realSeesActive, since, start,
} from './interop-support.js';
import { addUla, configure6, crashPatiently, labsTornDownAfterAll, linkLocal, type Media6 } from './media6-support.js';

const REAL = 1;
const OURS = 2;
const labs = labsTornDownAfterAll();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** kill -9 of node `victim`; waits until node `watcher` logs it dead. */
async function killAndWait(lab: Lab, victim: number, watcher: number): Promise<number> {
  const at = logSize(lab, watcher);
  const pids = victim === REAL ? await realPids(lab, victim) : await oursPids(lab, victim);
  expect(pids.length).toBeGreaterThan(0);
  const t0 = Date.now();
  signalAll(pids, 'SIGKILL');
  await waitForLog(lab, watcher, new RegExp(`node ${lab.name(victim)}: is dead`), { timeoutMs: 40_000, after: at });
  return Date.now() - t0;
}

async function round(lab: Lab, media: Media6, auth: AuthMethod, linkLocals: ReadonlyMap<number, string>): Promise<void> {
  const tag = `[ipv6 ${media}+${auth}]`;
  await crashPatiently(lab, REAL);
  await crashPatiently(lab, OURS);
  configure6(lab, { media, auth, ids: [REAL, OURS], linkLocals });
  const realAt = logSize(lab, REAL);
  const oursAt = logSize(lab, OURS);
  const t0 = Date.now();
  await start(lab, REAL, 'real');
  await start(lab, OURS, 'ours');

  // 1. membership both ways
  await realSeesActive(lab, REAL, 'node2');
  await oursSeesActive(lab, OURS, 'node1', oursAt);
  console.log(`${tag} both active after ${since(t0)}`);
  // past the first 5 s in which both advertise a longer dead time
  await sleep(7000);
  expect(await realNodeStatus(lab, REAL, 'node2')).toBe('active');

  // 2. crash and restart of heartbeat-ts
  console.log(`${tag} 3.0.6 declared heartbeat-ts dead ${await killAndWait(lab, OURS, REAL)} ms after kill -9`);
  expect(await realNodeStatus(lab, REAL, 'node2')).toBe('dead');
  let at1 = logSize(lab, REAL);
  let at2 = logSize(lab, OURS);
  await start(lab, OURS, 'ours');
  await waitForLog(lab, REAL, /Heartbeat restart on node node2/, { timeoutMs: 40_000, after: at1 });
  await realSeesActive(lab, REAL, 'node2');
  await oursSeesActive(lab, OURS, 'node1', at2);

  // 3. crash and restart of 3.0.6
  await sleep(7000);
  console.log(`${tag} heartbeat-ts declared 3.0.6 dead ${await killAndWait(lab, REAL, OURS)} ms after kill -9`);
  await waitForLog(lab, OURS, /Link node1:eth0 dead\./, { timeoutMs: 10_000, after: at2 });
  at1 = logSize(lab, REAL);
  at2 = logSize(lab, OURS);
  await start(lab, REAL, 'real');
  await realSeesActive(lab, REAL, 'node2');
  await oursSeesActive(lab, OURS, 'node1', at2);
  await sleep(3000);

  const real = logSince(lab, REAL, realAt);
  const ours = logSince(lab, OURS, oursAt);
  expect(grep(real, /returning after partition|[Aa]uthentication|replay/)).toEqual([]);
  expect(grep(ours, /returning after partition|ERROR|CRIT/)).toEqual([]);
  expect(grep(logSince(lab, REAL, at1), /is dead/)).toEqual([]);
  // our start line names the medium as 3.0.6's plugin does
  const startLine = media === 'mcast6' ? /UDP multicast heartbeat started for \[ff12::694:1\]:694 on interface eth0 \(hops=1 loop=0\)/ : /ucast6: heartbeat started for \[f[de][0-9a-f:]+(%eth0)?\]:694 on interface eth0/;
  expect(grep(ours, startLine).length).toBeGreaterThan(0);
  expect(grep(real, startLine).length).toBeGreaterThan(0);
  if (media !== 'mcast6') {
    // the plugin's device-binding lines come before its start line, in ours too
    const bound = (lines: string[]): string[] => grep(lines, /ucast6: bound (send|receive) socket to device: eth0$/).map((l) => l.replace(/^.*glib: /, ''));
    expect(bound(ours).slice(0, 2)).toEqual(bound(real).slice(0, 2));
    expect(bound(ours).length).toBeGreaterThan(0);
  }
}

describe.concurrent('real heartbeat 3.0.6 (node1) and heartbeat-ts (node2) over IPv6', () => {
  const cases: Array<[string, Array<[Media6, AuthMethod]>]> = [
    ['ucast6: ULA peers with md5, link-local peers with sha1', [['ucast6', 'md5'], ['ucast6-linklocal', 'sha1']]],
    ['mcast6 with md5, then sha1', [['mcast6', 'md5'], ['mcast6', 'sha1']]],
  ];
  for (const [title, rounds] of cases) {
    it(title, async () => {
      const lab = await Lab.up({ nodes: 2, ipv6: true });
      labs.push(lab);
      await addUla(lab);
      const linkLocals = new Map([[REAL, await linkLocal(lab, REAL)], [OURS, await linkLocal(lab, OURS)]]);
      for (const [media, auth] of rounds) {
        try {
          await round(lab, media, auth, linkLocals);
        } catch (err) {
          throw new Error(`${media} + ${auth}: ${(err as Error).message}\n${diagnostics(lab, 40)}`, { cause: err });
        }
      }
    }, 400_000);
  }
});
