/**
 * Issue 12, ping6: node1 (real 3.0.6) and node2 (heartbeat-ts) both have
 * `ping6 fd77::3`, node3 is a plain host answering ICMPv6 echo. heartbeat-ts
 * must report the ping node as 3.0.6 does: `ping` while node3 answers,
 * `dead` once its link is cut, `ping` again after the heal.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { authKeys, clStatus, waitFor, writeHaConfig } from './harness/heartbeat.js';
import { Lab } from './harness/lab.js';
import { crash, diagnostics, killAll, oursClStatus, oursSeesActive, realSeesActive, start, TIMING } from './interop-support.js';
import { addUla, ula } from './ipv6-support.js';

const labs: Lab[] = [];
const PING_NODE = ula(3);

afterAll(async () => {
  for (const lab of labs) {
    for (const i of lab.ids()) await killAll(lab, i);
    await lab.down();
  }
}, 120_000);

async function bothSay(lab: Lab, status: string): Promise<void> {
  const real = async (): Promise<string> => (await clStatus(lab, 1, ['nodestatus', PING_NODE])).stdout.trim();
  const ours = async (): Promise<string> => (await oursClStatus(lab, 2, ['nodestatus', PING_NODE])).stdout.trim();
  await waitFor(real, { timeoutMs: 60_000, what: `3.0.6 nodestatus ${PING_NODE} = ${status}`, until: (s) => s === status });
  await waitFor(ours, { timeoutMs: 60_000, what: `heartbeat-ts nodestatus ${PING_NODE} = ${status}`, until: (s) => s === status });
}

describe('ping6 node status as 3.0.6 sees it', () => {
  it('ping while the address answers, dead when cut, ping after the heal', async () => {
    const lab = await Lab.up({ nodes: 3, ipv6: true });
    labs.push(lab);
    try {
      await addUla(lab);
      const hacf = [
        'logfile /var/log/ha-log', 'debugfile /var/log/ha-debug', 'use_logd no', 'crm no',
        `keepalive ${TIMING.keepalive}`, `deadtime ${TIMING.deadtime}`, `initdead ${TIMING.initdead}`,
        'bcast eth0', `ping6 ${PING_NODE}`, 'auto_failback off', 'node node1', 'node node2', '',
      ].join('\n');
      for (const i of [1, 2]) {
        writeHaConfig(lab, i, { hacf, authkeys: authKeys('sha1') });
        await crash(lab, i);
      }
      await start(lab, 1, 'real');
      await start(lab, 2, 'ours');
      await realSeesActive(lab, 1, 'node2');
      await oursSeesActive(lab, 2, 'node1', 0);
      await bothSay(lab, 'ping');
      expect((await clStatus(lab, 1, ['nodetype', PING_NODE])).stdout.trim()).toBe('ping');
      expect((await oursClStatus(lab, 2, ['nodetype', PING_NODE])).stdout.trim()).toBe('ping');
      await lab.cut(3);
      await bothSay(lab, 'dead');
      await lab.heal(3);
      await bothSay(lab, 'ping');
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${diagnostics(lab, 30)}`, { cause: err });
    }
  }, 300_000);
});
